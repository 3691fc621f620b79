"""`make bench`: one run on this machine, printed as tables (docs/benchmarks.md records them).

    scripts/with-toolchain python -m bench.run [--quick] [--json FILE]   (make bench ARGS=...)

Sections: proxy overhead (HTTP req/s and p50/p99, the Worker's own cost over the runtime's
floor, WebSocket RPC round trips) through the Worker vs straight to the gateway; cold start
(boot code: restore, config, gateway; each start-up lever added one at a time) vs the stock
gateway started the way the reference starts it; the gateway's peak memory with channels on and
one chat; snapshot cost for unchanged / 1% / 10% changed state against the bytes that changed.
Loopback only, bounded. The stack lives in .dev-state/bench (wiped first) on the usual ports
(`--port-offset N` moves them all): stop `make dev` first.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from websockets.exceptions import WebSocketException

from bench.load import LatencyStats, RpcStats, http_load, rpc_round_trips
from dev.stack import CHAT_USERS, ROOT, PieceFailed, Ports, Stack, StackConfig, http_status
from ops.writable import output_problem

STATE_FILES = 1000
FILE_BYTES = 4096
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


def say(line: str) -> None:
    print(f"[bench] {line}", file=sys.stderr, flush=True)


# --- tables ---------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"### {title}", ""]
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def median_spread(values: Sequence[float]) -> str:
    """`median (min-max)` of repeated measurements."""
    if not values:
        return "-"
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    if len(ordered) == 1:
        return _cell(median)
    return f"{_cell(median)} ({_cell(ordered[0])}-{_cell(ordered[-1])})"


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


class BenchStack(Stack):
    """The dev stack with extra environment for the boot code (levers, a fresh temp dir)."""

    extra_boot_env: dict[str, str]

    def boot_env(self) -> dict[str, str]:
        env = super().boot_env()
        env.update(getattr(self, "extra_boot_env", {}))
        return env


# --- cold start -----------------------------------------------------------------------------


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


# --- memory -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryUse:
    label: str
    processes: int
    rss_mib: float
    peak_mib: float
    """Sum of each gateway process's VmHWM (its own peak RSS): an upper bound of the peak."""
    chat: str


def _proc_status(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    except OSError:
        pass
    return fields


def group_memory(pgid: int) -> tuple[int, float, float]:
    """(processes, RSS MiB, peak RSS MiB) of every process in the process group `pgid`."""
    count, rss_kib, peak_kib = 0, 0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
        except OSError:
            continue
        status = _proc_status(int(entry.name))
        count += 1
        rss_kib += int(status.get("VmRSS", "0 kB").split()[0])
        peak_kib += int(status.get("VmHWM", "0 kB").split()[0])
    return count, rss_kib / 1024, peak_kib / 1024


def _json_call(url: str, body: object | None = None, timeout: float = 10) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback chat fakes
        url,
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read())


def chat_memory(stack: Stack, label: str, wait_seconds: float = 120) -> MemoryUse:
    """One Telegram DM from the allowlisted user, the bot's answer awaited; then the gateway's
    memory (its whole process group: the gateway and any helper processes it started)."""
    chat = "no channels"
    if stack.config.channels:
        telegram = stack.config.url("telegram").rstrip("/")
        before = len(_json_call(f"{telegram}/_fake/bot-messages").get("messages") or [])
        deadline = time.monotonic() + wait_seconds
        chat = "no answer"
        # The plugin starts polling a few seconds after /readyz: resend until it is delivered.
        while time.monotonic() < deadline:
            state = _json_call(f"{telegram}/_fake/state")
            if int(state.get("polls") or 0) > 0:
                break
            time.sleep(0.5)
        path = f"/_fake/users/{CHAT_USERS.telegram_allowed}/message"
        _json_call(f"{telegram}{path}", {"text": "2 + 2"})
        while time.monotonic() < deadline:
            messages = _json_call(f"{telegram}/_fake/bot-messages").get("messages") or []
            if len(messages) > before:
                chat = "answered"
                break
            time.sleep(0.5)
    gateway = control(stack, "GET", "/status").get("gateway") or {}
    pid = gateway.get("pid")
    if not isinstance(pid, int):
        return MemoryUse(label, 0, 0.0, 0.0, chat)
    count, rss, peak = group_memory(pid)
    return MemoryUse(label, count, rss, peak, chat)


# --- snapshots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotCost:
    case: str
    seconds: float
    skipped: bool
    files_new: int
    files_changed: int
    bytes_added: int
    s3_requests: int
    changed_bytes: int = 0
    """Bytes of the workspace files this case rewrote."""
    db_page_bytes: int = 0
    """Bytes of SQLite pages that differ from the previous snapshot's database copies."""

    @property
    def ratio(self) -> float | None:
        """bytes added / (changed file bytes + changed database page bytes)."""
        changed = self.changed_bytes + self.db_page_bytes
        return self.bytes_added / changed if changed and not self.skipped else None


def page_digests(directory: Path) -> dict[tuple[str, int], tuple[bytes, int]]:
    """SHA-256 of every page of every SQLite copy the boot code snapshots
    (~/.openclaw-edge/state/sqlite/*.snapshot, backup/sqlite_copy.py `copy_databases`)."""

    pages: dict[tuple[str, int], tuple[bytes, int]] = {}
    for copy in sorted(directory.rglob("*.snapshot")) if directory.exists() else []:
        data = copy.read_bytes()
        if len(data) < 100 or not data.startswith(b"SQLite format 3\x00"):
            continue
        size = int.from_bytes(data[16:18], "big")
        size = 65536 if size == 1 else size
        for n in range(0, len(data), size):
            pages[(str(copy), n // size)] = (hashlib.sha256(data[n : n + size]).digest(), size)
    return pages


def changed_page_bytes(
    before: dict[tuple[str, int], tuple[bytes, int]],
    after: dict[tuple[str, int], tuple[bytes, int]],
) -> int:
    return sum(page[1] for key, page in after.items() if before.get(key) != page)


def control(stack: Stack, method: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback control API
        stack.config.url("control", path),
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={
            "Authorization": f"Bearer {stack.secrets.gateway_token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())
        return result


def _s3_requests(stack: Stack) -> int:
    log = stack.config.logs_dir / "s3.log"
    return sum(1 for line in log.read_text(errors="replace").splitlines() if '] "' in line)


def write_state(directory: Path, files: Sequence[int]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in files:
        (directory / f"file-{n:04d}.bin").write_bytes(os.urandom(FILE_BYTES))


def snapshot_once(stack: Stack, case: str, changed_bytes: int = 0) -> SnapshotCost:
    sqlite_dir = stack.config.home / ".openclaw-edge" / "state" / "sqlite"
    pages_before = page_digests(sqlite_dir)
    before = _s3_requests(stack)
    began = time.perf_counter()
    result = control(stack, "POST", "/snapshot")
    seconds = time.perf_counter() - began
    time.sleep(1.0)  # let moto's access log catch up before counting
    requests = _s3_requests(stack) - before
    if not result.get("ok"):
        raise RuntimeError(f"snapshot failed: {result}")
    last = (control(stack, "GET", "/status").get("backup") or {}).get("last_snapshot") or {}
    skipped = bool(result.get("skipped"))
    db_bytes = 0 if skipped else changed_page_bytes(pages_before, page_digests(sqlite_dir))
    return SnapshotCost(
        case,
        seconds,
        skipped,
        0 if skipped else int(last.get("files_new") or 0),
        0 if skipped else int(last.get("files_changed") or 0),
        0 if skipped else int(last.get("bytes_added") or 0),
        requests,
        changed_bytes,
        db_bytes,
    )


def snapshot_costs(stack: Stack, reps: int) -> list[SnapshotCost]:
    data = stack.config.home / ".openclaw" / "workspace" / "bench-state"
    write_state(data, range(STATE_FILES))
    initial = f"initial ({STATE_FILES} x {FILE_BYTES // 1024} KiB)"
    results = [snapshot_once(stack, initial, STATE_FILES * FILE_BYTES)]
    for _ in range(reps):
        results.append(snapshot_once(stack, "unchanged"))
    for share, label in ((0.01, "1% changed"), (0.10, "10% changed")):
        count = int(STATE_FILES * share)
        for rep in range(reps):
            start = (rep * count) % STATE_FILES
            write_state(data, [(start + i) % STATE_FILES for i in range(count)])
            results.append(snapshot_once(stack, f"{label} ({count} files)", count * FILE_BYTES))
    return results


# --- proxy overhead -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyRow:
    path: str
    target: str
    sequential: LatencyStats
    concurrent: LatencyStats


@dataclass(frozen=True)
class Overhead:
    """The Worker's own cost, from repeated side-by-side runs (one value per repetition)."""

    http_floor_p50_ms: list[float]
    http_worker_p50_ms: list[float]
    ws_direct_p50_ms: list[float]
    ws_worker_p50_ms: list[float]

    @property
    def http_own_ms(self) -> list[float]:
        return [w - f for w, f in zip(self.http_worker_p50_ms, self.http_floor_p50_ms, strict=True)]

    @property
    def ws_ratio(self) -> list[float]:
        return [w / d for w, d in zip(self.ws_worker_p50_ms, self.ws_direct_p50_ms, strict=True)]


def worker_overhead(stack: Stack, reps: int, quick: bool) -> Overhead:
    """Alternating runs: `/sandbox-health` (the runtime's floor: wrangler's dev proxy + workerd,
    no auth, no upstream) and `/healthz` through the Worker (Access JWT verified, headers
    rewritten, proxied), minus the gateway's own time for the same request; WebSocket health
    RPCs direct and through the Worker."""
    cfg = stack.config
    access = {"Cf-Access-Jwt-Assertion": stack.access_token("bench@example.com")}
    n = 200 if quick else 500
    origin = {"Origin": cfg.url("worker").rstrip("/")}
    floor: list[float] = []
    worker: list[float] = []
    direct_ws: list[float] = []
    worker_ws: list[float] = []
    for rep in range(reps):
        say(f"Worker overhead, repetition {rep + 1}/{reps}")
        floor_run = http_load(cfg.url("worker", "/sandbox-health"), requests=n, concurrency=1)
        worker_run = http_load(
            cfg.url("worker", "/healthz"), headers=access, requests=n, concurrency=1
        )
        gateway_run = http_load(cfg.url("gateway", "/healthz"), requests=n, concurrency=1)
        floor.append(floor_run.p50_ms + gateway_run.p50_ms)
        worker.append(worker_run.p50_ms)
        direct_ws.append(
            rpc_round_trips(
                cfg.url("gateway").replace("http", "ws"),
                headers=origin,
                token=stack.secrets.gateway_token,
                round_trips=n // 2,
            ).round_trip.p50_ms
        )
        worker_ws.append(
            rpc_round_trips(
                cfg.url("worker").replace("http", "ws"),
                headers={**origin, **access},
                token=None,
                round_trips=n // 2,
            ).round_trip.p50_ms
        )
    return Overhead(floor, worker, direct_ws, worker_ws)


def proxy_overhead(stack: Stack, quick: bool) -> tuple[list[ProxyRow], list[tuple[str, RpcStats]]]:
    cfg = stack.config
    access = {"Cf-Access-Jwt-Assertion": stack.access_token("bench@example.com")}
    sequential_n, concurrent_n = (200, 600) if quick else (1000, 3000)
    targets: list[tuple[str, str, dict[str, str]]] = [
        ("gateway direct", cfg.url("gateway", "/healthz"), {}),
        ("through Worker", cfg.url("worker", "/healthz"), access),
        ("Worker only (/sandbox-health)", cfg.url("worker", "/sandbox-health"), {}),
    ]
    rows = []
    for label, url, headers in targets:
        say(f"HTTP {label}: {sequential_n} sequential, {concurrent_n} at concurrency 8")
        http_load(url, headers=headers, requests=50, concurrency=2)  # warm-up
        seq = http_load(url, headers=headers, requests=sequential_n, concurrency=1)
        conc = http_load(url, headers=headers, requests=concurrent_n, concurrency=8)
        rows.append(ProxyRow(label, url.split("127.0.0.1")[1], seq, conc))
    rpc: list[tuple[str, RpcStats]] = []
    round_trips = 100 if quick else 500
    origin = {"Origin": cfg.url("worker").rstrip("/")}
    say(f"WebSocket: 10 connects + {round_trips} health RPCs, direct and through the Worker")
    rpc.append(
        (
            "gateway direct (token in connect)",
            rpc_round_trips(
                cfg.url("gateway").replace("http", "ws"),
                headers=origin,
                token=stack.secrets.gateway_token,
                round_trips=round_trips,
            ),
        )
    )
    try:
        worker_rpc = rpc_round_trips(
            cfg.url("worker").replace("http", "ws"),
            headers={**origin, **access},
            token=None,
            round_trips=round_trips,
        )
        rpc.append(("through Worker (token injected by Worker)", worker_rpc))
    except (RuntimeError, OSError, WebSocketException) as error:
        say(f"through the Worker without a token failed ({error}); retrying with the token")
        worker_rpc = rpc_round_trips(
            cfg.url("worker").replace("http", "ws"),
            headers={**origin, **access},
            token=stack.secrets.gateway_token,
            round_trips=round_trips,
        )
        rpc.append(("through Worker (token sent by client)", worker_rpc))
    return rows, rpc


# --- main -----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    mem = next((line.split()[1] for line in free.splitlines() if line.startswith("Mem:")), "?")
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def run(quick: bool, port_offset: int = 0) -> tuple[str, dict[str, Any]]:
    state = ROOT / ".dev-state" / "bench"
    shutil.rmtree(state, ignore_errors=True)
    # The Worker talks to the gateway directly (no edge stand-in): the measured path is the real
    # Worker → gateway hop. Snapshots only when asked, so the loop does not disturb timings.
    # Channels on (the Discord and Telegram fakes): the user's config, as memory is measured.
    config = StackConfig(
        state_dir=state,
        ports=Ports().shifted(port_offset),
        llm="standin",
        simulate_remote_browser=False,
        backup_interval_seconds=3600,
        channels=True,
    )
    stack = BenchStack(config, say)
    results: dict[str, Any] = {"machine": machine(), "quick": quick}
    out: list[str] = []
    reps = 1 if quick else 3
    try:
        stack.start(["s3", "access", "llm", "discord", "telegram"])
        say("boot code, first boot (empty R2)")
        boots = [timed_boot(stack, "boot code, first boot (empty bucket: init)")]
        say("snapshot cost")
        snaps = snapshot_costs(stack, reps)
        say("starting the Worker")
        stack.start(["worker"])
        proxy_rows, rpc_rows = proxy_overhead(stack, quick)
        overhead = worker_overhead(stack, reps, quick)
        stack.stop(["worker"])
        bare, levers, memory = lever_boots(stack, reps)
        boots += levers
        stack.stop(["boot"])
        boots.append(timed_boot(stack, "boot code, state kept (restart)"))
    finally:
        stack.stop()

    out.append(
        table(
            "Proxy overhead: HTTP GET /healthz (keep-alive)",
            [
                "target",
                "seq p50 ms",
                "seq p99 ms",
                "req/s (c=8)",
                "p50 ms (c=8)",
                "p99 ms (c=8)",
                "errors",
            ],
            [
                (
                    r.path,
                    r.sequential.p50_ms,
                    r.sequential.p99_ms,
                    r.concurrent.per_second,
                    r.concurrent.p50_ms,
                    r.concurrent.p99_ms,
                    r.sequential.errors + r.concurrent.errors,
                )
                for r in proxy_rows
            ],
        )
    )
    out.append(
        table(
            "Proxy overhead: WebSocket (gateway protocol 4)",
            ["target", "connect p50 ms", "health RPC p50 ms", "RPC p99 ms", "RPCs", "errors"],
            [
                (
                    label,
                    s.connect.p50_ms,
                    s.round_trip.p50_ms,
                    s.round_trip.p99_ms,
                    s.round_trip.count,
                    s.round_trip.errors,
                )
                for label, s in rpc_rows
            ],
        )
    )
    out.append(
        table(
            f"The Worker's own cost (median (min-max) of {reps} alternating runs, sequential p50)",
            ["measure", "value", "target", "met"],
            [
                (
                    "floor: /sandbox-health + gateway /healthz direct (ms)",
                    median_spread(overhead.http_floor_p50_ms),
                    "-",
                    "-",
                ),
                (
                    "through the Worker /healthz (ms)",
                    median_spread(overhead.http_worker_p50_ms),
                    "-",
                    "-",
                ),
                (
                    "Worker's own cost = through - floor (ms)",
                    median_spread(overhead.http_own_ms),
                    "<= 1 ms",
                    median(overhead.http_own_ms) <= 1.0,
                ),
                (
                    "WS health RPC through Worker / direct",
                    median_spread(overhead.ws_ratio),
                    "<= 1.05",
                    median(overhead.ws_ratio) <= 1.05,
                ),
            ],
        )
    )
    boot_rows: list[Sequence[object]] = [
        (f"stock gateway, empty compile cache (run {n + 1})", "-", "-", seconds, seconds, "-")
        for n, seconds in enumerate(bare)
    ]
    boot_rows += [
        (b.label, b.restore_s, b.config_s, b.gateway_s, b.total_s, b.restore_state) for b in boots
    ]
    out.append(
        table(
            "Cold start to gateway /readyz (seconds)",
            ["start", "restore", "config", "gateway", "total", "restore state"],
            boot_rows,
        )
    )
    stock = median(bare)
    summary: list[Sequence[object]] = [
        ("stock gateway (empty compile cache)", median_spread(bare), "1.00")
    ]
    for label, _on in LEVER_STEPS:
        totals = [b.total_s for b in levers if b.label == label]
        summary.append((label, median_spread(totals), f"{median(totals) / stock:.2f}"))
    out.append(
        table(
            "Cold start, median (min-max) per step; target <= 0.50x the stock gateway",
            ["start", "total s", "x stock"],
            summary,
        )
    )
    out.append(
        table(
            "Gateway memory after one Telegram chat (channels on; whole process group)",
            ["after", "processes", "RSS MiB", "peak RSS MiB (sum of VmHWM)", "chat"],
            [(m.label, m.processes, m.rss_mib, m.peak_mib, m.chat) for m in memory],
        )
    )
    out.append(
        table(
            f"Snapshot cost ({STATE_FILES} files x {FILE_BYTES} B in the workspace, plus the "
            "gateway's own state)",
            [
                "case",
                "seconds",
                "skipped",
                "files new",
                "files changed",
                "bytes added",
                "S3 requests",
                "changed file bytes",
                "changed DB page bytes",
                "added / changed",
            ],
            [
                (
                    s.case,
                    s.seconds,
                    s.skipped,
                    s.files_new,
                    s.files_changed,
                    s.bytes_added,
                    s.s3_requests,
                    s.changed_bytes,
                    s.db_page_bytes,
                    "-" if s.ratio is None else f"{s.ratio:.2f}",
                )
                for s in snaps
            ],
        )
    )
    results.update(
        {
            "proxy_http": [_plain(r) for r in proxy_rows],
            "proxy_ws": [{"target": label, **_plain(s)} for label, s in rpc_rows],
            "worker_overhead": {
                **_plain(overhead),
                "http_own_ms": overhead.http_own_ms,
                "ws_ratio": overhead.ws_ratio,
            },
            "stock_gateway_s": bare,
            "boot": [{**_plain(b), "total_s": b.total_s} for b in boots],
            "memory": [_plain(m) for m in memory],
            "snapshots": [{**_plain(s), "ratio": s.ratio} for s in snaps],
        }
    )
    return "\n".join(out), results


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="Benchmarks.")
    parser.add_argument("--quick", action="store_true", help="fewer requests and repetitions")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="move every port of the bench stack by N (beside a running `make dev` or e2e)",
    )
    args = parser.parse_args(argv)
    # Checked first: a run takes minutes, and its results must not end in a traceback.
    if args.json is not None and (problem := output_problem(args.json)):
        print(f"bench: --json {problem}", file=sys.stderr)
        return 2
    began = time.monotonic()

    def _interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C or SIGTERM still stops every piece (run() stops the stack in `finally`).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        text, results = run(args.quick, args.port_offset)
    except PieceFailed as error:
        print(f"bench: FAILED: {error}", file=sys.stderr)
        return 1
    info = results["machine"]
    print(
        f"## Benchmarks, {info['date']}\n\n"
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} memory, "
        f"Linux {info['kernel']}, Python {info['python']}, load average at start "
        f"{info['load']}. "
        f"Command: `scripts/with-toolchain python -m bench.run{' --quick' if args.quick else ''}` "
        f"({time.monotonic() - began:.0f} s).\n"
    )
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
