"""SSM SecureString parameters: config values, unmanaged values read back, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.channel_checks import EXAMPLE_VALUES
from infra.ssm import PLACEHOLDER, MissingSecretError, ssm_parameter_reader
from tests.pulumi_harness import SECRETS, is_secret, of_type, one, run

PARAMETER = "aws:ssm/parameter:Parameter"


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
    command = one(result, "command:local:Command", "worker-secret-anthropic-api-key")
    assert is_secret(command.inputs["stdin"])
    assert command.inputs["stdin"]["value"] == real


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


def test_adoption_imports_parameters_by_name(tmp_path: Path) -> None:
    result = run(tmp_path, {"adoptSsmParameters": "true"})
    parameter = one(result, PARAMETER, "secrets-backup-password")
    assert parameter.options["import"] == "/lolice/openclaw/BACKUP_PASSWORD"


def test_custom_prefix(tmp_path: Path) -> None:
    result = run(tmp_path, {"ssmPrefix": "/home/bot"})
    assert "/home/bot/BACKUP_PASSWORD" in names(result)


class _SsmMocks(pulumi.runtime.Mocks):
    """Answers aws:ssm/getParameter like the provider: the value, or ParameterNotFound."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[dict[str, object]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.asked.append(dict(args.args))
        name = str(args.args["name"])
        if name not in self.values:
            raise Exception(f"reading SSM Parameter ({name}): ParameterNotFound")
        return {"name": name, "value": self.values[name], "type": "SecureString", "id": name}


def test_parameter_reader_decrypts_and_maps_not_found_to_none() -> None:
    mocks = _SsmMocks({"/lolice/openclaw/GITHUB_TOKEN": "SENTINEL-gh"})
    pulumi.runtime.set_mocks(mocks, project="openclaw-edge", stack="dev", preview=False)
    read = ssm_parameter_reader()
    assert read("/lolice/openclaw/GITHUB_TOKEN") == "SENTINEL-gh"
    assert read("/lolice/openclaw/MISSING") is None
    assert all(call["withDecryption"] is True for call in mocks.asked)
