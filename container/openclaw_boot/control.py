"""Control API on OPENCLAW_EDGE_CONTROL_PORT (default 18790) for the Worker's admin routes.

Every route needs `Authorization: Bearer <OPENCLAW_GATEWAY_TOKEN>`; answers are JSON and never
contain a secret. Routes and shapes: docs/interfaces.md.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("openclaw-edge.control")

MAX_BODY = 64 * 1024


class NotFound(Exception):
    """What a route was asked for does not exist: answered 404, nothing was changed."""


class ControlApp:
    """What the routes do; the `run` command wires these to the real backup and gateway."""

    def __init__(
        self,
        *,
        token: str,
        status: Callable[[], dict[str, Any]],
        snapshot: Callable[[], dict[str, Any]],
        snapshots: Callable[[], dict[str, Any]],
        restore: Callable[[str], dict[str, Any]],
        restart: Callable[[], dict[str, Any]],
        ready: Callable[[], dict[str, Any]],
    ) -> None:
        self.token = token
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
            ("GET", "/status"): lambda _body: status(),
            ("POST", "/snapshot"): lambda _body: snapshot(),
            ("GET", "/snapshots"): lambda _body: snapshots(),
            ("POST", "/restore"): self._restore(restore),
            ("POST", "/gateway/restart"): lambda _body: restart(),
            ("GET", "/gateway/ready"): lambda _body: ready(),
        }

    @staticmethod
    def _restore(
        restore: Callable[[str], dict[str, Any]],
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def handler(body: dict[str, Any]) -> dict[str, Any]:
            snapshot_id = body.get("snapshot_id")
            if not isinstance(snapshot_id, str) or not snapshot_id.strip():
                raise ValueError('body must be {"snapshot_id": "<id or latest>"}')
            return restore(snapshot_id.strip())

        return handler

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer ") :].encode(), self.token.encode())


def make_handler(app: ControlApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "openclaw-edge-control"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def _send(self, code: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _handle(self, method: str) -> None:
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            if not app.authorized(self.headers.get("Authorization")):
                self._send(HTTPStatus.UNAUTHORIZED, {"ok": False, "error": "unauthorized"})
                return
            route = app.routes.get((method, path))
            if route is None:
                known = {p for (_m, p) in app.routes}
                code = HTTPStatus.METHOD_NOT_ALLOWED if path in known else HTTPStatus.NOT_FOUND
                self._send(code, {"ok": False, "error": f"no route {method} {path}"})
                return
            body: dict[str, Any] = {}
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"ok": False, "error": "too large"})
                return
            if length:
                try:
                    parsed = json.loads(self.rfile.read(length))
                except ValueError:
                    self._send(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "invalid JSON"})
                    return
                body = parsed if isinstance(parsed, dict) else {}
            try:
                result = route(body)
            except (NotFound, ValueError) as exc:  # the caller's mistake: nothing was changed
                bad = HTTPStatus.NOT_FOUND if isinstance(exc, NotFound) else HTTPStatus.BAD_REQUEST
                self._send(bad, {"ok": False, "error": str(exc)})
                return
            except Exception as exc:  # an admin call must answer, whatever broke
                log.exception("control %s %s failed", method, path)
                self._send(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    {"ok": False, "error": f"{type(exc).__name__}: {exc}"},
                )
                return
            failed = result.get("ok") is False and not result.get("skipped")
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR if failed else HTTPStatus.OK, result)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


def serve(app: ControlApp, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(app))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="control-api", daemon=True)
    thread.start()
    log.info("control API on %s:%s", host, server.server_address[1])
    return server
