"""ops.verify's checks against real local pieces (TLS server, the Access stand-in, the real
wrangler against a stand-in of the Cloudflare API), and its evidence read by ops.phase_docs.

One file (about 470 lines): the checks share the stand-in servers and the `verifier` helper
below; tests/e2e_verify runs the same command against the whole local stack."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator, Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dev import access
from dev.common import ReplyHandler
from ops import phase_docs, verify
from ops.verify import CheckResult, Credentials, Failed, Skipped, Verifier
from ops.verify import model as verify_model

ROOT = Path(__file__).resolve().parents[2]
WRANGLER = ROOT / "worker" / "node_modules" / ".bin" / "wrangler"
ACCOUNT = "0123456789abcdef0123456789abcdef"
API_TOKEN = "cf-api-token-verify-5d1e9a"
CLIENT_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0.access"
CLIENT_SECRET = "service-token-secret-7c2e91b4d8a3f605"
TEAM = "myteam.cloudflareaccess.com"


def outputs(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "workerUrl": url,
        "hostname": "moltworker.example.com",
        "workerName": "openclaw-edge-dev",
        "environment": "dev",
        "accessTeamDomain": TEAM,
        "bucketName": "openclaw-edge-dev-data",
        "openclawVersion": "2026.9.6",
        "sandboxVersion": "0.12.10",
        "workerSecretNames": ["BACKUP_PASSWORD", "MOLTBOT_GATEWAY_TOKEN"],
        "probeAccessClientId": CLIENT_ID,
        "probeAccessClientSecret": "[secret]",
        **extra,
    }


def verifier(url: str, env: dict[str, str] | None = None, **extra: Any) -> Verifier:
    out = outputs(url, **extra)
    env = {"CF_ACCESS_CLIENT_SECRET": CLIENT_SECRET, **(env or {})}
    return Verifier(out, Credentials.from_env(env, out), timeout=5, out=io.StringIO(), env=env)


@pytest.fixture
def server() -> Iterator[Any]:
    started: list[ThreadingHTTPServer] = []

    def start(httpd: ThreadingHTTPServer) -> int:
        started.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return int(httpd.server_address[1])

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


# --- DNS and TLS --------------------------------------------------------------------------------


def test_a_name_that_does_not_resolve_fails_with_what_to_do() -> None:
    with pytest.raises(Failed) as failed:
        verifier("https://openclaw-edge-verify.invalid").check_dns_tls()
    assert failed.value.what.startswith("openclaw-edge-verify.invalid does not resolve")
    assert "custom domain" in failed.value.fix


def test_tls_is_verified_against_the_system_trust(
    tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = access.load_or_create_tls(tmp_path)
    issuer = access.AccessIssuer(access.load_or_create_key(tmp_path), TEAM, "aud")
    port = server(access.build_server("127.0.0.1", 0, issuer, "http://127.0.0.1:1", tls))
    with pytest.raises(Failed) as failed:
        verifier(f"https://localhost:{port}").check_dns_tls()
    assert failed.value.what.startswith("TLS certificate of localhost not trusted")
    # Trusted (here: that one self-signed certificate), it reports the certificate.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / access.TLS_CERT_FILE))
    detail, facts = verifier(f"https://localhost:{port}").check_dns_tls()
    assert facts["tls"]["issuer"] == "openclaw-edge local Access"
    assert facts["tls"]["daysLeft"] > 300
    assert "127.0.0.1" in facts["addresses"]
    assert detail.startswith("localhost -> ")


def test_plain_http_is_only_accepted_on_this_machine() -> None:
    with pytest.raises(Skipped, match="on this machine"):
        verifier("http://127.0.0.1:8795").check_dns_tls()
    with pytest.raises(Failed, match="plain HTTP"):
        verifier("http://moltworker.example.com").check_dns_tls()


# --- Access in front (the stand-in answers as Access does) --------------------------------------


@pytest.fixture
def front(tmp_path: Path, server: Any) -> str:
    issuer = access.AccessIssuer(access.load_or_create_key(tmp_path), TEAM, "aud-1")
    token = access.ServiceToken(CLIENT_ID, CLIENT_SECRET)
    # The Worker behind it is not running: only answers Access gives itself are tested here.
    handler = access.make_front_handler(issuer, token, "http://127.0.0.1:9")
    port = server(ThreadingHTTPServer(("127.0.0.1", 0), handler))
    return f"http://127.0.0.1:{port}"


def test_an_unauthenticated_request_is_sent_to_the_access_login(front: str) -> None:
    detail, facts = verifier(front).check_access()
    assert facts["status"] == 302
    assert facts["location"].startswith(f"https://{TEAM}/cdn-cgi/access/login/127.0.0.1:")
    assert "kid=aud-1" in facts["location"]
    assert facts["enforced"] is True
    assert detail == f"HTTP 302 to the Access login at {TEAM}"


def test_a_redirect_to_another_team_is_not_access_in_front(front: str) -> None:
    with pytest.raises(Failed, match="not to the Access login of otherteam"):
        verifier(front, accessTeamDomain="otherteam.cloudflareaccess.com").check_access()


def test_a_wrong_or_missing_service_token_is_named(front: str) -> None:
    with pytest.raises(Failed) as wrong:
        verifier(front, env={"CF_ACCESS_CLIENT_SECRET": "not-the-secret"}).check_token()
    assert wrong.value.what == "Access refused the service token (HTTP 403)"
    out = outputs(front)
    missing = Verifier(out, Credentials.from_env({}, out), out=io.StringIO(), env={})
    with pytest.raises(Failed) as none:
        missing.check_token()
    assert none.value.what == "no Access service token"
    assert "--show-secrets probeAccessClientSecret" in none.value.fix


def test_the_token_admitted_but_no_worker_behind_it(front: str) -> None:
    with pytest.raises(Failed, match=r"/sandbox-health answered HTTP 502"):
        verifier(front).check_token()


class WorkerRefusingJwt(ReplyHandler):
    """Answers as the Worker's requireAccess does for a JWT of another application."""

    def do_GET(self) -> None:
        self.send_json(401, {"error": "unauthorized", "reason": "claim aud invalid"})


def test_a_token_for_another_access_application_is_named(tmp_path: Path, server: Any) -> None:
    worker = server(ThreadingHTTPServer(("127.0.0.1", 0), WorkerRefusingJwt))
    issuer = access.AccessIssuer(access.load_or_create_key(tmp_path), TEAM, "other-aud")
    token = access.ServiceToken(CLIENT_ID, CLIENT_SECRET)
    handler = access.make_front_handler(issuer, token, f"http://127.0.0.1:{worker}")
    port = server(ThreadingHTTPServer(("127.0.0.1", 0), handler))
    with pytest.raises(Failed) as failed:
        verifier(f"http://127.0.0.1:{port}").check_token()
    assert failed.value.what == (
        "Access admitted the token but the Worker refused its JWT (claim aud invalid)"
    )
    assert "accessAud" in failed.value.fix


def test_credentials_come_from_the_environment_never_the_masked_output() -> None:
    out = outputs("https://x.example.com")
    creds = Credentials.from_env({}, out)
    assert (creds.client_id, creds.client_secret) == (CLIENT_ID, None)
    shown = Credentials.from_env({}, {**out, "probeAccessClientSecret": CLIENT_SECRET})
    assert shown.client_secret == CLIENT_SECRET  # `--show-secrets` outputs piped in
    env = Credentials.from_env({"CF_ACCESS_CLIENT_ID": "other.access"}, out)
    assert env.client_id == "other.access"


# --- channels (per-channel state in /api/status) ------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "expected"),
    [
        ({"discord": {"state": "connected"}}, [("discord", True, True)]),
        (
            {"discord": {"connected": False, "error": "401: Unauthorized"}},
            [("discord", True, False)],
        ),
        ([{"name": "telegram", "status": "not_configured"}], [("telegram", False, False)]),
        ({"slack": "error"}, [("slack", True, False)]),
        ({"discord": True}, [("discord", True, True)]),
    ],
)
def test_channel_state_shapes(channels: Any, expected: list[tuple[str, bool, bool]]) -> None:
    states = verify.channel_states(channels)
    assert [(s["name"], s["configured"], s["connected"]) for s in states] == expected


def test_the_channels_check_fails_on_a_rejected_token_and_skips_without_state() -> None:
    check = verifier("https://x.example.com")
    check.authorized = True
    check.status = {"state": "running"}
    with pytest.raises(Skipped, match="reports no channel state"):
        check.check_channels()
    check.status = {"channels": {"discord": {"state": "error", "error": "401: Unauthorized"}}}
    with pytest.raises(Failed) as failed:
        check.check_channels()
    assert failed.value.what == "not connected: discord: error: 401: Unauthorized"
    assert "DISCORD_BOT_TOKEN" in failed.value.fix
    check.status = {"channels": {"discord": "connected", "telegram": "not_configured"}}
    assert check.check_channels()[0] == "discord connected"


def test_the_channels_check_waits_for_a_connecting_channel_and_then_judges_it() -> None:
    # Right after a cold start the boot code reports `connecting` (or `unknown` while the
    # gateway's status RPC does not answer yet): verify polls instead of failing at once.
    now = [0.0]
    answers: list[Mapping[str, Any]] = [
        {"channels": {"discord": {"state": "unknown", "reason": "gateway not answering"}}},
        {"state": "starting", "channels_error": "the gateway is starting: channel state follows"},
        {"channels": {"discord": {"state": "connecting"}, "slack": {"state": "not_configured"}}},
        {"channels": {"discord": {"state": "connected"}, "slack": {"state": "not_configured"}}},
    ]
    check = verifier("https://x.example.com")
    check.authorized = True
    check.clock = lambda: now[0]
    check.sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)
    check.status = answers.pop(0)
    check._status = lambda: answers.pop(0)  # type: ignore[method-assign]
    assert check.check_channels()[0] == "discord connected"
    assert answers == []
    said = check.out.getvalue()  # type: ignore[attr-defined]
    assert "discord unknown after 0 s" in said
    assert "the gateway is starting: channel state follows after 3 s" in said
    assert "discord connecting after 6 s" in said

    # A channel that stays `connecting` is judged when the wait is over, with its state.
    check.status = {"channels": {"discord": {"state": "connecting"}}}
    check._status = lambda: {"channels": {"discord": {"state": "connecting"}}}  # type: ignore[method-assign]
    with pytest.raises(Failed, match="not connected: discord: connecting"):
        check.check_channels()
    assert now[0] >= verify_model.CHANNEL_WAIT_SECONDS


# --- Worker secret names: the real wrangler against a stand-in of the Cloudflare API ------------


class CloudflareApi(ReplyHandler):
    """`GET /accounts/<id>/workers/scripts/<name>/secrets` in the API's envelope."""

    names: ClassVar[list[str]] = []
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization", "")))
        expected = f"/client/v4/accounts/{ACCOUNT}/workers/scripts/openclaw-edge-dev/secrets"
        if self.path == expected:
            result = [{"name": n, "type": "secret_text"} for n in type(self).names]
            status, body = 200, {"success": True, "errors": [], "messages": [], "result": result}
        else:
            error = {"code": 10007, "message": "workers.api.error.script_not_found"}
            status, body = 404, {"success": False, "errors": [error], "messages": []}
        self.send_json(status, body)


@pytest.fixture
def api(server: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if not WRANGLER.exists():
        pytest.fail("worker/node_modules is missing: run make setup")
    CloudflareApi.seen = []
    port = server(ThreadingHTTPServer(("127.0.0.1", 0), CloudflareApi))
    return {
        "CLOUDFLARE_API_TOKEN": API_TOKEN,
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "CLOUDFLARE_API_BASE_URL": f"http://127.0.0.1:{port}/client/v4",
        "PATH": str(ROOT / ".venv" / "node-shims") + ":/usr/bin:/bin",
        "HOME": "/tmp",
    }


def test_secret_names_equal_to_the_outputs_pass(api: dict[str, str]) -> None:
    CloudflareApi.names = ["MOLTBOT_GATEWAY_TOKEN", "BACKUP_PASSWORD"]
    detail, facts = verifier("https://x.example.com", env=api).check_secrets()
    assert detail == "2 secrets, the same names as workerSecretNames"
    assert facts["actual"] == ["BACKUP_PASSWORD", "MOLTBOT_GATEWAY_TOKEN"]
    path, authorization = CloudflareApi.seen[-1]
    assert path.endswith("/workers/scripts/openclaw-edge-dev/secrets")
    assert authorization == f"Bearer {API_TOKEN}"  # wrangler read it from the environment


def test_missing_and_undeclared_secret_names_are_named(api: dict[str, str]) -> None:
    CloudflareApi.names = ["MOLTBOT_GATEWAY_TOKEN", "LEFTOVER_TOKEN"]
    with pytest.raises(Failed) as failed:
        verifier("https://x.example.com", env=api).check_secrets()
    assert failed.value.what == (
        "missing on the Worker: BACKUP_PASSWORD; "
        "on the Worker but not declared by the stack: LEFTOVER_TOKEN"
    )
    assert "wrangler secret delete NAME --name openclaw-edge-dev" in failed.value.fix


def test_a_worker_that_does_not_exist_says_so(api: dict[str, str]) -> None:
    with pytest.raises(Failed) as failed:
        verifier("https://x.example.com", env=api, workerName="not-deployed").check_secrets()
    assert "wrangler secret list failed" in failed.value.what
    assert 'Worker "not-deployed" not found' in failed.value.what
    assert API_TOKEN not in failed.value.what


def test_without_cloudflare_credentials_the_secret_check_is_skipped() -> None:
    with pytest.raises(Skipped, match="CLOUDFLARE_API_TOKEN"):
        verifier("https://x.example.com").check_secrets()


# --- the CLI --------------------------------------------------------------------------------------


def test_unusable_outputs_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify.main(["--outputs", "-"], stdin=io.StringIO("[1]"), env={}) == 2
    assert verify.main(["--outputs", "-"], stdin=io.StringIO("{}"), env={}) == 2
    assert "no workerUrl" in capsys.readouterr().err


# --- evidence: what ops.phase_docs reads from a deployment's verify -------------------------------


def _deployed_run(failed: set[str] | None = None) -> dict[str, Any]:
    """A verify document whose check results are shaped as the checks record them."""
    check = verifier("https://moltworker.example.com")
    check.backend = "sandbox"
    tools = [
        {"name": n, "ok": True, "required": True, "version": "1.0", "output": f"{n} 1.0"}
        for n in ("gh", "ghq", "gwq", "mcp-grafana", "bb", "codex", "claude", "restic", "node")
    ]
    facts: dict[str, dict[str, Any]] = {
        "dns_tls": {
            "addresses": ["104.16.0.1"],
            "tls": {"version": "TLSv1.3", "issuer": "Google Trust Services", "notAfter": "x"},
        },
        "access": {"status": 302, "location": f"https://{TEAM}/cdn-cgi/access/login/m"},
        "service_token": {"environment": "dev", "backend": "sandbox"},
        "gateway": {"state": "running", "coldStartSeconds": 41.5},
        "versions": {},
        "channels": {"channels": [{"name": "discord", "configured": True, "connected": True}]},
        "backups": {"written": None},
        "tools": {"tools": tools},
        "worker_secrets": {"actual": ["BACKUP_PASSWORD", "MOLTBOT_GATEWAY_TOKEN"]},
    }
    for check_id, recorded in facts.items():
        bad = check_id in (failed or set())
        check.results.append(
            CheckResult(
                check_id,
                check_id,
                "failed" if bad else "ok",
                f"{check_id} broke" if bad else f"{check_id} fine",
                "fix" if bad else None,
                0.1,
                recorded,
            )
        )
    return check.evidence("2026-12-01T10:00:00+00:00")


def _judged(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sample = ROOT / "docs" / "project_docs" / "T-20260219-003" / "sample-outputs.json"
    manual = phase_docs.parse_manual(
        json.loads(json.dumps({"$schema": verify.SCHEMA, "$verify": {}, **doc})), "verify.json"
    )
    ev = phase_docs.Evidence(json.loads(sample.read_text()), manual=manual, repo_root=ROOT)
    items: dict[str, dict[str, Any]] = phase_docs.summary(ev)["items"]
    return items


def test_a_passing_verify_fills_the_items_it_proves() -> None:
    doc = _deployed_run()
    assert set(doc) == {"1-1", "1-3", "1-4", "1-6", "1-7", "2-1", "2-2", "2-5"}
    items = _judged(doc)
    for item in ("1-1", "1-3", "1-4", "1-6", "1-7", "2-1"):
        assert items[item]["verdict"] == "possible", item
        assert any("ops.verify against" in line for line in items[item]["evidence"]), item
    assert any("Google Trust Services" in line for line in items["1-4"]["evidence"])
    # Tool parity counts the plan's five tools.
    assert doc["2-1"]["details"]["tools"] == dict.fromkeys(verify.PLAN_TOOLS, True)
    # A connected bot and a cold start are facts, not the items' criteria: still unverified.
    assert items["2-2"]["verdict"] == "unverified"
    assert items["2-5"]["verdict"] == "unverified"
    assert items["0-7"]["verdict"] == "unverified"  # a deployment says nothing of a local run


def test_a_failed_live_check_turns_a_declared_item_unverified() -> None:
    items = _judged(_deployed_run(failed={"access", "tools"}))
    assert items["1-3"]["verdict"] == "unverified"
    assert "live check failed: access broke" in items["1-3"]["evidence"]
    assert items["1-4"]["verdict"] == "possible"
    assert items["2-1"]["verdict"] == "unverified"


def test_phase_1_done_criteria_read_the_live_checks_without_a_probe() -> None:
    sample = ROOT / "docs" / "project_docs" / "T-20260219-003" / "sample-outputs.json"
    manual = phase_docs.parse_manual(_deployed_run(), "verify.json")
    ev = phase_docs.Evidence(json.loads(sample.read_text()), manual=manual)
    text = phase_docs.render_phase(1, ev, {"stack outputs": "test"}, sample=False)
    assert "| reachable at the test hostname | met |" in text
    assert "| Cloudflare Access authentication works | met |" in text


# --- CDP: answers shaped as worker/src/routes/cdp.ts gives them ---------------------------------

CDP_SECRET = "cdp-secret-value-4a7e2c9b"


class WorkerCdp(ReplyHandler):
    """/cdp/json/version of the Worker: 401 without the secret, a ticket URL with it."""

    guarded = True

    def do_GET(self) -> None:
        if self.headers.get("X-CDP-Secret") != CDP_SECRET and type(self).guarded:
            self.send_json(401, {"error": "unauthorized", "reason": "missing or wrong CDP secret"})
            return
        host = self.headers.get("Host")
        self.send_json(
            200,
            {
                "Browser": "Cloudflare-Browser-Rendering",
                "webSocketDebuggerUrl": f"ws://{host}/cdp?ticket=1700000120.c2lnbmF0dXJl",
            },
        )


@pytest.fixture
def cdp(tmp_path: Path, server: Any) -> str:
    worker = server(ThreadingHTTPServer(("127.0.0.1", 0), WorkerCdp))
    issuer = access.AccessIssuer(access.load_or_create_key(tmp_path), TEAM, "aud")
    token = access.ServiceToken(CLIENT_ID, CLIENT_SECRET)
    handler = access.make_front_handler(issuer, token, f"http://127.0.0.1:{worker}")
    return f"http://127.0.0.1:{server(ThreadingHTTPServer(('127.0.0.1', 0), handler))}"


def _cdp_verifier(url: str, **env: str) -> Verifier:
    names = ["CDP_SECRET", "MOLTBOT_GATEWAY_TOKEN"]
    check = verifier(url, env=env, workerSecretNames=names)
    check.authorized = True
    return check


def test_cdp_answers_401_without_its_secret_and_a_ticket_with_it(cdp: str) -> None:
    WorkerCdp.guarded = True
    detail, facts = _cdp_verifier(cdp, CDP_SECRET=CDP_SECRET).check_cdp()
    assert facts == {"withoutSecret": 401, "withSecret": 200}
    assert detail == "without the secret 401; with it 200 (Cloudflare-Browser-Rendering)"


def test_cdp_open_without_its_secret_fails(cdp: str) -> None:
    WorkerCdp.guarded = False
    try:
        with pytest.raises(Failed, match="without the secret answered 200"):
            _cdp_verifier(cdp, CDP_SECRET=CDP_SECRET).check_cdp()
    finally:
        WorkerCdp.guarded = True


def test_cdp_is_skipped_unless_configured_and_its_secret_exported(cdp: str) -> None:
    with pytest.raises(Skipped, match="no CDP_SECRET in workerSecretNames"):
        verifier(cdp).check_cdp()
    with pytest.raises(Skipped, match="export CDP_SECRET"):
        _cdp_verifier(cdp).check_cdp()
