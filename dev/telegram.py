"""Telegram stand-in: the Bot API that OpenClaw's bundled Telegram plugin calls when its
`channels.telegram.apiRoot` points here, plus a small test API that plays the human users.

The plugin builds `<apiRoot>/bot<token>/<method>` (OpenClaw 2026.9.6 `dist/probe-*.mjs`, region
`extensions/telegram/src/probe.ts`; the root is normalised in `dist/fetch-*.mjs`,
`normalizeTelegramApiRoot`) and reads updates by long polling `getUpdates` (`dist/monitor-polling
.runtime-*.mjs`). Semantics follow the Telegram Bot API documentation (https://core.telegram.org
/bots/api): every answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N,
"description": "..."}`; `getUpdates` confirms every update below `offset`, waits up to `timeout`
seconds for new ones and answers 409 "Conflict: terminated by other getUpdates request" to a poll
that a newer one replaced; a wrong token is 401 "Unauthorized"; unknown methods are 404 "Not
Found". Each call is recorded in a JSONL file with the token cut out of the path.

Run alone: `TELEGRAM_FAKE_BOT_TOKEN=... python -m dev.telegram --port 8797 --record calls.jsonl`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dev.common import ReplyHandler, run_chat_fake

TOKEN_ENV = "TELEGRAM_FAKE_BOT_TOKEN"  # noqa: S105 - a variable name
BOT_USERNAME = "openclaw_edge_fake_bot"
GROUP_CHAT_ID = -1001490000000100
MAX_POLL_SECONDS = 50  # Telegram caps long polling at 50 s
_BOT_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)$")


def error(code: int, description: str) -> tuple[int, dict[str, Any]]:
    return code, {"ok": False, "error_code": code, "description": description}


def ok(result: object) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


class FakeTelegram:
    """Updates waiting for the bot, chats, what the bot sent, and the call recording."""

    def __init__(self, token: str, record: Path | None) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.record_path = record
        self.lock = threading.Condition()
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 100_000_001
        self.next_message_id = 1
        self.poll_generation = 0
        self.polls = 0
        self.webhook_url = ""
        self.commands: list[dict[str, Any]] = []
        self.bot_messages: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []

    @property
    def bot_user(self) -> dict[str, Any]:
        """getMe's User (Bot API "User": is_bot, first_name, username, can_join_groups ...)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "openclaw-edge fake bot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def record(self, entry: dict[str, Any]) -> None:
        if self.record_path is None:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with self.lock, self.record_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"at": stamp, **entry}) + "\n")

    def add_user_message(
        self, user_id: int, text: str, *, group: bool, mention: bool
    ) -> dict[str, Any]:
        """Queue a human's message as an Update (Bot API "Update" with a "message")."""
        sender = {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User {user_id % 10000}",
            "username": f"user{user_id}",
            "language_code": "en",
        }
        if group:
            chat: dict[str, Any] = {
                "id": GROUP_CHAT_ID,
                "type": "supergroup",
                "title": "openclaw-edge test group",
            }
        else:
            chat = {
                "id": user_id,
                "type": "private",
                "first_name": sender["first_name"],
                "username": sender["username"],
            }
        body = f"@{BOT_USERNAME} {text}" if mention else text
        with self.lock:
            message = {
                "message_id": self.next_message_id,
                "from": sender,
                "chat": chat,
                "date": int(time.time()),
                "text": body,
            }
            if mention:
                message["entities"] = [
                    {"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}
                ]
            self.next_message_id += 1
            update = {"update_id": self.next_update_id, "message": message}
            self.next_update_id += 1
            self.updates.append(update)
            self.lock.notify_all()
        return {"update_id": update["update_id"], "chat_id": chat["id"]}

    def get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Long polling: confirm updates below `offset`, wait up to `timeout` s for more."""
        if self.webhook_url:
            return error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, min(float(params.get("timeout") or 0), MAX_POLL_SECONDS))
        deadline = time.monotonic() + timeout
        with self.lock:
            self.poll_generation += 1
            generation = self.poll_generation
            self.polls += 1
            self.lock.notify_all()  # a newer poll ends the older one with 409
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                if generation != self.poll_generation:
                    return error(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                if self.updates:
                    return ok(self.updates[:limit])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return ok([])
                self.lock.wait(remaining)

    def send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """sendMessage: text 1-4096 characters to a chat the bot knows."""
        text = str(params.get("text") or "")
        if not text.strip():
            return error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return error(400, "Bad Request: message is too long")
        chat_id = params.get("chat_id")
        try:
            numeric_chat = int(str(chat_id))
        except ValueError:
            return error(400, "Bad Request: chat not found")
        with self.lock:
            message = {
                "message_id": self.next_message_id,
                "from": self.bot_user,
                "chat": {"id": numeric_chat, "type": "private" if numeric_chat > 0 else "group"},
                "date": int(time.time()),
                "text": text,
            }
            self.next_message_id += 1
            self.bot_messages.append({**message, "params": params})
        return ok(message)


Method = Callable[[FakeTelegram, dict[str, Any]], tuple[int, dict[str, Any]]]


def _true(_fake: FakeTelegram, _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return ok(True)


def _set_commands(fake: FakeTelegram, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    commands = params.get("commands")
    if isinstance(commands, str):
        commands = json.loads(commands)
    fake.commands = commands if isinstance(commands, list) else []
    return ok(True)


def _set_webhook(fake: FakeTelegram, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    fake.webhook_url = str(params.get("url") or "")
    return ok(True)


def _delete_webhook(fake: FakeTelegram, _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    fake.webhook_url = ""
    return ok(True)


def _webhook_info(fake: FakeTelegram, _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return ok({"url": fake.webhook_url, "has_custom_certificate": False, "pending_update_count": 0})


def _chat_action(fake: FakeTelegram, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with fake.lock:
        fake.chat_actions.append(params)
    return ok(True)


METHODS: dict[str, Method] = {
    "getMe": lambda fake, _params: ok(fake.bot_user),
    "getUpdates": FakeTelegram.get_updates,
    "sendMessage": FakeTelegram.send_message,
    "sendChatAction": _chat_action,
    "setMyCommands": _set_commands,
    "getMyCommands": lambda fake, _params: ok(fake.commands),
    "deleteMyCommands": _true,
    "setWebhook": _set_webhook,
    "deleteWebhook": _delete_webhook,
    "getWebhookInfo": _webhook_info,
    "setMessageReaction": _true,
    "setMyDescription": _true,
    "setMyShortDescription": _true,
}


class Handler(ReplyHandler):
    server_version = "openclaw-edge-telegram-fake"
    fake: FakeTelegram

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds /bot<token>/...: never let the token reach the log.
        text = format % args
        super().log_message("%s", text.replace(self.fake.token, "<token>"))

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def params(self, query: str) -> dict[str, Any]:
        values: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        raw = self.read_body()
        kind = self.headers.get("Content-Type", "")
        if raw and "json" in kind:
            parsed = json.loads(raw)
            if isinstance(parsed, dict):
                values.update(parsed)
        elif raw and "x-www-form-urlencoded" in kind:
            values.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        return values

    def handle_any(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/healthz":
            self.send_json(200, {"ok": True})
            return
        if parts.path.startswith("/_fake/"):
            self.control(parts.path, parts.query)
            return
        match = _BOT_PATH.match(parts.path)
        params = self.params(parts.query)
        fake = self.fake
        if match is None:
            status, reply = error(404, "Not Found")
            method, auth = parts.path, "none"
        else:
            method = match.group(2)
            auth = "ok" if match.group(1) == fake.token else "bad"
            if auth != "ok":
                status, reply = error(401, "Unauthorized")
            elif method not in METHODS:
                status, reply = error(404, "Not Found")
            else:
                status, reply = METHODS[method](fake, params)
        fake.record(
            {"method": method, "auth": auth, "params": params, "status": status, "reply": reply}
        )
        self.send_json(status, reply)

    def control(self, path: str, query: str) -> None:
        fake = self.fake
        body = self.params(query)
        if path == "/_fake/state":
            with fake.lock:
                state = {"polls": fake.polls, "pending": len(fake.updates)}
                self.send_json(200, {**state, "webhook": fake.webhook_url})
            return
        if path == "/_fake/bot-messages":
            with fake.lock:
                self.send_json(200, {"messages": list(fake.bot_messages)})
            return
        match = re.fullmatch(r"/_fake/users/(\d+)/message", path)
        if match and self.command == "POST":
            result = fake.add_user_message(
                int(match.group(1)),
                str(body.get("text") or ""),
                group=bool(body.get("group")),
                mention=bool(body.get("mention")),
            )
            self.send_json(200, result)
            return
        self.send_json(404, {"error": f"no test route {self.command} {path}"})


def make_server(port: int, token: str, record: Path | None) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"fake": FakeTelegram(token, record)})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def main(argv: list[str] | None = None) -> int:
    return run_chat_fake(
        argv, name="telegram", doc=__doc__, port=8797, token_env=TOKEN_ENV, make_server=make_server
    )


if __name__ == "__main__":
    raise SystemExit(main())
