"""`boot.py selftest` / control `GET /selftest`: run each tool's version command as the agent would.

Every tool the image bakes in (container/Dockerfile) is looked up on the PATH the gateway's agent
gets and run with its version flag, concurrently, each bounded by a timeout. The answer says, per
tool, whether it ran, what it printed (first line, secrets masked) and, for Node, whether it is
new enough for OpenClaw. Nothing is written; backup credentials are not passed to any tool.

`OPENCLAW_EDGE_SELFTEST_TOOLS` (comma list, default: all of TOOLS) names the tools this host must
have; the others are still run and reported as not required (a host that is not the image, e.g.
the local stack, has only some of them). `OPENCLAW_EDGE_SELFTEST_TIMEOUT_SECONDS` (default 30)
bounds each tool.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .gateway import gateway_env
from .settings import SECRET_ENV_NAMES, Settings, split_list

TIMEOUT_DEFAULT = 30
OUTPUT_LIMIT = 200
VERSION = re.compile(r"\d+(?:\.\d+)+")


@dataclass(frozen=True)
class Tool:
    """One tool and the command that proves it runs."""

    name: str
    args: tuple[str, ...]
    minimum: tuple[int, ...] | None = None
    """Lowest version that works here (Node: what the pinned OpenClaw requires)."""


TOOLS: tuple[Tool, ...] = (
    Tool("gh", ("--version",)),
    Tool("ghq", ("--version",)),
    Tool("gwq", ("version",)),
    Tool("mcp-grafana", ("--version",)),
    Tool("bb", ("--version",)),
    Tool("codex", ("--version",)),
    Tool("claude", ("--version",)),
    Tool("restic", ("version",)),
    Tool("node", ("--version",), minimum=(24, 16)),
    Tool("openclaw", ("--version",)),
)


def parse_version(text: str) -> str | None:
    """The first dotted version number in a tool's output ("OpenClaw 2026.9.6 (eb377ac)")."""
    match = VERSION.search(text)
    return match.group(0) if match else None


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _mask(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        text = text.replace(value, "[redacted]")
    return text


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_tool(
    tool: Tool,
    env: Mapping[str, str],
    cwd: str,
    timeout: float,
    secrets: Sequence[str] = (),
) -> dict[str, Any]:
    """Run one tool's version command; never raises."""
    started = time.monotonic()
    path = shutil.which(tool.name, path=env.get("PATH", ""))
    result: dict[str, Any] = {
        "name": tool.name,
        "command": " ".join((tool.name, *tool.args)),
        "path": path,
        "ok": False,
        "exit_code": None,
        "version": None,
        "output": "",
        "error": None,
    }
    if path is None:
        result["error"] = f"{tool.name} not found on PATH"
        result["seconds"] = 0.0
        return result
    try:
        # Own process group: a timed-out tool is killed with everything it started.
        proc = subprocess.Popen(
            [path, *tool.args],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        result["error"] = f"{tool.name} could not start: {exc.strerror}"
        result["seconds"] = round(time.monotonic() - started, 2)
        return result
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        result["error"] = f"{result['command']} did not finish within {timeout:g}s"
        result["seconds"] = round(time.monotonic() - started, 2)
        return result
    _kill_group(proc)  # leftovers (a daemon a tool forked) do not outlive the check
    text = _mask(out.decode("utf-8", "replace"), secrets)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    result["exit_code"] = proc.returncode
    result["output"] = first[:OUTPUT_LIMIT]
    result["version"] = parse_version(first)
    result["seconds"] = round(time.monotonic() - started, 2)
    if proc.returncode != 0:
        result["error"] = f"{result['command']} exited with {proc.returncode}"
    elif tool.minimum is not None and (
        result["version"] is None or _numbers(result["version"]) < tool.minimum
    ):
        wanted = ".".join(map(str, tool.minimum))
        result["error"] = f"{tool.name} {result['version'] or '?'} is older than {wanted}"
    else:
        result["ok"] = True
    return result


def required_tools(settings: Settings) -> list[str]:
    """The tools this host must have: OPENCLAW_EDGE_SELFTEST_TOOLS, else every known tool."""
    names = split_list(settings.get("OPENCLAW_EDGE_SELFTEST_TOOLS"))
    return names or [tool.name for tool in TOOLS]


def timeout_seconds(settings: Settings) -> float:
    raw = settings.get("OPENCLAW_EDGE_SELFTEST_TIMEOUT_SECONDS")
    try:
        value = float(raw) if raw else TIMEOUT_DEFAULT
    except ValueError:
        return TIMEOUT_DEFAULT
    return value if value > 0 else TIMEOUT_DEFAULT


def run(settings: Settings, tools: Sequence[Tool] = TOOLS) -> dict[str, Any]:
    """Every tool, concurrently; `passed` is true when every required tool ran."""
    required = required_tools(settings)
    known = {tool.name for tool in tools}
    env = gateway_env(settings.env)
    secrets = [v for n in SECRET_ENV_NAMES if len(v := settings.get(n)) >= 4]
    timeout = timeout_seconds(settings)
    cwd = str(settings.home) if settings.home.is_dir() else "/"
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(tools) or 1) as pool:
        results = list(pool.map(lambda t: run_tool(t, env, cwd, timeout, secrets), tools))
    for result in results:
        result["required"] = result["name"] in required
    unknown = [name for name in required if name not in known]
    failed = [r["name"] for r in results if r["required"] and not r["ok"]]
    by_name = {r["name"]: r for r in results}
    openclaw = by_name.get("openclaw", {})
    return {
        "ok": True,
        "passed": not failed and not unknown,
        "failed": failed,
        "unknown_required": unknown,
        "timeout_seconds": timeout,
        "seconds": round(time.monotonic() - started, 2),
        "tools": results,
        "environment": {
            # The base image's ENV SANDBOX_VERSION (= its tag); absent outside the Sandbox.
            "sandbox_version": settings.get("SANDBOX_VERSION") or None,
            "openclaw_version": openclaw.get("version"),
            "image_openclaw_version": settings.get("OPENCLAW_VERSION") or None,
        },
    }
