"""Small HTTP helpers shared by the local stand-ins (Access, LLM, S3): JSON replies, serving."""

from __future__ import annotations

import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class ReplyHandler(BaseHTTPRequestHandler):
    """Request handler with reply helpers; the stdlib logs one line per request to stderr."""

    protocol_version = "HTTP/1.1"
    server_version = "openclaw-edge-dev"

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(
        self, status: int, payload: object, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        self.send_bytes(status, body, "application/json", headers)

    def send_html(self, status: int, html: str, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, html.encode(), "text/html; charset=utf-8", headers)


def serve_until_signal(server: ThreadingHTTPServer, name: str) -> None:
    """Serve until SIGTERM/SIGINT, then close the listening socket cleanly."""
    server.daemon_threads = True
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-http", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    print(f"{name}: listening on http://{host!s}:{port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    print(f"{name}: stopped", flush=True)
