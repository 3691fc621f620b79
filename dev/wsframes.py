"""Server side of RFC 6455 WebSockets on a stdlib `http.server` handler, for the chat fakes.

Just enough for the clients OpenClaw's plugins use (the `ws` package): the opening handshake
(no extensions, so `permessage-deflate` offers are declined and frames stay uncompressed), masked
client frames, fragmented text, ping/pong and the close handshake.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class Closed(Exception):
    """The peer closed the connection (or it broke); `code` is the close code if one was sent."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"closed ({code}) {reason}".strip())
        self.code = code
        self.reason = reason


def is_upgrade(handler: BaseHTTPRequestHandler) -> bool:
    connection = handler.headers.get("Connection", "").lower()
    return handler.headers.get("Upgrade", "").lower() == "websocket" and "upgrade" in connection


def accept_key(key: str) -> str:
    digest = hashlib.sha1((key + GUID).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


class ServerSocket:
    """One accepted WebSocket: `receive()` returns whole text messages, sends are thread-safe."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        key = handler.headers.get("Sec-WebSocket-Key", "")
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        self._sock: socket.socket = handler.connection
        self._reader = handler.rfile
        self._send_lock = threading.Lock()
        self.closed = False

    def _read_exact(self, count: int) -> bytes:
        data = self._reader.read(count)
        if data is None or len(data) < count:
            raise Closed(None, "connection lost")
        return bytes(data)

    def _read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read_exact(2)
        fin, opcode = bool(first & 0x80), first & 0x0F
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
        if length > MAX_MESSAGE_BYTES:
            raise Closed(1009, "message too big")
        mask = self._read_exact(4) if second & 0x80 else b""
        payload = self._read_exact(length)
        if mask:
            payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        return fin, opcode, payload

    def receive(self) -> str:
        """The next text (or binary, decoded) message; raises Closed when the peer closes."""
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = self._read_frame()
            if opcode == OP_PING:
                self._send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode(errors="replace")
                self.close(code or 1000, reason)
                raise Closed(code, reason)
            if opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode()

    def receive_json(self) -> object:
        return json.loads(self.receive())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([length])
        elif length < 1 << 16:
            header += bytes([126]) + struct.pack("!H", length)
        else:
            header += bytes([127]) + struct.pack("!Q", length)
        with self._send_lock:
            if self.closed and opcode != OP_CLOSE:
                raise Closed(None, "already closed")
            try:
                self._sock.sendall(header + payload)
            except OSError as error:
                self.closed = True
                raise Closed(None, str(error)) from None

    def send_text(self, text: str) -> None:
        self._send_frame(OP_TEXT, text.encode())

    def send_json(self, payload: object) -> None:
        self.send_text(json.dumps(payload))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once) and shut the socket down."""
        if self.closed:
            return
        with contextlib.suppress(Closed):
            self._send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120])
        self.closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
