"""Bounded loopback load: HTTP latency/throughput with keep-alive threads, gateway RPC round trips.

Every loop has a fixed request count and a wall-clock cap, and targets 127.0.0.1 only. The gateway
protocol is `ops.gateway_client` and the percentile `ops.stats.percentile` (nearest rank), the
same as the latency probe's.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection

from ops.gateway_client import ClientInfo, call, handshake, open_socket
from ops.stats import percentile


@dataclass(frozen=True)
class LatencyStats:
    count: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def _ms_percentile(millis: list[float], pct: float) -> float:
    value = percentile(millis, pct)
    return float("nan") if value is None else value


def summarize(samples: list[float], errors: int, seconds: float) -> LatencyStats:
    millis = [s * 1000 for s in samples]
    return LatencyStats(
        count=len(samples),
        errors=errors,
        seconds=seconds,
        p50_ms=_ms_percentile(millis, 50),
        p99_ms=_ms_percentile(millis, 99),
        mean_ms=statistics.fmean(millis) if millis else float("nan"),
    )


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"benchmarks only target loopback, not {host!r}")


def http_load(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    requests: int,
    concurrency: int,
    max_seconds: float = 30.0,
    expect_status: int = 200,
) -> LatencyStats:
    """GET `url` `requests` times over `concurrency` keep-alive connections (or until the cap)."""
    _check_loopback(url)
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=dict(headers or {}))
                response = conn.getresponse()
                response.read()
                ok = response.status == expect_status
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
            if ok:
                mine.append(time.perf_counter() - began)
            else:
                failed += 1
        conn.close()
        with lock:
            samples.extend(mine)
            errors += failed

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarize(samples, errors, time.perf_counter() - began)


@dataclass(frozen=True)
class RpcStats:
    connect: LatencyStats
    round_trip: LatencyStats
    note: str


CLIENT: Final = ClientInfo(id="gateway-client", mode="backend", version="bench")
"""How the benchmarks name themselves: a backend client with no scopes (loopback, token auth)."""


@contextmanager
def _session(url: str, headers: Mapping[str, str], token: str | None) -> Iterator[ClientConnection]:
    """Upgrade, then challenge -> connect -> hello-ok (the shared gateway client); closed after."""
    with open_socket(
        url,
        headers={k: v for k, v in headers.items() if k != "Origin"},
        origin=headers.get("Origin"),
        timeout=10,
        user_agent=CLIENT.version,
    ) as ws:
        handshake(ws, CLIENT, token, None, timeout=10)
        yield ws


def rpc_round_trips(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    connects: int = 10,
    round_trips: int = 200,
    max_seconds: float = 60.0,
) -> RpcStats:
    """`connects` fresh connections timed to hello-ok, then sequential `health` RPCs on one."""
    _check_loopback(url)
    sent = dict(headers or {})
    deadline = time.monotonic() + max_seconds
    connect_samples: list[float] = []
    for _ in range(max(0, connects - 1)):
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        with _session(url, sent, token):
            connect_samples.append(time.perf_counter() - began)
    rtt_samples: list[float] = []
    errors = 0
    note = ""
    began = time.perf_counter()
    with _session(url, sent, token) as ws:
        connect_samples.append(time.perf_counter() - began)
        for _ in range(round_trips):
            if time.monotonic() > deadline:
                break
            began = time.perf_counter()
            frame = call(ws, "health", {}, timeout=10)
            if frame.get("ok"):
                rtt_samples.append(time.perf_counter() - began)
            else:
                errors += 1
                note = str(frame.get("error"))[:120]
    return RpcStats(
        connect=summarize(connect_samples, 0, sum(connect_samples)),
        round_trip=summarize(rtt_samples, errors, sum(rtt_samples)),
        note=note,
    )
