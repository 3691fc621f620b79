"""The Discord and Telegram fakes behave as the real services document (error bodies, gateway
handshake, long polling), record what the bot sends, and never record or log its token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dev import discord, telegram
from dev.common import call_json
from dev.stack import discord_token, telegram_token

DISCORD_TOKEN = discord_token()
TELEGRAM_TOKEN = telegram_token()
ALLOWED = "1490000000000000500"


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_call = call_json


@pytest.fixture
def discord_url(tmp_path: Path) -> Iterator[str]:
    yield from _serve(discord.make_server(0, DISCORD_TOKEN, tmp_path / "discord.jsonl"))


@pytest.fixture
def telegram_url(tmp_path: Path) -> Iterator[str]:
    yield from _serve(telegram.make_server(0, TELEGRAM_TOKEN, tmp_path / "telegram.jsonl"))


BOT = {"Authorization": f"Bot {DISCORD_TOKEN}"}


# --- Discord --------------------------------------------------------------------------------


def test_discord_rest_answers_like_discord(discord_url: str, tmp_path: Path) -> None:
    api = discord_url + "/api/v10"
    assert _call(api + "/users/@me", headers={"Authorization": "Bot wrong"}) == (
        401,
        {"message": "401: Unauthorized", "code": 0},
    )
    assert _call(api + "/no/such/route", headers=BOT) == (
        404,
        {"message": "404: Not Found", "code": 0},
    )
    status, gateway = _call(api + "/gateway/bot", headers=BOT)
    assert status == 200
    assert gateway["url"] == discord_url.replace("http", "ws")
    assert gateway["session_start_limit"]["max_concurrency"] == 1
    assert _call(api + "/channels/1", {"content": "x"}, BOT)[0] == 404
    empty = _call(api + f"/channels/{discord.GUILD_CHANNEL_ID}/messages", {"content": ""}, BOT)
    assert empty == (400, {"message": "Cannot send an empty message", "code": 50006})
    recording = (tmp_path / "discord.jsonl").read_text()
    assert DISCORD_TOKEN not in recording
    assert '"auth": "bad"' in recording
    assert '"path": "/api/v10/no/such/route"' in recording


def test_discord_gateway_handshake_and_message_dispatch(discord_url: str, tmp_path: Path) -> None:
    ws_url = discord_url.replace("http", "ws") + "/?v=10&encoding=json"
    with connect(ws_url) as bad:
        assert json.loads(bad.recv())["op"] == discord.OP_HELLO
        bad.send(json.dumps({"op": 2, "d": {"token": "wrong", "intents": 0}}))
        with pytest.raises(ConnectionClosed) as closed:
            bad.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == discord.CLOSE_AUTHENTICATION_FAILED

    intents = discord.INTENT_GUILDS | discord.INTENT_DIRECT_MESSAGES | discord.INTENT_GUILD_MESSAGES
    with connect(ws_url) as bot:
        hello = json.loads(bot.recv())
        assert hello["d"]["heartbeat_interval"] == discord.HEARTBEAT_INTERVAL_MS
        bot.send(json.dumps({"op": 2, "d": {"token": DISCORD_TOKEN, "intents": intents}}))
        ready = json.loads(bot.recv())
        assert (ready["t"], ready["s"], ready["d"]["user"]["id"]) == (
            "READY",
            1,
            discord.BOT_USER_ID,
        )
        assert json.loads(bot.recv())["t"] == "GUILD_CREATE"
        bot.send(json.dumps({"op": 1, "d": 2}))
        assert json.loads(bot.recv()) == {"op": discord.OP_HEARTBEAT_ACK}

        sent = _call(f"{discord_url}/_fake/users/{ALLOWED}/dm", {"content": "2 + 2"})[1]
        assert sent["delivered"] == 1
        event = json.loads(bot.recv())
        assert event["t"] == "MESSAGE_CREATE"
        assert event["d"]["content"] == "2 + 2"
        assert event["d"]["author"]["id"] == ALLOWED
        assert "guild_id" not in event["d"]

        # Without MESSAGE_CONTENT, an unmentioned guild message arrives blank; a mention keeps it.
        _call(f"{discord_url}/_fake/users/{ALLOWED}/guild-message", {"content": "hi"})
        assert json.loads(bot.recv())["d"]["content"] == ""
        _call(f"{discord_url}/_fake/users/{ALLOWED}/guild-message", {"content": "hi", "mention": 1})
        mention = json.loads(bot.recv())["d"]
        assert mention["content"] == f"<@{discord.BOT_USER_ID}> hi"
        assert mention["guild_id"] == discord.GUILD_ID

        api = discord_url + "/api/v10"
        reply = _call(f"{api}/channels/{sent['channel_id']}/messages", {"content": "4"}, BOT)
        assert reply[0] == 200
        assert reply[1]["author"]["id"] == discord.BOT_USER_ID
    listed = _call(f"{discord_url}/_fake/bot-messages?channel_id={sent['channel_id']}")[1]
    assert [m["content"] for m in listed["messages"]] == ["4"]
    recording = (tmp_path / "discord.jsonl").read_text()
    assert DISCORD_TOKEN not in recording
    assert '"token": "<matched>"' in recording
    assert '"token": "<wrong>"' in recording


# --- Telegram -------------------------------------------------------------------------------


def test_telegram_answers_like_the_bot_api(telegram_url: str, tmp_path: Path) -> None:
    bot = f"{telegram_url}/bot{TELEGRAM_TOKEN}"
    status, me = _call(bot + "/getMe")
    assert status == 200
    assert me["result"]["is_bot"] is True
    assert _call(f"{telegram_url}/bot123:wrong/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert _call(bot + "/noSuchMethod")[1]["description"] == "Not Found"
    empty = _call(bot + "/sendMessage", {"chat_id": 5, "text": " "})
    assert empty == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    assert _call(bot + "/setWebhook", {"url": "https://x"})[1]["ok"] is True
    conflict = _call(bot + "/getUpdates", {"timeout": 0})
    assert conflict[0] == 409
    assert "webhook is active" in conflict[1]["description"]
    assert _call(bot + "/deleteWebhook", {})[1]["result"] is True
    recording = (tmp_path / "telegram.jsonl").read_text()
    assert TELEGRAM_TOKEN not in recording


def _polls_reach(url: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while _call(url + "/_fake/state")[1]["polls"] < count:
        assert time.monotonic() < deadline, "the poll never reached the fake"
        time.sleep(0.05)


def test_telegram_long_polling_confirms_with_offset_and_ends_a_replaced_poll(
    telegram_url: str,
) -> None:
    bot = f"{telegram_url}/bot{TELEGRAM_TOKEN}"
    results: dict[str, Any] = {}

    def poll(name: str, timeout: int) -> None:
        results[name] = _call(bot + "/getUpdates", {"timeout": timeout})

    waiting = threading.Thread(target=poll, args=("first", 30))
    waiting.start()
    _polls_reach(telegram_url, 1)
    _call(f"{telegram_url}/_fake/users/7200000501/message", {"text": "2 + 2"})
    waiting.join(timeout=30)
    status, body = results["first"]
    assert status == 200
    (update,) = body["result"]
    assert update["message"]["text"] == "2 + 2"
    assert update["message"]["chat"] == {
        "id": 7200000501,
        "type": "private",
        "first_name": "User 501",
        "username": "user7200000501",
    }
    # Not confirmed yet: delivered again; confirmed by the next offset: gone.
    again = _call(bot + "/getUpdates", {"timeout": 0})[1]["result"]
    assert [u["update_id"] for u in again] == [update["update_id"]]
    assert _call(bot + "/getUpdates", {"offset": update["update_id"] + 1})[1]["result"] == []

    older = threading.Thread(target=poll, args=("older", 30))
    older.start()
    _polls_reach(telegram_url, 4)
    poll("newer", 0)
    older.join(timeout=30)
    assert results["older"][0] == 409
    assert "terminated by other getUpdates request" in results["older"][1]["description"]
    assert results["newer"] == (200, {"ok": True, "result": []})


def test_telegram_request_log_never_shows_the_token(tmp_path: Path, capsys: Any) -> None:
    server = telegram.make_server(0, TELEGRAM_TOKEN, None)
    for url in _serve(server):
        _call(f"{url}/bot{TELEGRAM_TOKEN}/getMe")
    logged = capsys.readouterr().err
    assert "/bot<token>/getMe" in logged
    assert TELEGRAM_TOKEN not in logged
