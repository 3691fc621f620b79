"""The whole program: documented outputs, and secrets that stay secret from config/SSM to stdin."""

from __future__ import annotations

import json
from pathlib import Path

from infra import outputs as out
from tests.infra.pulumi_harness import SECRETS, TOKEN_VALUE, all_plain_text, run


def test_outputs_are_the_documented_set(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert set(result.outputs) == out.OUTPUTS - out.PROBE_OUTPUTS
    with_probe = run(tmp_path, {"accessProbeServiceToken": True})
    assert set(with_probe.outputs) == out.OUTPUTS
    docs = (Path(__file__).resolve().parents[2] / "docs" / "interfaces.md").read_text()
    for name in out.OUTPUTS:
        assert f"`{name}`" in docs, f"{name} is not documented in docs/interfaces.md"


def test_only_credentials_are_secret_outputs(tmp_path: Path) -> None:
    result = run(tmp_path, {"accessProbeServiceToken": True})
    assert result.secret_outputs == out.SECRET_OUTPUTS
    assert result.secret_outputs == {
        "r2AccessKeyId",
        "r2SecretAccessKey",
        "probeAccessClientSecret",
    }


def test_no_secret_value_outside_a_secret_marker(tmp_path: Path) -> None:
    # Shaped like a Discord bot token (infra/channel_checks.py checks the form at preview).
    discord = "MTQ5MDAwMDAwMDAwMDAwMDAwMQ.SENTNL.discord-from-ssm-8e1f-sentinel-value"
    result = run(
        tmp_path,
        {"optionalSecrets": ["DISCORD_BOT_TOKEN"]},
        parameters={"/lolice/openclaw/DISCORD_BOT_TOKEN": discord},
    )
    forbidden = [*SECRETS.values(), TOKEN_VALUE, discord, result.outputs["r2SecretAccessKey"]]
    text = "\n".join(all_plain_text(result))
    for value in forbidden:
        assert value not in text
    plain_outputs = {k: v for k, v in result.outputs.items() if k not in result.secret_outputs}
    dumped = json.dumps(plain_outputs, default=str)
    for value in forbidden:
        assert value not in dumped
    rendered = result.stack.worker.config_path.read_text()
    for value in forbidden:
        assert value not in rendered


def test_secret_reaches_exactly_one_command_stdin(tmp_path: Path) -> None:
    result = run(tmp_path)
    holders = [
        record.name
        for record in result.mocks.records
        if record.type == "command:local:Command"
        and json.dumps(record.inputs.get("stdin", "")).find(SECRETS["BACKUP_PASSWORD"]) >= 0
    ]
    assert holders == ["worker-secrets"]


def test_stack_outputs_describe_the_deploy(tmp_path: Path) -> None:
    result = run(tmp_path, {"instanceType": "standard-2", "sleepAfter": "10m"})
    out = result.outputs
    assert out["instanceType"] == "standard-2"
    assert out["sleepAfter"] == "10m"
    assert out["bucketName"] == "openclaw-edge-dev-data"
    assert out["environment"] == "dev"
    assert out["openclawVersion"] == result.stack.config.openclaw_version
    assert out["costEstimate"]["monthlyUsd"] > 0
