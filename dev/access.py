"""Cloudflare Access stand-in: JWKS, a login page that signs an Access-style RS256 JWT cookie.

The Worker's real verification runs against it (`CF_ACCESS_JWKS_URL` points here) and the local
stack sets `CF_ACCESS_LOGIN_ORIGIN` to its plain-HTTP address, so the login needs no certificate.
The port also answers TLS with a self-signed certificate, for a Worker that is sent to
`https://<team domain>/cdn-cgi/access/login/...` without that override. Run alone:
`python -m dev.access --state-dir .dev-state/access --team-domain 127.0.0.1:8790 --aud ...`.

With `--front-port` it also stands *in front of* the Worker the way Access does on a deployed
hostname (HTTP only, no WebSockets): a request with the service token's `CF-Access-Client-Id` /
`CF-Access-Client-Secret` headers (token from `ACCESS_SERVICE_TOKEN_ID` / `_SECRET` in its
environment, never argv) reaches the Worker with a signed `Cf-Access-Jwt-Assertion` whose
`common_name` is the client id; a valid `CF_Authorization` cookie is passed the same way; a wrong
service token gets 403; anything else gets Access's 302 to
`https://<team domain>/cdn-cgi/access/login/<host>?kid=<aud>&redirect_url=<path>`, whatever its
`Accept` header (`ops.verify` relies on that difference from the Worker's own 401).

One module on purpose (about 520 lines): it is one fake, Cloudflare Access in both of its roles
(the issuer with its login page and JWKS, and the front of a protected hostname), which share
the signing key, the cookie and the login redirect; it reads best in one piece against Access's
behaviour.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import html
import http.client
import ipaddress
import json
import os
import secrets
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from dev.common import LOOPBACK_HOSTS, ReplyHandler, serve_until_signal

COOKIE_NAME = "CF_Authorization"
CLIENT_ID_HEADER = "CF-Access-Client-Id"
CLIENT_SECRET_HEADER = "CF-Access-Client-Secret"  # noqa: S105 - a header name
ASSERTION_HEADER = "Cf-Access-Jwt-Assertion"
SERVICE_TOKEN_ENV = ("ACCESS_SERVICE_TOKEN_ID", "ACCESS_SERVICE_TOKEN_SECRET")
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "host"}
)
CERTS_PATH = "/cdn-cgi/access/certs"
LOGIN_PATH = "/cdn-cgi/access/login"
LOGOUT_PATH = "/cdn-cgi/access/logout"
DEFAULT_EMAIL = "developer@example.com"
KEY_FILE = "signing-key.pem"
TLS_CERT_FILE = "tls-cert.pem"
TLS_KEY_FILE = "tls-key.pem"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_or_create_key(state_dir: Path) -> rsa.RSAPrivateKey:
    """The signing key lives in the state dir (mode 0600), so cookies survive a restart."""
    path = state_dir / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return key
    state_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(path, pem)
    return key


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def load_or_create_tls(state_dir: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1/localhost, made once and renewed when expired."""
    cert_path, key_path = state_dir / TLS_CERT_FILE, state_dir / TLS_KEY_FILE
    now = datetime.datetime.now(datetime.UTC)
    valid = False
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        valid = cert.not_valid_after_utc > now + datetime.timedelta(days=1)
    if not valid:
        state_dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openclaw-edge local Access")])
        san = x509.SubjectAlternativeName(
            [
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(san, critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


@dataclass(frozen=True)
class AccessIssuer:
    """Signs tokens shaped like Cloudflare Access application tokens."""

    key: rsa.RSAPrivateKey
    team_domain: str
    aud: str
    ttl_seconds: int = 3600

    @property
    def issuer(self) -> str:
        return f"https://{self.team_domain}"

    def public_jwk(self) -> dict[str, str]:
        numbers = self.key.public_key().public_numbers()
        jwk = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
        # RFC 7638 thumbprint as kid: stable for the key, changes when the key is rotated.
        canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
        kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
        return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.public_jwk()]}

    def mint(
        self,
        email: str = DEFAULT_EMAIL,
        *,
        now: float | None = None,
        ttl_seconds: int | None = None,
        aud: str | None = None,
        issuer: str | None = None,
    ) -> str:
        """A signed token; `aud`/`issuer` overrides exist so tests can forge wrong ones."""
        issued = int(now if now is not None else time.time())
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        claims = {
            "aud": [aud if aud is not None else self.aud],
            "email": email,
            "exp": issued + ttl,
            "iat": issued,
            "nbf": issued,
            "iss": issuer if issuer is not None else self.issuer,
            "type": "app",
            "identity_nonce": secrets.token_urlsafe(12),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email}")),
            "country": "XX",
        }
        return self._sign(claims)

    def mint_service(self, client_id: str, *, now: float | None = None) -> str:
        """A service-token application token: `common_name` = client id, no email, empty sub."""
        issued = int(now if now is not None else time.time())
        claims = {
            "aud": [self.aud],
            "common_name": client_id,
            "exp": issued + self.ttl_seconds,
            "iat": issued,
            "nbf": issued,
            "iss": self.issuer,
            "type": "app",
            "sub": "",
            "identity_nonce": secrets.token_urlsafe(12),
        }
        return self._sign(claims)

    def _sign(self, claims: dict[str, Any]) -> str:
        headers = {"kid": self.public_jwk()["kid"], "typ": "JWT"}
        return jwt.encode(claims, self.key, algorithm="RS256", headers=headers)

    def valid(self, token: str) -> bool:
        """Whether a token is one of ours, for this application, and not expired."""
        try:
            jwt.decode(
                token,
                self.key.public_key(),
                algorithms=["RS256"],
                audience=self.aud,
                issuer=self.issuer,
            )
        except jwt.PyJWTError:
            return False
        return True


def safe_redirect_target(raw: str | None, app_origin: str) -> str:
    """Resolve `redirect_url` to an absolute loopback http URL; anything else → the app root.

    Real Access passes a path relative to the application; absolute URLs are accepted only on
    loopback so the stand-in can never be used as an open redirect.
    """
    if not raw:
        return app_origin.rstrip("/") + "/"
    parts = urlsplit(raw)
    if not parts.scheme and not parts.netloc:
        path = raw if raw.startswith("/") else "/" + raw
        return app_origin.rstrip("/") + path
    if parts.scheme in {"http", "https"} and (parts.hostname or "") in LOOPBACK_HOSTS:
        return raw
    return app_origin.rstrip("/") + "/"


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Access (local stand-in)</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; display: grid;
  place-items: center; min-height: 100vh; margin: 0; }}
main {{ background: #fff; padding: 2rem 2.5rem; border-radius: 8px;
  box-shadow: 0 1px 4px #0002; max-width: 26rem; }}
h1 {{ font-size: 1.25rem; margin-top: 0; }}
input, button {{ font: inherit; padding: .5rem; width: 100%; box-sizing: border-box; }}
button {{ margin-top: .75rem; background: #f38020; color: #fff; border: 0; border-radius: 4px;
  cursor: pointer; }}
p.note {{ color: #555; font-size: .85rem; }}
</style></head>
<body><main>
<h1>Sign in to {team}</h1>
<p class="note">Local stand-in for Cloudflare Access. It signs a short-lived token for the
address below; no password, no network.</p>
<form method="post" action="{action}">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="{email}" required>
<input type="hidden" name="redirect_url" value="{redirect}">
<button id="sign-in" type="submit">Sign in</button>
</form>
<p class="note">You will be sent back to <code>{redirect}</code>.</p>
</main></body></html>
"""


def make_handler(issuer: AccessIssuer, app_origin: str) -> type[ReplyHandler]:
    class AccessHandler(ReplyHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == CERTS_PATH:
                self.send_json(200, issuer.jwks())
            elif parts.path == "/healthz":
                self.send_json(200, {"ok": True})
            elif parts.path == LOGOUT_PATH:
                self.send_html(
                    200,
                    "<!doctype html><title>Signed out</title><p>Signed out.</p>",
                    {"Set-Cookie": f"{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"},
                )
            elif parts.path in {"/", LOGIN_PATH} or parts.path.startswith(LOGIN_PATH + "/"):
                self._login_page(query)
            else:
                self.send_json(404, {"error": "not found"})

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if not (parts.path == LOGIN_PATH or parts.path.startswith(LOGIN_PATH + "/")):
                self.send_json(404, {"error": "not found"})
                return
            form = parse_qs(self.read_body().decode("utf-8", "replace"))
            email = (form.get("email") or [DEFAULT_EMAIL])[0].strip() or DEFAULT_EMAIL
            target = safe_redirect_target(
                next(iter(form.get("redirect_url") or []), None), app_origin
            )
            token = issuer.mint(email)
            cookie = (
                f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; "
                f"Max-Age={issuer.ttl_seconds}"
            )
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()

        def _login_page(self, query: dict[str, list[str]]) -> None:
            raw = next(iter(query.get("redirect_url") or query.get("redirect") or []), None)
            target = safe_redirect_target(raw, app_origin)
            # Cookies are per host name, not per port: sign in on the host the app is on
            # (localhost vs 127.0.0.1) or the browser would not send the cookie back.
            own_host, _, own_port = (self.headers.get("Host") or "").rpartition(":")
            target_host = urlsplit(target).hostname or ""
            if target_host and own_host and target_host != own_host.strip("[]"):
                port = own_port
                netloc = (
                    f"[{target_host}]:{port}" if ":" in target_host else f"{target_host}:{port}"
                )
                moved = urlunsplit(
                    ("http", netloc, LOGIN_PATH, urlencode({"redirect_url": target}), "")
                )
                self.send_bytes(302, b"", "text/plain", {"Location": moved})
                return
            page = LOGIN_PAGE.format(
                team=html.escape(issuer.team_domain),
                action=LOGIN_PATH,
                email=html.escape(DEFAULT_EMAIL),
                redirect=html.escape(target, quote=True),
            )
            self.send_html(200, page)

    return AccessHandler


@dataclass(frozen=True)
class ServiceToken:
    """The one service token the front accepts (what `accessProbeServiceToken` creates)."""

    client_id: str
    client_secret: str

    def matches(self, client_id: str, client_secret: str) -> bool:
        return hmac.compare_digest(client_id.encode(), self.client_id.encode()) and (
            hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        )

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ServiceToken | None:
        client_id, client_secret = (env.get(name, "") for name in SERVICE_TOKEN_ENV)
        return cls(client_id, client_secret) if client_id and client_secret else None


def login_redirect(issuer: AccessIssuer, host: str, path: str) -> str:
    """Where Access sends an unauthenticated request (the real shape, on the team domain)."""
    query = urlencode({"kid": issuer.aud, "redirect_url": path})
    return f"{issuer.issuer}{LOGIN_PATH}/{quote(host, safe=':')}?{query}"


def make_front_handler(
    issuer: AccessIssuer, token: ServiceToken | None, upstream: str
) -> type[ReplyHandler]:
    target = urlsplit(upstream)

    class FrontHandler(ReplyHandler):
        def _assertion(self) -> tuple[str | None, bool]:
            """(token to forward, freshly minted?) or (None, False) when not signed in."""
            client_id = self.headers.get(CLIENT_ID_HEADER)
            client_secret = self.headers.get(CLIENT_SECRET_HEADER)
            if client_id or client_secret:
                if token is not None and token.matches(client_id or "", client_secret or ""):
                    return issuer.mint_service(token.client_id), True
                return None, True
            for part in (self.headers.get("Cookie") or "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE_NAME and issuer.valid(value):
                    return value, False
            return None, False

        def _handle(self) -> None:
            body = self.read_body()
            assertion, presented = self._assertion()
            if assertion is None and presented:
                self.send_html(403, "<!doctype html><title>Forbidden</title><p>Forbidden.</p>")
                return
            if assertion is None:
                host = self.headers.get("Host") or "localhost"
                location = login_redirect(issuer, host, self.path)
                self.send_bytes(302, b"", "text/plain", {"Location": location})
                return
            if (self.headers.get("Upgrade") or "").lower() == "websocket":
                self.send_json(501, {"error": "the local Access front relays HTTP only"})
                return
            self._forward(body, assertion, fresh=presented)

        def _forward(self, body: bytes, assertion: str, *, fresh: bool) -> None:
            # The service token headers go on, as the Worker expects (it strips them before the
            # gateway); whether real Access forwards them is not documented either way.
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in HOP_BY_HOP
            }
            headers[ASSERTION_HEADER] = assertion
            headers["Host"] = target.netloc
            conn = http.client.HTTPConnection(
                target.hostname or "127.0.0.1", target.port or 80, timeout=600
            )
            try:
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.send_json(502, {"error": f"Worker unreachable: {type(exc).__name__}"})
                return
            finally:
                conn.close()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            if fresh:  # Access hands a service-token client its session as a cookie
                self.send_header(
                    "Set-Cookie", f"{COOKIE_NAME}={assertion}; Path=/; HttpOnly; Secure"
                )
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    return FrontHandler


class DualProtocolServer(ThreadingHTTPServer):
    """Plain HTTP and, when given a TLS context, TLS on the same port (sniffs the first byte)."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[ReplyHandler],
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(address, handler)
        self.tls = tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            request.settimeout(10)
            try:
                first = request.recv(1, socket.MSG_PEEK)
                if first == b"\x16":  # TLS handshake record
                    request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
            request.settimeout(None)
        handler_class: Any = self.RequestHandlerClass
        handler_class(request, client_address, self)


def build_server(
    host: str,
    port: int,
    issuer: AccessIssuer,
    app_origin: str,
    tls: ssl.SSLContext | None = None,
) -> ThreadingHTTPServer:
    return DualProtocolServer((host, port), make_handler(issuer, app_origin), tls)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--team-domain", required=True)
    parser.add_argument("--aud", required=True)
    parser.add_argument("--app-origin", default="http://127.0.0.1:8787")
    parser.add_argument("--ttl-seconds", type=int, default=3600)
    parser.add_argument("--front-port", type=int, help="also stand in front of the Worker here")
    parser.add_argument("--upstream", help="the Worker the front passes requests to")
    args = parser.parse_args(argv)
    issuer = AccessIssuer(
        load_or_create_key(args.state_dir), args.team_domain, args.aud, args.ttl_seconds
    )
    tls = load_or_create_tls(args.state_dir)
    server = build_server(args.host, args.port, issuer, args.app_origin, tls)
    front = None
    if args.front_port:
        handler = make_front_handler(
            issuer, ServiceToken.from_env(dict(os.environ)), args.upstream or args.app_origin
        )
        front = ThreadingHTTPServer((args.host, args.front_port), handler)
        front.daemon_threads = True
        threading.Thread(target=front.serve_forever, name="access-front", daemon=True).start()
        print(f"access: in front of {args.upstream} on http://{args.host}:{args.front_port}")
    serve_until_signal(server, "access")
    if front is not None:
        front.shutdown()
        front.server_close()


if __name__ == "__main__":
    main()
