"""The offline plan a newcomer or PR reviewer runs without credentials."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.components.secret_store import MissingSecretError
from infra.config import ConfigError
from infra.mock_run import RecordingMocks, execute
from tests.infra.pulumi_harness import BASE

ROOT = Path(__file__).resolve().parents[2]


def plan(tmp_path: Path, config: dict[str, object]) -> subprocess.CompletedProcess[str]:
    stack_file = tmp_path / "Pulumi.test.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.offline_plan",
            "--stack",
            "test",
            "--config",
            str(stack_file),
            "--build-dir",
            str(tmp_path / "build"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def namespaced(values: dict[str, object]) -> dict[str, object]:
    return {f"openclaw-edge:{k}": v for k, v in values.items()}


def test_plan_lists_every_piece_and_no_secret(tmp_path: Path) -> None:
    config = namespaced({**BASE, "optionalSecrets": ["DISCORD_BOT_TOKEN", "GITHUB_TOKEN"]})
    config["openclaw-edge:MOLTBOT_GATEWAY_TOKEN"] = {"secure": "v1:SENTINELciphertext"}
    result = plan(tmp_path, config)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "NOT `pulumi preview`" in text
    for expected in (
        "cloudflare:index/r2Bucket:R2Bucket  backups-bucket",
        "cloudflare:index/accountToken:AccountToken  backups-s3-token",
        "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy  access-policy",
        "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication  access-app",
        "cloudflare:index/workersCustomDomain:WorkersCustomDomain  hostname-domain",
        "cloudflare:index/aiGateway:AiGateway  llm-gateway",
        "infra.wrangler_step deploy",
        "(protect: true)",
    ):
        assert expected in text, expected
    for secret in (
        "MOLTBOT_GATEWAY_TOKEN",
        "BACKUP_PASSWORD",
        "ANTHROPIC_API_KEY",
        "DISCORD_BOT_TOKEN",
        "GITHUB_TOKEN",
    ):
        assert f"aws:ssm/parameter:Parameter  secrets-{secret.lower().replace('_', '-')}" in text
    stdin_line = next(line for line in text.splitlines() if "[secret JSON on stdin:" in line)
    assert "infra.wrangler_step secrets --name openclaw-edge-test" in stdin_line
    names = stdin_line.split("[secret JSON on stdin: ", 1)[1].rstrip("]").split(", ")
    assert names == sorted(
        [
            "ANTHROPIC_API_KEY",
            "BACKUP_PASSWORD",
            "DISCORD_BOT_TOKEN",
            "GITHUB_TOKEN",
            "MOLTBOT_GATEWAY_TOKEN",
            "R2_ACCESS_KEY_ID",
            "R2_SECRET_ACCESS_KEY",
        ]
    )
    # The stand-in values the plan used must never be printed.
    assert "config-secret-" not in text
    assert "offline-plan-stand-in" not in text
    assert "offline-plan-token-value" not in text
    assert "SENTINEL" not in text
    # Steps: the deploy comes first, then the secrets.
    steps = [line for line in text.splitlines() if line.startswith(("  1. ", "  2. "))]
    assert [step.split(":")[0].strip() for step in steps] == [
        "1. worker-deploy",
        "2. worker-secrets",
    ]
    rendered = tmp_path / "build" / "test" / "wrangler.jsonc"
    assert rendered.is_file()
    assert f"Rendered wrangler config: {rendered}" in text


def test_wrong_account_id_fails_before_any_resource(tmp_path: Path) -> None:
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as caught:
        execute(
            "dev", {**BASE, "accountId": "xyz"}, lambda _k: None, lambda _p: None, tmp_path, mocks
        )
    assert "openclaw-edge:accountId" in str(caught.value)
    assert mocks.records == []


def test_hostname_outside_zone_fails_before_any_resource(tmp_path: Path) -> None:
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as caught:
        execute(
            "dev",
            {**BASE, "hostname": "bot.elsewhere.net"},
            lambda _k: None,
            lambda _p: None,
            tmp_path,
            mocks,
        )
    assert "openclaw-edge:hostname" in str(caught.value)
    assert mocks.records == []


def test_cli_reports_config_errors_with_the_key(tmp_path: Path) -> None:
    result = plan(tmp_path, namespaced({**BASE, "accountId": "abc"}))
    assert result.returncode == 1
    assert "openclaw-edge:accountId must be 32 hex characters" in result.stderr


def test_missing_secret_fails_with_the_fixing_command(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretError) as caught:
        execute("dev", BASE, lambda _k: None, lambda _p: None, tmp_path)
    text = str(caught.value)
    assert "pulumi config set --secret MOLTBOT_GATEWAY_TOKEN" in text
    assert "aws ssm put-parameter --name /lolice/openclaw/MOLTBOT_GATEWAY_TOKEN" in text


def test_checked_in_dev_stack_plans(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.offline_plan", "--build-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "moltworker.example.com" in result.stdout


def test_committed_sample_outputs_are_what_the_program_outputs(tmp_path: Path) -> None:
    target = tmp_path / "outputs.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.offline_plan",
            "--build-dir",
            str(tmp_path),
            "--outputs-json",
            str(target),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    committed = ROOT / "docs" / "project_docs" / "T-20260219-003" / "sample-outputs.json"
    assert json.loads(target.read_text()) == json.loads(committed.read_text()), (
        "sample-outputs.json drifted: regenerate it (docs/project_docs/T-20260219-003/README.md)"
    )
    assert json.loads(target.read_text())["r2SecretAccessKey"] == "[secret]"


def test_plan_warns_that_a_sleeping_container_takes_the_bots_offline(tmp_path: Path) -> None:
    config = namespaced(
        {
            **BASE,
            "sleepAfter": "10m",
            "optionalSecrets": ["DISCORD_BOT_TOKEN", "TELEGRAM_BOT_TOKEN"],
        }
    )
    result = plan(tmp_path, config)
    assert result.returncode == 0, result.stderr
    warnings = result.stdout.split("Warnings:\n", 1)[1]
    assert "sleepAfter '10m' lets the container sleep" in warnings
    assert "Discord and Telegram bots are offline" in warnings


def test_plan_warns_when_the_cron_is_too_sparse_to_wake_for_openclaw_jobs(tmp_path: Path) -> None:
    result = plan(tmp_path, namespaced({**BASE, "sleepAfter": "10m", "cron": "0 * * * *"}))
    assert result.returncode == 0, result.stderr
    warnings = result.stdout.split("Warnings:\n", 1)[1]
    assert "OpenClaw's scheduled jobs may not run" in warnings


def test_plan_has_no_warnings_for_sleep_without_bots_and_a_frequent_cron(tmp_path: Path) -> None:
    result = plan(tmp_path, namespaced({**BASE, "sleepAfter": "10m", "cron": "*/5 * * * *"}))
    assert result.returncode == 0, result.stderr
    assert "Warnings:" not in result.stdout


def test_plan_describes_the_real_lifecycle(tmp_path: Path) -> None:
    result = plan(tmp_path, namespaced(BASE))
    assert result.returncode == 0, result.stderr
    lifecycle = result.stdout.split("Lifecycle (", 1)[1]
    for moment in ("first up:", "code change:", "secret change:", "workerName:", "destroy:"):
        assert moment in lifecycle
    assert "retained (left in place): secrets-anthropic-api-key" in lifecycle
    assert "pulumi destroy --exclude-protected`): backups-bucket" in lifecycle
    assert "delete: scripts/with-toolchain python -m infra.wrangler_step delete --name" in (
        result.stdout
    )
    assert "100117" in lifecycle


def test_plan_says_which_adopted_resources_pulumi_would_change(tmp_path: Path) -> None:
    """Defect 9: an import with differing inputs is followed by an update, not a safe failure."""
    config = namespaced(
        {
            **BASE,
            "bucketName": "moltbot-data",
            "adoptBucket": "true",
            "adoptAccessApplicationId": "0a1b2c3d-0000-4000-8000-000000000001",
        }
    )
    config["openclaw-edge:BACKUP_PASSWORD"] = {"secure": "v1:SENTINELciphertext"}
    result = plan(tmp_path, config)
    assert result.returncode == 0, result.stderr
    adopted = result.stdout.split("Adopted (imported) resources", 1)[1].split("\n\n", 1)[0]
    assert "UPDATES any input below that" in adopted
    assert "pulumi preview --diff" in adopted
    assert f"~ backups-bucket (import {BASE['accountId']}/moltbot-data/default)" in adopted
    assert "~ access-app (import accounts/" in adopted
    assert "sessionDuration" in adopted
    backup = adopted.split("~ secrets-backup-password", 1)[1].split("~", 1)[0]
    assert "OVERWRITTEN from config" in backup
    gateway = adopted.split("~ secrets-moltbot-gateway-token", 1)[1].split("~", 1)[0]
    assert "kept as it is in SSM" in gateway


def run_cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.offline_plan", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_yaml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.broken.yaml"
    stack_file.write_text("config:\n  openclaw-edge:accountId: abc\n  openclaw-edge:zoneId: [1,\n")
    result = run_cli("--config", str(stack_file), "--build-dir", str(tmp_path / "build"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{stack_file} is not valid YAML at line 4" in result.stderr


def test_a_stack_file_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.list.yaml"
    stack_file.write_text("- openclaw-edge:accountId\n")
    result = run_cli("--config", str(stack_file), "--build-dir", str(tmp_path / "build"))
    assert result.returncode == 2
    assert f"{stack_file} is not a Pulumi stack file" in result.stderr


@pytest.mark.parametrize("target", ["a-file/outputs.json", "."], ids=["under a file", "a folder"])
def test_unwritable_outputs_json_is_refused_before_the_plan_runs(
    tmp_path: Path, target: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    build = tmp_path / "build"
    result = run_cli("--build-dir", str(build), "--outputs-json", str(tmp_path / target))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("offline plan: --outputs-json ")
    assert not build.exists(), "the program ran before the path was checked"
    assert result.stdout == ""


def test_outputs_json_parent_folders_are_created(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "outputs.json"
    result = run_cli("--build-dir", str(tmp_path / "build"), "--outputs-json", str(target))
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text())["hostname"] == "moltworker.example.com"


def test_help_does_not_import_the_providers() -> None:
    # `--help` used to take seconds importing pulumi_cloudflare; -X importtime lists every module
    # the command imported, so this checks the cause without timing anything.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "infra.offline_plan", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert "--full" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "pulumi_cloudflare" not in imported
    assert "pulumi_aws" not in imported
    assert "infra.program" not in imported


def test_full_prints_long_inputs_whole(tmp_path: Path) -> None:
    cut = run_cli("--build-dir", str(tmp_path / "a"))
    whole = run_cli("--build-dir", str(tmp_path / "b"), "--full")
    assert cut.returncode == whole.returncode == 0, cut.stderr + whole.stderr

    def secret_names(text: str) -> str:
        return next(line for line in text.splitlines() if line.startswith("    secretNames: "))

    assert secret_names(cut.stdout).endswith("...")
    assert json.loads(secret_names(whole.stdout).split(": ", 1)[1])[-1] == "R2_SECRET_ACCESS_KEY"
    assert not any(line.endswith("...") for line in whole.stdout.splitlines())


def test_misspelled_keys_in_the_stack_file_are_named(tmp_path: Path) -> None:
    config = namespaced({**BASE, "instancetype": "lite"})
    config["openclaw-edge:MOLTBOT_GATEWAY_TOKN"] = {"secure": "v1:ciphertext"}
    result = plan(tmp_path, config)
    assert result.returncode == 1
    assert "openclaw-edge:instancetype is not a key this program reads; did you mean " in (
        result.stderr
    )
    assert "did you mean openclaw-edge:MOLTBOT_GATEWAY_TOKEN?" in result.stderr
