"""The `channels.*` blocks of openclaw.json, one per configured channel of channels.CHANNELS.

Each block is `enabled`, the channel's tokens as `${VAR}` references under their schema keys, the
DM policy and `allowFrom` (top-level, as the plugins' current schemas define them), the
channel's constant keys, and what only one channel has (Discord guilds, Telegram's Bot API
root), from EXTRAS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .channels import CHANNELS, Channel
from .config_base import ConfigError, ref
from .settings import Settings, split_list

JsonObject = dict[str, Any]

DM_POLICIES = ("pairing", "allowlist", "open", "disabled")


def _discord_guilds(settings: Settings, ids: list[str]) -> JsonObject:
    guilds = split_list(settings.get("DISCORD_GUILD_IDS"))
    if not guilds:
        return {}
    # Mentions only; in a guild the DM allowlist (if any) also decides who is heard.
    guild: JsonObject = {"requireMention": True, **({"users": ids} if ids else {})}
    return {"guilds": {guild_id: dict(guild) for guild_id in guilds}}


def _telegram_api_root(settings: Settings, _ids: list[str]) -> JsonObject:
    # A local Bot API stand-in (dev/telegram.py).
    root = settings.get("TELEGRAM_API_ROOT")
    return {"apiRoot": root} if root else {}


EXTRAS: dict[str, Callable[[Settings, list[str]], JsonObject]] = {
    "discord": _discord_guilds,
    "telegram": _telegram_api_root,
}
MANAGED_EXTRA: dict[str, tuple[str, ...]] = {"telegram": ("apiRoot",)}
"""Extra keys rewritten every boot (Discord's `guilds` are left to the user once written)."""

MANAGED_PATHS: tuple[tuple[str, ...], ...] = tuple(
    ("channels", channel.name, key)
    for channel in CHANNELS
    for key in (
        "enabled",
        *channel.token_keys,
        "dmPolicy",
        "allowFrom",
        *(name for name, _ in channel.fixed),
        *MANAGED_EXTRA.get(channel.name, ()),
    )
)
EXTERNAL_PLUGIN_CHANNELS = tuple(channel.name for channel in CHANNELS if channel.plugin)
"""Channels whose plugin is installed separately (plugins.py); Telegram is bundled. OpenClaw
loads such a plugin for a configured channel only when `plugins.entries.<id>.enabled` is true
("channel is configured, but external plugin "discord" is installed without explicit trust. Add
plugins.entries.discord.enabled=true.", gateway log of 2026.9.6)."""


def dm_policy(settings: Settings, name: str, allow_from: list[str]) -> str:
    raw = settings.get(name).lower()
    if not raw:
        return "allowlist" if allow_from else "pairing"
    if raw not in DM_POLICIES:
        raise ConfigError(f"{name} must be one of {', '.join(DM_POLICIES)}, got {raw!r}")
    return raw


def block(settings: Settings, channel: Channel) -> JsonObject:
    """The channel's block (its secrets are set: channel.missing(settings) is None)."""
    result: JsonObject = {"enabled": True}
    result |= {key: ref(env) for key, env in zip(channel.token_keys, channel.tokens, strict=True)}
    ids = split_list(settings.get(channel.allow_env)) if channel.allow_env else []
    if channel.policy_env is not None:
        policy = dm_policy(settings, channel.policy_env, ids)
        result["dmPolicy"] = policy
        allow = ["*"] if policy == "open" else ids
        if allow:
            result["allowFrom"] = allow
    result |= dict(channel.fixed)
    extra = EXTRAS.get(channel.name)
    return result | (extra(settings, ids) if extra else {})


def blocks(settings: Settings) -> JsonObject:
    """channels.* for every channel whose secrets are set."""
    return {c.name: block(settings, c) for c in CHANNELS if c.missing(settings) is None}
