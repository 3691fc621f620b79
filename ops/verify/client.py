"""HTTP(S) requests to the Worker with the Access service token, answers as `Answer`."""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ops.verify.model import USER_AGENT, Answer, Credentials, Failed


class Client:
    """HTTP(S) to the deployment, redirects not followed, the service token added on request."""

    def __init__(self, base_url: str, credentials: Credentials, timeout: float) -> None:
        self.base = urlsplit(base_url)
        self.credentials = credentials
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> Answer:
        conn_type = (
            http.client.HTTPSConnection
            if self.base.scheme == "https"
            else http.client.HTTPConnection
        )
        conn = conn_type(self.base.netloc, timeout=timeout or self.timeout)
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        if auth:
            sent.update(self.credentials.access_headers())
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, self.base.path.rstrip("/") + path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get_json(self, path: str, what: str, fix: str, timeout: float | None = None) -> Any:
        """GET with the service token; a 2xx JSON body, else Failed naming `what`."""
        try:
            answer = self.request("GET", path, timeout=timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"{what}: {type(exc).__name__}: {exc}", fix) from exc
        body = answer.json()
        if not 200 <= answer.status < 300 or body is None:
            error = body.get("error") if isinstance(body, Mapping) else answer.text()
            raise Failed(
                f"{what} answered HTTP {answer.status}: {error}", fix, status=answer.status
            )
        return body
