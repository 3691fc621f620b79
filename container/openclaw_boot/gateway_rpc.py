"""A small client for the gateway's WebSocket RPC (protocol 4), stdlib only, over loopback.

Handshake: wait for the `connect.challenge` event, send `connect` as a device-less `backend`
client with the shared token (a loopback backend client gets operator scopes without pairing),
then `req`/`res` frames. channels.py reads with it, devices.py approves the Worker's device.
The token travels only inside the socket, never in argv or logs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import os
import socket
import struct
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

PROTOCOL = 4
SCOPES = ["operator.read"]
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA
_MAX_FRAME = 32 * 1024 * 1024


class RpcError(RuntimeError):
    """The gateway could not be reached or refused the call; the message holds no secret."""


class GatewayRpc:
    """`with GatewayRpc(port, token) as rpc: rpc.call("channels.status")`."""

    def __init__(
        self, port: int, token: str, timeout: float = 10.0, scopes: Sequence[str] = SCOPES
    ) -> None:
        self.port = port
        self._token = token
        self.timeout = timeout
        self.scopes = list(scopes)
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._ids = itertools.count(1)

    # -- WebSocket plumbing ------------------------------------------------------------------

    def _recv_exact(self, count: int) -> bytes:
        assert self._sock is not None
        while len(self._buffer) < count:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise RpcError("gateway closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _open(self) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        except OSError as exc:
            raise RpcError(f"gateway not reachable on 127.0.0.1:{self.port}: {exc}") from None
        self._sock = sock
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            "GET / HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        sock.sendall(request.encode())
        while b"\r\n\r\n" not in self._buffer:
            chunk = sock.recv(4096)
            if not chunk:
                raise RpcError("gateway closed the connection during the WebSocket handshake")
            self._buffer += chunk
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise RpcError(f"gateway refused the WebSocket upgrade: {lines[0]}")
        expected = base64.b64encode(
            hashlib.sha1((key + _GUID).encode(), usedforsecurity=False).digest()
        ).decode()
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        if headers.get("sec-websocket-accept") != expected:
            raise RpcError("gateway answered the WebSocket handshake with a wrong accept key")

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self._sock is not None
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x80 | opcode])
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def _receive(self) -> dict[str, Any]:
        parts: list[bytes] = []
        while True:
            first, second = self._recv_exact(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._recv_exact(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._recv_exact(8))
            if length > _MAX_FRAME:
                raise RpcError("gateway sent an oversized frame")
            mask = self._recv_exact(4) if second & 0x80 else b""
            payload = self._recv_exact(length)
            if mask:
                payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
            if opcode == _OP_PING:
                self._send(_OP_PONG, payload)
                continue
            if opcode == _OP_CLOSE:
                raise RpcError("gateway closed the connection")
            if opcode == _OP_PONG:
                continue
            parts.append(payload)
            if first & 0x80:
                frame = json.loads(b"".join(parts))
                return frame if isinstance(frame, dict) else {}

    def _frame(self, want: str, frame_id: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            frame = self._receive()
            if want == "challenge" and frame.get("event") == "connect.challenge":
                return frame
            if want == "res" and frame.get("type") == "res" and frame.get("id") == frame_id:
                return frame
        raise RpcError(f"gateway sent no {want} within {self.timeout:.0f}s")

    # -- RPC ----------------------------------------------------------------------------------

    def __enter__(self) -> GatewayRpc:
        try:
            self._open()
            self._frame("challenge")
            self.call(
                "connect",
                {
                    "minProtocol": PROTOCOL,
                    "maxProtocol": PROTOCOL,
                    "role": "operator",
                    "scopes": self.scopes,
                    "caps": [],
                    "client": {
                        "id": "gateway-client",
                        "version": "openclaw-edge-boot",
                        "platform": "linux",
                        "mode": "backend",
                    },
                    "auth": {"token": self._token},
                },
            )
        except (OSError, ValueError) as exc:
            self.close()
            raise RpcError(f"gateway RPC failed: {type(exc).__name__}: {exc}") from None
        except RpcError:
            self.close()
            raise
        return self

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        frame_id = f"{method}-{next(self._ids)}"
        try:
            self._send(
                _OP_TEXT,
                json.dumps(
                    {"type": "req", "id": frame_id, "method": method, "params": params or {}}
                ).encode(),
            )
            frame = self._frame("res", frame_id)
        except (OSError, ValueError) as exc:
            raise RpcError(f"gateway RPC {method} failed: {type(exc).__name__}: {exc}") from None
        if not frame.get("ok"):
            error = frame.get("error") or {}
            message = error.get("message") if isinstance(error, dict) else None
            raise RpcError(f"gateway refused {method}: {message or 'unknown error'}")
        return frame.get("payload")

    def close(self) -> None:
        if self._sock is None:
            return
        with contextlib.suppress(OSError):
            self._send(_OP_CLOSE, struct.pack("!H", 1000))
        self._sock.close()
        self._sock = None

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()
