"""Latency probe against local HTTP + WebSocket servers that speak the gateway's protocol 4.

One file (about 550 lines): every test drives the same protocol-4 stand-in server defined here
(handshake, device signature, RPC replies), which is most of its length."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.client import connect

from bench import load
from ops import gateway_client
from ops import latency_probe as probe

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "probe-id"
CLIENT_SECRET = "probe-secret-value"
TOKEN = "gateway-token-value"


@dataclass
class FakeGateway:
    """HTTP /healthz + WebSocket gateway on 127.0.0.1 with a configurable delay."""

    delay: float = 0.0
    require_device: bool = False
    unavailable_requests: int = 0
    http_requests: int = 0
    connects: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _authorized(self, headers: Headers) -> bool:
        return (
            headers.get("CF-Access-Client-Id") == CLIENT_ID
            and headers.get("CF-Access-Client-Secret") == CLIENT_SECRET
        )

    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if not self._authorized(request.headers):
            return conn.respond(HTTPStatus.FORBIDDEN, "Access denied\n")
        await asyncio.sleep(self.delay)  # every metric, the WebSocket open included, is slower
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        self.http_requests += 1
        if self.unavailable_requests > 0:
            self.unavailable_requests -= 1
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "starting\n")
        return conn.respond(HTTPStatus.OK, '{"ok":true}\n')

    async def _handler(self, ws: ServerConnection) -> None:
        nonce = "nonce-123"
        ts = 1_737_264_000_000
        challenge = {"nonce": nonce, "ts": ts}
        await ws.send(
            json.dumps({"type": "event", "event": "connect.challenge", "payload": challenge})
        )
        frame = json.loads(await ws.recv())
        self.connects.append(frame)
        params = frame["params"]
        ok = frame["method"] == "connect" and params.get("auth", {}).get("token") == TOKEN
        ok = ok and params["minProtocol"] == 4 and params["client"]["id"] == "openclaw-probe"
        if self.require_device:
            ok = ok and _device_signature_valid(params, nonce, ts)
        if not ok:
            error = {"code": "INVALID_REQUEST", "message": "unauthorized",
                     "details": {"code": "AUTH_TOKEN_MISMATCH"}}  # fmt: skip
            await ws.send(
                json.dumps({"type": "res", "id": frame["id"], "ok": False, "error": error})
            )
            return
        await asyncio.sleep(self.delay)
        hello = {"type": "hello-ok", "protocol": 4, "server": {"version": "test", "connId": "c1"}}
        await ws.send(json.dumps({"type": "res", "id": frame["id"], "ok": True, "payload": hello}))
        async for message in ws:
            request = json.loads(message)
            await ws.send(json.dumps({"type": "event", "event": "tick", "payload": {}}))
            await asyncio.sleep(self.delay)
            if request["method"] == "health":
                await ws.send(json.dumps({"type": "res", "id": request["id"], "ok": True,
                                          "payload": {"ok": True}}))  # fmt: skip

    def start(self) -> None:
        ready = threading.Event()

        async def main() -> None:
            async with serve(
                self._handler, "127.0.0.1", 0, process_request=self._process_request
            ) as server:
                self._server = server
                self.port = next(iter(server.sockets)).getsockname()[1]
                ready.set()
                await server.serve_forever()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10), "fake gateway did not start"

    def stop(self) -> None:
        if self._loop and self._server:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread:
            self._thread.join(10)


def _device_signature_valid(params: dict[str, Any], nonce: str, ts: int) -> bool:
    device = params.get("device")
    if not device:
        return False
    raw = base64.urlsafe_b64decode(device["publicKey"] + "==")
    if device["id"] != hashlib.sha256(raw).hexdigest() or device["signedAt"] != ts:
        return False
    payload = "|".join(
        ["v3", device["id"], params["client"]["id"], params["client"]["mode"], params["role"],
         ",".join(params["scopes"]), str(ts), params["auth"]["token"], nonce,
         params["client"]["platform"].lower(), ""]
    )  # fmt: skip
    signature = base64.urlsafe_b64decode(device["signature"] + "==")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, payload.encode())
    except Exception:
        return False
    return True


@pytest.fixture
def gateways() -> Iterator[tuple[FakeGateway, FakeGateway]]:
    fast, slow = FakeGateway(delay=0.0), FakeGateway(delay=0.06)
    fast.start()
    slow.start()
    try:
        yield fast, slow
    finally:
        fast.stop()
        slow.stop()


ENV = {
    "CF_ACCESS_CLIENT_ID": CLIENT_ID,
    "CF_ACCESS_CLIENT_SECRET": CLIENT_SECRET,
    "OPENCLAW_GATEWAY_TOKEN": TOKEN,
}


def _endpoints(a: FakeGateway, b: FakeGateway, env: dict[str, str] = ENV) -> tuple[Any, Any]:
    return (
        probe.Endpoint("a", "kubernetes", a.url, probe.Credentials.from_env("A", env)),
        probe.Endpoint("b", "edge", b.url, probe.Credentials.from_env("B", env)),
    )


@pytest.mark.parametrize(
    ("ratios", "status"),
    [
        ({"httpP50": 1.4, "wsHealthP50": 1.9}, "within"),
        ({"httpP50": 1.4, "wsHealthP50": 2.5}, "over"),
        ({"httpP50": 3.0, "wsHealthP50": None}, "stop"),
        ({"httpP50": None, "wsHealthP50": None}, "unverified"),
        ({"httpP95": 9.0, "httpP50": 1.0}, "within"),  # only p50 ratios decide
    ],
)
def test_verdict_follows_the_plan_thresholds(ratios: dict[str, float | None], status: str) -> None:
    assert probe.verdict(ratios)["status"] == status


def test_probe_measures_both_endpoints_and_the_ratio(
    gateways: tuple[FakeGateway, FakeGateway],
) -> None:
    fast, slow = gateways
    a, b = _endpoints(fast, slow)
    doc = probe.run_probe(a, b, probe.ProbeSettings(requests=6, ws_samples=3, timeout=5))

    assert doc["schema"] == probe.SCHEMA
    assert fast.http_requests == 6  # the unauthenticated access check is refused before counting
    assert slow.http_requests == 6
    for key in ("a", "b"):
        endpoint = doc["endpoints"][key]
        assert endpoint["http"]["samples"] == 6, endpoint
        assert endpoint["http"]["statuses"] == {"200": 6}
        assert endpoint["ws"]["health"]["samples"] == 3, endpoint["ws"]["errors"]
        assert endpoint["ws"]["errors"] == []
        assert endpoint["coldStart"] is None
        assert endpoint["accessCheck"] == {"status": 403, "enforced": True, "error": None}
    edge = doc["endpoints"]["b"]
    assert edge["http"]["p50"] >= 60
    assert edge["ws"]["health"]["p50"] >= 60
    assert doc["ratios"]["httpP50"] > 2
    assert doc["verdict"]["status"] in {"over", "stop"}
    assert doc["criterion"] == {"maxRatio": 2.0, "stopRatio": 3.0, "baseline": "a"}
    # Connect frames follow protocol 4 and carry the token only inside the frame.
    frame = slow.connects[0]
    assert frame["params"]["minProtocol"] == 4
    assert frame["params"]["scopes"] == ["operator.read"]


def test_equal_endpoints_are_within_the_criterion(
    gateways: tuple[FakeGateway, FakeGateway],
) -> None:
    _, slow = gateways
    other = FakeGateway(delay=0.06)
    other.start()
    try:
        a, b = _endpoints(slow, other)
        doc = probe.run_probe(a, b, probe.ProbeSettings(requests=4, ws_samples=2, timeout=5))
    finally:
        other.stop()
    assert doc["verdict"]["status"] == "within", doc["ratios"]


def test_missing_access_credentials_are_reported_as_errors(
    gateways: tuple[FakeGateway, FakeGateway],
) -> None:
    fast, slow = gateways
    env = {**ENV, "PROBE_B_ACCESS_CLIENT_SECRET": "wrong"}
    a, b = _endpoints(fast, slow, env)
    doc = probe.run_probe(a, b, probe.ProbeSettings(requests=2, ws_samples=1, timeout=5))
    edge = doc["endpoints"]["b"]
    assert edge["http"]["samples"] == 0
    assert edge["http"]["statuses"] == {"403": 2}
    assert edge["ws"]["health"]["samples"] == 0
    assert edge["ws"]["errors"]
    assert doc["verdict"]["status"] == "unverified"
    text = json.dumps(doc)
    assert "wrong" not in text
    assert CLIENT_SECRET not in text
    assert TOKEN not in text


def test_rejected_connect_is_an_error_not_a_sample(
    gateways: tuple[FakeGateway, FakeGateway],
) -> None:
    fast, slow = gateways
    env = {**ENV, "PROBE_B_GATEWAY_TOKEN": "not-the-token"}
    a, b = _endpoints(fast, slow, env)
    doc = probe.run_probe(a, b, probe.ProbeSettings(requests=1, ws_samples=2, timeout=5))
    errors = doc["endpoints"]["b"]["ws"]["errors"]
    assert len(errors) == 2
    assert "AUTH_TOKEN_MISMATCH" in errors[0]
    assert doc["endpoints"]["b"]["ws"]["health"]["samples"] == 0
    assert "not-the-token" not in json.dumps(doc)


def test_device_identity_signs_the_challenge(tmp_path: Path) -> None:
    gateway = FakeGateway(require_device=True)
    gateway.start()
    try:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        device = probe.DeviceIdentity(pem)
        a, b = _endpoints(gateway, gateway)
        settings = probe.ProbeSettings(requests=1, ws_samples=1, timeout=5)
        unsigned = probe.run_probe(a, b, settings)
        signed = probe.run_probe(a, b, settings, device=device)
    finally:
        gateway.stop()
    assert unsigned["endpoints"]["b"]["ws"]["health"]["samples"] == 0
    assert signed["endpoints"]["b"]["ws"]["health"]["samples"] == 1, signed["endpoints"]["b"]
    assert signed["settings"]["deviceIdentity"] is True


def test_cold_start_waits_then_retries_until_healthy() -> None:
    gateway = FakeGateway(unavailable_requests=3)
    gateway.start()
    slept: list[float] = []
    try:
        a, b = _endpoints(gateway, gateway)
        settings = probe.ProbeSettings(
            requests=1, ws_samples=0, timeout=5, cold_start_wait=900, cold_start_timeout=10
        )
        doc = probe.run_probe(a, b, settings, sleep=slept.append)
    finally:
        gateway.stop()
    assert slept[0] == 900  # one idle wait before the first cold-start request
    cold = doc["endpoints"]["b"]["coldStart"]
    assert cold["attempts"] == 4
    assert cold["ms"] is not None
    assert cold["error"] is None
    assert doc["endpoints"]["a"]["coldStart"]["attempts"] == 1


def test_cold_start_stops_at_an_authentication_failure() -> None:
    gateway = FakeGateway()
    gateway.start()
    try:
        a, b = _endpoints(gateway, gateway, {**ENV, "PROBE_B_ACCESS_CLIENT_ID": "nobody"})
        settings = probe.ProbeSettings(
            requests=1, ws_samples=0, timeout=5, cold_start_wait=0, cold_start_timeout=60
        )
        doc = probe.run_probe(a, b, settings, sleep=lambda _: None)
    finally:
        gateway.stop()
    cold = doc["endpoints"]["b"]["coldStart"]
    assert cold == {"waitedSeconds": 0, "ms": None, "attempts": 1, "error": "HTTP 403"}


@pytest.mark.parametrize(
    "settings",
    [
        probe.ProbeSettings(requests=0),
        probe.ProbeSettings(requests=probe.MAX_REQUESTS + 1),
        probe.ProbeSettings(ws_samples=probe.MAX_WS_SAMPLES + 1),
        probe.ProbeSettings(cold_start_wait=-1),
        probe.ProbeSettings(http_path="healthz"),
    ],
)
def test_unbounded_plans_are_refused(settings: probe.ProbeSettings) -> None:
    with pytest.raises(probe.ProbeError):
        settings.validate()


def test_cli_prints_table_writes_json_and_exits_by_verdict(
    gateways: tuple[FakeGateway, FakeGateway],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fast, slow = gateways
    out = tmp_path / "probe.json"
    argv = ["--a", fast.url, "--b", slow.url, "--requests", "3", "--ws-samples", "1",
            "--timeout", "5", "--out", str(out)]  # fmt: skip
    status = probe.main(argv, env=ENV)
    printed = capsys.readouterr().out
    assert status in {1, 2}  # slow B is more than 2x the fast A
    assert "ratio B/A" in printed
    assert "p50" in printed
    assert CLIENT_SECRET not in printed
    doc = json.loads(out.read_text())
    assert doc["endpoints"]["a"]["label"] == "kubernetes"


def test_cli_rejects_non_http_urls(capsys: pytest.CaptureFixture[str]) -> None:
    assert probe.main(["--a", "ftp://x", "--b", "http://127.0.0.1:1"], env={}) == probe.USAGE_ERROR
    assert "http(s)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--a", "http://127.0.0.1:1"],  # --b missing: argparse alone would exit 2 = "stop"
        ["--a", "http://127.0.0.1:1", "--b", "http://127.0.0.1:1", "--requests", "many"],
        ["--a", "http://127.0.0.1:1", "--b", "http://127.0.0.1:1", "--requests", "0"],
        ["--a", "http://127.0.0.1:1", "--b", "http://127.0.0.1:1", "--device-key", "/nonexistent"],
    ],
)
def test_usage_errors_have_their_own_exit_status(argv: list[str]) -> None:
    try:
        status = probe.main(argv, env={})
    except SystemExit as stop:
        status = int(stop.code or 0)
    assert status == probe.USAGE_ERROR == 64
    assert status not in probe.EXIT_STATUS.values()


def test_a_bad_device_key_and_an_unwritable_out_stop_before_measuring(
    gateways: tuple[FakeGateway, FakeGateway],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fast, slow = gateways
    base = ["--a", fast.url, "--b", slow.url, "--requests", "1", "--ws-samples", "0"]
    (tmp_path / "not-a-key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    (tmp_path / "a-file").write_text("")
    for extra in (
        ["--device-key", str(tmp_path / "not-a-key.pem")],
        ["--out", str(tmp_path / "a-file" / "probe.json")],
    ):
        assert probe.main([*base, *extra], env=ENV) == probe.USAGE_ERROR
    assert "--out " in capsys.readouterr().err
    assert fast.http_requests == slow.http_requests == 0


def test_text_summary_shows_the_unauthenticated_access_check(
    gateways: tuple[FakeGateway, FakeGateway], capsys: pytest.CaptureFixture[str]
) -> None:
    fast, slow = gateways
    argv = ["--a", fast.url, "--b", slow.url, "--requests", "1", "--ws-samples", "0"]
    probe.main(argv, env=ENV)
    printed = capsys.readouterr().out
    assert (
        "access check, no credentials, kubernetes: HTTP 403, refused (Access enforced)" in printed
    )
    assert "access check, no credentials, edge: HTTP 403, refused (Access enforced)" in printed


def test_an_unprotected_endpoint_and_a_refused_token_are_spelled_out(
    gateways: tuple[FakeGateway, FakeGateway],
) -> None:
    a, b = _endpoints(*gateways)
    doc = probe.run_probe(a, b, probe.ProbeSettings(requests=1, ws_samples=0, timeout=5))
    doc["endpoints"]["b"]["accessCheck"] = {"status": 200, "enforced": False, "error": None}
    doc["endpoints"]["b"]["http"]["statuses"] = {"401": 1}
    report = probe.format_report(doc)
    assert "edge: HTTP 200, NOT refused: Access does not protect this endpoint" in report
    assert "edge: every request was 401: the Access service token was not accepted" in report
    assert "`make dev` has no Access in front of the Worker" in report


def test_probe_timings_use_the_injected_clock() -> None:
    ticks = iter([0.0, 0.5])
    result = probe.HttpResult()
    # A closed port answers immediately with an error; no latency sample is recorded.
    probe.measure_http("http://127.0.0.1:9/", {}, 1, result, lambda: next(ticks))
    assert result.latencies_ms == []
    assert result.errors


OPENCLAW = ROOT / ".venv" / "openclaw" / "node_modules" / ".bin" / "openclaw"
NODE_SHIMS = ROOT / ".venv" / "node-shims"


@pytest.fixture(scope="module")
def real_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The pinned OpenClaw gateway on loopback (about a minute to start, ~1 GB)."""
    if not OPENCLAW.exists():
        pytest.skip("OpenClaw is not installed (make setup runs scripts/install-openclaw)")
    home = tmp_path_factory.mktemp("openclaw-home")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{NODE_SHIMS}{os.pathsep}{os.environ.get('PATH', '')}",
        "OPENCLAW_GATEWAY_TOKEN": TOKEN,
    }
    log = (home / "gateway.log").open("w")
    proc = subprocess.Popen(
        [str(OPENCLAW), "gateway", "--port", str(port), "--bind", "loopback",
         "--allow-unconfigured"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (home / "gateway.log").read_text()[-2000:]
            try:
                if probe.http_get(f"{url}/readyz", {}, 2) == 200:
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            pytest.fail("gateway did not become healthy within 180 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


@pytest.mark.slow
def test_real_gateway_answers_the_handshake_and_health(real_gateway: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "device.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    env = {"OPENCLAW_GATEWAY_TOKEN": TOKEN}
    out = tmp_path / "probe.json"
    argv = ["--a", real_gateway, "--b", real_gateway, "--requests", "3", "--ws-samples", "2",
            "--timeout", "30", "--device-key", str(pem), "--out", str(out)]  # fmt: skip
    probe.main(argv, env=env)
    doc = json.loads(out.read_text())
    for key_ in ("a", "b"):
        endpoint = doc["endpoints"][key_]
        assert endpoint["ws"]["errors"] == [], endpoint["ws"]["errors"]
        assert endpoint["ws"]["health"]["samples"] == 2
        assert endpoint["http"]["statuses"] == {"200": 3}
        # No Cloudflare Access in front of a bare gateway: the check says so.
        assert endpoint["accessCheck"]["enforced"] is False
    assert TOKEN not in out.read_text()


@pytest.mark.slow
def test_real_gateway_rejects_a_bad_device_signature(real_gateway: str) -> None:
    key = Ed25519PrivateKey.generate()
    device = probe.DeviceIdentity(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    ws_url = probe.ws_url(real_gateway, "/")
    results: dict[bool, dict[str, Any]] = {}
    for corrupt in (False, True):
        with connect(ws_url, proxy=None, compression=None, open_timeout=30) as ws:
            challenge = json.loads(ws.recv(timeout=30))
            frame = gateway_client.connect_frame(
                probe.CLIENT, "c1", challenge["payload"], TOKEN, device
            )
            if corrupt:
                signature = frame["params"]["device"]["signature"]
                frame["params"]["device"]["signature"] = (
                    "B" if signature[0] == "A" else "A"
                ) + signature[1:]
            ws.send(json.dumps(frame))
            results[corrupt] = gateway_client.await_response(ws, "c1", 30)
    assert results[False]["ok"] is True
    assert results[False]["payload"]["auth"]["scopes"] == ["operator.read"]
    assert results[True]["ok"] is False
    assert results[True]["error"]["details"]["code"] == "DEVICE_AUTH_SIGNATURE_INVALID"


@pytest.mark.slow
def test_benchmarks_speak_the_same_client_to_the_real_gateway(real_gateway: str) -> None:
    """bench.load's RPC loop goes through ops.gateway_client too, as a backend client with no
    scopes and an Origin header (as `make bench` sends it)."""
    stats = load.rpc_round_trips(
        gateway_client.ws_url(real_gateway, "/"),
        headers={"Origin": real_gateway},
        token=TOKEN,
        connects=2,
        round_trips=5,
    )
    assert stats.round_trip.errors == 0, stats.note
    assert (stats.connect.count, stats.round_trip.count) == (2, 5)
    with pytest.raises(gateway_client.ConnectRejected, match="connect rejected"):
        load.rpc_round_trips(
            gateway_client.ws_url(real_gateway, "/"), token="wrong", connects=1, round_trips=1
        )
