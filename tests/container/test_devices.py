"""The control API's `POST /devices/approve`: the Worker's own admin device approved from inside
the container over the gateway's loopback RPC. Against the protocol-4 gateway double of
test_channels.py (connect.challenge → connect with the token checked → res frames), and once
against the real OpenClaw gateway under the real `boot.py run`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from openclaw_boot import devices
from openclaw_boot.control import ControlApp, serve
from openclaw_boot.settings import Settings, load
from openclaw_boot.status import Status
from websockets.sync.client import connect

from ops.gateway_client import DeviceIdentity, connect_frame
from ops.latency_probe.measure import CLIENT as PROBE_CLIENT

from .conftest import BOOT, SECRETS, base_env, free_port
from .test_channels import FakeGateway
from .test_supervisor import kill_tree, wait_ready

TOKEN = SECRETS["OPENCLAW_GATEWAY_TOKEN"]


class PairingGateway(FakeGateway):
    """The double plus a pairing store: `device.pair.approve` of an unknown id is refused with
    OpenClaw's INVALID_REQUEST "unknown requestId" (dist/devices-*.mjs `device.pair.approve`)."""

    def __init__(self, pending: set[str]) -> None:
        super().__init__({})
        self.pending = pending
        self.approved: list[str] = []

    def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
        if frame["method"] != "device.pair.approve":
            return super().answer(frame)
        request_id = (frame.get("params") or {}).get("requestId")
        if request_id not in self.pending:
            error = {"code": "INVALID_REQUEST", "message": "unknown requestId"}
            return {"type": "res", "id": frame["id"], "ok": False, "error": error}
        self.pending.discard(request_id)
        self.approved.append(request_id)
        payload = {"requestId": request_id, "device": {"deviceId": "dev-worker"}}
        return {"type": "res", "id": frame["id"], "ok": True, "payload": payload}


@pytest.fixture
def pairing() -> Iterator[PairingGateway]:
    fake = PairingGateway({"req-worker-1"})
    yield fake
    fake.server.shutdown()


def settings_for(home: Path, gateway_port: int, token: str = TOKEN) -> Settings:
    env = {**base_env(home), "OPENCLAW_GATEWAY_TOKEN": token}
    return load({**env, "OPENCLAW_GATEWAY_PORT": str(gateway_port)})


def test_approves_as_a_loopback_backend_client_with_the_pairing_scopes(
    pairing: PairingGateway, home: Path
) -> None:
    assert devices.approve(settings_for(home, pairing.port), "req-worker-1") == {
        "ok": True,
        "request_id": "req-worker-1",
    }
    assert pairing.approved == ["req-worker-1"]
    connect, call = pairing.requests
    params = connect["params"]
    # What the in-container script of the Worker sent (and `openclaw devices approve` asks for).
    assert params["client"]["mode"] == "backend"
    assert params["role"] == "operator"
    assert params["scopes"] == ["operator.admin", "operator.pairing"]
    assert params["auth"] == {"token": TOKEN}
    assert "device" not in params
    assert call["method"] == "device.pair.approve"
    assert call["params"] == {"requestId": "req-worker-1"}


def test_a_refused_approval_says_what_the_gateway_said(pairing: PairingGateway, home: Path) -> None:
    answer = devices.approve(settings_for(home, pairing.port), "req-gone")
    assert answer == {
        "ok": False,
        "request_id": "req-gone",
        "error": "gateway refused device.pair.approve: unknown requestId",
    }
    assert pairing.approved == []


def test_a_wrong_token_is_refused_without_echoing_it(pairing: PairingGateway, home: Path) -> None:
    answer = devices.approve(settings_for(home, pairing.port, "stale-token-4c1d"), "req-worker-1")
    assert answer["ok"] is False
    assert "gateway refused connect: unauthorized" in answer["error"]
    assert "stale-token-4c1d" not in json.dumps(answer)
    assert pairing.approved == []


def test_an_unreachable_gateway_is_named(home: Path) -> None:
    answer = devices.approve(settings_for(home, 9), "req-worker-1")
    assert answer["ok"] is False
    assert "not reachable on 127.0.0.1:9" in answer["error"]


@pytest.mark.parametrize(
    "body",
    [{}, {"request_id": ""}, {"request_id": "../x"}, {"request_id": 7}, {"requestId": "req-1"}],
)
def test_the_body_must_name_a_request_id(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=re.escape('body must be {"request_id": "<id>"}')):
        devices.request_id_of(body)


def post(url: str, body: Any, token: str = TOKEN) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_control_route_answers_200_400_500_and_needs_the_token(
    pairing: PairingGateway, home: Path
) -> None:
    settings = settings_for(home, pairing.port)
    app = ControlApp(
        token=TOKEN,
        status=dict,
        snapshot=dict,
        snapshots=dict,
        restore=lambda _id: {},
        restart=dict,
        ready=dict,
    )
    app.routes.update(devices.control_routes(settings, Status(home / "status.json", fresh=True)))
    server = serve(app, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/devices/approve"
    try:
        assert post(url, {"request_id": "req-worker-1"}, token="wrong")[0] == 401
        assert pairing.approved == []
        assert post(url, {"request_id": "req-worker-1"}) == (
            200,
            {"ok": True, "request_id": "req-worker-1"},
        )
        code, refused = post(url, {"request_id": "req-worker-1"})
        assert code == 500
        assert refused["error"] == "gateway refused device.pair.approve: unknown requestId"
        code, invalid = post(url, {"request_id": "no spaces"})
        assert code == 400
        assert invalid["error"].startswith('body must be {"request_id": "<id>"}')
    finally:
        server.shutdown()
        server.server_close()
    assert pairing.approved == ["req-worker-1"]


# --- against the real OpenClaw gateway, through the real `boot.py run` --------------------------


def remote_connect(port: int, device: DeviceIdentity) -> dict[str, Any]:
    """A device's `connect` as a remote client (a trusted proxy on loopback names 203.0.113.10,
    as dev/edge.py does): the answer frame."""
    headers = {"X-Forwarded-For": "203.0.113.10"}
    with connect(f"ws://127.0.0.1:{port}/", additional_headers=headers, open_timeout=30) as ws:
        challenge = json.loads(ws.recv(timeout=30))
        assert challenge["event"] == "connect.challenge"
        ws.send(json.dumps(connect_frame(PROBE_CLIENT, "c1", challenge["payload"], TOKEN, device)))
        while True:
            frame = json.loads(ws.recv(timeout=30))
            if frame.get("type") == "res" and frame.get("id") == "c1":
                answer: dict[str, Any] = frame
                return answer


@pytest.mark.slow
def test_the_real_gateway_pairs_a_remote_device_approved_through_the_control_api(
    backup_env: dict[str, str], home: Path, tmp_path: Path, openclaw_bin: Path, restic_bin: str
) -> None:
    gateway_port, control_port = free_port(), free_port()
    env = {
        **backup_env,
        "ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"],
        "OPENCLAW_GATEWAY_PORT": str(gateway_port),
        "OPENCLAW_EDGE_CONTROL_PORT": str(control_port),
        "OPENCLAW_EDGE_CONTROL_BIND": "127.0.0.1",
        "BACKUP_INTERVAL_SECONDS": "3600",
    }
    key = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    device = DeviceIdentity(key)
    with (tmp_path / "boot.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(BOOT), "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_ready(gateway_port, proc)
            refused = remote_connect(gateway_port, device)
            assert refused["ok"] is False, refused
            details = refused["error"]["details"]
            assert details["code"] == "PAIRING_REQUIRED"
            request_id = details["requestId"]
            url = f"http://127.0.0.1:{control_port}/devices/approve"
            assert post(url, {"request_id": request_id}) == (
                200,
                {"ok": True, "request_id": request_id},
            )
            accepted = remote_connect(gateway_port, device)
            assert accepted["ok"] is True, accepted
            code, again = post(url, {"request_id": request_id})
            assert code == 500
            assert again["error"].startswith("gateway refused device.pair.approve:")
        finally:
            kill_tree(proc)
    assert TOKEN not in (tmp_path / "boot.log").read_text(errors="replace")
