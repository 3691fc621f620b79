"""Control API on OPENCLAW_EDGE_CONTROL_PORT (default 18790) for the Worker's admin routes.

Every route needs `Authorization: Bearer <OPENCLAW_GATEWAY_TOKEN>`; answers are JSON and never
contain a secret. Routes and shapes: docs/interfaces.md.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("openclaw-edge.control")

MAX_BODY = 64 * 1024


class NotFound(Exception):
    """What a route was asked for does not exist: answered 404, nothing was changed."""


class Busy(RuntimeError):
    """The action cannot run in the current phase (restoring, stopping): 409 with the reason."""


Route = Callable[[dict[str, Any]], dict[str, Any]]


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
        shutdown: Callable[[], dict[str, Any]] | None = None,
        logs: Callable[[str, int], dict[str, Any]] | None = None,
        selftest: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.token = token
        self.routes: dict[tuple[str, str], Route] = {
            ("GET", "/status"): lambda _body: status(),
            ("POST", "/snapshot"): lambda _body: snapshot(),
            ("GET", "/snapshots"): lambda _body: snapshots(),
            ("POST", "/restore"): self._restore(restore),
            ("POST", "/gateway/restart"): lambda _body: restart(),
            ("GET", "/gateway/ready"): lambda _body: ready(),
        }
        if shutdown is not None:
            self.routes[("POST", "/shutdown")] = lambda _body: shutdown()
        if logs is not None:
            self.routes[("GET", "/logs")] = self._logs(logs)
        if selftest is not None:
            self.routes[("GET", "/selftest")] = lambda _body: selftest()

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

    @staticmethod
    def _logs(logs: Callable[[str, int], dict[str, Any]]) -> Route:
        def handler(body: dict[str, Any]) -> dict[str, Any]:
            source = str(body.get("source") or "gateway")
            if source not in {"gateway", "boot"}:
                raise ValueError("source must be gateway or boot")
            try:
                lines = int(body.get("lines") or 200)
            except ValueError:
                raise ValueError("lines must be an integer") from None
            return logs(source, lines)

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
            raw_path, _, query = self.path.partition("?")
            path = raw_path.rstrip("/") or "/"
            if not app.authorized(self.headers.get("Authorization")):
                self._send(HTTPStatus.UNAUTHORIZED, {"ok": False, "error": "unauthorized"})
                return
            route = app.routes.get((method, path))
            if route is None:
                known = {p for (_m, p) in app.routes}
                code = HTTPStatus.METHOD_NOT_ALLOWED if path in known else HTTPStatus.NOT_FOUND
                self._send(code, {"ok": False, "error": f"no route {method} {path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"ok": False, "error": "too large"})
                return
            status, answer = self._answer(route, query, self.rfile.read(length) if length else b"")
            self._send(status, answer)

        @staticmethod
        def _answer(route: Route, query: str, raw: bytes) -> tuple[int, dict[str, Any]]:
            # GET parameters arrive in the handler's body argument (only /logs has any).
            body: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
            try:
                if raw:
                    parsed = json.loads(raw)
                    body = parsed if isinstance(parsed, dict) else {}
                result = route(body)
            except Busy as exc:
                return HTTPStatus.CONFLICT, {"ok": False, "error": str(exc)}
            except NotFound as exc:  # the caller's mistake: nothing was changed
                return HTTPStatus.NOT_FOUND, {"ok": False, "error": str(exc)}
            except ValueError as exc:  # json.JSONDecodeError included
                message = "invalid JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
                return HTTPStatus.BAD_REQUEST, {"ok": False, "error": message}
            except Exception as exc:  # an admin call must answer, whatever broke
                log.exception("control call failed")
                return HTTPStatus.INTERNAL_SERVER_ERROR, {
                    "ok": False,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            failed = result.get("ok") is False and not result.get("skipped")
            return (HTTPStatus.INTERNAL_SERVER_ERROR if failed else HTTPStatus.OK), result

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
