"""One client of the OpenClaw gateway's WebSocket protocol (version 4), shared by the latency
probe (`ops.latency_probe`) and the benchmarks (`bench.load`).

The exchange, as the gateway's own client does it: open the socket, read the `connect.challenge`
event, answer with a `connect` request (token and, for a paired device, an Ed25519 signature of
the challenge), wait for the `res` whose payload is `hello-ok`, then send `req` frames and wait
for the `res` with the same id (events in between are skipped). Each caller names itself with a
`ClientInfo`; the probe asks for `operator.read`, the benchmarks for no scopes (on loopback).

Nothing here prints or logs a frame: the token travels only inside the `connect` request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

PROTOCOL_VERSION: Final = 4
MAX_FRAME_BYTES: Final = 64 * 1024 * 1024


class GatewayError(RuntimeError):
    """A refused or malformed exchange; the message never contains a credential."""


class ConnectRejected(GatewayError):
    """The gateway answered `connect` with an error (bad token, unpaired device, ...)."""


@dataclass(frozen=True)
class ClientInfo:
    """How a client names itself in `connect` (`params.client`, `role`, `scopes`)."""

    id: str
    mode: str
    version: str
    scopes: tuple[str, ...] = ()
    role: str = "operator"


@dataclass(frozen=True)
class DeviceIdentity:
    """Ed25519 identity that signs the connect challenge (payload v3 of the gateway client)."""

    private_key_pem: bytes

    def _key(self) -> Ed25519PrivateKey:
        key = load_pem_private_key(self.private_key_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise GatewayError("--device-key must be an Ed25519 private key (PEM, PKCS#8)")
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
        return b64url(signature)


def b64url(data: bytes) -> str:
    """Base64url without padding, as the gateway expects keys and signatures."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def device_auth_payload(
    client: ClientInfo,
    *,
    device_id: str,
    signed_at_ms: int,
    token: str | None,
    nonce: str,
    platform: str,
) -> str:
    """`v3|deviceId|clientId|mode|role|scopes|signedAt|token|nonce|platform|deviceFamily`."""
    return "|".join(
        [
            "v3",
            device_id,
            client.id,
            client.mode,
            client.role,
            ",".join(client.scopes),
            str(signed_at_ms),
            token or "",
            nonce,
            platform.strip().lower(),
            "",
        ]
    )


def connect_frame(
    client: ClientInfo,
    request_id: str,
    challenge: Mapping[str, Any],
    token: str | None,
    device: DeviceIdentity | None,
) -> dict[str, Any]:
    """The `connect` request answering a `connect.challenge` event (its payload)."""
    params: dict[str, Any] = {
        "minProtocol": PROTOCOL_VERSION,
        "maxProtocol": PROTOCOL_VERSION,
        "client": {
            "id": client.id,
            "version": client.version,
            "platform": sys.platform,
            "mode": client.mode,
        },
        "role": client.role,
        "scopes": list(client.scopes),
        "caps": [],
        "userAgent": client.version,
    }
    if token:
        params["auth"] = {"token": token}
    if device is not None:
        nonce = str(challenge.get("nonce", ""))
        signed_at = challenge.get("ts")
        if not isinstance(signed_at, int) or signed_at < 0:
            raise GatewayError("connect.challenge carried no valid ts to sign")
        device_id = device.device_id()
        payload = device_auth_payload(
            client,
            device_id=device_id,
            signed_at_ms=signed_at,
            token=token,
            nonce=nonce,
            platform=sys.platform,
        )
        params["device"] = {
            "id": device_id,
            "publicKey": b64url(device.public_key_raw()),
            "signature": device.sign(payload),
            "signedAt": signed_at,
            "nonce": nonce,
        }
    return {"type": "req", "id": request_id, "method": "connect", "params": params}


def ws_url(base: str, path: str) -> str:
    """https://host -> wss://host/path (http -> ws)."""
    parts = urlsplit(base)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def open_socket(
    url: str,
    *,
    headers: Mapping[str, str],
    timeout: float,
    user_agent: str,
    origin: str | None = None,
) -> ClientConnection:
    """The WebSocket upgrade only (no protocol frame yet)."""
    return connect(
        url,
        additional_headers=dict(headers),
        origin=Origin(origin) if origin else None,
        open_timeout=timeout,
        close_timeout=2,
        user_agent_header=user_agent,
        max_size=MAX_FRAME_BYTES,
        compression=None,  # the gateway does not negotiate permessage-deflate
        proxy=None,  # like http.client: measure the direct path, ignore *_PROXY
        ping_interval=None,
    )


def recv_json(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    """The next frame, which must be a JSON object."""
    frame = json.loads(ws.recv(timeout=timeout))
    if not isinstance(frame, dict):
        raise GatewayError("gateway sent a frame that is not a JSON object")
    return frame


def await_response(ws: ClientConnection, request_id: str, timeout: float) -> dict[str, Any]:
    """The `res` frame for `request_id`; events and other responses in between are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise GatewayError(f"no response to request {request_id} within {timeout}s")
        frame = recv_json(ws, remaining)
        if frame.get("type") == "res" and frame.get("id") == request_id:
            return frame


def error_text(frame: Mapping[str, Any]) -> str:
    """`CODE (details.code): message` of a failed response."""
    error = frame.get("error")
    if isinstance(error, Mapping):
        details = error.get("details")
        code = details.get("code") if isinstance(details, Mapping) else None
        return f"{error.get('code', 'ERROR')}{f' ({code})' if code else ''}: {error.get('message')}"
    return "request failed"


def handshake(
    ws: ClientConnection,
    client: ClientInfo,
    token: str | None,
    device: DeviceIdentity | None,
    timeout: float,
) -> Mapping[str, Any]:
    """challenge -> connect -> hello-ok on an open socket; the hello-ok payload."""
    challenge = recv_json(ws, timeout)
    if challenge.get("type") != "event" or challenge.get("event") != "connect.challenge":
        raise GatewayError(f"expected connect.challenge, got {challenge.get('type')!r}")
    payload = challenge.get("payload")
    connect_id = str(uuid.uuid4())
    ws.send(
        json.dumps(
            connect_frame(
                client,
                connect_id,
                payload if isinstance(payload, Mapping) else {},
                token,
                device,
            )
        )
    )
    hello = await_response(ws, connect_id, timeout)
    if not hello.get("ok"):
        raise ConnectRejected(f"connect rejected: {error_text(hello)}")
    hello_payload = hello.get("payload")
    if not isinstance(hello_payload, Mapping) or hello_payload.get("type") != "hello-ok":
        raise GatewayError("connect answered without hello-ok")
    return hello_payload


def call(
    ws: ClientConnection, method: str, params: Mapping[str, Any], timeout: float
) -> dict[str, Any]:
    """One request on a handshaken socket; its `res` frame (ok or not)."""
    request_id = str(uuid.uuid4())
    ws.send(json.dumps({"type": "req", "id": request_id, "method": method, "params": params}))
    return await_response(ws, request_id, timeout)
