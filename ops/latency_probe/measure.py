"""The probe's constants and one sample of each kind: HTTP status latency, the WebSocket
handshake + `health` RPC (through `ops.gateway_client`), the unauthenticated Access check and
the cold start; `summarize` turns samples into nearest-rank percentiles."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from websockets.exceptions import WebSocketException

from ops.gateway_client import (
    ClientInfo,
    ConnectRejected,
    DeviceIdentity,
    GatewayError,
    call,
    error_text,
    handshake,
    open_socket,
)
from ops.stats import percentile

SCHEMA: Final = "openclaw-edge/latency-probe/1"
CLIENT_VERSION: Final = "openclaw-edge-probe/0.1"
CLIENT: Final = ClientInfo(
    id="openclaw-probe", mode="probe", version=CLIENT_VERSION, scopes=("operator.read",)
)

USAGE_ERROR: Final = 64
"""Bad arguments or input files (sysexits EX_USAGE); distinct from every verdict status 0-3."""
EXIT_STATUS: Final = {"within": 0, "over": 1, "stop": 2, "unverified": 3}

CRITERION_RATIO: Final = 2.0
"""Plan 2-5: response latency within 2x of the Kubernetes deployment."""
STOP_RATIO: Final = 3.0
"""Plan phase 2 stop criterion: latency 3x the Kubernetes deployment or worse."""

AUTH_FAILURES: Final = frozenset({301, 302, 303, 307, 308, 401, 403, 404})
"""Answers waiting cannot fix: Access login, refused credentials, a wrong path."""

MAX_REQUESTS: Final = 500
MAX_WS_SAMPLES: Final = 100
MAX_COLD_START_WAIT_SECONDS: Final = 6 * 3600

Clock = Callable[[], float]


class ProbeError(GatewayError):
    """A measurement or setting that failed; the message never contains a credential."""


@dataclass(frozen=True)
class Credentials:
    """Secrets for one endpoint (from the environment)."""

    access_client_id: str | None = None
    access_client_secret: str | None = None
    gateway_token: str | None = None

    def headers(self) -> dict[str, str]:
        """Access service-token headers, when both halves are set."""
        if self.access_client_id and self.access_client_secret:
            return {
                "CF-Access-Client-Id": self.access_client_id,
                "CF-Access-Client-Secret": self.access_client_secret,
            }
        return {}

    @classmethod
    def from_env(cls, prefix: str, env: Mapping[str, str]) -> Credentials:
        """`PROBE_<A|B>_...` names, then the shared fallbacks."""

        def pick(own: str, shared: str) -> str | None:
            return env.get(f"PROBE_{prefix}_{own}") or env.get(shared) or None

        return cls(
            access_client_id=pick("ACCESS_CLIENT_ID", "CF_ACCESS_CLIENT_ID"),
            access_client_secret=pick("ACCESS_CLIENT_SECRET", "CF_ACCESS_CLIENT_SECRET"),
            gateway_token=pick("GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN"),
        )


# --- statistics ---------------------------------------------------------------------------------


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Sample count and p50/p95/p99/min/max/mean in milliseconds, rounded to 0.1 ms."""

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "samples": len(values),
        "p50": r(percentile(values, 50)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "min": r(min(values)) if values else None,
        "max": r(max(values)) if values else None,
        "mean": r(sum(values) / len(values)) if values else None,
    }


# --- measurements -------------------------------------------------------------------------------


def join_url(base: str, path: str) -> str:
    """`base` with `path` appended to its path (query and fragment dropped)."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def http_get(url: str, headers: Mapping[str, str], timeout: float) -> int:
    """One GET on a fresh connection; the status code. The body is read and discarded."""
    parts = urlsplit(url)
    conn_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_type(parts.netloc, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("GET", path, headers={**headers, "User-Agent": CLIENT_VERSION})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@dataclass
class HttpResult:
    """HTTP status latency samples of one endpoint."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Summary for the probe JSON."""
        return {**summarize(self.latencies_ms), "statuses": self.statuses, "errors": self.errors}


def measure_http(
    url: str, headers: Mapping[str, str], timeout: float, result: HttpResult, clock: Clock
) -> None:
    """One sample: only 2xx/3xx answers count as latency; others are recorded as errors."""
    start = clock()
    try:
        status = http_get(url, headers, timeout)
    except (OSError, http.client.HTTPException) as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        return
    elapsed = (clock() - start) * 1000
    result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
    if 200 <= status < 400:
        result.latencies_ms.append(elapsed)
    else:
        result.errors.append(f"HTTP {status}")


def access_check(url: str, timeout: float) -> dict[str, Any]:
    """One GET without credentials: Access must refuse it (302 to login, 401 or 403)."""
    try:
        status = http_get(url, {}, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "enforced": None, "error": type(exc).__name__}
    return {"status": status, "enforced": status in (302, 401, 403), "error": None}


@dataclass
class WsResult:
    """WebSocket samples of one endpoint."""

    open_ms: list[float] = field(default_factory=list)
    handshake_ms: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Summary for the probe JSON."""
        return {
            "open": summarize(self.open_ms),
            "handshake": summarize(self.handshake_ms),
            "health": summarize(self.health_ms),
            "errors": self.errors,
        }


def measure_ws(
    url: str,
    credentials: Credentials,
    device: DeviceIdentity | None,
    *,
    timeout: float,
    result: WsResult,
    clock: Clock,
) -> None:
    """One sample: open, challenge -> connect -> hello-ok, then `health`; each step timed."""
    start = clock()
    try:
        with open_socket(
            url, headers=credentials.headers(), timeout=timeout, user_agent=CLIENT_VERSION
        ) as ws:
            opened = clock()
            try:
                handshake(ws, CLIENT, credentials.gateway_token, device, timeout)
            except ConnectRejected:
                result.open_ms.append((opened - start) * 1000)
                raise
            handshaken = clock()
            health = call(ws, "health", {}, timeout)
            done = clock()
            result.open_ms.append((opened - start) * 1000)
            result.handshake_ms.append((handshaken - opened) * 1000)
            if health.get("ok"):
                result.health_ms.append((done - handshaken) * 1000)
            else:
                result.errors.append(f"health failed: {error_text(health)}"[:300])
    except GatewayError as exc:
        result.errors.append(str(exc)[:300])
    except (OSError, WebSocketException, TimeoutError, json.JSONDecodeError) as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}"[:300])


def measure_cold_start(
    url: str,
    headers: Mapping[str, str],
    *,
    wait_seconds: float,
    timeout: float,
    clock: Clock,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Time until GET answers 2xx (retrying errors and non-2xx) after `wait_seconds` idle."""
    start = clock()
    attempts = 0
    last = "no attempt"
    while (clock() - start) < timeout:
        attempts += 1
        try:
            status = http_get(url, headers, timeout)
        except (OSError, http.client.HTTPException) as exc:
            last = f"{type(exc).__name__}"
        else:
            if 200 <= status < 300:
                return {
                    "waitedSeconds": wait_seconds,
                    "ms": round((clock() - start) * 1000, 1),
                    "attempts": attempts,
                    "error": None,
                }
            last = f"HTTP {status}"
            if status in AUTH_FAILURES:  # credentials do not heal by waiting
                break
        sleep(min(2.0, max(0.0, timeout - (clock() - start))))
    return {"waitedSeconds": wait_seconds, "ms": None, "attempts": attempts, "error": last}
