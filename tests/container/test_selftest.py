"""`boot.py selftest` and control `GET /selftest`: each tool's version command, bounded, masked."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot import selftest
from openclaw_boot.control import ControlApp, serve
from openclaw_boot.settings import load

from .conftest import BOOT, OPENCLAW, SECRETS, base_env


def _tool(directory: Path, name: str, script: str) -> Path:
    """A small executable on PATH that stands where a broken or hanging tool would."""
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def _env(home: Path, bin_dir: Path, **extra: str) -> dict[str, str]:
    env = base_env(home)
    # The real tools this host has: Node 24 (shims), restic, and openclaw as in the image.
    (bin_dir / "openclaw").symlink_to(OPENCLAW)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env.update(extra)
    return env


def _by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in result["tools"]}


def test_the_hosts_real_tools_run_and_report_versions(
    home: Path, tmp_path: Path, openclaw_bin: Path, restic_bin: str
) -> None:
    env = _env(home, tmp_path, OPENCLAW_EDGE_SELFTEST_TOOLS="node,openclaw,restic")
    result = selftest.run(load(env))
    tools = _by_name(result)
    assert result["passed"] is True
    assert [t.name for t in selftest.TOOLS] == [t["name"] for t in result["tools"]]
    assert tools["openclaw"]["ok"]
    assert tools["openclaw"]["output"].startswith("OpenClaw ")
    assert result["environment"]["openclaw_version"] == tools["openclaw"]["version"]
    assert tools["node"]["ok"]
    assert int(tools["node"]["version"].split(".")[0]) >= 24
    assert tools["restic"]["ok"]
    assert tools["restic"]["output"].startswith("restic ")
    assert {name for name, tool in tools.items() if tool["required"]} == {
        "node",
        "openclaw",
        "restic",
    }
    # Outside the Sandbox there is no base image version to report.
    assert result["environment"]["sandbox_version"] is None


def test_a_required_tool_missing_from_path_fails_by_name(home: Path, tmp_path: Path) -> None:
    env = _env(home, tmp_path, OPENCLAW_EDGE_SELFTEST_TOOLS="gh")
    env["PATH"] = f"{tmp_path}:/usr/bin:/bin"
    result = selftest.run(load(env))
    gh = _by_name(result)["gh"]
    if gh["path"] is not None:
        pytest.skip("this machine has gh on /usr/bin")
    assert result["passed"] is False
    assert result["failed"] == ["gh"]
    assert gh["error"] == "gh not found on PATH"


def test_every_tool_is_bounded_broken_ones_say_why_and_output_is_masked(
    home: Path, tmp_path: Path
) -> None:
    _tool(tmp_path, "gh", "sleep 60")
    _tool(tmp_path, "ghq", "echo 'ghq failed' >&2; exit 3")
    _tool(tmp_path, "node", "echo v20.11.1")
    _tool(tmp_path, "codex", 'echo "codex-cli 0.1 $OPENCLAW_GATEWAY_TOKEN"')
    _tool(tmp_path, "claude", 'echo "${BACKUP_PASSWORD:-no backup password} (Claude Code)"')
    env = _env(
        home,
        tmp_path,
        OPENCLAW_EDGE_SELFTEST_TOOLS="gh,ghq,node,codex,claude,jq",
        OPENCLAW_EDGE_SELFTEST_TIMEOUT_SECONDS="2",
        BACKUP_PASSWORD=SECRETS["BACKUP_PASSWORD"],
    )
    result = selftest.run(load(env))
    tools = _by_name(result)
    assert tools["gh"]["error"] == "gh --version did not finish within 2s"
    assert tools["ghq"]["error"] == "ghq --version exited with 3"
    assert tools["ghq"]["output"] == "ghq failed"
    assert tools["node"]["error"] == "node 20.11.1 is older than 24.16"
    assert tools["codex"]["ok"]
    assert tools["codex"]["output"] == "codex-cli 0.1 [redacted]"
    # The agent's tools never see the backup credentials (as the gateway does not).
    assert tools["claude"]["output"] == "no backup password (Claude Code)"
    assert result["unknown_required"] == ["jq"]
    assert result["passed"] is False
    assert set(result["failed"]) == {"gh", "ghq", "node"}
    text = json.dumps(result)
    assert all(value not in text for value in SECRETS.values())


def test_cli_prints_json_and_exits_1_when_a_required_tool_fails(home: Path, tmp_path: Path) -> None:
    env = _env(home, tmp_path, OPENCLAW_EDGE_SELFTEST_TOOLS="mcp-grafana")
    env["PATH"] = f"{tmp_path}:/usr/bin:/bin"
    done = subprocess.run(
        [sys.executable, str(BOOT), "selftest"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    body = json.loads(done.stdout)
    if _by_name(body)["mcp-grafana"]["path"] is not None:
        pytest.skip("this machine has mcp-grafana on /usr/bin")
    assert done.returncode == 1
    assert body["failed"] == ["mcp-grafana"]


def test_control_api_serves_it_only_with_the_token(home: Path, tmp_path: Path) -> None:
    env = _env(home, tmp_path, OPENCLAW_EDGE_SELFTEST_TOOLS="restic")
    settings = load(env)
    token = SECRETS["OPENCLAW_GATEWAY_TOKEN"]
    app = ControlApp(
        token=token,
        status=dict,
        snapshot=dict,
        snapshots=dict,
        restore=lambda _id: {},
        restart=dict,
        ready=dict,
        selftest=lambda: selftest.run(settings),
    )
    server = serve(app, "127.0.0.1", 0)
    port = server.server_address[1]
    try:
        url = f"http://127.0.0.1:{port}/selftest"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert response.status == 200
        assert body["ok"] is True
        assert body["passed"] is True
        assert _by_name(body)["restic"]["ok"] is True
    finally:
        server.shutdown()
        server.server_close()
