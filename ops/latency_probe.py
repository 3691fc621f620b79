"""Latency probe for plan item 2-5: this deployment (B) against the Kubernetes one (A).

    python -m ops.latency_probe --a https://openclaw.example.com \
        --b https://moltworker.example.com [--requests 20] [--ws-samples 5] \
        [--cold-start-wait 900] --out probe.json

Per endpoint it measures HTTP status latency (GET --http-path, a fresh connection each time),
WebSocket open + OpenClaw gateway handshake (protocol 4: connect.challenge -> connect ->
hello-ok) + one `health` RPC round trip, and optionally the cold start after sleeping. It prints
p50/p95/p99 and the B/A ratio, and writes JSON for the phase-2 document (criterion: B within 2x
of A; stop at 3x). Request counts are bounded; requests to A and B are interleaved.

Credentials come from the environment, never from argv, and are never printed or written:
`PROBE_A_ACCESS_CLIENT_ID`/`PROBE_A_ACCESS_CLIENT_SECRET` (Access service token, sent as
CF-Access-Client-Id/Secret), `PROBE_A_GATEWAY_TOKEN`, the same with `PROBE_B_`, falling back to
`CF_ACCESS_CLIENT_ID`, `CF_ACCESS_CLIENT_SECRET` and `OPENCLAW_GATEWAY_TOKEN`. A remote gateway
grants `operator.read` (needed by `health`) only to a paired device: pass `--device-key PEM`
(an Ed25519 private key whose device was approved once) to sign the handshake.

It is for deployments: there Cloudflare Access exchanges the service token for the JWT the Worker
checks. Against `make dev` (no Access in front of the Worker) every Worker sample is 401.

Exit status: 0 within 2x, 1 over 2x, 2 stop (3x or worse), 3 unverified (nothing measured on both
sides), 64 usage error (bad arguments or files; nothing was measured).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import math
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

SCHEMA: Final = "openclaw-edge/latency-probe/1"
PROTOCOL_VERSION: Final = 4
CLIENT_ID: Final = "openclaw-probe"
CLIENT_MODE: Final = "probe"
CLIENT_VERSION: Final = "openclaw-edge-probe/0.1"
SCOPES: Final = ("operator.read",)

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


class ProbeError(Exception):
    """A measurement that failed; the message never contains a credential."""


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


@dataclass(frozen=True)
class DeviceIdentity:
    """Ed25519 identity that signs the connect challenge (payload v3 of the gateway client)."""

    private_key_pem: bytes

    def _key(self) -> Ed25519PrivateKey:
        key = load_pem_private_key(self.private_key_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ProbeError("--device-key must be an Ed25519 private key (PEM, PKCS#8)")
        return key

    def public_key_raw(self) -> bytes:
        """The 32 raw public key bytes."""
        raw: bytes = self._key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return raw

    def device_id(self) -> str:
        """SHA-256 of the raw public key, hex (how the gateway derives device ids)."""
        return hashlib.sha256(self.public_key_raw()).hexdigest()

    def sign(self, payload: str) -> str:
        """Base64url (unpadded) Ed25519 signature of the UTF-8 payload."""
        signature: bytes = self._key().sign(payload.encode())
        return _b64url(signature)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def device_auth_payload(
    *, device_id: str, signed_at_ms: int, token: str | None, nonce: str, platform: str
) -> str:
    """`v3|deviceId|clientId|mode|role|scopes|signedAt|token|nonce|platform|deviceFamily`."""
    return "|".join(
        [
            "v3",
            device_id,
            CLIENT_ID,
            CLIENT_MODE,
            "operator",
            ",".join(SCOPES),
            str(signed_at_ms),
            token or "",
            nonce,
            platform.strip().lower(),
            "",
        ]
    )


def connect_frame(
    request_id: str,
    challenge: Mapping[str, Any],
    token: str | None,
    device: DeviceIdentity | None,
) -> dict[str, Any]:
    """The `connect` request answering a `connect.challenge` event."""
    params: dict[str, Any] = {
        "minProtocol": PROTOCOL_VERSION,
        "maxProtocol": PROTOCOL_VERSION,
        "client": {
            "id": CLIENT_ID,
            "version": CLIENT_VERSION,
            "platform": sys.platform,
            "mode": CLIENT_MODE,
        },
        "role": "operator",
        "scopes": list(SCOPES),
        "caps": [],
        "userAgent": CLIENT_VERSION,
    }
    if token:
        params["auth"] = {"token": token}
    if device is not None:
        nonce = str(challenge.get("nonce", ""))
        signed_at = challenge.get("ts")
        if not isinstance(signed_at, int) or signed_at < 0:
            raise ProbeError("connect.challenge carried no valid ts to sign")
        device_id = device.device_id()
        payload = device_auth_payload(
            device_id=device_id,
            signed_at_ms=signed_at,
            token=token,
            nonce=nonce,
            platform=sys.platform,
        )
        params["device"] = {
            "id": device_id,
            "publicKey": _b64url(device.public_key_raw()),
            "signature": device.sign(payload),
            "signedAt": signed_at,
            "nonce": nonce,
        }
    return {"type": "req", "id": request_id, "method": "connect", "params": params}


# --- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


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


def _join(base: str, path: str) -> str:
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


def ws_url(base: str, path: str) -> str:
    """https://host -> wss://host/path (http -> ws)."""
    parts = urlsplit(base)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def _recv_json(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    raw = ws.recv(timeout=timeout)
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        raise ProbeError("gateway sent a frame that is not a JSON object")
    return frame


def _await_response(ws: ClientConnection, request_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeError(f"no response to request {request_id} within {timeout}s")
        frame = _recv_json(ws, remaining)
        if frame.get("type") == "res" and frame.get("id") == request_id:
            return frame


def _error_text(frame: Mapping[str, Any]) -> str:
    error = frame.get("error")
    if isinstance(error, Mapping):
        details = error.get("details")
        code = details.get("code") if isinstance(details, Mapping) else None
        return f"{error.get('code', 'ERROR')}{f' ({code})' if code else ''}: {error.get('message')}"
    return "request failed"


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
        with connect(
            url,
            additional_headers=credentials.headers(),
            open_timeout=timeout,
            close_timeout=2,
            user_agent_header=CLIENT_VERSION,
            max_size=64 * 1024 * 1024,
            compression=None,  # the gateway does not negotiate permessage-deflate
            proxy=None,  # like http.client: measure the direct path, ignore *_PROXY
            ping_interval=None,
        ) as ws:
            opened = clock()
            challenge = _recv_json(ws, timeout)
            if challenge.get("type") != "event" or challenge.get("event") != "connect.challenge":
                raise ProbeError(f"expected connect.challenge, got {challenge.get('type')!r}")
            payload = challenge.get("payload")
            connect_id = str(uuid.uuid4())
            ws.send(
                json.dumps(
                    connect_frame(
                        connect_id,
                        payload if isinstance(payload, Mapping) else {},
                        credentials.gateway_token,
                        device,
                    )
                )
            )
            hello = _await_response(ws, connect_id, timeout)
            if not hello.get("ok"):
                result.open_ms.append((opened - start) * 1000)
                raise ProbeError(f"connect rejected: {_error_text(hello)}")
            hello_payload = hello.get("payload")
            if not isinstance(hello_payload, Mapping) or hello_payload.get("type") != "hello-ok":
                raise ProbeError("connect answered without hello-ok")
            handshaken = clock()
            health_id = str(uuid.uuid4())
            ws.send(json.dumps({"type": "req", "id": health_id, "method": "health", "params": {}}))
            health = _await_response(ws, health_id, timeout)
            done = clock()
            result.open_ms.append((opened - start) * 1000)
            result.handshake_ms.append((handshaken - opened) * 1000)
            if health.get("ok"):
                result.health_ms.append((done - handshaken) * 1000)
            else:
                result.errors.append(f"health failed: {_error_text(health)}"[:300])
    except ProbeError as exc:
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
                _join(e.url, settings.cold_start_path),
                e.credentials.headers(),
                wait_seconds=settings.cold_start_wait,
                timeout=settings.cold_start_timeout,
                clock=clock,
                sleep=sleep,
            )
    access = {
        e.key: access_check(_join(e.url, settings.http_path), settings.timeout) for e in endpoints
    }
    for _ in range(settings.requests):
        for e in endpoints:
            measure_http(
                _join(e.url, settings.http_path),
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


class _UsageParser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments, which is the "stop" verdict here."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _UsageParser(
        prog="python -m ops.latency_probe",
        description="Compare latency of two deployed OpenClaw endpoints (A = Kubernetes "
        "baseline, B = this deployment) behind Cloudflare Access; against `make dev` every "
        "Worker sample is 401. Credentials come from PROBE_A_*/PROBE_B_* environment variables. "
        "Exit status: 0 within 2x, 1 over 2x, 2 stop (3x), 3 unverified, 64 usage error.",
    )
    parser.add_argument("--a", required=True, help="baseline URL (Kubernetes deployment)")
    parser.add_argument("--b", required=True, help="candidate URL (this deployment)")
    parser.add_argument("--label-a", default="kubernetes")
    parser.add_argument("--label-b", default="edge")
    parser.add_argument(
        "--requests", type=int, default=20, help=f"HTTP samples (<= {MAX_REQUESTS})"
    )
    parser.add_argument(
        "--ws-samples", type=int, default=5, help=f"WebSocket samples (<= {MAX_WS_SAMPLES})"
    )
    parser.add_argument("--http-path", default="/healthz")
    parser.add_argument("--ws-path", default="/")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument(
        "--cold-start-wait",
        type=float,
        default=None,
        help="idle seconds before the cold-start sample (>= the stack's sleepAfter); omit to skip",
    )
    parser.add_argument("--cold-start-timeout", type=float, default=300.0)
    parser.add_argument(
        "--cold-start-path",
        default="/readyz",
        help="path that answers 2xx once the gateway accepts connections",
    )
    parser.add_argument(
        "--device-key", type=Path, help="Ed25519 private key (PEM) of a paired device"
    )
    parser.add_argument("--out", type=Path, help="write the JSON document here")
    return parser.parse_args(argv)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProbeError(f"endpoint URL must be http(s)://host[/path], got {url!r}")
    return url


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """CLI entry point. Exit status: 0 within 2x, 1 over 2x, 2 stop (3x), 3 unverified or the
    probe failed, 64 usage error (nothing measured)."""
    args = _parse(argv)
    environ = os.environ if env is None else env
    try:
        a = Endpoint("a", args.label_a, _check_url(args.a), Credentials.from_env("A", environ))
        b = Endpoint("b", args.label_b, _check_url(args.b), Credentials.from_env("B", environ))
        device = DeviceIdentity(args.device_key.read_bytes()) if args.device_key else None
        if device is not None:
            device.public_key_raw()  # a bad key is a usage error, found before measuring
        settings = ProbeSettings(
            requests=args.requests,
            ws_samples=args.ws_samples,
            http_path=args.http_path,
            ws_path=args.ws_path,
            timeout=args.timeout,
            cold_start_wait=args.cold_start_wait,
            cold_start_timeout=args.cold_start_timeout,
            cold_start_path=args.cold_start_path,
        )
        settings.validate()
        from ops.writable import output_problem

        if args.out is not None and (problem := output_problem(args.out)):
            raise ProbeError(f"--out {problem}")
    except (ProbeError, OSError, ValueError) as exc:
        print(f"latency_probe: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        doc = run_probe(a, b, settings, device=device)
    except (ProbeError, OSError) as exc:
        print(f"latency_probe: {exc}", file=sys.stderr)
        return EXIT_STATUS["unverified"]
    print(format_report(doc))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return EXIT_STATUS.get(doc["verdict"]["status"], EXIT_STATUS["unverified"])


if __name__ == "__main__":
    raise SystemExit(main())
