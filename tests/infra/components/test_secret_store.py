"""SSM SecureString parameters: config values, unmanaged values read back, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.channel_checks import EXAMPLE_VALUES
from infra.components.secret_store import (
    PLACEHOLDER,
    MissingSecretError,
    SsmReadError,
    ssm_parameter_reader,
)
from infra.mock_run import RecordingMocks, execute
from tests.infra.pulumi_harness import BASE, SECRETS, is_secret, of_type, one, run

PARAMETER = "aws:ssm/parameter:Parameter"
COMMAND = "command:local:Command"


def names(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.inputs["name"] for r in of_type(result, PARAMETER)}


def test_one_securestring_per_needed_secret_under_the_prefix(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {"optionalSecrets": ["DISCORD_BOT_TOKEN"]},
        parameters={"/lolice/openclaw/DISCORD_BOT_TOKEN": EXAMPLE_VALUES["DISCORD_BOT_TOKEN"]},
    )
    assert names(result) == {
        "/lolice/openclaw/MOLTBOT_GATEWAY_TOKEN",
        "/lolice/openclaw/BACKUP_PASSWORD",
        "/lolice/openclaw/ANTHROPIC_API_KEY",
        "/lolice/openclaw/DISCORD_BOT_TOKEN",
    }
    assert all(r.inputs["type"] == "SecureString" for r in of_type(result, PARAMETER))
    assert result.outputs["ssmParameterNames"]["DISCORD_BOT_TOKEN"] == (
        "/lolice/openclaw/DISCORD_BOT_TOKEN"
    )


def test_optional_secrets_only_when_configured(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert not any("DISCORD" in n or "TELEGRAM" in n or "SLACK" in n for n in names(result))
    assert "DISCORD_BOT_TOKEN" not in result.outputs["workerSecretNames"]


def test_config_value_is_stored_as_secret(tmp_path: Path) -> None:
    result = run(tmp_path)
    parameter = one(result, PARAMETER, "secrets-moltbot-gateway-token")
    assert is_secret(parameter.inputs["value"])
    assert parameter.inputs["value"]["value"] == SECRETS["MOLTBOT_GATEWAY_TOKEN"]
    assert "ignoreChanges" not in parameter.options


def test_unmanaged_value_is_placeholder_with_changes_ignored_and_read_back(tmp_path: Path) -> None:
    secrets = {k: v for k, v in SECRETS.items() if k != "ANTHROPIC_API_KEY"}
    real = "SENTINEL-anthropic-from-ssm-42"
    result = run(tmp_path, secrets=secrets, parameters={"/lolice/openclaw/ANTHROPIC_API_KEY": real})
    parameter = one(result, PARAMETER, "secrets-anthropic-api-key")
    assert parameter.inputs["value"]["value"] == PLACEHOLDER
    assert "value" in parameter.options["ignoreChanges"]
    command = one(result, "command:local:Command", "worker-secrets")
    assert is_secret(command.inputs["stdin"])
    assert json.loads(command.inputs["stdin"]["value"])["ANTHROPIC_API_KEY"] == real


def test_required_secret_missing_everywhere_names_both_fixes(tmp_path: Path) -> None:
    secrets = {k: v for k, v in SECRETS.items() if k != "BACKUP_PASSWORD"}
    with pytest.raises(MissingSecretError) as caught:
        run(tmp_path, secrets=secrets, parameters={"/lolice/openclaw/BACKUP_PASSWORD": PLACEHOLDER})
    text = str(caught.value)
    assert "pulumi config set --secret BACKUP_PASSWORD" in text
    assert (
        "aws ssm put-parameter --name /lolice/openclaw/BACKUP_PASSWORD --type SecureString" in text
    )
    assert caught.value.names == ["BACKUP_PASSWORD"]


def test_llm_key_follows_the_provider(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretError) as caught:
        run(tmp_path, {"llmProvider": "openai"})
    assert caught.value.names == ["OPENAI_API_KEY"]


def test_authenticated_gateway_requires_its_key(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretError) as caught:
        run(tmp_path, {"aiGatewayAuthentication": "true"})
    assert caught.value.names == ["AI_GATEWAY_API_KEY"]


def test_an_existing_parameter_is_imported_without_any_adopt_key(tmp_path: Path) -> None:
    """Defect 3: creating a parameter that exists fails with ParameterAlreadyExists
    (terraform-provider-aws ssm/parameter.go create: PutParameter without Overwrite)."""
    existing = {"/lolice/openclaw/BACKUP_PASSWORD": "SENTINEL-backup-in-ssm-77"}
    result = run(tmp_path, parameters=existing)
    assert one(result, PARAMETER, "secrets-backup-password").options["import"] == (
        "/lolice/openclaw/BACKUP_PASSWORD"
    )
    assert "import" not in one(result, PARAMETER, "secrets-moltbot-gateway-token").options


def test_adoption_is_not_all_or_nothing(tmp_path: Path) -> None:
    """Importing a name that does not exist fails the whole `pulumi up` ("resource '<id>' does
    not exist", pkg/resource/deploy/step.go ImportStep.Apply): only existing ones are imported."""
    existing = {"/lolice/openclaw/ANTHROPIC_API_KEY": "SENTINEL-anthropic-in-ssm"}
    result = run(tmp_path, {"adoptSsmParameters": "true"}, parameters=existing)
    imported = {r.name for r in of_type(result, PARAMETER) if "import" in r.options}
    assert imported == {"secrets-anthropic-api-key"}


def test_parameters_survive_destroy(tmp_path: Path) -> None:
    """Defect 6: SSM is the source of truth; `pulumi destroy` must not delete the values."""
    result = run(tmp_path, {"optionalSecrets": ["GITHUB_TOKEN"]}, parameters={})
    for parameter in of_type(result, PARAMETER):
        assert parameter.options.get("retainOnDelete") is True, parameter.name


def test_custom_prefix(tmp_path: Path) -> None:
    result = run(tmp_path, {"ssmPrefix": "/home/bot"})
    assert "/home/bot/BACKUP_PASSWORD" in names(result)


GET_PARAMETER = "aws:ssm/getParameter:getParameter"
BY_PATH = "aws:ssm/getParametersByPath:getParametersByPath"


class _SsmMocks(pulumi.runtime.Mocks):
    """Answers the two SSM reads like the provider does.

    getParameter of an absent name fails with the data source's real text: "reading SSM
    Parameter (%s): %s" around retry.NotFoundError, whose Error() is "couldn't find resource"
    (terraform-provider-aws internal/service/ssm/parameter_data_source.go, findParameterByName;
    terraform-plugin-sdk helper/retry/error.go). getParametersByPath pages through what exists
    under the path and never fails for an absent name (parameters_by_path_data_source.go)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[tuple[str, dict[str, object]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.asked.append((args.token, dict(args.args)))
        if args.token == GET_PARAMETER:
            name = str(args.args["name"])
            if name not in self.values:
                raise Exception(f"reading SSM Parameter ({name}): couldn't find resource")
            return {"name": name, "value": self.values[name], "type": "SecureString", "id": name}
        if args.token == BY_PATH:
            path = str(args.args["path"])
            names = sorted(n for n in self.values if n.rsplit("/", 1)[0] + "/" == path)
            return {
                "path": path,
                "names": names,
                "values": [self.values[n] for n in names],
                "types": ["SecureString"] * len(names),
                "arns": [f"arn:aws:ssm:ap-northeast-1:123456789012:parameter{n}" for n in names],
                "id": path,
            }
        raise AssertionError(f"unexpected invoke {args.token}")


def test_parameter_reader_never_fails_on_an_absent_name() -> None:
    """Defect 2: an absent parameter must read as None, not crash preview and up."""
    mocks = _SsmMocks(
        {"/lolice/openclaw/GITHUB_TOKEN": "SENTINEL-gh", "/lolice/other/X": "not-ours"}
    )
    pulumi.runtime.set_mocks(mocks, project="openclaw-edge", stack="dev", preview=False)
    read = ssm_parameter_reader()
    assert read("/lolice/openclaw/GITHUB_TOKEN") == "SENTINEL-gh"
    assert read("/lolice/openclaw/MISSING") is None
    assert read("/lolice/openclaw/X") is None
    # One read of the directory, decrypted, whatever the number of names asked for.
    assert [token for token, _ in mocks.asked] == [BY_PATH]
    assert mocks.asked[0][1]["withDecryption"] is True
    assert mocks.asked[0][1]["path"] == "/lolice/openclaw/"


class _ProgramMocks(RecordingMocks):
    """The offline plan's mocks, with the SSM reads answered as the provider answers them."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__()
        self.ssm = _SsmMocks(values)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[Any, Any]:  # type: ignore[override]
        if args.token in (GET_PARAMETER, BY_PATH):
            return self.ssm.call(args)
        return super().call(args)


def test_the_program_survives_absent_parameters_with_the_real_reader(tmp_path: Path) -> None:
    """The program wired as __main__.py wires it, against the provider's real errors: an
    optional secret listed but not (yet) in SSM must not stop the deploy."""
    mocks = _ProgramMocks({"/lolice/openclaw/ANTHROPIC_API_KEY": "SENTINEL-anthropic-ssm"})
    secrets = {k: v for k, v in SECRETS.items() if k != "ANTHROPIC_API_KEY"}
    result = execute(
        "dev",
        {**BASE, "optionalSecrets": ["GITHUB_TOKEN"]},
        lambda key: pulumi.Output.secret(secrets[key]) if key in secrets else None,
        ssm_parameter_reader(),
        tmp_path,
        mocks,
    )
    stdins = [json.dumps(r.inputs.get("stdin", "")) for r in of_type(result, COMMAND)]
    assert any("SENTINEL-anthropic-ssm" in stdin for stdin in stdins)
    assert "GITHUB_TOKEN" not in result.outputs["workerSecretNames"]


def test_a_failing_prefix_read_names_the_permission() -> None:
    class Denied(_SsmMocks):
        def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
            raise Exception(
                "getting SSM parameters by path (/lolice/openclaw/): AccessDeniedException"
            )

    pulumi.runtime.set_mocks(Denied({}), project="openclaw-edge", stack="dev", preview=False)
    with pytest.raises(SsmReadError) as caught:
        ssm_parameter_reader()("/lolice/openclaw/X")
    assert "ssm:GetParametersByPath" in str(caught.value)
    assert "AccessDeniedException" in str(caught.value)
