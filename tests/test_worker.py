"""Worker deploy: rendered wrangler config, the deploy command and one command per secret."""

from __future__ import annotations

import json
from pathlib import Path

from infra.worker import config_text, content_hash, write_if_changed
from tests.pulumi_harness import ACCOUNT, SECRETS, is_secret, of_type, one, run

COMMAND = "command:local:Command"


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


def test_deploy_command_has_credentials_in_env_only_and_a_delete(tmp_path: Path) -> None:
    result = run(tmp_path)
    deploy = one(result, COMMAND, "worker-deploy")
    assert deploy.inputs["create"].endswith("infra.wrangler_step deploy")
    assert deploy.inputs["delete"].endswith("infra.wrangler_step delete")
    env = deploy.inputs["environment"]
    env = env["value"] if is_secret(env) else env
    assert env["CLOUDFLARE_ACCOUNT_ID"] == ACCOUNT
    assert env["WRANGLER_CONFIG"] == "build/dev/wrangler.jsonc" or env["WRANGLER_CONFIG"].endswith(
        "build/dev/wrangler.jsonc"
    )
    assert ACCOUNT not in deploy.inputs["create"]
    assert len(deploy.inputs["triggers"]) == 3


def test_one_secret_command_per_secret_after_the_deploy(tmp_path: Path) -> None:
    result = run(tmp_path)
    commands = {r.name: r for r in of_type(result, COMMAND)}
    names = result.outputs["workerSecretNames"]
    assert set(names) == {*SECRETS, "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"}
    for name in names:
        command = commands[f"worker-secret-{name.lower().replace('_', '-')}"]
        assert command.inputs["create"].endswith(f"secret-put {name}")
        assert command.inputs["delete"].endswith(f"secret-delete {name}")
        assert is_secret(command.inputs["stdin"])
        assert "worker-deploy" in command.options["dependsOn"]
        assert command.inputs["logging"] == "stderr"


def _inputs_by_name(result) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    return {r.name: r.inputs for r in of_type(result, COMMAND)}


def test_changing_one_secret_changes_only_that_command(tmp_path: Path) -> None:
    before = _inputs_by_name(run(tmp_path))
    changed = {**SECRETS, "BACKUP_PASSWORD": "SENTINEL-new-backup-password"}
    after = _inputs_by_name(run(tmp_path, secrets=changed))
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {"worker-secret-backup-password"}


def test_config_change_changes_deploy_trigger_only(tmp_path: Path) -> None:
    before = _inputs_by_name(run(tmp_path))
    after = _inputs_by_name(run(tmp_path, {"maxInstances": "3"}))
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {"worker-deploy"}
    assert before["worker-deploy"]["triggers"][:2] == after["worker-deploy"]["triggers"][:2]
    assert before["worker-deploy"]["triggers"][2] != after["worker-deploy"]["triggers"][2]


def test_same_config_gives_identical_commands(tmp_path: Path) -> None:
    assert _inputs_by_name(run(tmp_path)) == _inputs_by_name(run(tmp_path))


def test_api_token_goes_into_environment_as_secret(tmp_path: Path) -> None:
    import pulumi

    from infra.offline_plan import RecordingMocks, execute
    from tests.pulumi_harness import BASE, TOKEN_VALUE

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
    deploy = one(result, COMMAND, "worker-deploy")
    env = deploy.inputs["environment"]
    assert is_secret(env) or is_secret(env["CLOUDFLARE_API_TOKEN"])
    from infra.offline_plan import plain_strings

    assert api_token not in "".join(plain_strings(deploy.inputs))


def test_content_hash_tracks_sources_not_dependencies(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.ts").write_text("export default {}")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("1")
    first = content_hash(tmp_path)
    (tmp_path / "node_modules" / "x.js").write_text("2")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "a.test.ts").write_text("it()")
    assert content_hash(tmp_path) == first
    (tmp_path / "src" / "index.ts").write_text("export default { fetch() {} }")
    assert content_hash(tmp_path) != first
    (tmp_path / "src" / "index.ts").rename(tmp_path / "src" / "main.ts")
    assert content_hash(tmp_path) not in (first,)


def test_config_written_only_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonc"
    text = config_text({"name": "x"})
    assert write_if_changed(path, text) is True
    assert write_if_changed(path, text) is False
    assert write_if_changed(path, config_text({"name": "y"})) is True
