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

The package: `measure` (constants, credentials, one sample of each kind, `summarize`), `probe`
(`run_probe`: both endpoints interleaved, the verdict, the report) and `cli` (`main`).
"""

from ops.gateway_client import DeviceIdentity, ws_url
from ops.latency_probe.cli import main
from ops.latency_probe.measure import (
    AUTH_FAILURES,
    CLIENT,
    CLIENT_VERSION,
    CRITERION_RATIO,
    EXIT_STATUS,
    MAX_COLD_START_WAIT_SECONDS,
    MAX_REQUESTS,
    MAX_WS_SAMPLES,
    SCHEMA,
    STOP_RATIO,
    USAGE_ERROR,
    Credentials,
    HttpResult,
    ProbeError,
    WsResult,
    access_check,
    http_get,
    join_url,
    measure_cold_start,
    measure_http,
    measure_ws,
    summarize,
)
from ops.latency_probe.probe import Endpoint, ProbeSettings, format_report, run_probe, verdict

__all__ = [
    "AUTH_FAILURES",
    "CLIENT",
    "CLIENT_VERSION",
    "CRITERION_RATIO",
    "EXIT_STATUS",
    "MAX_COLD_START_WAIT_SECONDS",
    "MAX_REQUESTS",
    "MAX_WS_SAMPLES",
    "SCHEMA",
    "STOP_RATIO",
    "USAGE_ERROR",
    "Credentials",
    "DeviceIdentity",
    "Endpoint",
    "HttpResult",
    "ProbeError",
    "ProbeSettings",
    "WsResult",
    "access_check",
    "format_report",
    "http_get",
    "join_url",
    "main",
    "measure_cold_start",
    "measure_http",
    "measure_ws",
    "run_probe",
    "summarize",
    "verdict",
    "ws_url",
]
