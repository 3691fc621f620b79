"""Access stand-in: tokens verify like Cloudflare Access ones; login sets the cookie safely."""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest

from dev import access

TEAM = "team.example.cloudflareaccess.com"
AUD = "aud-under-test"
APP = "http://127.0.0.1:8787"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> access.AccessIssuer:
    key = access.load_or_create_key(tmp_path_factory.mktemp("access"))
    return access.AccessIssuer(key, TEAM, AUD, ttl_seconds=300)


def _verify(issuer: access.AccessIssuer, token: str) -> dict[str, object]:
    jwk = jwt.PyJWK.from_dict(issuer.jwks()["keys"][0])
    header = jwt.get_unverified_header(token)
    assert header["kid"] == jwk.key_id
    return dict(
        jwt.decode(token, jwk.key, algorithms=["RS256"], audience=AUD, issuer=f"https://{TEAM}")
    )


def test_token_has_access_claims_and_verifies_against_jwks(issuer: access.AccessIssuer) -> None:
    token = issuer.mint("dev@example.com")
    claims = _verify(issuer, token)
    assert claims["email"] == "dev@example.com"
    assert claims["aud"] == [AUD]
    assert claims["type"] == "app"
    assert 0 < int(str(claims["exp"])) - time.time() <= 300


def test_expired_and_foreign_tokens_fail(issuer: access.AccessIssuer) -> None:
    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(issuer, issuer.mint(now=time.time() - 1000, ttl_seconds=10))
    with pytest.raises(jwt.InvalidAudienceError):
        _verify(issuer, issuer.mint(aud="other"))
    with pytest.raises(jwt.InvalidIssuerError):
        _verify(issuer, issuer.mint(issuer="https://evil.example"))


def test_key_is_persisted_private_and_reused(tmp_path: Path) -> None:
    first = access.load_or_create_key(tmp_path)
    second = access.load_or_create_key(tmp_path)
    assert (tmp_path / access.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert first.private_numbers() == second.private_numbers()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, f"{APP}/"),
        ("/_admin/", f"{APP}/_admin/"),
        ("chat?x=1", f"{APP}/chat?x=1"),
        ("http://localhost:8787/a", "http://localhost:8787/a"),
        ("https://evil.example/steal", f"{APP}/"),
        ("//evil.example/steal", f"{APP}/"),
        ("javascript:alert(1)", f"{APP}/"),
    ],
)
def test_redirect_target_stays_on_loopback(raw: str | None, expected: str) -> None:
    assert access.safe_redirect_target(raw, APP) == expected


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


@pytest.fixture(scope="module")
def base(issuer: access.AccessIssuer) -> Iterator[str]:
    httpd = access.build_server("127.0.0.1", 0, issuer, APP)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_jwks_endpoint(base: str, issuer: access.AccessIssuer) -> None:
    with urllib.request.urlopen(base + access.CERTS_PATH, timeout=5) as response:
        keys = json.loads(response.read())["keys"]
    assert keys == issuer.jwks()["keys"]
    assert "d" not in keys[0], "no private part"


def test_login_page_then_post_sets_cookie_and_redirects(
    base: str, issuer: access.AccessIssuer
) -> None:
    page_url = f"{base}{access.LOGIN_PATH}/app.local?redirect_url=%2F_admin%2F"
    with urllib.request.urlopen(page_url, timeout=5) as response:
        page = response.read().decode()
    assert 'id="sign-in"' in page
    assert "/_admin/" in page
    form = urllib.parse.urlencode({"email": "me@example.com", "redirect_url": f"{APP}/_admin/"})
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(base + access.LOGIN_PATH, data=form.encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(request, timeout=5)
    reply = raised.value
    assert reply.code == 302
    assert reply.headers["Location"] == f"{APP}/_admin/"
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith(f"{access.COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    assert _verify(issuer, token)["email"] == "me@example.com"


def test_login_moves_to_the_apps_host_name(base: str) -> None:
    """Cookies are per host name: a localhost app needs the cookie set on localhost."""
    opener = urllib.request.build_opener(_NoRedirect)
    url = f"{base}{access.LOGIN_PATH}?redirect_url=http%3A%2F%2Flocalhost%3A8787%2F"
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(url, timeout=5)
    location = raised.value.headers["Location"]
    assert location.startswith("http://localhost:")
    assert "redirect_url=http%3A%2F%2Flocalhost%3A8787%2F" in location


def test_one_port_speaks_tls_and_plain_http(tmp_path: Path, issuer: access.AccessIssuer) -> None:
    """The Worker redirects browsers to https://<team domain>; workerd fetches JWKS over http."""
    tls = access.load_or_create_tls(tmp_path)
    assert (tmp_path / access.TLS_KEY_FILE).stat().st_mode & 0o777 == 0o600
    httpd = access.build_server("127.0.0.1", 0, issuer, APP, tls)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        url = f"https://127.0.0.1:{port}{access.LOGIN_PATH}/127.0.0.1:8787?redirect_url=%2F"
        with urllib.request.urlopen(url, context=insecure, timeout=5) as response:
            assert 'id="sign-in"' in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{access.CERTS_PATH}", timeout=5) as r:
            assert json.loads(r.read())["keys"][0]["kid"] == issuer.public_jwk()["kid"]
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- the front: Access in front of the Worker, for ops.verify -----------------------------------

CLIENT_ID = "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d.access"
CLIENT_SECRET = "front-secret-3e9b1c7a5d"


@pytest.fixture(scope="module")
def front(issuer: access.AccessIssuer) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The front before a small upstream that records the headers the Worker would get."""
    seen: list[dict[str, str]] = []

    class Upstream(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    token = access.ServiceToken(CLIENT_ID, CLIENT_SECRET)
    handler = access.make_front_handler(
        issuer, token, f"http://127.0.0.1:{upstream.server_address[1]}"
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for server in (upstream, httpd):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    for server in (httpd, upstream):
        server.shutdown()
        server.server_close()


def _front_get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, dict(r.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items())


def test_front_turns_the_service_token_into_an_assertion(
    front: tuple[str, list[dict[str, str]]], issuer: access.AccessIssuer
) -> None:
    url, seen = front
    headers = {"CF-Access-Client-Id": CLIENT_ID, "CF-Access-Client-Secret": CLIENT_SECRET}
    status, answer = _front_get(f"{url}/sandbox-health", headers)
    assert status == 200
    claims = _verify(issuer, seen[-1]["Cf-Access-Jwt-Assertion"])
    assert claims["common_name"] == CLIENT_ID
    assert "email" not in claims
    assert claims["sub"] == ""
    cookie = answer["Set-Cookie"].split(";")[0].split("=", 1)[1]
    # The session cookie Access hands out works on its own afterwards.
    status, _ = _front_get(f"{url}/", {"Cookie": f"CF_Authorization={cookie}"})
    assert status == 200
    assert seen[-1]["Cf-Access-Jwt-Assertion"] == cookie


def test_front_refuses_a_wrong_token_and_redirects_everyone_else(
    front: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = front
    before = len(seen)
    wrong = {"CF-Access-Client-Id": CLIENT_ID, "CF-Access-Client-Secret": "wrong"}
    assert _front_get(f"{url}/", wrong)[0] == 403
    status, answer = _front_get(f"{url}/api/status?x=1", {"Accept": "application/json"})
    assert status == 302
    host = urllib.parse.urlsplit(url).netloc
    query = urllib.parse.urlencode({"kid": AUD, "redirect_url": "/api/status?x=1"})
    assert answer["Location"] == f"https://{TEAM}/cdn-cgi/access/login/{host}?{query}"
    assert _front_get(f"{url}/", {"Cookie": "CF_Authorization=not-a-token"})[0] == 302
    assert len(seen) == before  # nothing reached the Worker
