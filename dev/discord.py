"""Discord stand-in: the REST API and gateway WebSocket that the real `@openclaw/discord` plugin
talks to when `DISCORD_API_URL` points here, plus a small test API that plays the human users.

The plugin (2026.9.6, `dist/.setup/channel-type-*.mjs`, region `extensions/discord/src/
endpoint-runtime.ts`) derives everything from `DISCORD_API_URL=http://127.0.0.1:<port>/api/v10`:
REST calls go below that path, gateway discovery is `<base>/gateway/bot`, and the WebSocket it
then opens must be on the same origin (`ws://127.0.0.1:<port>`; plain HTTP/WS only on loopback).
What each route answers follows Discord's API v10 documentation and the plugin's parsing code,
cited next to each route. Every request the bot makes and every gateway frame it sends is
recorded (with the token replaced by whether it matched) in a JSONL file, so the tests check
what the bot really sent. Unknown routes answer like Discord does: 404 `{"message": "404: Not
Found", "code": 0}`, and are recorded too, so a new call the plugin starts making shows up.

Run alone: `DISCORD_FAKE_BOT_TOKEN=... python -m dev.discord --port 8796 --record calls.jsonl`
(the token is read from the environment, never from argv).

One module on purpose (about 700 lines): it is one fake, the state (`FakeDiscord`) and the routes
(`Handler`) of one API, best read in one piece against Discord's API v10 and the plugin code
cited per route; the shared HTTP plumbing is in `dev.common`, the WebSocket framing in
`dev.wsframes`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dev.common import ReplyHandler, run_chat_fake
from dev.wsframes import Closed, ServerSocket, is_upgrade

API_PREFIX = "/api/v10"
TOKEN_ENV = "DISCORD_FAKE_BOT_TOKEN"  # noqa: S105 - a variable name
# Snowflakes of the fake world (Discord ids are 64-bit integers written as strings).
BOT_USER_ID = "1490000000000000001"
APPLICATION_ID = BOT_USER_ID  # a bot's application id equals its user id (Discord docs, OAuth2)
GUILD_ID = "1490000000000000100"
GUILD_CHANNEL_ID = "1490000000000000101"
GUILD_NAME = "openclaw-edge test guild"
BOT_USERNAME = "openclaw-edge-fake-bot"
# Gateway opcodes and intents (Discord docs, "Gateway" / "Opcodes and Status Codes").
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_RESUME = 0, 1, 2, 3, 6
OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 7, 8, 9, 10, 11
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
CLOSE_AUTHENTICATION_FAILED = 4004  # "Authentication failed." (fatal for the plugin)
HEARTBEAT_INTERVAL_MS = 41_250
CHANNEL_TYPE_GUILD_TEXT, CHANNEL_TYPE_DM = 0, 1

NOT_FOUND = {"message": "404: Not Found", "code": 0}
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
UNKNOWN_CHANNEL = {"message": "Unknown Channel", "code": 10003}
UNKNOWN_MESSAGE = {"message": "Unknown Message", "code": 10008}
UNKNOWN_USER = {"message": "Unknown User", "code": 10013}
CANNOT_SEND_EMPTY = {"message": "Cannot send an empty message", "code": 50006}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def user_object(user_id: str, username: str, *, bot: bool = False) -> dict[str, Any]:
    """A Discord user object (API v10 "User Object"); usernames are unique, discriminator "0"."""
    return {
        "id": user_id,
        "username": username,
        "global_name": username,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


@dataclass
class Channel:
    id: str
    type: int
    guild_id: str | None = None
    name: str | None = None
    recipient: dict[str, Any] | None = None
    last_message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Channel object: guild text channels carry guild_id/name, DMs their recipient."""
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "last_message_id": self.last_message_id,
            "flags": 0,
        }
        if self.type == CHANNEL_TYPE_DM:
            body["recipients"] = [self.recipient] if self.recipient else []
        else:
            body |= {
                "guild_id": self.guild_id,
                "name": self.name,
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "rate_limit_per_user": 0,
            }
        return body


@dataclass
class GatewaySession:
    """One bot connection; `dispatch` numbers events with the session's sequence."""

    socket: ServerSocket
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    intents: int = 0
    identified: bool = False
    sequence: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def dispatch(self, event: str, data: object) -> None:
        with self.lock:
            self.sequence += 1
            payload = {"op": OP_DISPATCH, "t": event, "s": self.sequence, "d": data}
        self.socket.send_json(payload)


class FakeDiscord:
    """The fake Discord's state: users, channels, messages, gateway sessions, the recording."""

    def __init__(self, token: str, record: Path | None, origin: str) -> None:
        self.token = token
        self.origin = origin.rstrip("/")
        self.record_path = record
        self.lock = threading.RLock()
        self._ids = itertools.count(int(time.time() * 1000) << 22)
        self.bot = user_object(BOT_USER_ID, BOT_USERNAME, bot=True)
        self.users: dict[str, dict[str, Any]] = {}
        general = Channel(GUILD_CHANNEL_ID, CHANNEL_TYPE_GUILD_TEXT, GUILD_ID, "general")
        self.channels: dict[str, Channel] = {GUILD_CHANNEL_ID: general}
        self.messages: dict[str, dict[str, Any]] = {}
        self.bot_messages: list[dict[str, Any]] = []
        self.sessions: list[GatewaySession] = []
        self.identify_count = 0

    # -- ids, users, recording --------------------------------------------------------------

    def snowflake(self) -> str:
        return str(next(self._ids))

    def user(self, user_id: str) -> dict[str, Any]:
        with self.lock:
            if user_id not in self.users:
                self.users[user_id] = user_object(user_id, f"user{user_id[-4:]}")
            return self.users[user_id]

    def record(self, entry: dict[str, Any]) -> None:
        if self.record_path is None:
            return
        line = json.dumps({"at": now_iso(), **entry}) + "\n"
        with self.lock, self.record_path.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def auth_state(self, header: str | None) -> str:
        """Whether `Authorization: Bot <token>` matched, for the recording (never the value)."""
        if not header:
            return "missing"
        return "ok" if header == f"Bot {self.token}" else "bad"

    # -- the world seen by the gateway ------------------------------------------------------

    def guild_object(self) -> dict[str, Any]:
        """GUILD_CREATE payload (Gateway "Guild Create": a guild object plus extra fields)."""
        everyone_role = {
            "id": GUILD_ID,
            "name": "@everyone",
            "permissions": str((1 << 10) | (1 << 11) | (1 << 16)),  # view, send, read history
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
        }
        return {
            "id": GUILD_ID,
            "name": GUILD_NAME,
            "icon": None,
            "owner_id": "1490000000000000999",
            "roles": [everyone_role],
            "emojis": [],
            "features": [],
            "member_count": 2,
            "joined_at": now_iso(),
            "large": False,
            "unavailable": False,
            "channels": [
                channel.to_json()
                for channel in self.channels.values()
                if channel.type == CHANNEL_TYPE_GUILD_TEXT
            ],
            "threads": [],
            "members": [{"user": self.bot, "roles": [], "joined_at": now_iso(), "nick": None}],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        }

    def ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        """READY (Gateway "Ready Event"); the plugin keeps session_id and resume_gateway_url
        (provider-*.mjs, region extensions/discord/src/internal/gateway.ts, handleDispatch)."""
        return {
            "v": 10,
            "user": self.bot,
            "guilds": [{"id": GUILD_ID, "unavailable": True}],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url(),
            "application": {"id": APPLICATION_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    def gateway_url(self) -> str:
        return self.origin.replace("http://", "ws://", 1)

    def dispatch_message(self, message: dict[str, Any], needed_intent: int) -> int:
        """Sends MESSAGE_CREATE to every identified session whose intents ask for it."""
        delivered = 0
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            if not session.identified or not session.intents & needed_intent:
                continue
            payload = dict(message)
            # Without the privileged MESSAGE_CONTENT intent Discord blanks guild message content
            # unless the bot is mentioned (Discord docs, "Message Content Intent"); DMs keep it.
            mentioned = any(user["id"] == BOT_USER_ID for user in message.get("mentions", []))
            content_intent = session.intents & INTENT_MESSAGE_CONTENT
            if message.get("guild_id") and not mentioned and not content_intent:
                payload["content"] = ""
            try:
                session.dispatch("MESSAGE_CREATE", payload)
                delivered += 1
            except Closed:
                continue
        return delivered

    def user_message(
        self, user_id: str, content: str, *, guild: bool, mention: bool = False
    ) -> dict[str, Any]:
        """A human's message: a DM (creating the DM channel) or a guild channel message."""
        author = self.user(user_id)
        with self.lock:
            channel = self.channels[GUILD_CHANNEL_ID] if guild else self.dm_channel(user_id)
            message_id = self.snowflake()
            channel.last_message_id = message_id
        mentions = [self.bot] if mention else []
        text = f"<@{BOT_USER_ID}> {content}" if mention else content
        message: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel.id,
            "author": author,
            "content": text,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "nonce": self.snowflake(),
        }
        if guild:
            message["guild_id"] = GUILD_ID
            message["member"] = {"roles": [], "joined_at": now_iso(), "nick": None, "deaf": False}
        with self.lock:
            self.messages[message_id] = message
        intent = INTENT_GUILD_MESSAGES if guild else INTENT_DIRECT_MESSAGES
        delivered = self.dispatch_message(message, intent)
        return {"message_id": message_id, "channel_id": channel.id, "delivered": delivered}

    def dm_channel(self, user_id: str) -> Channel:
        with self.lock:
            for channel in self.channels.values():
                recipient = channel.recipient or {}
                if channel.type == CHANNEL_TYPE_DM and recipient.get("id") == user_id:
                    return channel
            channel = Channel(self.snowflake(), CHANNEL_TYPE_DM, recipient=self.user(user_id))
            self.channels[channel.id] = channel
            return channel

    def bot_message(self, channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
        """What Discord returns for the bot's own message (Channel "Create Message")."""
        with self.lock:
            message_id = self.snowflake()
            channel.last_message_id = message_id
        message: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel.id,
            "author": self.bot,
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": int(body.get("flags") or 0),
        }
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        if channel.guild_id:
            message["guild_id"] = channel.guild_id
        with self.lock:
            self.messages[message_id] = message
            self.bot_messages.append(message)
        return message


Route = Callable[["Handler", re.Match[str], dict[str, Any]], tuple[int, object]]


class Handler(ReplyHandler):
    server_version = "openclaw-edge-discord-fake"
    fake: FakeDiscord  # set on the subclass the server uses

    def read_body(self) -> bytes:
        """The request body, also when undici sends it chunked (no Content-Length)."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return super().read_body()
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    # -- dispatch -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        if is_upgrade(self):
            self.gateway()
            return
        self.handle_any("GET")

    def do_POST(self) -> None:
        self.handle_any("POST")

    def do_PUT(self) -> None:
        self.handle_any("PUT")

    def do_PATCH(self) -> None:
        self.handle_any("PATCH")

    def do_DELETE(self) -> None:
        self.handle_any("DELETE")

    def handle_any(self, method: str) -> None:
        parts = urlsplit(self.path)
        raw = self.read_body()
        if parts.path == "/healthz":
            self.send_json(200, {"ok": True})
            return
        if parts.path.startswith("/_fake/"):
            self.control(method, parts.path, parts.query, raw)
            return
        try:
            body: Any = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw[:200].decode(errors="replace")}
        auth = self.fake.auth_state(self.headers.get("Authorization"))
        status: int
        reply: object
        entry: dict[str, Any] = {
            "kind": "rest",
            "method": method,
            "path": parts.path,
            "query": parts.query,
            "auth": auth,
            "body": body,
        }
        if not parts.path.startswith(API_PREFIX + "/"):
            status, reply = 404, NOT_FOUND
        elif auth != "ok":
            status, reply = 401, UNAUTHORIZED
        else:
            status, reply = self.rest(method, parts.path[len(API_PREFIX) :], body)
        entry["status"] = status
        self.fake.record(entry)
        if status == 204:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_json(status, reply, self.rate_limit_headers())

    @staticmethod
    def rate_limit_headers() -> dict[str, str]:
        # Discord sends these on every REST answer ("Rate Limits"); a generous, constant bucket.
        return {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset-After": "1",
            "X-RateLimit-Bucket": "openclaw-edge-fake",
        }

    # -- REST ---------------------------------------------------------------------------------

    def rest(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, object]:
        for route_method, pattern, route in ROUTES:
            if route_method != method:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                return route(self, match, body)
        return 404, NOT_FOUND

    def gateway_bot(self, _match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        """GET /gateway/bot; the plugin validates exactly these fields (provider-*.mjs, region
        extensions/discord/src/monitor/gateway-metadata.ts, discordGatewayBotInfoSchema) and
        refuses a `url` outside the DISCORD_API_URL origin (assertDiscordEndpointGatewayUrl)."""
        return 200, {
            "url": self.fake.gateway_url(),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": 1,
            },
        }

    def me(self, _match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        """GET /users/@me: the bot user (probe-*.mjs, region extensions/discord/src/probe.ts)."""
        return 200, {**self.fake.bot, "verified": True, "mfa_enabled": False, "flags": 0}

    def application(self, _match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        """GET /oauth2/applications/@me (probe.ts reads `id` and `flags`, e.g. message content
        intent flags 1<<18 GATEWAY_MESSAGE_CONTENT)."""
        return 200, {
            "id": APPLICATION_ID,
            "name": BOT_USERNAME,
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "flags": (1 << 18) | (1 << 19),
            "bot": self.fake.bot,
            "owner": user_object("1490000000000000999", "owner"),
        }

    def user_route(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        user_id = match.group(1)
        if user_id == BOT_USER_ID:
            return 200, self.fake.bot
        with self.fake.lock:
            known = self.fake.users.get(user_id)
        return (200, known) if known else (404, UNKNOWN_USER)

    def open_dm(self, _match: re.Match[str], body: dict[str, Any]) -> tuple[int, object]:
        """POST /users/@me/channels {"recipient_id"}: the DM channel with that user."""
        recipient = str(body.get("recipient_id") or "")
        if not recipient.isdigit():
            return 400, {"message": "Invalid Form Body", "code": 50035}
        return 200, self.fake.dm_channel(recipient).to_json()

    def get_channel(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        channel = self.fake.channels.get(match.group(1))
        return (200, channel.to_json()) if channel else (404, UNKNOWN_CHANNEL)

    def create_message(self, match: re.Match[str], body: dict[str, Any]) -> tuple[int, object]:
        """POST /channels/{id}/messages: needs content, embeds, components, files or a sticker
        (otherwise 50006 "Cannot send an empty message"), 2000 characters at most."""
        channel = self.fake.channels.get(match.group(1))
        if channel is None:
            return 404, UNKNOWN_CHANNEL
        if not any(body.get(key) for key in ("content", "embeds", "components", "sticker_ids")):
            return 400, CANNOT_SEND_EMPTY
        if len(str(body.get("content") or "")) > 2000:
            return 400, {
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}},
            }
        return 200, self.fake.bot_message(channel, body)

    def edit_message(self, match: re.Match[str], body: dict[str, Any]) -> tuple[int, object]:
        message = self.fake.messages.get(match.group(2))
        if message is None or message["channel_id"] != match.group(1):
            return 404, UNKNOWN_MESSAGE
        with self.fake.lock:
            for key in ("content", "embeds", "components"):
                if key in body:
                    message[key] = body[key]
            message["edited_timestamp"] = now_iso()
        return 200, message

    def get_message(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        message = self.fake.messages.get(match.group(2))
        if message is None or message["channel_id"] != match.group(1):
            return 404, UNKNOWN_MESSAGE
        return 200, message

    def list_messages(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        channel_id = match.group(1)
        if channel_id not in self.fake.channels:
            return 404, UNKNOWN_CHANNEL
        with self.fake.lock:
            found = [m for m in self.fake.messages.values() if m["channel_id"] == channel_id]
        return 200, list(reversed(found))[:50]

    def no_content(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        """Typing indicator, reactions, message deletes: 204 when the channel exists."""
        if match.group(1) not in self.fake.channels:
            return 404, UNKNOWN_CHANNEL
        return 204, None

    def commands(self, _match: re.Match[str], body: Any) -> tuple[int, object]:
        """PUT /applications/{id}/commands (bulk overwrite) echoes the commands with ids."""
        items = body if isinstance(body, list) else []
        return 200, [self.command_object(item) for item in items if isinstance(item, dict)]

    def create_command(self, _match: re.Match[str], body: dict[str, Any]) -> tuple[int, object]:
        """POST /applications/{id}/commands: one command; the plugin deploys them one by one
        (its log says "slash command deploy failed (message send/receive unaffected)")."""
        if not body.get("name"):
            return 400, {"message": "Invalid Form Body", "code": 50035}
        return 201, self.command_object(body)

    def command_object(self, item: dict[str, Any]) -> dict[str, Any]:
        ids = {"id": self.fake.snowflake(), "application_id": APPLICATION_ID, "version": "1"}
        return {**item, **ids}

    def empty_list(self, _match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        return 200, []

    def guilds(self, _match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        return 200, [{"id": GUILD_ID, "name": GUILD_NAME, "icon": None, "owner": False}]

    def guild(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        if match.group(1) != GUILD_ID:
            return 404, {"message": "Unknown Guild", "code": 10004}
        return 200, {k: v for k, v in self.fake.guild_object().items() if k != "members"}

    def guild_channels(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        if match.group(1) != GUILD_ID:
            return 404, {"message": "Unknown Guild", "code": 10004}
        return 200, self.fake.guild_object()["channels"]

    def guild_member(self, match: re.Match[str], _body: dict[str, Any]) -> tuple[int, object]:
        if match.group(1) != GUILD_ID:
            return 404, {"message": "Unknown Guild", "code": 10004}
        user_id = match.group(2)
        user = self.fake.bot if user_id == BOT_USER_ID else self.fake.users.get(user_id)
        if user is None:
            return 404, {"message": "Unknown Member", "code": 10007}
        return 200, {"user": user, "roles": [], "joined_at": now_iso(), "nick": None}

    # -- gateway ------------------------------------------------------------------------------

    def gateway(self) -> None:
        """Gateway lifecycle ("Gateway" docs; the plugin's handlePayload in gateway.ts): HELLO,
        then IDENTIFY → READY (+ GUILD_CREATE), or RESUME → RESUMED / INVALID_SESSION;
        heartbeats are acknowledged. A wrong token closes with 4004, which the plugin treats
        as fatal ("Fatal gateway close code")."""
        query = parse_qs(urlsplit(self.path).query)
        socket = ServerSocket(self)
        session = GatewaySession(socket)
        fake = self.fake
        fake.record({"kind": "gateway-open", "query": {k: v[0] for k, v in query.items()}})
        with fake.lock:
            fake.sessions.append(session)
        try:
            socket.send_json({"op": OP_HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
            while True:
                frame = socket.receive_json()
                if not isinstance(frame, dict):
                    continue
                self.gateway_frame(session, frame)
        except Closed as closed:
            fake.record({"kind": "gateway-close", "code": closed.code})
        finally:
            with fake.lock:
                if session in fake.sessions:
                    fake.sessions.remove(session)
            socket.close()

    def gateway_frame(self, session: GatewaySession, frame: dict[str, Any]) -> None:
        fake = self.fake
        op = frame.get("op")
        data = frame.get("d")
        recorded: dict[str, Any] = {"kind": "gateway", "op": op}
        if op == OP_IDENTIFY and isinstance(data, dict):
            token_ok = data.get("token") == fake.token
            recorded["d"] = {**data, "token": "<matched>" if token_ok else "<wrong>"}
            fake.record(recorded)
            if not token_ok:
                session.socket.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
                raise Closed(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            session.intents = int(data.get("intents") or 0)
            session.identified = True
            with fake.lock:
                fake.identify_count += 1
            session.dispatch("READY", fake.ready_payload(session))
            if session.intents & INTENT_GUILDS:
                session.dispatch("GUILD_CREATE", fake.guild_object())
        elif op == OP_RESUME and isinstance(data, dict):
            recorded["d"] = {k: v for k, v in data.items() if k != "token"}
            fake.record(recorded)
            # Sessions do not outlive their socket here: ask for a fresh identify (d=false).
            session.socket.send_json({"op": OP_INVALID_SESSION, "d": False})
        elif op == OP_HEARTBEAT:
            session.socket.send_json({"op": OP_HEARTBEAT_ACK})
        else:
            recorded["d"] = data
            fake.record(recorded)

    # -- test API -----------------------------------------------------------------------------

    def control(self, method: str, path: str, query: str, raw: bytes) -> None:
        fake = self.fake
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self.send_json(400, {"error": "invalid JSON"})
            return
        if method == "GET" and path == "/_fake/state":
            with fake.lock:
                sessions = [
                    {"identified": s.identified, "intents": s.intents} for s in fake.sessions
                ]
                self.send_json(200, {"sessions": sessions, "identify_count": fake.identify_count})
            return
        if method == "GET" and path == "/_fake/bot-messages":
            channel = parse_qs(query).get("channel_id", [None])[0]
            with fake.lock:
                found = [m for m in fake.bot_messages if channel in (None, m["channel_id"])]
            self.send_json(200, {"messages": found})
            return
        match = re.fullmatch(r"/_fake/users/(\d{17,20})/(dm|guild-message)", path)
        if method == "POST" and match and isinstance(body, dict):
            content = str(body.get("content") or "")
            guild = match.group(2) == "guild-message"
            result = fake.user_message(
                match.group(1), content, guild=guild, mention=bool(body.get("mention"))
            )
            self.send_json(200, result)
            return
        self.send_json(404, {"error": f"no test route {method} {path}"})


ROUTES: list[tuple[str, str, Route]] = [
    ("GET", r"/gateway/bot", Handler.gateway_bot),
    ("GET", r"/users/@me", Handler.me),
    ("GET", r"/oauth2/applications/@me", Handler.application),
    ("GET", r"/applications/@me", Handler.application),
    ("GET", r"/users/@me/guilds", Handler.guilds),
    ("POST", r"/users/@me/channels", Handler.open_dm),
    ("GET", r"/users/(\d+)", Handler.user_route),
    ("GET", r"/channels/(\d+)", Handler.get_channel),
    ("GET", r"/channels/(\d+)/messages", Handler.list_messages),
    ("POST", r"/channels/(\d+)/messages", Handler.create_message),
    ("GET", r"/channels/(\d+)/messages/(\d+)", Handler.get_message),
    ("PATCH", r"/channels/(\d+)/messages/(\d+)", Handler.edit_message),
    ("DELETE", r"/channels/(\d+)/messages/(\d+)", Handler.no_content),
    ("POST", r"/channels/(\d+)/typing", Handler.no_content),
    ("PUT", r"/channels/(\d+)/messages/\d+/reactions/[^/]+/@me", Handler.no_content),
    ("DELETE", r"/channels/(\d+)/messages/\d+/reactions/[^/]+/@me", Handler.no_content),
    ("GET", r"/applications/\d+/commands", Handler.empty_list),
    ("PUT", r"/applications/\d+/commands", Handler.commands),
    ("POST", r"/applications/\d+/commands", Handler.create_command),
    ("PUT", r"/applications/\d+/guilds/\d+/commands", Handler.commands),
    ("GET", r"/guilds/(\d+)", Handler.guild),
    ("GET", r"/guilds/(\d+)/channels", Handler.guild_channels),
    ("GET", r"/guilds/(\d+)/members/(\d+)", Handler.guild_member),
]


def make_server(port: int, token: str, record: Path | None) -> ThreadingHTTPServer:
    fake = FakeDiscord(token, record, f"http://127.0.0.1:{port}")
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    if port == 0:
        fake.origin = f"http://127.0.0.1:{server.server_address[1]}"
    return server


def main(argv: list[str] | None = None) -> int:
    return run_chat_fake(
        argv, name="discord", doc=__doc__, port=8796, token_env=TOKEN_ENV, make_server=make_server
    )


if __name__ == "__main__":
    raise SystemExit(main())
