"""`make bench`: one run on this machine, printed as tables (docs/benchmarks.md records them).

    scripts/with-toolchain python -m bench.run [--quick] [--json FILE]   (make bench ARGS=...)

Sections: proxy overhead (HTTP req/s and p50/p99, the Worker's own cost over the runtime's
floor, WebSocket RPC round trips) through the Worker vs straight to the gateway, the own cost
both through wrangler dev's proxy and on the user worker's workerd directly; cold start
(boot code: restore, config, gateway; each start-up lever added one at a time) vs the stock
gateway started the way the reference starts it; the gateway's peak memory with channels on and
one chat; snapshot cost for unchanged / 1% / 10% changed state against the bytes that changed.
Loopback only, bounded. The stack lives in .dev-state/bench (wiped first) on the usual ports
(`--port-offset N` moves them all): stop `make dev` first.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from bench.coldstart import (
    LEVER_STEPS,
    STOCK_REFERENCE,
    BenchStack,
    lever_boots,
    plugin_load_profiles,
    timed_boot,
)
from bench.common import median, median_spread, say, table
from bench.plugin_profile import summary_rows
from bench.proxy import Overhead, proxy_overhead, worker_overhead
from bench.snapshots import FILE_BYTES, STATE_FILES, snapshot_costs
from dev.stack import ROOT, PieceFailed, Ports, StackConfig
from ops.writable import output_problem

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
        profiles = plugin_load_profiles(stack)
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
    out.append(overhead_table(overhead, reps))
    boot_rows: list[Sequence[object]] = [
        (f"{label} (run {n + 1})", "-", "-", seconds, seconds, "-")
        for label, runs in bare.items()
        for n, seconds in enumerate(runs)
    ]
    boot_rows += [
        (b.label, b.restore_s, b.config_s, b.gateway_s, b.total_s, b.restore_state) for b in boots
    ]
    out.append(
        table(
            "Cold start to gateway /readyz (seconds; stock gateways with an empty compile cache)",
            ["start", "restore", "config", "gateway", "total", "restore state"],
            boot_rows,
        )
    )
    # The target's reference: the stock gateway started as the reference starts it.
    stock = median(bare[STOCK_REFERENCE])
    summary: list[Sequence[object]] = [
        (label, median_spread(runs), f"{median(runs) / stock:.2f}") for label, runs in bare.items()
    ]
    for label, _levers in LEVER_STEPS:
        totals = [b.total_s for b in levers if b.label == label]
        summary.append((label, median_spread(totals), f"{median(totals) / stock:.2f}"))
    out.append(
        table(
            "Cold start, median (min-max) per step; target <= 0.50x the stock gateway as the "
            "reference starts it",
            ["start", "total s", "x stock"],
            summary,
        )
    )
    out.append(
        table(
            "Where the gateway's start goes: plugin module loads (seconds; one more start of each "
            "kind with OPENCLAW_DIAGNOSTICS=plugin.load-profile)",
            ["start", "plugin", "loads (registration modes)", "module load s"],
            summary_rows(profiles),
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
                "bytes added (restic)",
                "bytes uploaded",
                "S3 requests",
                "changed file bytes",
                "changed DB page bytes",
                "uploaded / changed",
            ],
            [
                (
                    s.case,
                    s.seconds,
                    s.skipped,
                    s.files_new,
                    s.files_changed,
                    s.bytes_added,
                    s.bytes_uploaded,
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
                "direct_available": overhead.direct_available,
                "http_own_direct_ms": overhead.http_own_direct_ms,
                "ws_ratio_direct": overhead.ws_ratio_direct,
                "wrangler_proxy_ms": overhead.wrangler_proxy_ms,
            },
            "stock_gateway_s": bare,
            "boot": [{**_plain(b), "total_s": b.total_s} for b in boots],
            "memory": [_plain(m) for m in memory],
            "plugin_load_profile": {k: [_plain(x) for x in v] for k, v in profiles.items()},
            "snapshots": [{**_plain(s), "ratio": s.ratio} for s in snaps],
        }
    )
    return "\n".join(out), results


PROXIED = "through wrangler dev's proxy"
DIRECT = "user worker's workerd directly"
OWN_COST_TARGET_MS = 1.0
WS_RATIO_TARGET = 1.05


def overhead_table(overhead: Overhead, reps: int) -> str:
    """The Worker's own cost on both paths: the dev port (wrangler's ProxyWorker, then the user
    worker) and the user worker's own port (bench.user_worker); the direct rows say
    `unavailable` when that port was not found."""

    def value(values: Sequence[float]) -> str:
        return median_spread(values) if values else "unavailable"

    def met(values: Sequence[float], target: float) -> object:
        return median(values) <= target if values else "-"

    rows: list[Sequence[object]] = []
    for path, floor, through, own, ratio in (
        (
            PROXIED,
            overhead.http_floor_p50_ms,
            overhead.http_worker_p50_ms,
            overhead.http_own_ms,
            overhead.ws_ratio,
        ),
        (
            DIRECT,
            overhead.http_floor_direct_p50_ms,
            overhead.http_worker_direct_p50_ms,
            overhead.http_own_direct_ms,
            overhead.ws_ratio_direct,
        ),
    ):
        rows += [
            (f"{path}: floor = /sandbox-health + gateway /healthz direct (ms)", value(floor),
             "-", "-"),
            (f"{path}: through the Worker /healthz (ms)", value(through), "-", "-"),
            (f"{path}: Worker's own cost = through - floor (ms)", value(own),
             f"<= {OWN_COST_TARGET_MS:g} ms", met(own, OWN_COST_TARGET_MS)),
            (f"{path}: WS health RPC through Worker / direct to the gateway", value(ratio),
             f"<= {WS_RATIO_TARGET:g}", met(ratio, WS_RATIO_TARGET)),
        ]  # fmt: skip
    rows.append(
        (
            "wrangler dev's proxy itself: /sandbox-health via the dev port - directly (ms)",
            value(overhead.wrangler_proxy_ms),
            "-",
            "-",
        )
    )
    title = f"The Worker's own cost (median (min-max) of {reps} alternating runs, sequential p50)"
    text = table(title, ["measure", "value", "target", "met"], rows)
    if overhead.direct_available:
        text += (
            f"\n{DIRECT}: 127.0.0.1:{overhead.user_worker_port}, the worker piece's own "
            "Miniflare entry socket (requests carry MF-Original-URL, as wrangler's proxy sends).\n"
        )
    else:
        text += f"\n{DIRECT}: unavailable ({overhead.direct_note or 'not measured'}).\n"
    return text


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
