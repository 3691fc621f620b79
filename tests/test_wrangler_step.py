"""The wrangler shell step: names in argv, values on stdin, secrets masked in what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.wrangler_step import StepError, mask, wrangler_args

ROOT = Path(__file__).resolve().parent.parent

# A stand-in wrangler that behaves like a careless tool: echoes its argv, env and stdin.
FAKE_WRANGLER = """#!/usr/bin/env python3
import os, sys
data = sys.stdin.read()
print("argv:", " ".join(sys.argv[1:]))
print("token:", os.environ.get("CLOUDFLARE_API_TOKEN", ""))
print("stdin:", data)
open(os.environ["FAKE_LOG"], "a").write(" ".join(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def step(
    tmp_path: Path, args: list[str], stdin: str, **env: str
) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "wrangler"
    fake.write_text(FAKE_WRANGLER)
    fake.chmod(0o755)
    config = tmp_path / "wrangler.jsonc"
    config.write_text("{}")
    environment = {
        **os.environ,
        "WRANGLER_BIN": str(fake),
        "WRANGLER_CONFIG": str(config),
        "FAKE_LOG": str(tmp_path / "argv.log"),
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


def test_secret_put_sends_value_on_stdin_and_never_prints_it(tmp_path: Path) -> None:
    value = "SENTINEL-value-on-stdin-123"
    token = "SENTINEL-cf-api-token-456"
    result = step(tmp_path, ["secret-put", "ANTHROPIC_API_KEY"], value, CLOUDFLARE_API_TOKEN=token)
    assert result.returncode == 0, result.stderr
    assert "stdin: [redacted]" in result.stdout
    assert "token: [redacted]" in result.stdout
    assert value not in result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    argv = (tmp_path / "argv.log").read_text()
    assert argv.startswith("secret put ANTHROPIC_API_KEY --config ")
    assert value not in argv
    assert token not in argv


def test_deploy_and_delete_arguments(tmp_path: Path) -> None:
    assert step(tmp_path, ["deploy"], "").returncode == 0
    assert step(tmp_path, ["secret-delete", "GITHUB_TOKEN"], "").returncode == 0
    lines = (tmp_path / "argv.log").read_text().splitlines()
    assert lines[0].startswith("deploy --config ")
    assert lines[1].startswith("secret delete GITHUB_TOKEN --config ")


def test_failure_exit_code_is_passed_on(tmp_path: Path) -> None:
    result = step(tmp_path, ["deploy"], "", FAKE_EXIT="7")
    assert result.returncode == 7
    assert "wrangler deploy" in result.stderr
    assert "exit code 7" in result.stderr


def test_empty_secret_is_refused(tmp_path: Path) -> None:
    result = step(tmp_path, ["secret-put", "GITHUB_TOKEN"], "")
    assert result.returncode == 2
    assert "must arrive on stdin" in result.stderr


def test_missing_config_is_explained(tmp_path: Path) -> None:
    result = step(tmp_path, ["deploy"], "", WRANGLER_CONFIG=str(tmp_path / "nope.jsonc"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


@pytest.mark.parametrize("name", [None, "lower", "X Y", "A;rm -rf /"])
def test_bad_secret_names_are_rejected(name: str | None) -> None:
    with pytest.raises(StepError):
        wrangler_args("secret-put", name, "c.jsonc")


def test_unknown_step() -> None:
    with pytest.raises(StepError):
        wrangler_args("publish", None, "c.jsonc")


def test_mask_ignores_trivially_short_values() -> None:
    assert mask("a b c", ["b"]) == "a b c"
    assert mask("key=abcd1234", ["abcd1234"]) == "key=[redacted]"
