"""The bounded, interleaved measurement of both endpoints, the plan 2-5 verdict and the
human-readable report."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ops.gateway_client import (
    DeviceIdentity,
    ws_url,
)
from ops.latency_probe.measure import (
    CRITERION_RATIO,
    MAX_COLD_START_WAIT_SECONDS,
    MAX_REQUESTS,
    MAX_WS_SAMPLES,
    SCHEMA,
    STOP_RATIO,
    Clock,
    Credentials,
    HttpResult,
    ProbeError,
    WsResult,
    access_check,
    join_url,
    measure_cold_start,
    measure_http,
    measure_ws,
)

# --- orchestration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One side of the comparison."""

    key: str
    label: str
    url: str
    credentials: Credentials


@dataclass(frozen=True)
class ProbeSettings:
    """Bounded measurement plan."""

    requests: int = 20
    ws_samples: int = 5
    http_path: str = "/healthz"
    ws_path: str = "/"
    timeout: float = 30.0
    cold_start_wait: float | None = None
    cold_start_timeout: float = 300.0
    cold_start_path: str = "/readyz"

    def validate(self) -> None:
        """Refuse unbounded or nonsensical plans."""
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise ProbeError(f"--requests must be 1..{MAX_REQUESTS}")
        if not 0 <= self.ws_samples <= MAX_WS_SAMPLES:
            raise ProbeError(f"--ws-samples must be 0..{MAX_WS_SAMPLES}")
        if self.cold_start_wait is not None and not (
            0 <= self.cold_start_wait <= MAX_COLD_START_WAIT_SECONDS
        ):
            raise ProbeError(f"--cold-start-wait must be 0..{MAX_COLD_START_WAIT_SECONDS}")
        if not all(p.startswith("/") for p in (self.http_path, self.ws_path, self.cold_start_path)):
            raise ProbeError("--http-path, --ws-path and --cold-start-path must start with /")


def _ratio(b: float | None, a: float | None) -> float | None:
    if a is None or b is None or a <= 0:
        return None
    return round(b / a, 2)


def verdict(ratios: Mapping[str, float | None]) -> dict[str, Any]:
    """Plan 2-5 verdict from the p50 ratios (B/A): the worst measured one decides."""
    measured = {k: v for k, v in ratios.items() if v is not None and k.endswith("P50")}
    if not measured:
        return {
            "status": "unverified",
            "ratio": None,
            "basis": None,
            "detail": "no metric was measured on both endpoints",
        }
    basis, worst = max(measured.items(), key=lambda item: item[1])
    if worst >= STOP_RATIO:
        status, detail = "stop", f"{basis} ratio {worst} >= {STOP_RATIO} (stop criterion)"
    elif worst > CRITERION_RATIO:
        status, detail = "over", f"{basis} ratio {worst} > {CRITERION_RATIO} (criterion not met)"
    else:
        status, detail = "within", f"{basis} ratio {worst} <= {CRITERION_RATIO} (criterion met)"
    return {"status": status, "ratio": worst, "basis": basis, "detail": detail}


def run_probe(
    a: Endpoint,
    b: Endpoint,
    settings: ProbeSettings,
    *,
    device: DeviceIdentity | None = None,
    clock: Clock = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Measure both endpoints (interleaved) and return the probe JSON document."""
    settings.validate()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    endpoints = (a, b)
    http_results = {e.key: HttpResult() for e in endpoints}
    ws_results = {e.key: WsResult() for e in endpoints}
    cold: dict[str, dict[str, Any] | None] = {e.key: None for e in endpoints}

    if settings.cold_start_wait is not None:
        # Cold start first (any other request would wake the container): one idle wait, then the
        # candidate, which is the side that sleeps, before the baseline.
        sleep(settings.cold_start_wait)
        for e in (b, a):
            cold[e.key] = measure_cold_start(
                join_url(e.url, settings.cold_start_path),
                e.credentials.headers(),
                wait_seconds=settings.cold_start_wait,
                timeout=settings.cold_start_timeout,
                clock=clock,
                sleep=sleep,
            )
    access = {
        e.key: access_check(join_url(e.url, settings.http_path), settings.timeout)
        for e in endpoints
    }
    for _ in range(settings.requests):
        for e in endpoints:
            measure_http(
                join_url(e.url, settings.http_path),
                e.credentials.headers(),
                settings.timeout,
                http_results[e.key],
                clock,
            )
    for _ in range(settings.ws_samples):
        for e in endpoints:
            measure_ws(
                ws_url(e.url, settings.ws_path),
                e.credentials,
                device,
                timeout=settings.timeout,
                result=ws_results[e.key],
                clock=clock,
            )

    doc_endpoints: dict[str, Any] = {}
    for e in endpoints:
        doc_endpoints[e.key] = {
            "label": e.label,
            "url": e.url,
            "http": http_results[e.key].to_json(),
            "ws": ws_results[e.key].to_json(),
            "coldStart": cold[e.key],
            "accessCheck": access[e.key],
        }

    def p50(key: str, *path: str) -> float | None:
        node: Any = doc_endpoints[key]
        for part in path:
            node = node[part]
        value = node["p50"]
        return float(value) if value is not None else None

    ratios: dict[str, float | None] = {
        "httpP50": _ratio(p50("b", "http"), p50("a", "http")),
        "wsOpenP50": _ratio(p50("b", "ws", "open"), p50("a", "ws", "open")),
        "wsHealthP50": _ratio(p50("b", "ws", "health"), p50("a", "ws", "health")),
    }
    a_http_p95 = doc_endpoints["a"]["http"]["p95"]
    b_http_p95 = doc_endpoints["b"]["http"]["p95"]
    ratios["httpP95"] = _ratio(b_http_p95, a_http_p95)
    return {
        "schema": SCHEMA,
        "startedAt": started,
        "finishedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "requests": settings.requests,
            "wsSamples": settings.ws_samples,
            "httpPath": settings.http_path,
            "wsPath": settings.ws_path,
            "coldStartWaitSeconds": settings.cold_start_wait,
            "coldStartPath": settings.cold_start_path,
            "deviceIdentity": device is not None,
        },
        "criterion": {"maxRatio": CRITERION_RATIO, "stopRatio": STOP_RATIO, "baseline": "a"},
        "endpoints": doc_endpoints,
        "ratios": ratios,
        "verdict": verdict(ratios),
    }


def format_report(doc: Mapping[str, Any]) -> str:
    """Human-readable table of the probe document."""

    def cell(value: Any) -> str:
        return "-" if value is None else f"{value}"

    lines = [f"{'metric':<22}{'endpoint':<14}{'n':>5}{'p50':>10}{'p95':>10}{'p99':>10}  ms"]
    for key in ("a", "b"):
        endpoint = doc["endpoints"][key]
        rows = [
            ("http status", endpoint["http"]),
            ("ws open", endpoint["ws"]["open"]),
            ("ws handshake", endpoint["ws"]["handshake"]),
            ("ws health rpc", endpoint["ws"]["health"]),
        ]
        for name, stats in rows:
            lines.append(
                f"{name:<22}{endpoint['label'][:13]:<14}{stats['samples']:>5}"
                f"{cell(stats['p50']):>10}{cell(stats['p95']):>10}{cell(stats['p99']):>10}"
            )
        cold = endpoint["coldStart"]
        if cold is not None:
            lines.append(
                f"{'cold start':<22}{endpoint['label'][:13]:<14}{1:>5}{cell(cold['ms']):>10}"
            )
        for error in (endpoint["http"]["errors"] + endpoint["ws"]["errors"])[:5]:
            lines.append(f"  ! {endpoint['label']}: {error}")
        if set(endpoint["http"]["statuses"]) == {"401"}:
            lines.append(
                f"  ! {endpoint['label']}: every request was 401: the Access service token was "
                "not accepted (the probe is for deployments; `make dev` has no Access in front "
                "of the Worker)"
            )
    for key in ("a", "b"):
        endpoint = doc["endpoints"][key]
        lines.append(f"access check, no credentials, {endpoint['label']}: {_access_text(endpoint)}")
    ratios = ", ".join(f"{k} {cell(v)}" for k, v in doc["ratios"].items())
    lines.append(f"ratio B/A: {ratios}")
    lines.append(f"verdict: {doc['verdict']['status']} - {doc['verdict']['detail']}")
    return "\n".join(lines)


def _access_text(endpoint: Mapping[str, Any]) -> str:
    """The unauthenticated GET's outcome: Access must refuse it."""
    check = endpoint.get("accessCheck") or {}
    if check.get("status") is None:
        return f"not checked ({check.get('error') or 'no answer'})"
    if check.get("enforced"):
        return f"HTTP {check['status']}, refused (Access enforced)"
    return f"HTTP {check['status']}, NOT refused: Access does not protect this endpoint"
