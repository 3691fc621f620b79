"""Chat channels end to end: the real boot code, the real gateway and the real channel plugins
(@openclaw/discord from npm, OpenClaw's bundled Telegram) against the Discord and Telegram fakes
(dev/discord.py, dev/telegram.py) and the LLM stand-in.

Absence ("no answer") is never waited for with a clock: after the message that must stay
unanswered, an allowlisted user's message goes the same way, and once that one is answered the
fake's recording shows the bot had received the first one too (it looked up its channel).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, expect

from dev.access import COOKIE_NAME
from dev.common import call_json
from dev.discord import GUILD_CHANNEL_ID
from dev.stack import CHAT_USERS, ROOT, Stack
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

T = TypeVar("T")
SLOW_S = 240  # a model turn through a cold gateway on 2 busy cores
QUESTION, ANSWER = "847293 + 651824", "1499117"


def _request(url: str, body: object | None = None, headers: dict[str, str] | None = None) -> Any:
    status, answer = call_json(url, body, headers)
    assert status == 200, f"{url} answered HTTP {status}: {answer}"
    return answer


def _eventually(probe: Callable[[], T | None], what: str, timeout: float = SLOW_S) -> T:
    """Polls until `probe` returns something; the timeout only bounds a hung run."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(1)


def _control_status(stack: Stack) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {stack.secrets.gateway_token}"}
    result: dict[str, Any] = _request(stack.config.url("control", "/status"), headers=headers)
    return result


def _wait_connected(stack: Stack) -> dict[str, Any]:
    def connected() -> dict[str, Any] | None:
        channels = _control_status(stack).get("channels") or {}
        states = {name: (channels.get(name) or {}).get("state") for name in ("discord", "telegram")}
        return channels if set(states.values()) == {"connected"} else None

    return _eventually(connected, "Discord and Telegram to report connected")


def _llm_users(stack: Stack) -> list[str]:
    log = stack.config.logs_dir / "llm-requests.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [str(json.loads(line).get("user", "")) for line in lines]


def _calls(stack: Stack, name: str) -> list[dict[str, Any]]:
    log = stack.config.logs_dir / f"{name}-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# --- Discord ------------------------------------------------------------------------------


def _discord(stack: Stack, path: str, body: object | None = None) -> Any:
    return _request(stack.config.url("discord", path), body)


def _discord_say(stack: Stack, user: str, content: str, **where: bool) -> dict[str, Any]:
    kind = "guild-message" if where.get("guild") else "dm"
    body = {"content": content, "mention": where.get("mention", False)}
    sent: dict[str, Any] = _discord(stack, f"/_fake/users/{user}/{kind}", body)
    assert sent["delivered"] == 1, "the bot has a gateway session that receives it"
    return sent


def _discord_replies(stack: Stack, channel_id: str) -> list[str]:
    messages = _discord(stack, f"/_fake/bot-messages?channel_id={channel_id}")["messages"]
    return [str(m["content"]) for m in messages]


def _containing(read: Callable[[], list[str]], answer: str) -> Callable[[], list[str] | None]:
    def probe() -> list[str] | None:
        replies = read()
        return replies if answer in replies else None

    return probe


def _discord_answer(stack: Stack, channel_id: str, answer: str) -> list[str]:
    return _eventually(
        _containing(lambda: _discord_replies(stack, channel_id), answer),
        f"the bot's {answer!r} in Discord channel {channel_id}",
    )


def _discord_saw_channel(stack: Stack, channel_id: str) -> bool:
    return any(
        c.get("kind") == "rest" and c.get("path") == f"/api/v10/channels/{channel_id}"
        for c in _calls(stack, "discord")
    )


def test_channels_report_installed_enabled_and_connected(stack: Stack) -> None:
    channels = _wait_connected(stack)
    version = (ROOT / ".venv/openclaw/.version").read_text().split()[0]
    discord = channels["discord"]
    assert discord["plugin"] == {
        "package": "@openclaw/discord",
        "installed": True,
        "version": version,
    }
    assert discord["enabled"] is True
    assert discord["bot"] == "openclaw-edge-fake-bot"
    assert channels["telegram"]["plugin"]["installed"] is True
    assert channels["slack"]["state"] == "not_configured"
    assert "SLACK_BOT_TOKEN" in channels["slack"]["reason"]
    # The Worker shows the same, behind Access.
    access = {"Cf-Access-Jwt-Assertion": stack.access_token()}
    shown = _request(stack.config.url("worker", "/api/status"), headers=access)
    assert shown["channels"]["discord"]["state"] == "connected"
    assert shown["channels"]["slack"]["state"] == "not_configured"
    # What the plugin asked of Discord: identified with the token, then went online.
    identify = [c for c in _calls(stack, "discord") if c.get("op") == 2]
    assert identify
    assert identify[-1]["d"]["token"] == "<matched>"
    assert identify[-1]["d"]["intents"] & (1 << 12), "asks for direct messages"


def test_admin_page_shows_each_channel(browser: Browser, stack: Stack) -> None:
    _wait_connected(stack)
    context = browser.new_context()
    try:
        worker = stack.config.url("worker")
        context.add_cookies([{"name": COOKIE_NAME, "value": stack.access_token(), "url": worker}])
        page = context.new_page()
        page.goto(stack.config.url("worker", "/_admin/"))
        discord = page.locator("#channel-rows tr[data-channel=discord]")
        expect(discord).to_contain_text("connected", timeout=SLOW_S * 1000)
        expect(discord).to_contain_text("@openclaw/discord")
        expect(page.locator("#channel-rows tr[data-channel=telegram]")).to_contain_text("connected")
        slack = page.locator("#channel-rows tr[data-channel=slack]")
        expect(slack).to_contain_text("not configured")
        expect(slack).to_contain_text("SLACK_BOT_TOKEN")
        screenshot(page, "20-admin-channels")
    finally:
        context.close()


def test_discord_dm_from_allowlisted_user_is_answered(stack: Stack) -> None:
    _wait_connected(stack)
    sent = _discord_say(stack, CHAT_USERS.discord_allowed, QUESTION)
    assert _discord_answer(stack, sent["channel_id"], ANSWER).count(ANSWER) == 1
    assert any(QUESTION in user for user in _llm_users(stack))


def test_discord_dm_from_stranger_gets_nothing_and_never_reaches_the_llm(stack: Stack) -> None:
    _wait_connected(stack)
    stranger = _discord_say(stack, CHAT_USERS.discord_stranger, "31337 + 1")
    barrier = _discord_say(stack, CHAT_USERS.discord_allowed, "20000 + 22")
    _discord_answer(stack, barrier["channel_id"], "20022")
    _eventually(
        lambda: True if _discord_saw_channel(stack, stranger["channel_id"]) else None,
        "the bot to receive the stranger's DM",
    )
    assert _discord_replies(stack, stranger["channel_id"]) == []
    assert not any("31337" in user for user in _llm_users(stack))


def test_discord_guild_mention_behaves_as_configured(stack: Stack) -> None:
    """DISCORD_GUILD_IDS lists the fake guild: mentions from allowlisted users are answered;
    an unmentioned message and a stranger's mention are not."""
    _wait_connected(stack)
    before = len(_discord_replies(stack, GUILD_CHANNEL_ID))
    _discord_say(stack, CHAT_USERS.discord_allowed, "111 + 222", guild=True)
    _discord_say(stack, CHAT_USERS.discord_stranger, "4000 + 44", guild=True, mention=True)
    _discord_say(stack, CHAT_USERS.discord_allowed, "1234 + 4321", guild=True, mention=True)
    replies = _discord_answer(stack, GUILD_CHANNEL_ID, "5555")
    assert replies[before:] == ["5555"]
    users = _llm_users(stack)
    assert not any("111 + 222" in user or "4000 + 44" in user for user in users)


# --- Telegram -----------------------------------------------------------------------------


def _telegram_say(stack: Stack, user: str, text: str) -> dict[str, Any]:
    url = stack.config.url("telegram", f"/_fake/users/{user}/message")
    sent: dict[str, Any] = _request(url, {"text": text})
    return sent


def _telegram_replies(stack: Stack, chat_id: int) -> list[str]:
    messages = _request(stack.config.url("telegram", "/_fake/bot-messages"))["messages"]
    return [str(m["text"]) for m in messages if m["chat"]["id"] == chat_id]


def _telegram_answer(stack: Stack, chat_id: int, answer: str) -> list[str]:
    return _eventually(
        _containing(lambda: _telegram_replies(stack, chat_id), answer),
        f"the bot's {answer!r} in Telegram chat {chat_id}",
    )


def test_telegram_allow_from_is_answered_and_stranger_ignored(stack: Stack) -> None:
    _wait_connected(stack)
    stranger = _telegram_say(stack, CHAT_USERS.telegram_stranger, "31337 + 2")
    allowed = _telegram_say(stack, CHAT_USERS.telegram_allowed, QUESTION)
    assert _telegram_answer(stack, allowed["chat_id"], ANSWER).count(ANSWER) == 1
    # getUpdates with an offset past the stranger's update confirms the bot received it.
    polls = [c for c in _calls(stack, "telegram") if c["method"] == "getUpdates"]
    assert any(int(c["params"].get("offset") or 0) > stranger["update_id"] for c in polls)
    assert _telegram_replies(stack, stranger["chat_id"]) == []
    assert not any("31337" in user for user in _llm_users(stack))


# --- second run: the container restarts with its disk wiped --------------------------------


def test_restart_with_wiped_state_answers_again(stack: Stack) -> None:
    _wait_connected(stack)
    warmup = _telegram_say(stack, CHAT_USERS.telegram_allowed, "40 + 2")
    _telegram_answer(stack, warmup["chat_id"], "42")

    stack.stop(["boot"])  # SIGTERM: the boot code takes its final snapshot
    stack.wipe_gateway_state()
    stack.start(["boot"])
    restore = _control_status(stack)["restore"]
    assert restore["state"] == "ok", restore
    _wait_connected(stack)

    sent = _discord_say(stack, CHAT_USERS.discord_allowed, "2026 + 1")
    _discord_answer(stack, sent["channel_id"], "2027")
    again = _telegram_say(stack, CHAT_USERS.telegram_allowed, "2026 + 2")
    replies = _telegram_answer(stack, again["chat_id"], "2028")
    # The restored update offset: nothing answered before the restart is answered twice.
    assert replies.count("42") == 1


# --- secrets ------------------------------------------------------------------------------


def _process_argv() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


def test_no_bot_token_in_logs_argv_debug_or_r2(stack: Stack) -> None:
    _wait_connected(stack)
    tokens = {
        "Discord bot token": stack.secrets.discord_bot_token,
        "Telegram bot token": stack.secrets.telegram_bot_token,
        "gateway token": stack.secrets.gateway_token,
    }
    places: dict[str, str] = {}
    for log in sorted(stack.config.logs_dir.glob("*")):
        places[f"log {log.name}"] = log.read_text(errors="replace")
    # OpenClaw's own file log (shared by every gateway on this machine: only ours has these).
    for log in sorted(Path(os.environ.get("TMPDIR", "/tmp"), "openclaw").glob("*.log")):
        places[f"OpenClaw log {log}"] = log.read_text(errors="replace")
    places["argv of every process"] = "\n".join(_process_argv())
    access = {"Cf-Access-Jwt-Assertion": stack.access_token()}
    for path in ("/debug/version", "/debug/env", "/debug/processes", "/debug/container-config"):
        # (501 on the origin backend for some: the answer must still hold no secret)
        status, answer = call_json(stack.config.url("worker", path), headers=access)
        assert status in (200, 501), f"{path}: HTTP {status}"
        places[path] = json.dumps(answer)
    places["/api/status"] = json.dumps(
        _request(stack.config.url("worker", "/api/status"), headers=access)
    )
    places["control /status"] = json.dumps(_control_status(stack))
    r2 = stack.config.state_dir / "r2"
    objects = [item for item in r2.rglob("*") if item.is_file()]
    assert objects, "the bucket mirror holds the snapshots and the schedule"
    for item in objects:
        places[f"R2 object {item.relative_to(r2)}"] = item.read_bytes().decode(errors="replace")
    config = (stack.config.home / ".openclaw" / "openclaw.json").read_text()
    assert "${DISCORD_BOT_TOKEN}" in config
    assert "${TELEGRAM_BOT_TOKEN}" in config
    places["openclaw.json"] = config
    for where, text in places.items():
        for name, value in tokens.items():
            assert value not in text, f"the {name} appears in {where}"
