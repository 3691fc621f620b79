"""What a `sleepAfter` duration means for the configured chat bots and for OpenClaw's scheduled
jobs: the warnings `pulumi preview` and the offline plan print for a valid but probably
unintended setting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from infra.cost import WATCHDOG_WAKE_LEAD_SECONDS
from infra.values import CronSchedule, SleepAfter

CHAT_CHANNEL_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "Discord": ("DISCORD_BOT_TOKEN",),
    "Telegram": ("TELEGRAM_BOT_TOKEN",),
    "Slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
}


def chat_channels(secret_names: Iterable[str]) -> list[str]:
    """The chat channels a stack configures (Discord, Telegram, Slack), from its secret names."""
    names = set(secret_names)
    return [channel for channel, needs in CHAT_CHANNEL_SECRETS.items() if names & set(needs)]


def sleep_warnings(
    sleep_after: SleepAfter, cron: CronSchedule, channels: Sequence[str]
) -> list[str]:
    """What a `sleepAfter` duration means for the bots and for OpenClaw's scheduled jobs."""
    sleep_seconds = sleep_after.seconds
    if sleep_seconds is None:
        return []
    warnings: list[str] = []
    if channels:
        warnings.append(
            f"sleepAfter {sleep_after.text!r} lets the container sleep, and while it sleeps the "
            f"{' and '.join(channels)} bot{'s are' if len(channels) > 1 else ' is'} offline "
            "(outbound bot connections are not activity): Discord and Slack messages sent "
            "meanwhile are never answered, Telegram messages are answered at the next wake "
            "(Telegram keeps them 24 h). It wakes on a request to the Worker and ahead of "
            "OpenClaw's scheduled jobs. Keep sleepAfter 'never' (the default) for bots that are "
            "always online."
        )
    interval = cron.interval_seconds
    if interval is not None and interval + WATCHDOG_WAKE_LEAD_SECONDS > sleep_seconds:
        lead_minutes = (interval + WATCHDOG_WAKE_LEAD_SECONDS) // 60
        longest = int(sleep_seconds - WATCHDOG_WAKE_LEAD_SECONDS) // 60
        advice = (
            f"use a cron interval of at most {longest} min"
            if longest >= 1
            else f"use a sleepAfter of at least {lead_minutes} min"
        )
        warnings.append(
            f"OpenClaw's scheduled jobs may not run: the watchdog ({cron.text!r}) wakes the "
            f"sleeping container up to {lead_minutes} min before a job is due, but it sleeps "
            f"again after {sleep_after}; {advice}."
        )
    return warnings
