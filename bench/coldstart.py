"""Cold start: the boot code (restore, config, gateway; each start-up lever added one at a time)
against the stock gateway, interleaved so that the machine's load touches every row alike."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import say
from bench.memory import MemoryUse, chat_memory
from dev.stack import PieceFailed, Stack, http_status

# The start-up levers (container/openclaw_boot: compile_cache.py, config.py), each set by one
# variable (off, on; None = unset, the boot code's default); the cold-start rows add them one at
# a time. The plugin allowlist is opt-in (it did not pay, docs/benchmarks.md).
LEVERS: dict[str, tuple[str, str | None]] = {
    "OPENCLAW_EDGE_COMPILE_CACHE": ("off", None),
    "OPENCLAW_EDGE_PLUGIN_ALLOWLIST": ("off", "on"),
    "OPENCLAW_EDGE_CONFIG_VALIDATION": ("always", None),
}
LEVER_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("boot code, no lever (before)", ()),
    ("+ prebuilt compile cache", ("OPENCLAW_EDGE_COMPILE_CACHE",)),
    (
        "+ validation cache (the default: after)",
        ("OPENCLAW_EDGE_COMPILE_CACHE", "OPENCLAW_EDGE_CONFIG_VALIDATION"),
    ),
    ("+ plugins.allow (opt-in)", tuple(LEVERS)),
)
LOG_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),(\d{3}) ")


class BenchStack(Stack):
    """The dev stack with extra environment for the boot code (levers, a fresh temp dir)."""

    extra_boot_env: dict[str, str]

    def boot_env(self) -> dict[str, str]:
        env = super().boot_env()
        env.update(getattr(self, "extra_boot_env", {}))
        return env


@dataclass(frozen=True)
class BootTiming:
    label: str
    restore_s: float
    config_s: float
    gateway_s: float
    restore_state: str

    @property
    def total_s(self) -> float:
        return self.restore_s + self.config_s + self.gateway_s


def _log_times(log: Path, since: float) -> tuple[dict[str, float], str]:
    """Wall-clock times of the boot code's phase lines written after `since`, restore state."""
    marks: dict[str, float] = {}
    state = "?"
    needles = {"restore": " restore: ", "config": " config ", "gateway": " gateway started"}
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_TIME.match(line)
        if not match:
            continue
        stamp = time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
        stamp += int(match.group(2)) / 1000
        if stamp < since - 1:
            continue
        for key, needle in needles.items():
            if needle in line and key not in marks:
                marks[key] = stamp
                if key == "restore":
                    state = line.split(needle, 1)[1].strip()
    return marks, state


def timed_boot(stack: Stack, label: str) -> BootTiming:
    began = time.time()
    stack.start(["boot"])
    ready = began + stack.timings["boot"]
    marks, state = _log_times(stack.config.logs_dir / "boot.log", began)
    restore_end = marks.get("restore", began)
    config_end = marks.get("config", restore_end)
    return BootTiming(
        label, restore_end - began, config_end - restore_end, ready - config_end, state
    )


def bare_gateway_start(stack: Stack, runs: int) -> list[float]:
    """The gateway alone: same binary, a minimal config, no restore/config/validation step."""
    results = []
    port = stack.config.ports.gateway
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="bench-bare-", dir=stack.config.state_dir))
        config = {
            "gateway": {
                "mode": "local",
                "port": port,
                "bind": "loopback",
                "auth": {"mode": "token", "token": "${OPENCLAW_GATEWAY_TOKEN}"},
            }
        }
        (home / ".openclaw").mkdir()
        (home / ".openclaw" / "openclaw.json").write_text(json.dumps(config))
        env = stack.boot_env()
        env["HOME"] = str(home)
        # As the reference starts it: default plugins, OpenClaw's own compile cache in an empty
        # temp dir (a fresh container's), no prebuilt cache.
        env["TMPDIR"] = tempfile.mkdtemp(prefix="bench-tmp-", dir=stack.config.state_dir)
        env.pop("NODE_COMPILE_CACHE", None)
        # No channel tokens: with DISCORD_BOT_TOKEN set and no plugin installed OpenClaw goes
        # looking for @openclaw/discord on npm (`npm view`), which is not a start-up cost.
        for name in stack.channel_env():
            env.pop(name, None)
        log = (stack.config.logs_dir / "bare-gateway.log").open("ab")
        began = time.monotonic()
        process = subprocess.Popen(
            [str(stack.openclaw_bin()), "gateway", "--port", str(port), "--bind", "loopback"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while http_status(f"http://127.0.0.1:{port}/readyz") != 200:
                if process.poll() is not None or time.monotonic() - began > 180:
                    raise PieceFailed("bare-gateway", "did not become ready", log_path(stack))
                time.sleep(0.1)
            results.append(time.monotonic() - began)
        finally:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
            log.close()
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(env["TMPDIR"], ignore_errors=True)
    return results


def log_path(stack: Stack) -> Path:
    return stack.config.logs_dir / "bare-gateway.log"


def lever_boots(
    stack: BenchStack, reps: int
) -> tuple[list[float], list[BootTiming], list[MemoryUse]]:
    """Container-like cold starts (state wiped and restored from the latest snapshot, an empty
    temp dir), the levers added one at a time, interleaved with the stock gateway so that a
    change in the machine's load touches every row alike; after each step's last start, one
    chat and the gateway's memory."""
    stock: list[float] = []
    boots: list[BootTiming] = []
    memory: list[MemoryUse] = []
    scratch: list[Path] = []
    try:
        for rep in range(reps):
            stack.stop(["boot"])
            say(f"stock gateway start ({rep + 1}/{reps})")
            stock += bare_gateway_start(stack, 1)
            for label, on in LEVER_STEPS:
                stack.stop(["boot"])
                stack.wipe_gateway_state()
                tmp = Path(tempfile.mkdtemp(prefix="bench-tmp-", dir=stack.config.state_dir))
                scratch.append(tmp)
                levers = {name: values[1 if name in on else 0] for name, values in LEVERS.items()}
                chosen = {name: value for name, value in levers.items() if value is not None}
                stack.extra_boot_env = {**chosen, "TMPDIR": str(tmp)}
                say(f"cold start ({rep + 1}/{reps}): {label}")
                boots.append(timed_boot(stack, label))
                if rep == reps - 1:
                    memory.append(chat_memory(stack, label))
    finally:
        stack.extra_boot_env = {}
        for tmp in scratch:
            shutil.rmtree(tmp, ignore_errors=True)
    return stock, boots, memory
