"""Worker deploy: rendered wrangler config, the deploy command and the one secrets command.
The lifecycle facts (what replaces, what updates) are tested end to end in
tests/infra/lifecycle/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.components.worker_deploy import DEPLOY_HASH_VAR, config_text, write_if_changed
from tests.infra.pulumi_harness import ACCOUNT, SECRETS, TOKEN_VALUE, is_secret, of_type, one, run

COMMAND = "command:local:Command"


def plain(value: Any) -> Any:
    return value["value"] if is_secret(value) else value


def rendered(result) -> dict:  # type: ignore[no-untyped-def,type-arg]
    text = result.stack.worker.config_path.read_text()
    parsed: dict = json.loads(text.split("\n", 1)[1])  # type: ignore[type-arg]
    return parsed


def test_rendered_config_carries_every_piece(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "instanceType": "standard-2",
            "maxInstances": "2",
            "cron": "*/10 * * * *",
            "workerName": "moltbot-sandbox",
            "bucketName": "moltbot-data",
            "sleepAfter": "30m",
        },
    )
    config = rendered(result)
    assert config["name"] == "moltbot-sandbox"
    assert config["main"].endswith("worker/src/index.ts")
    assert "nodejs_compat" in config["compatibility_flags"]
    (container,) = config["containers"]
    assert container["class_name"] == "Sandbox"
    assert container["image"].endswith("container/Dockerfile")
    assert container["instance_type"] == "standard-2"
    assert container["max_instances"] == 2
    assert container["image_vars"] == {"OPENCLAW_VERSION": result.stack.config.openclaw_version}
    assert config["durable_objects"]["bindings"] == [{"name": "SANDBOX", "class_name": "Sandbox"}]
    assert config["migrations"] == [{"tag": "v1", "new_sqlite_classes": ["Sandbox"]}]
    assert config["r2_buckets"] == [{"binding": "BACKUP_BUCKET", "bucket_name": "moltbot-data"}]
    assert config["browser"] == {"binding": "BROWSER"}
    assert config["triggers"] == {"crons": ["*/10 * * * *"]}
    assert config["vars"]["SANDBOX_SLEEP_AFTER"] == "30m"
    assert config["vars"]["CF_ACCOUNT_ID"] == ACCOUNT
    assert config["vars"]["WORKER_URL"] == "https://moltworker.example.com"
    assert config["vars"]["DEBUG_ROUTES"] == "false"
    # Paths are relative to the file, so the config works wherever the checkout is.
    base = result.stack.worker.config_path.parent
    assert (base / config["main"]).resolve().name == "index.ts"


def test_no_secret_name_is_a_var(tmp_path: Path) -> None:
    result = run(tmp_path)
    config = rendered(result)
    assert not set(config["vars"]) & set(result.outputs["workerSecretNames"])
    text = result.stack.worker.config_path.read_text()
    for value in SECRETS.values():
        assert value not in text


def test_deploy_command_has_credentials_in_env_only_and_a_named_delete(tmp_path: Path) -> None:
    result = run(tmp_path)
    deploy = one(result, COMMAND, "worker-deploy")
    assert deploy.inputs["create"].endswith("infra.wrangler_step deploy --name openclaw-edge-dev")
    assert deploy.inputs["update"] == deploy.inputs["create"]
    # Defect 5: the delete names its Worker; it must work from state alone (no build/ file).
    assert deploy.inputs["delete"].endswith("infra.wrangler_step delete --name openclaw-edge-dev")
    env = plain(deploy.inputs["environment"])
    assert env["CLOUDFLARE_ACCOUNT_ID"] == ACCOUNT
    assert env["WRANGLER_CONFIG"].endswith("build/dev/wrangler.jsonc")
    assert ACCOUNT not in deploy.inputs["create"]


def test_only_the_workers_identity_replaces_the_deploy(tmp_path: Path) -> None:
    """Defect 1: pulumi-command replaces on `triggers` only (the Python SDK sets
    replace_on_changes=["triggers[*]"], pulumi_command/local/command.py), and a replacement runs
    the old `delete`. So the triggers hold the identity and the content hash goes elsewhere."""
    deploy = one(run(tmp_path), COMMAND, "worker-deploy")
    assert deploy.inputs["triggers"] == [ACCOUNT, "openclaw-edge-dev"]
    assert deploy.options["replaceOnChanges"] == ["triggers[*]"]
    assert len(plain(deploy.inputs["environment"])[DEPLOY_HASH_VAR]) == 64


def test_one_secrets_command_after_the_deploy_with_json_on_stdin(tmp_path: Path) -> None:
    """Defect 4: no fan-out of single-secret calls; one command, all values as JSON on stdin."""
    result = run(tmp_path)
    commands = {r.name: r for r in of_type(result, COMMAND)}
    assert set(commands) == {"worker-deploy", "worker-secrets"}
    secrets = commands["worker-secrets"]
    assert secrets.inputs["create"].endswith("infra.wrangler_step secrets --name openclaw-edge-dev")
    assert secrets.inputs["update"] == secrets.inputs["create"]
    assert secrets.inputs["delete"].endswith("secrets-delete --name openclaw-edge-dev")
    assert is_secret(secrets.inputs["stdin"])
    values = json.loads(secrets.inputs["stdin"]["value"])
    assert set(values) == set(result.outputs["workerSecretNames"])
    assert {k: values[k] for k in SECRETS} == SECRETS
    assert "worker-deploy" in secrets.options["dependsOn"]
    assert secrets.inputs["logging"] == "stderr"


def _inputs_by_name(result) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    return {r.name: r.inputs for r in of_type(result, COMMAND)}


def test_changing_one_secret_changes_only_the_secrets_command(tmp_path: Path) -> None:
    before = _inputs_by_name(run(tmp_path))
    changed = {**SECRETS, "BACKUP_PASSWORD": "SENTINEL-new-backup-password"}
    after = _inputs_by_name(run(tmp_path, secrets=changed))
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {"worker-secrets"}
    old, new = (json.loads(x["worker-secrets"]["stdin"]["value"]) for x in (before, after))
    assert {k for k in old if old[k] != new[k]} == {"BACKUP_PASSWORD"}


def test_config_change_changes_the_deploy_hash_only(tmp_path: Path) -> None:
    before = _inputs_by_name(run(tmp_path))
    after = _inputs_by_name(run(tmp_path, {"maxInstances": "3"}))
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {"worker-deploy"}
    old, new = before["worker-deploy"], after["worker-deploy"]
    assert old["triggers"] == new["triggers"]
    assert plain(old["environment"])[DEPLOY_HASH_VAR] != plain(new["environment"])[DEPLOY_HASH_VAR]


def test_renaming_the_worker_changes_the_triggers_and_every_name(tmp_path: Path) -> None:
    after = _inputs_by_name(run(tmp_path, {"workerName": "moltbot-sandbox"}))
    assert after["worker-deploy"]["triggers"] == [ACCOUNT, "moltbot-sandbox"]
    for command in after.values():
        assert command["delete"].endswith("--name moltbot-sandbox")


def test_same_config_gives_identical_commands(tmp_path: Path) -> None:
    assert _inputs_by_name(run(tmp_path)) == _inputs_by_name(run(tmp_path))


def test_r2_credentials_reach_the_secrets_stdin(tmp_path: Path) -> None:
    from infra.components.backup_bucket import s3_secret_from_token

    secrets = one(run(tmp_path), COMMAND, "worker-secrets")
    values = json.loads(secrets.inputs["stdin"]["value"])
    assert values["R2_SECRET_ACCESS_KEY"] == s3_secret_from_token(TOKEN_VALUE)


def test_api_token_goes_into_environment_as_secret(tmp_path: Path) -> None:
    import pulumi

    from infra.mock_run import RecordingMocks, execute
    from tests.infra.pulumi_harness import BASE, TOKEN_VALUE

    api_token = "SENTINEL-cloudflare-api-token-55"
    result = execute(
        "dev",
        BASE,
        lambda key: pulumi.Output.secret(SECRETS[key]) if key in SECRETS else None,
        lambda _path: None,
        tmp_path,
        RecordingMocks(token_value=TOKEN_VALUE),
        api_token=api_token,
    )
    from infra.mock_run import plain_strings

    for name in ("worker-deploy", "worker-secrets"):
        command = one(result, COMMAND, name)
        env = command.inputs["environment"]
        assert is_secret(env) or is_secret(env["CLOUDFLARE_API_TOKEN"])
        assert api_token not in "".join(plain_strings(command.inputs))


def test_config_written_only_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonc"
    text = config_text({"name": "x"})
    assert write_if_changed(path, text) is True
    assert write_if_changed(path, text) is False
    assert write_if_changed(path, config_text({"name": "y"})) is True


def test_the_vars_the_stack_sets_are_the_catalogues_stack_vars(tmp_path: Path) -> None:
    """The catalogue's `source: stack` marks exactly what the program sets (so workerVars may
    not set it), and every var a user sets arrives unchanged."""
    from infra.catalog import load_catalog

    catalog = load_catalog()
    stack_set = {v.name for v in catalog.vars if v.source == "stack"}
    user = {"LLM_MODEL": "claude-sonnet-4-5", "DISCORD_DM_POLICY": "pairing"}
    result = run(tmp_path, {"gatewayOrigin": "https://gateway.example.net", "workerVars": user})
    vars_ = rendered(result)["vars"]
    assert set(vars_) - set(user) == stack_set
    assert {k: vars_[k] for k in user} == user
    assert vars_["BACKUP_INTERVAL_SECONDS"] == "60"
    assert not {v.name for v in catalog.vars if v.source == "local"} & set(vars_)
