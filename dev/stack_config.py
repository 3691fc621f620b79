"""What the local stack is made of: its pieces and their ports, the configuration that differs
between `make dev`, the e2e tests and the benchmarks, the chat users and the generated secrets."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from dev.discord import BOT_USER_ID as DISCORD_BOT_USER_ID

ROOT = Path(__file__).resolve().parent.parent
PIECES = ("s3", "access", "llm", "edge", "discord", "telegram", "boot", "worker")
CHANNEL_PIECES = ("discord", "telegram")
# Which Ports fields each piece listens on (checked before anything starts).
PIECE_PORTS = {
    "s3": ("s3",),
    "access": ("access", "front"),
    "llm": ("llm",),
    "edge": ("edge",),
    "discord": ("discord",),
    "telegram": ("telegram",),
    "boot": ("gateway", "control"),
    "worker": ("worker", "inspector"),
}
LlmMode = Literal["auto", "standin", "real"]
# Names a developer may have exported for the real provider ("with a real key, use it").
REAL_LLM_NAMES = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "AI_GATEWAY_BASE_URL",
    "AI_GATEWAY_API_KEY",
)


@dataclass(frozen=True)
class Ports:
    """Loopback ports of the pieces (docs/interfaces.md, "Local ports")."""

    worker: int = 8787
    gateway: int = 18789
    control: int = 18790
    access: int = 8790
    llm: int = 8791
    s3: int = 8792
    inspector: int = 8793
    edge: int = 8794
    front: int = 8795
    """The Access stand-in in front of the Worker (service token, login redirect): `ops.verify`."""
    discord: int = 8796
    telegram: int = 8797

    def shifted(self, offset: int) -> Ports:
        """Every port moved by `offset`: a second stack (e2e) beside a running `make dev`."""
        return Ports(**{name: port + offset for name, port in vars(self).items()})


@dataclass(frozen=True)
class StackConfig:
    """Everything that differs between `make dev`, the e2e tests and the benchmarks."""

    state_dir: Path = ROOT / ".dev-state"
    """All state and logs live here (gitignored). Default: `<repo>/.dev-state`."""
    ports: Ports = field(default_factory=Ports)
    llm: LlmMode = "auto"
    """auto: a real provider when ANTHROPIC_API_KEY/OPENAI_API_KEY is exported, else the
    stand-in; standin/real force one."""
    team_domain: str | None = None
    """Access team domain; the JWT issuer is `https://<this>` and the Worker sends browsers to
    `https://<this>/cdn-cgi/access/login/...`. Default `127.0.0.1:<access port>`: the Access
    stand-in, which answers TLS (self-signed) and plain HTTP on that one port."""
    aud: str = "openclaw-edge-local-dev"
    bucket: str = "openclaw-edge-dev"
    backup_interval_seconds: int = 30
    token_ttl_seconds: int = 3600
    simulate_remote_browser: bool = True
    """Route the Worker to the gateway through `edge`, so browsers are remote and need device
    pairing (as deployed). False: the Worker talks to the gateway directly (benchmarks)."""
    host_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    """Where a real LLM key is looked up (the developer's environment by default)."""
    channels: bool = False
    """Also start the Discord and Telegram fakes (dev/discord.py, dev/telegram.py) and configure
    the gateway's Discord and Telegram channels against them (allowlists: ChatUsers)."""

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def home(self) -> Path:
        """HOME of the boot code: the gateway's whole state (~/.openclaw, workspace)."""
        return self.state_dir / "home"

    def url(self, piece: str, path: str = "/") -> str:
        port = getattr(self.ports, piece)
        return f"http://127.0.0.1:{port}{path}"

    @property
    def access_team_domain(self) -> str:
        return self.team_domain or f"127.0.0.1:{self.ports.access}"

    def with_state_dir(self, state_dir: Path) -> StackConfig:
        return replace(self, state_dir=state_dir)


@dataclass(frozen=True)
class ChatUsers:
    """The people of the chat fakes: who is on the bot's allowlists and who is not."""

    discord_allowed: str = "1490000000000000500"
    discord_stranger: str = "1490000000000000666"
    telegram_allowed: str = "7200000501"
    telegram_stranger: str = "7200000666"


CHAT_USERS = ChatUsers()


def discord_token() -> str:
    """A token shaped like Discord's: base64(bot user id) . timestamp . HMAC (random here)."""
    head = base64.urlsafe_b64encode(DISCORD_BOT_USER_ID.encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(5)[:6]}.{secrets.token_urlsafe(29)[:38]}"


def telegram_token() -> str:
    """A token shaped like BotFather's: <bot id>:<35 characters>."""
    return f"7100000001:{secrets.token_urlsafe(27)[:35]}"


SECRET_MAKERS = {
    "gateway_token": lambda: secrets.token_urlsafe(32),
    "backup_password": lambda: secrets.token_urlsafe(32),
    # Shaped like Cloudflare's service tokens: "<32 hex>.access" and 64 hex.
    "access_client_id": lambda: f"{secrets.token_hex(16)}.access",
    "access_client_secret": lambda: secrets.token_hex(32),
    "discord_bot_token": discord_token,
    "telegram_bot_token": telegram_token,
}


@dataclass
class Secrets:
    """Generated once into the state dir (mode 0600); reach pieces via env/files, never argv."""

    gateway_token: str
    backup_password: str
    access_client_id: str
    """The local Access service token (what `accessProbeServiceToken` creates when deployed)."""
    access_client_secret: str
    discord_bot_token: str
    telegram_bot_token: str

    @classmethod
    def load_or_create(cls, path: Path) -> Secrets:
        data = json.loads(path.read_text()) if path.exists() else {}
        missing = [name for name in SECRET_MAKERS if not data.get(name)]
        for name in missing:  # state dirs from before a secret existed get it added
            data[name] = SECRET_MAKERS[name]()
        if missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
            path.with_suffix(".tmp").replace(path)
        return cls(**{name: str(data[name]) for name in SECRET_MAKERS})

    def values(self) -> dict[str, str]:
        """Every secret by name, for tests that look for leaks."""
        return {name: str(getattr(self, name)) for name in SECRET_MAKERS}
