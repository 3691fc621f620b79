"""What the checks share: constants, the failure/skip signals, credentials from the environment,
one check's result, and the helpers that read answers (masking, ages, channel states)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

SCHEMA: Final = "openclaw-edge/verify/1"
ROOT: Final = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER: Final = "[secret]"  # noqa: S105 - how `pulumi stack output` masks
USER_AGENT: Final = "openclaw-edge-verify/1"
POLL_SECONDS: Final = 3.0
CHANNEL_WAIT_SECONDS: Final = 90.0
"""How long the channels check waits for a channel the boot code reports `connecting` (or
`unknown`: the gateway not answering its status RPC yet), e.g. right after a cold start."""
PENDING_CHANNEL_STATES: Final = frozenset({"connecting", "unknown"})
PLAN_TOOLS: Final = {
    "ghq": "ghq",
    "gwq": "gwq",
    "mcp-grafana": "mcp-grafana",
    "Babashka": "bb",
    "Codex CLI": "codex",
}
"""Plan 2-1's custom tools (the names ops.phase_docs counts for parity) -> self-test tool name."""
CONNECTED: Final = frozenset({"connected", "running", "ok", "online", "ready"})
NOT_CONFIGURED: Final = frozenset({"not_configured", "not configured", "unconfigured", "disabled"})

Clock = Callable[[], float]


class Failed(Exception):
    """A check that did not pass: what is wrong and what to do."""

    def __init__(
        self, what: str, fix: str, facts: dict[str, Any] | None = None, status: int | None = None
    ) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix
        self.facts = facts or {}
        self.status = status
        """The HTTP status behind it; None when nothing answered."""


class Skipped(Exception):
    """A check that does not apply here, or cannot run; the message says why."""


class InputError(ValueError):
    """Outputs that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer (redirects are never followed)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self, limit: int = 200) -> str:
        return self.body[:limit].decode("utf-8", "replace").strip()


@dataclass(frozen=True)
class Credentials:
    """Secrets from the environment (and the outputs' client id); never printed."""

    client_id: str | None
    client_secret: str | None
    cdp_secret: str | None
    api_token: str | None
    account_id: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str], outputs: Mapping[str, Any]) -> Credentials:
        def pick(name: str) -> str | None:
            return env.get(name, "").strip() or None

        shown = outputs.get("probeAccessClientSecret")
        from_outputs = shown if isinstance(shown, str) and shown != SECRET_PLACEHOLDER else None
        output_id = outputs.get("probeAccessClientId")
        return cls(
            client_id=pick("CF_ACCESS_CLIENT_ID")
            or (output_id if isinstance(output_id, str) and output_id else None),
            client_secret=pick("CF_ACCESS_CLIENT_SECRET") or from_outputs,
            cdp_secret=pick("CDP_SECRET"),
            api_token=pick("CLOUDFLARE_API_TOKEN"),
            account_id=pick("CLOUDFLARE_ACCOUNT_ID"),
        )

    def secrets(self) -> list[str]:
        """Values to mask wherever text is printed or written."""
        values = (self.client_secret, self.cdp_secret, self.api_token)
        return [v for v in values if v and len(v) >= 4]

    def access_headers(self) -> dict[str, str]:
        if not (self.client_id and self.client_secret):
            return {}
        return {
            "CF-Access-Client-Id": self.client_id,
            "CF-Access-Client-Secret": self.client_secret,
        }


@dataclass
class CheckResult:
    """The outcome of one check, as printed and written."""

    id: str
    title: str
    status: str = "skipped"
    detail: str = ""
    fix: str | None = None
    seconds: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "seconds": self.seconds,
            "facts": self.facts,
        }


def mask(text: str, secrets: Sequence[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    return text


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def age_seconds(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (now - when).total_seconds())


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def channel_states(value: Any) -> list[dict[str, Any]]:
    """Per-channel state from `/api/status` `channels`, in any of the shapes a status may take.

    A mapping name -> entry or a list of entries with `name`/`channel`/`id`; an entry is a bool
    (connected), a state string, or an object with `connected`, `configured`, `state`/`status`
    and `error`/`detail`/`reason`. Returns [{name, configured, connected, state, detail}].
    """
    items: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, Mapping):
                name = entry.get("name") or entry.get("channel") or entry.get("id")
                items.append((str(name or "?"), entry))
    states = []
    for name, entry in items:
        configured, connected, detail, state = True, False, "", ""
        if isinstance(entry, bool):
            connected = entry
        elif isinstance(entry, str):
            state = entry.strip().lower()
            configured = state not in NOT_CONFIGURED
            connected = state in CONNECTED
            detail = entry
        elif isinstance(entry, Mapping):
            state = str(entry.get("state") or entry.get("status") or "").strip().lower()
            if isinstance(entry.get("configured"), bool):
                configured = bool(entry["configured"])
            elif state in NOT_CONFIGURED or entry.get("enabled") is False:
                configured = False
            if isinstance(entry.get("connected"), bool):
                connected = bool(entry["connected"])
            else:
                connected = state in CONNECTED
            reason = entry.get("error") or entry.get("detail") or entry.get("reason")
            detail = ": ".join(p for p in (state, str(reason) if reason else "") if p)
        states.append(
            {
                "name": name,
                "configured": configured,
                "connected": connected,
                "state": state,
                "detail": detail,
            }
        )
    return states
