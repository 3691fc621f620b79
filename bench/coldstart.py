"""Cold start: the boot code (restore, config, gateway; each start-up lever added one at a time)
against the stock gateway, interleaved so that the machine's load touches every row alike."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import plugin_profile
from bench.common import say
from bench.memory import MemoryUse, chat_memory
from dev.stack import ROOT, PieceFailed, Stack, http_status

# The start-up levers (container/openclaw_boot: compile_cache.py, openclaw_config.py), each set
# by one variable; the cold-start rows add them one at a time. A value names the variable's
# setting, None leaves it unset (the boot code's default), MINIMAL / CHANNELS stand for the
# compile caches the bench builds itself (`build_caches`): from a minimal start only, and with
# the channels configured too (what the image and scripts/install-openclaw build). The plugin
# allowlist is opt-in (it did not pay, docs/benchmarks.md).
MINIMAL, CHANNELS = "<minimal cache>", "<channel cache>"
CACHE, VALIDATION, ALLOWLIST = (
    "OPENCLAW_EDGE_COMPILE_CACHE",
    "OPENCLAW_EDGE_CONFIG_VALIDATION",
    "OPENCLAW_EDGE_PLUGIN_ALLOWLIST",
)
LEVER_STEPS: tuple[tuple[str, dict[str, str | None]], ...] = (
    ("boot code, no lever (before)", {CACHE: "off", VALIDATION: "always", ALLOWLIST: "off"}),
    (
        "+ prebuilt compile cache (minimal start)",
        {CACHE: MINIMAL, VALIDATION: "always", ALLOWLIST: "off"},
    ),
    (
        "+ channel plugins in the compile cache",
        {CACHE: CHANNELS, VALIDATION: "always", ALLOWLIST: "off"},
    ),
    (
        "+ validation cache (the default: after)",
        {CACHE: CHANNELS, VALIDATION: None, ALLOWLIST: "off"},
    ),
    ("+ plugins.allow (opt-in)", {CACHE: CHANNELS, VALIDATION: None, ALLOWLIST: "on"}),
)
STOCK_MINIMAL = "stock gateway, minimal config (earlier runs' row)"
STOCK_REFERENCE = "stock gateway as the reference starts it (user's config)"
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
    """The gateway alone: same binary, a minimal config (no channels, no provider), no
    restore/config/validation step. The earlier runs' stock row, kept for comparison."""
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
        env = stock_env(stack, home)
        # No channel tokens: with DISCORD_BOT_TOKEN set and no plugin installed OpenClaw goes
        # looking for @openclaw/discord on npm (`npm view`), which is not a start-up cost.
        for name in stack.channel_env():
            env.pop(name, None)
        argv = [str(stack.openclaw_bin()), "gateway", "--port", str(port), "--bind", "loopback"]
        results.append(_stock_start(stack, home, env, argv))
    return results


# How cloudflare/moltworker (the reference) starts the gateway, start-openclaw.sh at commit
# aa5f75b2: it restores ~/.openclaw (config and state) from R2 (lines 60-99), patches the user's
# channels, provider and gateway token into openclaw.json (lines 141-265; no plugins.allow, so
# OpenClaw's default plugins), then line 325:
#   exec openclaw gateway --port 18789 --verbose --allow-unconfigured --bind lan --token "$TOKEN"
# Its Dockerfile sets no NODE_COMPILE_CACHE, so OpenClaw's own cache in a fresh container's
# empty temp dir. Here: the same flags except `--bind loopback` (lan would listen on every
# interface of a shared machine; the address does not change the start) and the token from the
# config's gateway.auth (OPENCLAW_GATEWAY_TOKEN) instead of argv (no secrets in argv).
REFERENCE_FLAGS = ("--verbose", "--allow-unconfigured", "--bind", "loopback")


def reference_gateway_start(
    stack: Stack, template: Path, extra_env: dict[str, str] | None = None
) -> float:
    """The stock gateway started the way the reference starts it, with the user's config: a copy
    of the ~/.openclaw the boot code restored and configured (`template`: Discord and Telegram
    against the fakes, the same provider, the restored state), without plugins.allow and
    without the boot code (no restore step timed, no prebuilt compile cache, no validation).
    `extra_env` is added to its environment (the plugin-load profile)."""
    home = Path(tempfile.mkdtemp(prefix="bench-reference-", dir=stack.config.state_dir))
    # tmp/ holds the previous gateway's lock files (the reference deletes its lock, line 319).
    shutil.copytree(
        template, home / ".openclaw", symlinks=True, ignore=shutil.ignore_patterns("tmp")
    )
    config_path = home / ".openclaw" / "openclaw.json"
    config = json.loads(config_path.read_text())
    (config.get("plugins") or {}).pop("allow", None)  # default plugins
    config_path.write_text(json.dumps(config, indent=2))
    env = {**stock_env(stack, home), **(extra_env or {})}
    port = stack.config.ports.gateway
    argv = [str(stack.openclaw_bin()), "gateway", "--port", str(port), *REFERENCE_FLAGS]
    return _stock_start(stack, home, env, argv)


def stock_env(stack: Stack, home: Path) -> dict[str, str]:
    """The boot code's environment (channel fakes, provider, token) for the gateway alone:
    a fresh HOME and an empty temp dir (OpenClaw's own compile cache there, as in a fresh
    container), no prebuilt cache, none of the boot code's own settings."""
    env = {k: v for k, v in stack.boot_env().items() if not k.startswith("OPENCLAW_EDGE_")}
    env.pop("NODE_COMPILE_CACHE", None)
    env["HOME"] = str(home)
    env["TMPDIR"] = tempfile.mkdtemp(prefix="bench-tmp-", dir=stack.config.state_dir)
    return env


def _stock_start(stack: Stack, home: Path, env: dict[str, str], argv: list[str]) -> float:
    """Seconds from spawning `argv` to /readyz 200; then the gateway is stopped, HOME and the
    temp dir removed."""
    port = stack.config.ports.gateway
    log = log_path(stack).open("ab")
    began = time.monotonic()
    process = subprocess.Popen(
        argv,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while http_status(f"http://127.0.0.1:{port}/readyz") != 200:
            if process.poll() is not None or time.monotonic() - began > 240:
                raise PieceFailed("bare-gateway", "did not become ready", log_path(stack))
            time.sleep(0.1)
        return time.monotonic() - began
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


def log_path(stack: Stack) -> Path:
    return stack.config.logs_dir / "bare-gateway.log"


def cache_path(stack: Stack, name: str) -> Path:
    return stack.config.state_dir / (
        "compile-cache-" + ("channels" if name == CHANNELS else "minimal")
    )


def build_caches(stack: Stack) -> dict[str, str]:
    """The two compile caches the lever rows compare, built as scripts/install-openclaw builds
    its own (container/openclaw_boot/compile_cache.py, files read-only)."""
    script = ROOT / "container" / "openclaw_boot" / "compile_cache.py"
    caches = {}
    for name, extra in ((MINIMAL, []), (CHANNELS, ["--channels", str(stack.plugin_dir())])):
        path = cache_path(stack, name)
        say(f"building the {name} (a real gateway start)")
        argv = [sys.executable, str(script), str(path), "--openclaw", str(stack.openclaw_bin())]
        # Its one-line summary goes to stderr with the progress, not into the tables.
        subprocess.run([*argv, "--files-only", *extra], check=True, timeout=900, stdout=sys.stderr)
        caches[name] = str(path)
    return caches


def lever_boots(
    stack: BenchStack, reps: int
) -> tuple[dict[str, list[float]], list[BootTiming], list[MemoryUse]]:
    """Container-like cold starts (state wiped and restored from the latest snapshot, an empty
    temp dir), the levers added one at a time, interleaved with the stock gateway (both ways)
    so that a change in the machine's load touches every row alike; after each step's last
    start, one chat and the gateway's memory."""
    caches = build_caches(stack)
    stock: dict[str, list[float]] = {STOCK_MINIMAL: [], STOCK_REFERENCE: []}
    boots: list[BootTiming] = []
    memory: list[MemoryUse] = []
    scratch: list[Path] = []
    template = stack.config.state_dir / "reference-template"
    try:
        for rep in range(reps):
            stack.stop(["boot"])
            # The ~/.openclaw the boot code restored and configured, for the reference start.
            shutil.rmtree(template, ignore_errors=True)
            shutil.copytree(stack.config.home / ".openclaw", template, symlinks=True)
            say(f"stock gateway starts ({rep + 1}/{reps})")
            stock[STOCK_REFERENCE].append(reference_gateway_start(stack, template))
            stock[STOCK_MINIMAL] += bare_gateway_start(stack, 1)
            for label, levers in LEVER_STEPS:
                stack.stop(["boot"])
                stack.wipe_gateway_state()
                tmp = Path(tempfile.mkdtemp(prefix="bench-tmp-", dir=stack.config.state_dir))
                scratch.append(tmp)
                chosen = {k: caches.get(v, v) for k, v in levers.items() if v is not None}
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


def _lines_after(path: Path, offset: int) -> list[str]:
    """The lines written to `path` since it was `offset` bytes long (all, if it was rotated)."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        if path.stat().st_size >= offset:
            handle.seek(offset)
        return handle.read().decode(errors="replace").splitlines()


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


PROFILE_BOOT = "boot code (the default levers)"
PROFILE_REFERENCE = "stock gateway as the reference starts it"


def plugin_load_profiles(stack: BenchStack) -> dict[str, list[plugin_profile.PluginLoads]]:
    """One more start of each kind, after the timed ones, with OpenClaw's plugin-load profile on
    (`bench.plugin_profile`): the reference's start (the template `lever_boots` left behind)
    and a container-like cold start of the boot code with the shipped default levers."""
    flag = {plugin_profile.DIAGNOSTICS_ENV: plugin_profile.PROFILE_FLAG}
    template = stack.config.state_dir / "reference-template"
    profiles: dict[str, list[plugin_profile.PluginLoads]] = {}
    stack.stop(["boot"])
    say("plugin-load profile: the stock gateway as the reference starts it")
    offset = _size(log_path(stack))
    reference_gateway_start(stack, template, flag)
    profiles[PROFILE_REFERENCE] = plugin_profile.module_loads(_lines_after(log_path(stack), offset))
    say("plugin-load profile: the boot code (a container-like cold start)")
    stack.wipe_gateway_state()  # HOME with it, so the gateway's log starts empty
    tmp = Path(tempfile.mkdtemp(prefix="bench-tmp-", dir=stack.config.state_dir))
    gateway_log = stack.config.home / ".openclaw-edge" / "run" / "gateway.log"
    stack.extra_boot_env = {CACHE: str(cache_path(stack, CHANNELS)), "TMPDIR": str(tmp), **flag}
    try:
        stack.start(["boot"])
    finally:
        stack.extra_boot_env = {}
        shutil.rmtree(tmp, ignore_errors=True)
    profiles[PROFILE_BOOT] = plugin_profile.module_loads(_lines_after(gateway_log, 0))
    return profiles
