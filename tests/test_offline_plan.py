"""The offline plan a newcomer or PR reviewer runs without credentials."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.config import ConfigError
from infra.offline_plan import RecordingMocks, execute
from infra.ssm import MissingSecretError
from tests.pulumi_harness import BASE

ROOT = Path(__file__).resolve().parent.parent


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
        assert f"secret-put {secret} < [secret on stdin]" in text
    for secret in ("R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"):
        assert f"secret-put {secret} < [secret on stdin]" in text
    # The stand-in values the plan used must never be printed.
    assert "config-secret-" not in text
    assert "offline-plan-stand-in" not in text
    assert "offline-plan-token-value" not in text
    assert "SENTINEL" not in text
    # Steps: the deploy comes first, then the secrets.
    steps = [line for line in text.splitlines() if "infra.wrangler_step" in line and ". " in line]
    assert "deploy" in steps[0]
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
