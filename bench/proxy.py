"""Proxy overhead: HTTP and WebSocket through the Worker vs straight to the gateway, and the
Worker's own cost over the runtime's floor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.exceptions import WebSocketException

from bench.common import say
from bench.load import LatencyStats, RpcStats, http_load, rpc_round_trips
from bench.user_worker import UserWorker, find_user_worker
from dev.stack import Stack


@dataclass(frozen=True)
class ProxyRow:
    path: str
    target: str
    sequential: LatencyStats
    concurrent: LatencyStats


@dataclass(frozen=True)
class Overhead:
    """The Worker's own cost, from repeated side-by-side runs (one value per repetition).

    Two paths: through `wrangler dev`'s proxy (the dev port: ProxyWorker in its own workerd, then
    the user worker), and the user worker's workerd directly (bench.user_worker). The direct lists
    are empty when that port was not found or stopped answering (`direct_note` says why)."""

    http_floor_p50_ms: list[float]
    http_worker_p50_ms: list[float]
    ws_direct_p50_ms: list[float]
    ws_worker_p50_ms: list[float]
    sandbox_p50_ms: list[float] = field(default_factory=list)
    """`/sandbox-health` through wrangler's proxy alone (its part of `http_floor_p50_ms`)."""
    http_floor_direct_p50_ms: list[float] = field(default_factory=list)
    http_worker_direct_p50_ms: list[float] = field(default_factory=list)
    ws_worker_direct_p50_ms: list[float] = field(default_factory=list)
    sandbox_direct_p50_ms: list[float] = field(default_factory=list)
    user_worker_port: int | None = None
    direct_note: str = ""

    @property
    def http_own_ms(self) -> list[float]:
        return [w - f for w, f in zip(self.http_worker_p50_ms, self.http_floor_p50_ms, strict=True)]

    @property
    def ws_ratio(self) -> list[float]:
        return [w / d for w, d in zip(self.ws_worker_p50_ms, self.ws_direct_p50_ms, strict=True)]

    @property
    def direct_available(self) -> bool:
        return bool(self.http_worker_direct_p50_ms)

    @property
    def http_own_direct_ms(self) -> list[float]:
        """Own cost on the user worker's workerd: `/healthz` through it - its floor."""
        return [
            w - f
            for w, f in zip(
                self.http_worker_direct_p50_ms, self.http_floor_direct_p50_ms, strict=True
            )
        ]

    @property
    def ws_ratio_direct(self) -> list[float]:
        """Health-RPC p50 through the user worker's workerd directly / straight to the gateway."""
        if not self.direct_available:
            return []
        return [
            w / d for w, d in zip(self.ws_worker_direct_p50_ms, self.ws_direct_p50_ms, strict=True)
        ]

    @property
    def wrangler_proxy_ms(self) -> list[float]:
        """wrangler dev's proxy itself: `/sandbox-health` via the dev port - straight to workerd."""
        if not self.direct_available:
            return []
        return [p - d for p, d in zip(self.sandbox_p50_ms, self.sandbox_direct_p50_ms, strict=True)]


class DirectUnavailable(Exception):
    """The user worker's own port did not answer a measure (the direct rows are left out)."""


def locate_user_worker(stack: Stack) -> tuple[UserWorker | None, str]:
    """The running worker piece's user worker (bench.user_worker), or None and why."""
    run = stack.running.get("worker")
    if run is None or run.process.poll() is not None:
        return None, "the worker piece is not running"
    ports = stack.config.ports
    notes: list[str] = []
    found = find_user_worker(
        run.process.pid,  # wrangler's pid is its process group's id (start_new_session)
        stack.config.url("worker"),
        exclude=(ports.worker, ports.inspector),
        say=notes.append,
    )
    return found, "; ".join(notes)


class _DirectRuns:
    """The measures on the user worker's workerd directly, one value per repetition each. The
    first measure that fails ends them all: no direct row then (no partial, made-up numbers)."""

    KEYS = ("sandbox", "floor", "worker", "ws")

    def __init__(self, user: UserWorker | None, note: str) -> None:
        self.user = user
        self.note = note
        self.values: dict[str, list[float]] = {key: [] for key in self.KEYS}
        self._rep: dict[str, float] = {}

    def measure(self, key: str, run: Callable[[UserWorker], float]) -> None:
        if self.user is None:
            return
        try:
            self._rep[key] = run(self.user)
        except DirectUnavailable as error:
            self.note = f"127.0.0.1:{self.user.port} stopped answering ({error})"
            say(f"user worker's workerd directly: unavailable from now on: {self.note}")
            self.user = None
            self.values = {key: [] for key in self.KEYS}

    def end_repetition(self, gateway_p50_ms: float) -> None:
        if self.user is not None:
            self._rep["floor"] = self._rep["sandbox"] + gateway_p50_ms
            for key in self.KEYS:
                self.values[key].append(self._rep[key])
        self._rep = {}


def _p50(stats: LatencyStats, what: str) -> float:
    """A direct measure's p50; no answers or any failure: DirectUnavailable."""
    if stats.count == 0 or stats.errors:
        raise DirectUnavailable(f"{what}: {stats.count} answered, {stats.errors} failed")
    return stats.p50_ms


def worker_overhead(stack: Stack, reps: int, quick: bool) -> Overhead:
    """Alternating runs: `/sandbox-health` (the runtime's floor: wrangler's dev proxy + workerd,
    no auth, no upstream) and `/healthz` through the Worker (Access JWT verified, headers
    rewritten, proxied), minus the gateway's own time for the same request; WebSocket health
    RPCs direct and through the Worker. Each measure through the dev port is followed by the
    same one on the user worker's workerd directly (no wrangler proxy; bench.user_worker), when
    its port is found; else the direct rows are unavailable (said on stderr)."""
    cfg = stack.config
    access = {"Cf-Access-Jwt-Assertion": stack.access_token("bench@example.com")}
    n = 200 if quick else 500
    origin = {"Origin": cfg.url("worker").rstrip("/")}
    user, note = locate_user_worker(stack)
    if user is None:
        say(f"user worker's workerd directly: unavailable ({note}); dev-port rows only")
    else:
        if note:
            say(note)
        say(f"user worker's workerd directly: 127.0.0.1:{user.port} (with MF-Original-URL)")
    direct = _DirectRuns(user, note)

    def direct_http(
        path: str, headers: dict[str, str], requests: int = n
    ) -> Callable[[UserWorker], float]:
        def run(u: UserWorker) -> float:
            sent = {**headers, **u.headers(path)}
            stats = http_load(u.url(path), headers=sent, requests=requests, concurrency=1)
            return _p50(stats, path)

        return run

    def direct_ws(u: UserWorker) -> float:
        try:
            stats = rpc_round_trips(
                u.url("/", scheme="ws"),
                headers={**origin, **access, **u.headers("/")},
                token=None,
                round_trips=n // 2,
            )
        except (RuntimeError, OSError, WebSocketException) as error:
            raise DirectUnavailable(f"WebSocket: {type(error).__name__}: {error}") from error
        return _p50(stats.round_trip, "WebSocket health RPC")

    # Warm-up, as proxy_overhead warmed the dev port (a failure here ends the direct runs).
    direct.measure("warm-up", direct_http("/healthz", access, requests=50))
    sandbox: list[float] = []
    floor: list[float] = []
    worker: list[float] = []
    direct_ws_p50: list[float] = []
    worker_ws: list[float] = []
    for rep in range(reps):
        say(f"Worker overhead, repetition {rep + 1}/{reps}")
        floor_run = http_load(cfg.url("worker", "/sandbox-health"), requests=n, concurrency=1)
        direct.measure("sandbox", direct_http("/sandbox-health", {}))
        worker_run = http_load(
            cfg.url("worker", "/healthz"), headers=access, requests=n, concurrency=1
        )
        direct.measure("worker", direct_http("/healthz", access))
        gateway_run = http_load(cfg.url("gateway", "/healthz"), requests=n, concurrency=1)
        sandbox.append(floor_run.p50_ms)
        floor.append(floor_run.p50_ms + gateway_run.p50_ms)
        worker.append(worker_run.p50_ms)
        direct_ws_p50.append(
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
        direct.measure("ws", direct_ws)
        direct.end_repetition(gateway_run.p50_ms)
    return Overhead(
        floor,
        worker,
        direct_ws_p50,
        worker_ws,
        sandbox_p50_ms=sandbox,
        http_floor_direct_p50_ms=direct.values["floor"],
        http_worker_direct_p50_ms=direct.values["worker"],
        ws_worker_direct_p50_ms=direct.values["ws"],
        sandbox_direct_p50_ms=direct.values["sandbox"],
        user_worker_port=direct.user.port if direct.user is not None else None,
        direct_note=direct.note,
    )


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
