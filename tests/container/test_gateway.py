"""`GET /gateway/ready` on the control API: the gateway's /readyz asked over loopback.

The Worker's readiness probe goes through this route because, in the container, the gateway
answers a request from a trusted proxy address without X-Forwarded-For with 403
`proxy_attribution_required` (the cron watchdog has no end-user address to forward). Local
HTTP servers play the gateway's answers here; test_supervisor.py asks the real OpenClaw.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot.gateway import Gateway
from openclaw_boot.settings import load
from openclaw_boot.status import Status

from .conftest import base_env, free_port


@contextlib.contextmanager
def serve(code: int, body: bytes) -> Iterator[int]:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def gateway_on(port: int, home: Path) -> Gateway:
    settings = load({**base_env(home), "OPENCLAW_GATEWAY_PORT": str(port)})
    return Gateway(settings, Status(home / "status.json", fresh=True))


ATTRIBUTION = json.dumps(
    {"error": {"message": "Proxy client attribution is required.", "type": "x"}}
).encode()


@pytest.mark.parametrize(
    ("code", "body", "ready", "detail"),
    [
        (200, b'{"ready":true,"failing":[],"uptimeMs":812}', True, None),
        (200, b"ok", True, None),
        (
            503,
            b'{"ready":false,"failing":["channels","plugins"]}',
            False,
            "(failing: channels, plugins)",
        ),
        (200, b'{"ready":false}', False, "/readyz answered HTTP 200"),
        (403, ATTRIBUTION, False, "/readyz answered HTTP 403"),
    ],
)
def test_readiness_reports_the_gateways_answer(
    home: Path, code: int, body: bytes, ready: bool, detail: str | None
) -> None:
    with serve(code, body) as port:
        result = gateway_on(port, home).readiness()
        assert result["ok"] is True
        assert result["ready"] is ready
        assert result["http_status"] == code
        if detail is None:
            assert result["detail"] is None
        else:
            assert detail in result["detail"]


def test_readiness_when_nothing_listens(home: Path) -> None:
    result = gateway_on(free_port(), home).readiness(timeout=1)
    assert result["ok"] is True
    assert result["ready"] is False
    assert result["http_status"] is None
    assert "refused" in result["detail"].lower()
