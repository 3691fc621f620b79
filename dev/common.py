"""Small HTTP helpers shared by the local stand-ins (Access, LLM, S3, chat fakes): JSON replies,
serving, a JSON client for tests."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


def call_json(
    url: str,
    body: object | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, Any]:
    """(status, decoded JSON) of a GET, or of a POST when `body` is given; HTTP errors too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - local stand-ins only
        url,
        data=data,
        method="GET" if body is None else "POST",
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read() or b"null")


def run_chat_fake(
    argv: list[str] | None,
    *,
    name: str,
    doc: str | None,
    port: int,
    token_env: str,
    make_server: Callable[[int, str, Path | None], ThreadingHTTPServer],
) -> int:
    """`python -m dev.<name> --port N --record FILE`; the bot token comes from `token_env`."""
    parser = argparse.ArgumentParser(prog=f"python -m dev.{name}", description=doc)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--record", type=Path, default=None, help="JSONL file of the bot's calls")
    args = parser.parse_args(argv)
    token = os.environ.get(token_env, "").strip()
    if not token:
        parser.error(f"{token_env} must be set (the bot token the fake accepts)")
    serve_until_signal(make_server(args.port, token, args.record), name)
    return 0


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
