"""Per-channel state from the gateway's channels.status, the loopback RPC client, and the next
due cron job published to the bucket for the Worker's watchdog."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from openclaw_boot import channels, r2object
from openclaw_boot.gateway_rpc import GatewayRpc, RpcError
from openclaw_boot.settings import Settings, load
from openclaw_boot.status import Status

from dev.common import ReplyHandler
from dev.wsframes import Closed, ServerSocket, is_upgrade

from .conftest import ROOT, SECRETS, base_env

TOKEN = SECRETS["OPENCLAW_GATEWAY_TOKEN"]
PLUGINS = str(ROOT / ".venv" / "openclaw" / "plugins" / "npm")

# The shape OpenClaw 2026.9.6 answers channels.status with (trimmed from a real gateway run
# against dev/discord.py and dev/telegram.py).
CHANNELS_STATUS: dict[str, Any] = {
    "channels": {
        "discord": {"configured": True, "running": True, "lastError": None},
        "telegram": {"configured": True, "running": True, "lastError": None, "mode": "polling"},
    },
    "channelAccounts": {
        "discord": [
            {
                "accountId": "default",
                "enabled": True,
                "connected": True,
                "lifecycle": "ready",
                "lastConnectedAt": 1796195579201,
                "lastInboundAt": None,
                "bot": {"id": "1490000000000000001", "username": "openclaw-edge-fake-bot"},
                "lastError": None,
            }
        ],
        "telegram": [
            {
                "accountId": "default",
                "enabled": True,
                "connected": False,
                "lifecycle": "backoff",
                "lastError": "getUpdates answered 401: Unauthorized",
            }
        ],
    },
    "statusIssues": [
        {
            "channel": "discord",
            "kind": "config",
            "message": 'Discord guild messages are blocked: effective groupPolicy is "allowlist", '
            "but no guilds are configured.",
        }
    ],
}


def settings_with(home: Path, **extra: str) -> Settings:
    return load({**base_env(home), "OPENCLAW_EDGE_PLUGIN_DIR": PLUGINS, **extra})


def test_each_channel_gets_a_state_and_a_reason(home: Path) -> None:
    settings = settings_with(
        home,
        DISCORD_BOT_TOKEN=SECRETS["DISCORD_BOT_TOKEN"],
        TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
        SLACK_BOT_TOKEN=SECRETS["SLACK_BOT_TOKEN"],
    )
    result = channels.summarize(settings, CHANNELS_STATUS)
    discord, telegram, slack = result["discord"], result["telegram"], result["slack"]
    assert discord["state"] == "connected"
    assert discord["reason"] is None
    assert discord["bot"] == "openclaw-edge-fake-bot"
    assert discord["last_connected_at"] == "2026-12-02T07:12:59Z"
    assert discord["plugin"]["package"] == "@openclaw/discord"
    assert discord["plugin"]["installed"]
    assert discord["issues"] == [CHANNELS_STATUS["statusIssues"][0]["message"]]
    assert telegram["state"] == "error"
    assert telegram["reason"] == "getUpdates answered 401: Unauthorized"
    assert slack == {
        "state": "not_configured",
        "reason": "SLACK_APP_TOKEN not set (socket mode needs both tokens)",
        "plugin": slack["plugin"],
    }
    assert json.dumps(result).count(SECRETS["DISCORD_BOT_TOKEN"]) == 0


def test_configured_channel_the_gateway_did_not_load_is_an_error(
    home: Path, tmp_path: Path
) -> None:
    no_plugins = load(
        {
            **base_env(home),
            "OPENCLAW_EDGE_PLUGIN_DIR": str(tmp_path),
            "DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"],
        }
    )
    result = channels.summarize(no_plugins, {"channels": {}, "channelAccounts": {}})
    assert result["discord"]["state"] == "error"
    assert result["discord"]["reason"] == "plugin @openclaw/discord is not installed"
    assert result["telegram"]["state"] == "not_configured"


def test_gateway_not_answering_is_unknown_for_configured_channels(home: Path) -> None:
    settings = settings_with(home, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"])
    result = channels.summarize(settings, None, "gateway not reachable on 127.0.0.1:1")
    assert result["telegram"]["state"] == "unknown"
    assert result["telegram"]["reason"] == "gateway not reachable on 127.0.0.1:1"
    assert result["discord"]["state"] == "not_configured"


# --- the RPC client against a gateway double speaking protocol 4 -----------------------------


class FakeGateway:
    """connect.challenge → connect (token checked) → res frames, as the real gateway does."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(ReplyHandler):
            def do_GET(self) -> None:
                if not is_upgrade(self):
                    self.send_json(404, {})
                    return
                socket = ServerSocket(self)
                socket.send_json({"type": "event", "event": "connect.challenge", "payload": {}})
                try:
                    while True:
                        frame = socket.receive_json()
                        assert isinstance(frame, dict)
                        fake.requests.append(frame)
                        socket.send_json(fake.answer(frame))
                except Closed:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
        method, params = frame["method"], frame.get("params") or {}
        if method == "connect":
            ok = params.get("auth", {}).get("token") == TOKEN
            error = {"message": "unauthorized: gateway token mismatch"}
            return {"type": "res", "id": frame["id"], "ok": ok, **({} if ok else {"error": error})}
        return {"type": "res", "id": frame["id"], "ok": True, "payload": self.answers[method]}


@pytest.fixture
def gateway() -> Iterator[Callable[[dict[str, Any]], FakeGateway]]:
    made: list[FakeGateway] = []

    def make(answers: dict[str, Any]) -> FakeGateway:
        made.append(FakeGateway(answers))
        return made[-1]

    yield make
    for fake in made:
        fake.server.shutdown()


Gateways = Callable[[dict[str, Any]], FakeGateway]


def test_rpc_client_connects_as_a_loopback_backend_and_calls(gateway: Gateways) -> None:
    fake = gateway({"cron.status": {"enabled": True, "nextWakeAtMs": 1}})
    with GatewayRpc(fake.port, TOKEN) as rpc:
        assert rpc.call("cron.status") == {"enabled": True, "nextWakeAtMs": 1}
    connect = fake.requests[0]
    assert connect["method"] == "connect"
    assert connect["params"]["client"]["mode"] == "backend"
    assert connect["params"]["minProtocol"] == connect["params"]["maxProtocol"] == 4
    assert connect["params"]["scopes"] == ["operator.read"]


def test_rpc_client_reports_a_refused_token_without_it(gateway: Gateways) -> None:
    fake = gateway({})
    with pytest.raises(RpcError, match="gateway refused connect: unauthorized") as refused:
        GatewayRpc(fake.port, "wrong-token-value").__enter__()
    assert "wrong-token-value" not in str(refused.value)


def test_rpc_client_names_an_unreachable_gateway() -> None:
    with pytest.raises(RpcError, match=r"not reachable on 127\.0\.0\.1:9\b"):
        GatewayRpc(9, TOKEN, timeout=2).__enter__()


# --- the monitor: status sections and the published schedule -----------------------------


def test_poll_records_channels_and_publishes_the_next_due_job(
    gateway: Gateways, home: Path, backup_env: dict[str, str]
) -> None:
    fake = gateway(
        {
            "channels.status": CHANNELS_STATUS,
            "cron.status": {"enabled": True, "jobs": 3, "nextWakeAtMs": 1796196597360},
        }
    )
    env = {
        **backup_env,
        "OPENCLAW_GATEWAY_PORT": str(fake.port),
        "OPENCLAW_EDGE_PLUGIN_DIR": PLUGINS,
        "DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"],
    }
    settings = load(env)
    status = Status(home / "status.json", fresh=True)
    monitor = channels.ChannelMonitor(settings, status)
    monitor.poll()
    assert status.section("channels")["discord"]["state"] == "connected"
    cron = status.section("cron")
    assert cron["next_run_at"] == "2026-12-02T07:29:57Z"
    assert cron["jobs"] == 3
    assert cron["publish_error"] is None
    s3 = boto3.client(
        "s3",
        endpoint_url=env["R2_ENDPOINT"],
        aws_access_key_id=env["R2_ACCESS_KEY_ID"],
        aws_secret_access_key=env["R2_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    body = s3.get_object(Bucket=env["R2_BUCKET_NAME"], Key=channels.SCHEDULE_KEY)["Body"].read()
    published = json.loads(body)
    assert published["next_run_at"] == "2026-12-02T07:29:57Z"
    assert published["enabled"] is True
    for value in SECRETS.values():
        assert value.encode() not in body
    # Unchanged schedule: not written again.
    s3.delete_object(Bucket=env["R2_BUCKET_NAME"], Key=channels.SCHEDULE_KEY)
    monitor.poll()
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=env["R2_BUCKET_NAME"], Key=channels.SCHEDULE_KEY)


def test_put_failure_is_reported_without_credentials(backup_env: dict[str, str]) -> None:
    env = {**backup_env, "R2_ENDPOINT": "http://127.0.0.1:9"}
    with pytest.raises(r2object.PutError) as failed:
        r2object.put_json(env, "openclaw-edge-status/x.json", {"a": 1}, timeout=2)
    for name in ("R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"):
        assert env[name] not in str(failed.value)
