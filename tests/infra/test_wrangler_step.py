"""The wrangler shell step: names in argv, values on stdin, secrets masked in what it prints, one
`secret bulk` with only what changed, deletes that need nothing but their own arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.wrangler_step import (
    Invocation,
    Manifest,
    StepError,
    mask,
    parse_argv,
    parse_secrets,
    plan_secrets,
    wrangler_args,
)

ROOT = Path(__file__).resolve().parents[2]

# A stand-in wrangler that behaves like a careless tool: echoes its argv, env and stdin, and
# logs argv and stdin (this test's own check of what reached wrangler).
FAKE_WRANGLER = """#!/usr/bin/env python3
import json, os, sys
data = sys.stdin.read()
print("argv:", " ".join(sys.argv[1:]))
print("token:", os.environ.get("CLOUDFLARE_API_TOKEN", ""))
print("stdin:", data)
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "stdin": data, "cwd": os.getcwd()}) + "\\n")
if os.environ.get("FAKE_OUTPUT"):
    print(os.environ["FAKE_OUTPUT"])
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""
VALUE = "SENTINEL-value-on-stdin-123"
TOKEN = "SENTINEL-cf-api-token-456"


def step(
    tmp_path: Path, args: list[str], stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "wrangler"
    fake.write_text(FAKE_WRANGLER)
    fake.chmod(0o755)
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("WRANGLER_CONFIG",)},
        "WRANGLER_BIN": str(fake),
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "CLOUDFLARE_API_TOKEN": TOKEN,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "infra.wrangler_step", *args],
        input=stdin,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def calls(tmp_path: Path) -> list[dict[str, object]]:
    log = tmp_path / "calls.log"
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def rendered(tmp_path: Path, name: str = "w") -> Path:
    config = tmp_path / "wrangler.jsonc"
    config.write_text(f'// header\n{{"name": "{name}"}}\n')
    return config


def test_secrets_go_in_one_bulk_call_on_stdin_and_are_never_printed(tmp_path: Path) -> None:
    values = {"ANTHROPIC_API_KEY": VALUE, "BACKUP_PASSWORD": "SENTINEL-backup-9f"}
    result = step(tmp_path, ["secrets", "--name", "w"], json.dumps(values))
    assert result.returncode == 0, result.stderr
    (call,) = calls(tmp_path)
    assert call["argv"] == ["secret", "bulk", "--name", "w"]
    assert json.loads(str(call["stdin"])) == values
    printed = result.stdout + result.stderr
    for secret in (*values.values(), TOKEN):
        assert secret not in printed
        assert secret not in json.dumps(call["argv"])
    assert "stdin: [redacted]" not in result.stdout  # wrangler's output goes to stderr
    manifest = Manifest.parse(result.stdout)
    assert manifest is not None
    assert manifest.worker == "w"
    assert set(manifest.digests) == set(values)


def test_second_run_sends_only_the_changed_and_deletes_the_removed(tmp_path: Path) -> None:
    first = {"A_KEY": "SENTINEL-a-1111", "B_KEY": "SENTINEL-b-2222", "C_KEY": "SENTINEL-c-3333"}
    result = step(tmp_path, ["secrets", "--name", "w"], json.dumps(first))
    assert result.returncode == 0, result.stderr
    second = {"A_KEY": "SENTINEL-a-1111", "B_KEY": "SENTINEL-b-new-4444"}
    result = step(
        tmp_path,
        ["secrets", "--name", "w"],
        json.dumps(second),
        PULUMI_COMMAND_STDOUT=result.stdout.strip(),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(str(calls(tmp_path)[-1]["stdin"])) == {
        "B_KEY": "SENTINEL-b-new-4444",
        "C_KEY": None,
    }
    # Nothing changed: no call at all, the manifest is printed again for the next run.
    manifest = result.stdout.strip()
    result = step(
        tmp_path, ["secrets", "--name", "w"], json.dumps(second), PULUMI_COMMAND_STDOUT=manifest
    )
    assert result.returncode == 0, result.stderr
    assert len(calls(tmp_path)) == 2
    assert Manifest.parse(result.stdout) == Manifest.parse(manifest)


def test_a_manifest_of_another_worker_sends_everything(tmp_path: Path) -> None:
    values = {"A_KEY": "SENTINEL-a-1111"}
    old = step(tmp_path, ["secrets", "--name", "old"], json.dumps(values)).stdout.strip()
    result = step(
        tmp_path, ["secrets", "--name", "new"], json.dumps(values), PULUMI_COMMAND_STDOUT=old
    )
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path)[-1]["argv"] == ["secret", "bulk", "--name", "new"]
    assert json.loads(str(calls(tmp_path)[-1]["stdin"])) == values


def test_secrets_delete_removes_the_manifests_names(tmp_path: Path) -> None:
    values = {"A_KEY": "SENTINEL-a-1111", "B_KEY": "SENTINEL-b-2222"}
    manifest = step(tmp_path, ["secrets", "--name", "w"], json.dumps(values)).stdout.strip()
    result = step(tmp_path, ["secrets-delete", "--name", "w"], PULUMI_COMMAND_STDOUT=manifest)
    assert result.returncode == 0, result.stderr
    assert json.loads(str(calls(tmp_path)[-1]["stdin"])) == {"A_KEY": None, "B_KEY": None}


def test_delete_needs_no_rendered_config(tmp_path: Path) -> None:
    """Defect 5: `pulumi destroy` on a fresh clone has no build/ directory."""
    result = step(tmp_path, ["delete", "--name", "moltbot-sandbox"])
    assert result.returncode == 0, result.stderr
    (call,) = calls(tmp_path)
    assert call["argv"] == ["delete", "--name", "moltbot-sandbox", "--force"]
    # Not in worker/, whose wrangler.jsonc names the local dev Worker.
    assert call["cwd"] == str(ROOT)


def test_deleting_a_worker_that_is_gone_succeeds(tmp_path: Path) -> None:
    gone = (
        "✘ [ERROR] A request to the Cloudflare API (/accounts/x/workers/services/w) failed.\n"
        "  workers.api.error.script_not_found [code: 10007]"
    )
    result = step(tmp_path, ["delete", "--name", "w"], FAKE_OUTPUT=gone, FAKE_EXIT="1")
    assert result.returncode == 0, result.stderr
    assert "already deleted" in result.stdout


def test_other_delete_failures_are_passed_on(tmp_path: Path) -> None:
    result = step(
        tmp_path, ["delete", "--name", "w"], FAKE_OUTPUT="Authentication error", FAKE_EXIT="1"
    )
    assert result.returncode == 1
    assert "wrangler delete w failed with exit code 1" in result.stderr


@pytest.mark.parametrize("argv", [["delete"], ["secret-delete", "GITHUB_TOKEN"]])
def test_legacy_deletes_from_old_state_never_touch_the_worker(
    tmp_path: Path, argv: list[str]
) -> None:
    """State written by the per-secret layout holds `delete` (it read build/<stack>/...jsonc,
    i.e. the CURRENT Worker) and `secret-delete NAME`: when an upgrade drops or replaces those
    resources, running them would delete the live Worker or its secrets."""
    result = step(tmp_path, argv, WRANGLER_CONFIG=str(rendered(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path) == []
    assert "older openclaw-edge" in result.stdout


def test_deploy_uses_the_rendered_config(tmp_path: Path) -> None:
    config = rendered(tmp_path, "w")
    result = step(tmp_path, ["deploy", "--name", "w"], WRANGLER_CONFIG=str(config))
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path)[0]["argv"] == ["deploy", "--config", str(config)]
    assert "token: [redacted]" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_deploy_refuses_a_config_of_another_worker(tmp_path: Path) -> None:
    config = rendered(tmp_path, "other")
    result = step(tmp_path, ["deploy", "--name", "w"], WRANGLER_CONFIG=str(config))
    assert result.returncode == 2
    assert "does not deploy w" in result.stderr
    assert calls(tmp_path) == []


def test_failure_exit_code_is_passed_on(tmp_path: Path) -> None:
    result = step(
        tmp_path,
        ["deploy", "--name", "w"],
        WRANGLER_CONFIG=str(rendered(tmp_path)),
        FAKE_EXIT="7",
    )
    assert result.returncode == 7
    assert "wrangler deploy w failed with exit code 7" in result.stderr


def test_missing_config_is_explained(tmp_path: Path) -> None:
    result = step(tmp_path, ["deploy", "--name", "w"], WRANGLER_CONFIG=str(tmp_path / "no.jsonc"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_missing_wrangler_is_explained(tmp_path: Path) -> None:
    result = step(tmp_path, ["delete", "--name", "w"], WRANGLER_BIN=str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "make setup" in result.stderr


@pytest.mark.parametrize(
    "stdin",
    ["", "not json", "[1]", '{"lower": "x1234"}', '{"A_KEY": "   "}', '{"A_KEY": 5}'],
)
def test_bad_secret_input_is_refused_without_calling_wrangler(tmp_path: Path, stdin: str) -> None:
    result = step(tmp_path, ["secrets", "--name", "w"], stdin)
    assert result.returncode == 2
    assert calls(tmp_path) == []


def test_values_are_trimmed_like_secret_put() -> None:
    assert parse_secrets('{"A_KEY": "value-1234\\n"}') == {"A_KEY": "value-1234"}


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["publish"],
        ["deploy"],
        ["secrets", "w"],
        ["delete", "--name", "Bad Name"],
        ["secret-delete", "lower"],
        ["secrets", "--name", "w", "extra"],
    ],
)
def test_bad_invocations_are_rejected(argv: list[str]) -> None:
    with pytest.raises(StepError):
        parse_argv(argv)


def test_argv_never_carries_a_value() -> None:
    for step_name in ("delete", "secrets", "secrets-delete"):
        args = wrangler_args(Invocation(step_name, "w"))
        assert args[-2:] == ["--name", "w"] or args[-3:] == ["--name", "w", "--force"]


def test_plan_secrets_keeps_the_key_of_the_same_worker() -> None:
    _, first = plan_secrets("w", {"A_KEY": "SENTINEL-1234"}, None)
    payload, second = plan_secrets("w", {"A_KEY": "SENTINEL-1234"}, first)
    assert payload == {}
    assert second == first
    assert "SENTINEL-1234" not in first.to_json()


def test_mask_ignores_trivially_short_values() -> None:
    assert mask("a b c", ["b"]) == "a b c"
    assert mask("key=abcd1234", ["abcd1234"]) == "key=[redacted]"


REAL_WRANGLER = ROOT / "worker" / "node_modules" / ".bin" / "wrangler"


def real_wrangler(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false"}
    return subprocess.run(
        [str(ROOT / "scripts" / "with-toolchain"), str(REAL_WRANGLER), *args],
        cwd=ROOT,
        env={k: v for k, v in env.items() if not k.startswith("CLOUDFLARE_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_real_wrangler_accepts_the_delete_the_step_builds() -> None:
    """wrangler's parser is strict ("Unknown argument"), and `--dry-run` stops before any
    login or API call (src/delete.ts): so this proves the argv, offline."""
    argv = wrangler_args(Invocation("delete", "openclaw-edge-dev"))
    result = real_wrangler([*argv, "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--dry-run: exiting now." in result.stdout
    assert real_wrangler([*argv, "--forse", "--dry-run"]).returncode != 0


def test_real_wrangler_secret_bulk_reads_stdin_and_takes_a_name() -> None:
    result = real_wrangler([*wrangler_args(Invocation("secrets", "w"))[:2], "--help"])
    assert result.returncode == 0, result.stderr
    assert "--name" in result.stdout
    assert "Set a key to null in the JSON file to delete it" in result.stdout
    assert "receive input from stdin" in result.stdout
