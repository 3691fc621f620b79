"""Per-channel state (connected / connecting / not configured / error with the reason) and the
time of OpenClaw's next due cron job, read from the running gateway and published.

Every `interval` seconds the monitor asks the gateway (loopback WebSocket RPC) for
`channels.status` and `cron.status`, and puts the summary into the boot status (control API
`GET /status`: `channels`, `cron`). When the next due time changes it also writes it to
`openclaw-edge-status/schedule.json` in the backup bucket, where the Worker's watchdog reads it
while the container sleeps and wakes it ahead of the job (worker/src/cron.ts).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from . import plugins, r2object
from .gateway_rpc import GatewayRpc, RpcError
from .settings import Settings
from .status import Status, now_iso

log = logging.getLogger("openclaw-edge.channels")

SCHEDULE_KEY = r2object.STATUS_PREFIX + "schedule.json"


@dataclass(frozen=True)
class Channel:
    """A chat channel the stack can configure: its secrets and where its plugin comes from."""

    name: str
    tokens: tuple[str, ...]
    """Every one must be set for the channel to be configured."""
    plugin: str | None
    """The npm package the image installs (plugins.py); None: bundled with OpenClaw."""
    partial_hint: str = ""
    """Said when only some of `tokens` are set."""
    token_keys: tuple[str, ...] = ()
    """The key of each of `tokens` in the channel's openclaw.json block (same order)."""
    allow_env: str | None = None
    """The allowlist of user ids (comma-separated) that becomes `allowFrom`."""
    policy_env: str | None = None
    """The DM policy (`dmPolicy`); unset: allowlist with ids, else pairing."""
    fixed: tuple[tuple[str, str], ...] = ()
    """Constant keys of the block."""

    def missing(self, settings: Settings) -> str | None:
        """None when the channel's secrets are set, else why it is not configured."""
        missing = [name for name in self.tokens if not settings.has(name)]
        if not missing:
            return None
        if len(missing) == len(self.tokens):
            return f"{' and '.join(self.tokens)} not set"
        return f"{', '.join(missing)} not set{self.partial_hint}"


CHANNELS = (
    # The blocks' shapes are the plugins' schemas (openclaw.plugin.json channelConfigs of
    # @openclaw/discord, @openclaw/slack and the bundled telegram); openclaw_boot/channel_config.py.
    Channel(
        "discord",
        ("DISCORD_BOT_TOKEN",),
        "@openclaw/discord",
        token_keys=("token",),
        allow_env="DISCORD_ALLOWED_USER_IDS",
        policy_env="DISCORD_DM_POLICY",
        # OpenClaw's own secure default, written out so the file says what happens.
        fixed=(("groupPolicy", "allowlist"),),
    ),
    Channel(
        "telegram",
        ("TELEGRAM_BOT_TOKEN",),
        None,
        token_keys=("botToken",),
        allow_env="TELEGRAM_DM_ALLOW_FROM",
        policy_env="TELEGRAM_DM_POLICY",
    ),
    Channel(
        "slack",
        ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
        "@openclaw/slack",
        partial_hint=" (socket mode needs both tokens)",
        token_keys=("botToken", "appToken"),
        fixed=(("mode", "socket"),),
    ),
)


def iso_ms(value: object) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None
    moment = datetime.fromtimestamp(value / 1000, timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def configured(settings: Settings) -> dict[str, str | None]:
    """Channel → None when its secrets are set, else why it is not configured."""
    return {channel.name: channel.missing(settings) for channel in CHANNELS}


def summarize(
    settings: Settings, payload: dict[str, Any] | None, error: str | None = None
) -> dict[str, Any]:
    """One entry per channel from a `channels.status` payload (None: gateway not answering)."""
    installed = {p.package: p.version for p in plugins.installed(plugins.plugin_dir(settings))}
    running = payload.get("channels") if isinstance(payload, dict) else None
    accounts = payload.get("channelAccounts") if isinstance(payload, dict) else None
    issues = payload.get("statusIssues") if isinstance(payload, dict) else None
    result: dict[str, Any] = {}
    for spec in CHANNELS:
        channel, package, missing = spec.name, spec.plugin, spec.missing(settings)
        entry: dict[str, Any] = {
            "plugin": {
                "package": package or "bundled with OpenClaw",
                "installed": package is None or package in installed,
                "version": installed.get(package) if package else None,
            }
        }
        if missing is not None:
            result[channel] = {"state": "not_configured", "reason": missing, **entry}
            continue
        if payload is None:
            result[channel] = {"state": "unknown", "reason": error or "gateway not answering"}
            result[channel] |= entry
            continue
        summary = (running or {}).get(channel) if isinstance(running, dict) else None
        account_list = (accounts or {}).get(channel) if isinstance(accounts, dict) else None
        account = account_list[0] if isinstance(account_list, list) and account_list else {}
        notes = [
            str(item.get("message"))
            for item in (issues if isinstance(issues, list) else [])
            if isinstance(item, dict) and item.get("channel") == channel
        ]
        if not isinstance(summary, dict):
            why = (
                f"plugin {package} is not installed"
                if not entry["plugin"]["installed"]
                else "configured, but the gateway did not load the channel"
            )
            result[channel] = {"state": "error", "reason": why, **entry, "issues": notes}
            continue
        last_error = account.get("lastError") or summary.get("lastError")
        reason: str | None
        if account.get("connected"):
            state, reason = "connected", None
        elif last_error:
            state, reason = "error", str(last_error)
        elif summary.get("running"):
            state, reason = "connecting", str(account.get("lifecycle") or "starting")
        else:
            state, reason = "error", "channel is not running"
        bot = account.get("bot")
        bot = bot if isinstance(bot, dict) else {}
        result[channel] = {
            "state": state,
            "reason": reason,
            **entry,
            "enabled": bool(account.get("enabled", summary.get("configured"))),
            "bot": bot.get("username"),
            "last_connected_at": iso_ms(account.get("lastConnectedAt")),
            "last_inbound_at": iso_ms(account.get("lastInboundAt")),
            "last_outbound_at": iso_ms(account.get("lastOutboundAt")),
            "issues": notes,
        }
    return result


class ChannelMonitor:
    """Polls the gateway while `run` runs; `poll()` once is what the loop does."""

    def __init__(self, settings: Settings, status: Status, interval: float = 30) -> None:
        self.settings = settings
        self.status = status
        self.interval = interval
        self._published: object = ()

    def poll(self) -> None:
        token = self.settings.get("OPENCLAW_GATEWAY_TOKEN")
        try:
            with GatewayRpc(self.settings.gateway_port, token) as rpc:
                channels = rpc.call("channels.status", {})
                cron = rpc.call("cron.status", {})
        except RpcError as exc:
            self.status.update("channels", **summarize(self.settings, None, str(exc)))
            return
        self.status.update(
            "channels", **summarize(self.settings, channels if isinstance(channels, dict) else {})
        )
        cron = cron if isinstance(cron, dict) else {}
        schedule = {
            "enabled": bool(cron.get("enabled")),
            "jobs": int(cron.get("jobs") or 0),
            "next_run_at": iso_ms(cron.get("nextWakeAtMs")) if cron.get("enabled") else None,
        }
        self.status.update("cron", **schedule, checked_at=now_iso())
        self.publish(schedule)

    def publish(self, schedule: dict[str, Any]) -> None:
        if schedule == self._published or r2object.endpoint_and_bucket(self.settings.env) is None:
            return
        try:
            r2object.put_json(
                self.settings.env, SCHEDULE_KEY, {**schedule, "published_at": now_iso()}
            )
        except r2object.PutError as exc:
            log.warning("schedule not published: %s", exc)
            self.status.update("cron", publish_error=str(exc))
            return
        self._published = dict(schedule)
        self.status.update("cron", publish_error=None, published_at=now_iso())

    def start(self, stop: threading.Event) -> threading.Thread:
        """Record what the environment configures, then poll in a daemon thread until `stop`."""
        self.status.update("channels", **summarize(self.settings, None, "gateway starting"))
        thread = threading.Thread(target=self.run, args=(stop,), name="channel-status", daemon=True)
        thread.start()
        return thread

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            if self.status.section("gateway").get("state") != "running":
                continue
            try:
                self.poll()
            except Exception:  # the monitor must never take the boot process down
                log.exception("channel status poll failed")
