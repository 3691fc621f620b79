"""`make bench`: one run on this machine, printed as tables (docs/benchmarks.md records them).

    scripts/with-toolchain python -m bench.run [--quick] [--json FILE]   (make bench ARGS=...)

Sections: proxy overhead (HTTP req/s and p50/p99, WebSocket RPC round trips) through the Worker
vs straight to the gateway; cold start (boot code: restore, config, gateway) vs the gateway
started bare; snapshot cost for unchanged / 1% / 10% changed state. Loopback only, bounded.
The stack lives in .dev-state/bench (wiped first) on the usual ports: stop `make dev` first.
"""

from __future__ import annotations

import argparse
import datetime
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
from dev.stack import ROOT, PieceFailed, Stack, StackConfig, http_status
from ops.writable import output_problem

STATE_FILES = 1000
FILE_BYTES = 4096
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
    return results


def log_path(stack: Stack) -> Path:
    return stack.config.logs_dir / "bare-gateway.log"


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


def snapshot_once(stack: Stack, case: str) -> SnapshotCost:
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
    return SnapshotCost(
        case,
        seconds,
        skipped,
        0 if skipped else int(last.get("files_new") or 0),
        0 if skipped else int(last.get("files_changed") or 0),
        0 if skipped else int(last.get("bytes_added") or 0),
        requests,
    )


def snapshot_costs(stack: Stack, reps: int) -> list[SnapshotCost]:
    data = stack.config.home / ".openclaw" / "workspace" / "bench-state"
    write_state(data, range(STATE_FILES))
    results = [snapshot_once(stack, f"initial ({STATE_FILES} x {FILE_BYTES // 1024} KiB)")]
    for _ in range(reps):
        results.append(snapshot_once(stack, "unchanged"))
    for share, label in ((0.01, "1% changed"), (0.10, "10% changed")):
        count = int(STATE_FILES * share)
        for rep in range(reps):
            start = (rep * count) % STATE_FILES
            write_state(data, [(start + i) % STATE_FILES for i in range(count)])
            results.append(snapshot_once(stack, f"{label} ({count} files)"))
    return results


# --- proxy overhead -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyRow:
    path: str
    target: str
    sequential: LatencyStats
    concurrent: LatencyStats


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


def run(quick: bool) -> tuple[str, dict[str, Any]]:
    state = ROOT / ".dev-state" / "bench"
    shutil.rmtree(state, ignore_errors=True)
    # The Worker talks to the gateway directly (no edge stand-in): the measured path is the real
    # Worker → gateway hop. Snapshots only when asked, so the loop does not disturb timings.
    config = StackConfig(
        state_dir=state, llm="standin", simulate_remote_browser=False, backup_interval_seconds=3600
    )
    stack = Stack(config, say)
    results: dict[str, Any] = {"machine": machine(), "quick": quick}
    out: list[str] = []
    reps = 1 if quick else 3
    try:
        stack.start(["s3", "access", "llm"])
        say(f"bare gateway start x{1 if quick else 2}")
        bare = bare_gateway_start(stack, 1 if quick else 2)
        say("boot code, first boot (empty R2)")
        boots = [timed_boot(stack, "boot code, first boot (empty bucket: init)")]
        say("snapshot cost")
        snaps = snapshot_costs(stack, reps)
        say("starting the Worker")
        stack.start(["worker"])
        proxy_rows, rpc_rows = proxy_overhead(stack, quick)
        say("boot code after wiping the gateway state (restore from R2)")
        stack.stop(["worker", "boot"])
        stack.wipe_gateway_state()
        boots.append(timed_boot(stack, "boot code, state wiped (restore latest snapshot)"))
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
    boot_rows: list[Sequence[object]] = [
        (f"gateway bare (run {n + 1})", "-", "-", seconds, seconds, "-")
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
                )
                for s in snaps
            ],
        )
    )
    results.update(
        {
            "proxy_http": [_plain(r) for r in proxy_rows],
            "proxy_ws": [{"target": label, **_plain(s)} for label, s in rpc_rows],
            "bare_gateway_s": bare,
            "boot": [{**_plain(b), "total_s": b.total_s} for b in boots],
            "snapshots": [_plain(s) for s in snaps],
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
        text, results = run(args.quick)
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
