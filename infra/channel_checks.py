"""Chat channel inputs checked at `pulumi preview`: bot tokens, allowlists and DM policies in the
forms Discord, Telegram and Slack issue them, so a typo fails the preview (naming the secret or
var and the expected form) instead of leaving a bot silently offline after the container starts.

Messages describe a bad secret by its shape (length, which part is wrong), never by its value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

import pulumi

DM_POLICIES = ("pairing", "allowlist", "open", "disabled")
# Discord ids are 64-bit "snowflakes", 17-20 decimal digits today (Discord API reference).
_SNOWFLAKE = re.compile(r"\d{17,20}")
_DISCORD_USER = re.compile(r"(?:discord:|user:)?\d{17,20}")  # prefixes the plugin accepts
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
# BotFather tokens: "<bot id>:<35 characters>" (Telegram Bot API, "Authorizing your bot").
_TELEGRAM_TOKEN = re.compile(r"\d{5,15}:[A-Za-z0-9_-]{35}")
# allowFrom takes numeric user ids; OpenClaw accepts and strips telegram:/tg: (channels/telegram).
_TELEGRAM_USER = re.compile(r"(?:telegram:|tg:)?\d{1,20}")
_SLACK = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}

DISCORD_EXPECTED = (
    "a Discord bot token: three dot-separated base64url parts, the first encoding the bot's "
    "numeric user id (Developer Portal → your application → Bot → Reset Token; not the "
    "client secret or the application id, and without a 'Bot ' prefix)"
)
TELEGRAM_EXPECTED = "a BotFather token '<bot id>:<35 characters>', e.g. '123456789:AA...'"


# Well-formed, obviously fake values (the offline plan's SSM stand-ins, tests, docs).
EXAMPLE_VALUES: dict[str, str] = {
    "DISCORD_BOT_TOKEN": "MTQ5MDAwMDAwMDAwMDAwMDAwMQ.Gexamp.example-not-a-real-discord-token-x",
    "DISCORD_ALLOWED_USER_IDS": "1490000000000000500",
    "TELEGRAM_BOT_TOKEN": "7100000001:example-not-a-real-telegram-token12",
    "SLACK_BOT_TOKEN": "xoxb-example-not-a-real-token",
    "SLACK_APP_TOKEN": "xapp-example-not-a-real-token",
}


class ChannelInputError(ValueError):
    """A chat channel secret or var has the wrong form; the message names it and the form."""


def split_list(raw: str) -> list[str]:
    """The boot code's list syntax (container/openclaw_boot/settings.py): commas or spaces."""
    return [item for item in re.split(r"[,\s]+", raw.strip()) if item]


def _shape(value: str) -> str:
    parts = value.split(".")
    dots = f"{len(parts)} dot-separated parts" if len(parts) > 1 else "no dots"
    return f"a {len(value)}-character value with {dots}"


def discord_token_problem(value: str) -> str | None:
    token = value.strip()
    if token.lower().startswith("bot "):
        return "starts with 'Bot ': set the token alone, OpenClaw adds the prefix"
    parts = token.split(".")
    if len(parts) != 3 or not all(_B64URL.fullmatch(part) for part in parts):
        return f"got {_shape(token)}"
    try:
        user_id = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        user_id = ""
    if not _SNOWFLAKE.fullmatch(user_id):
        return "its first part does not encode a numeric Discord user id"
    if len(parts[1]) < 6 or len(parts[2]) < 27:
        return f"got {_shape(token)} with parts too short to be a bot token"
    return None


def secret_problems(values: Mapping[str, str]) -> list[str]:
    """Every malformed chat secret in `values` (name → value), one message each."""
    problems: list[str] = []
    token = values.get("DISCORD_BOT_TOKEN")
    if token is not None and (why := discord_token_problem(token)):
        problems.append(f"DISCORD_BOT_TOKEN must be {DISCORD_EXPECTED}; {why}")
    ids = values.get("DISCORD_ALLOWED_USER_IDS")
    if ids is not None:
        entries = split_list(ids)
        bad = [str(n) for n, item in enumerate(entries, 1) if not _DISCORD_USER.fullmatch(item)]
        if not entries:
            problems.append("DISCORD_ALLOWED_USER_IDS is empty: list Discord user ids or unset it")
        elif bad:
            problems.append(
                "DISCORD_ALLOWED_USER_IDS must list Discord user ids (17-20 digits each, "
                "comma-separated; Discord → Settings → Advanced → Developer Mode, then Copy User "
                f"ID); entry {', '.join(bad)} of {len(entries)} is not one"
            )
    telegram = values.get("TELEGRAM_BOT_TOKEN")
    if telegram is not None and not _TELEGRAM_TOKEN.fullmatch(telegram.strip()):
        problems.append(
            f"TELEGRAM_BOT_TOKEN must be {TELEGRAM_EXPECTED}; got {_shape(telegram.strip())}"
        )
    for name, prefix in _SLACK.items():
        slack = values.get(name)
        if slack is not None and not re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9-]+", slack):
            problems.append(f"{name} must be a Slack token starting with {prefix!r}")
    present = [name for name in _SLACK if name in values]
    if len(present) == 1:
        missing = next(name for name in _SLACK if name not in values)
        problems.append(
            f"{present[0]} is set but {missing} is not: Slack socket mode needs both "
            f"(`pulumi config set --secret {missing}`), or remove {present[0]}"
        )
    return problems


def var_problems(worker_vars: Mapping[str, str], secret_names: set[str]) -> list[str]:
    """Malformed channel vars (plain values, so they may be quoted) and policy mismatches."""
    problems: list[str] = []
    allow_from = split_list(worker_vars.get("TELEGRAM_DM_ALLOW_FROM", ""))
    for item in allow_from:
        if not _TELEGRAM_USER.fullmatch(item):
            problems.append(
                "openclaw-edge:workerVars.TELEGRAM_DM_ALLOW_FROM must list numeric Telegram user "
                f"ids (e.g. '123456789', ask @userinfobot), got {item!r}"
            )
    for item in split_list(worker_vars.get("DISCORD_GUILD_IDS", "")):
        if not _SNOWFLAKE.fullmatch(item):
            problems.append(
                "openclaw-edge:workerVars.DISCORD_GUILD_IDS must list Discord server ids "
                f"(17-20 digits; right-click the server → Copy Server ID), got {item!r}"
            )
    discord_list = "DISCORD_ALLOWED_USER_IDS" in secret_names
    lists = {
        "DISCORD_DM_POLICY": ("DISCORD_ALLOWED_USER_IDS", discord_list),
        "TELEGRAM_DM_POLICY": ("TELEGRAM_DM_ALLOW_FROM", bool(allow_from)),
    }
    for name, (list_name, has_list) in lists.items():
        policy = worker_vars.get(name, "").strip().lower()
        if policy and policy not in DM_POLICIES:
            problems.append(
                f"openclaw-edge:workerVars.{name} must be one of {', '.join(DM_POLICIES)}, "
                f"got {policy!r}"
            )
        elif policy == "allowlist" and not has_list:
            problems.append(
                f"openclaw-edge:workerVars.{name} is allowlist but {list_name} is not set: "
                "nobody could write to the bot; set the list or use pairing"
            )
    return problems


def _raise(problems: list[str]) -> None:
    if problems:
        raise ChannelInputError("chat channel input: " + "; ".join(problems))


def checked_secrets(
    secrets: Mapping[str, pulumi.Output[str]], worker_vars: Mapping[str, str]
) -> dict[str, pulumi.Output[str]]:
    """`secrets` with every chat channel secret gated by the checks: bad vars raise now, bad
    secrets when their values resolve (at preview: config and SSM values are known then), and
    since the Worker's `wrangler secret bulk` step consumes the gated values, a bad one fails the
    preview instead of reaching a container."""
    names = sorted(name for name in secrets if name in CHANNEL_SECRETS)
    _raise(var_problems(worker_vars, set(names)))

    def check(values: list[str]) -> bool:
        _raise(secret_problems(dict(zip(names, values, strict=True))))
        return True

    verdict = pulumi.Output.all(*(secrets[name] for name in names)).apply(check)
    gated = dict(secrets)
    for name in names:
        gated[name] = pulumi.Output.all(secrets[name], verdict).apply(lambda pair: str(pair[0]))
    return gated


CHANNEL_SECRETS = frozenset(
    {"DISCORD_BOT_TOKEN", "DISCORD_ALLOWED_USER_IDS", "TELEGRAM_BOT_TOKEN", *_SLACK}
)
