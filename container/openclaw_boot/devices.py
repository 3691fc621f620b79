"""Approving the Worker's own admin device from inside the container (control API).

The Worker's admin RPC (worker/src/gateway/rpc.ts) signs its `connect` with a device key derived
from the gateway token. It reaches the gateway through the Sandbox SDK, from a trusted-proxy
address, so the gateway treats it as a remote device that needs a one-time pairing approval;
it answers `PAIRING_REQUIRED` with a request id. The Worker then asks here
(`POST /devices/approve`), and this code approves that request the way `openclaw devices approve
<id>` does on the gateway host: over the gateway's own WebSocket RPC on loopback, as a
device-less `backend` client holding the shared token, with the scopes the CLI asks for
(`operator.admin`, `operator.pairing`; OpenClaw dist/devices-cli.runtime-*.mjs
`approvePairingWithFallback`, and `device.pair.approve` in dist/devices-*.mjs). A loopback
backend client with the token gets those scopes without pairing itself, which the Worker's
remote client cannot.

The token travels only inside the loopback socket (gateway_rpc.py), never in argv or logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .gateway_rpc import GatewayRpc, RpcError
from .settings import Settings
from .status import Status

# What the gateway hands out as request ids (UUIDs); the Worker checks the same shape.
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
APPROVE_SCOPES = ("operator.admin", "operator.pairing")
# The whole approval (connect + one call) stays inside the Worker's 60 s control-call budget.
RPC_TIMEOUT_SECONDS = 15.0


def request_id_of(body: dict[str, Any]) -> str:
    """The `request_id` of a `POST /devices/approve` body, or ValueError (answered 400)."""
    value = body.get("request_id")
    if not isinstance(value, str) or not REQUEST_ID.fullmatch(value):
        raise ValueError(
            'body must be {"request_id": "<id>"}, where <id> is the request id of the pending '
            "pairing request (letters, digits and dashes, at most 128)"
        )
    return value


def approve(settings: Settings, request_id: str) -> dict[str, Any]:
    """`device.pair.approve` over loopback: `{"ok": true, ...}`, else `{"ok": false, "error"}`."""
    token = settings.get("OPENCLAW_GATEWAY_TOKEN")
    try:
        with GatewayRpc(
            settings.gateway_port, token, timeout=RPC_TIMEOUT_SECONDS, scopes=APPROVE_SCOPES
        ) as rpc:
            rpc.call("device.pair.approve", {"requestId": request_id})
    except RpcError as exc:
        return {"ok": False, "request_id": request_id, "error": str(exc)}
    return {"ok": True, "request_id": request_id}


def control_routes(
    settings: Settings, status: Status
) -> dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Routes the `run` command adds to the control API (docs/interfaces.md)."""
    del status  # the approval leaves no state behind: the gateway's pairing store has it
    return {("POST", "/devices/approve"): lambda body: approve(settings, request_id_of(body))}
