"""Proxy overhead: HTTP and WebSocket through the Worker vs straight to the gateway, and the
Worker's own cost over the runtime's floor."""

from __future__ import annotations

from dataclasses import dataclass

from websockets.exceptions import WebSocketException

from bench.common import say
from bench.load import LatencyStats, RpcStats, http_load, rpc_round_trips
from dev.stack import Stack


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
