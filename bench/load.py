"""Bounded loopback load: HTTP latency/throughput with keep-alive threads, gateway RPC round trips.

Every loop has a fixed request count and a wall-clock cap, and targets 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.typing import Origin


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


def _percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summarize(samples: list[float], errors: int, seconds: float) -> LatencyStats:
    millis = [s * 1000 for s in samples]
    return LatencyStats(
        count=len(samples),
        errors=errors,
        seconds=seconds,
        p50_ms=_percentile(millis, 0.50),
        p99_ms=_percentile(millis, 0.99),
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


async def _connect(
    url: str, headers: Mapping[str, str], token: str | None
) -> websockets.ClientConnection:
    """Upgrade, read connect.challenge, send connect, wait for hello-ok."""
    origin = headers.get("Origin")
    ws = await websockets.connect(
        url,
        additional_headers={k: v for k, v in headers.items() if k != "Origin"},
        origin=Origin(origin) if origin else None,
        open_timeout=10,
    )
    challenge = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if challenge.get("event") != "connect.challenge":
        await ws.close()
        raise RuntimeError(f"unexpected first frame: {str(challenge)[:200]}")
    params: dict[str, Any] = {
        "minProtocol": 4,
        "maxProtocol": 4,
        "client": {
            "id": "gateway-client",
            "version": "bench",
            "platform": "linux",
            "mode": "backend",
        },
        "role": "operator",
        "scopes": [],
    }
    if token:
        params["auth"] = {"token": token}
    frame = await _call(ws, "c", "connect", params)
    if not frame.get("ok"):
        await ws.close()
        raise RuntimeError(f"connect refused: {json.dumps(frame.get('error'))[:300]}")
    return ws


async def _call(
    ws: websockets.ClientConnection, request_id: str, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "req", "id": request_id, "method": method, "params": params}))
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") == "res" and frame.get("id") == request_id:
            return frame


async def _rpc_round_trips(
    url: str,
    headers: Mapping[str, str],
    token: str | None,
    connects: int,
    round_trips: int,
    max_seconds: float,
) -> RpcStats:
    """`connects` fresh connections timed to hello-ok, then sequential `health` RPCs on one."""
    _check_loopback(url)
    deadline = time.monotonic() + max_seconds
    connect_samples: list[float] = []
    for _ in range(max(0, connects - 1)):
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        ws = await _connect(url, headers, token)
        connect_samples.append(time.perf_counter() - began)
        await ws.close()
    began = time.perf_counter()
    ws = await _connect(url, headers, token)
    connect_samples.append(time.perf_counter() - began)
    rtt_samples: list[float] = []
    errors = 0
    note = ""
    try:
        for n in range(round_trips):
            if time.monotonic() > deadline:
                break
            began = time.perf_counter()
            frame = await _call(ws, f"h{n}", "health", {})
            if frame.get("ok"):
                rtt_samples.append(time.perf_counter() - began)
            else:
                errors += 1
                note = str(frame.get("error"))[:120]
    finally:
        await ws.close()
    return RpcStats(
        connect=summarize(connect_samples, 0, sum(connect_samples)),
        round_trip=summarize(rtt_samples, errors, sum(rtt_samples)),
        note=note,
    )


def rpc_round_trips(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    connects: int = 10,
    round_trips: int = 200,
    max_seconds: float = 60.0,
) -> RpcStats:
    return asyncio.run(
        _rpc_round_trips(url, dict(headers or {}), token, connects, round_trips, max_seconds)
    )
