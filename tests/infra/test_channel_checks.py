"""Chat channel inputs are checked at preview: malformed tokens, allowlist entries and Telegram ids
fail with the secret's name and the expected form, never with its value."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from infra.channel_checks import (
    EXAMPLE_VALUES,
    ChannelInputError,
    discord_token_problem,
    secret_problems,
    var_problems,
)
from tests.infra.pulumi_harness import SECRETS, run

GOOD = EXAMPLE_VALUES["DISCORD_BOT_TOKEN"]


def test_the_example_values_are_well_formed() -> None:
    assert secret_problems(EXAMPLE_VALUES) == []


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("Bot " + GOOD, "starts with 'Bot '"),
        ("a" * 32, "32-character value with no dots"),  # the OAuth2 client secret
        ("1490000000000000001", "no dots"),  # the application id
        (GOOD.replace(".", ".x.", 1), "4 dot-separated parts"),
        (base64.b64encode(b"not-an-id").decode().rstrip("=") + ".Gabcde." + "x" * 30, "user id"),
        (GOOD.split(".")[0] + ".Gab.short", "too short"),
    ],
)
def test_malformed_discord_tokens_are_described_without_their_value(token: str, why: str) -> None:
    problem = discord_token_problem(token)
    assert problem is not None
    assert why in problem
    (message,) = secret_problems({"DISCORD_BOT_TOKEN": token})
    assert message.startswith("DISCORD_BOT_TOKEN must be a Discord bot token")
    assert token not in message


@pytest.mark.parametrize(
    ("ids", "bad"),
    [
        ("1490000000000000500, 12345", "entry 2 of 2"),
        ("@someone", "entry 1 of 1"),
        ("1490000000000000500;1490000000000000501", "entry 1 of 1"),
    ],
)
def test_discord_allowlist_entries_must_be_user_ids(ids: str, bad: str) -> None:
    (message,) = secret_problems({"DISCORD_ALLOWED_USER_IDS": ids})
    assert "DISCORD_ALLOWED_USER_IDS must list Discord user ids (17-20 digits" in message
    assert bad in message
    assert "12345" not in message
    assert "someone" not in message


def test_discord_allowlist_accepts_the_plugins_prefixes_and_spacing() -> None:
    ids = "discord:1490000000000000500 user:1490000000000000501,\n1490000000000000502"
    assert secret_problems({"DISCORD_ALLOWED_USER_IDS": ids}) == []


@pytest.mark.parametrize(
    "token", ["123456:short", "telegram-token", "123456789:" + "x" * 34, " :" + "x" * 35]
)
def test_malformed_telegram_tokens_name_the_botfather_form(token: str) -> None:
    (message,) = secret_problems({"TELEGRAM_BOT_TOKEN": token})
    assert message.startswith("TELEGRAM_BOT_TOKEN must be a BotFather token '<bot id>:")
    assert token not in message


def test_slack_needs_both_tokens_with_their_prefixes() -> None:
    problems = secret_problems({"SLACK_BOT_TOKEN": "xoxp-user-token"})
    assert any("SLACK_BOT_TOKEN must be a Slack token starting with 'xoxb-'" in p for p in problems)
    assert any("SLACK_APP_TOKEN is not" in p for p in problems)


@pytest.mark.parametrize(
    ("worker_vars", "secrets", "fragment"),
    [
        ({"TELEGRAM_DM_ALLOW_FROM": "123456789,@alice"}, set(), "numeric Telegram user ids"),
        ({"DISCORD_GUILD_IDS": "my-server"}, set(), "DISCORD_GUILD_IDS must list Discord server"),
        ({"DISCORD_DM_POLICY": "everyone"}, set(), "DISCORD_DM_POLICY must be one of pairing"),
        ({"TELEGRAM_DM_POLICY": "allowlist"}, set(), "TELEGRAM_DM_ALLOW_FROM is not set"),
        ({"DISCORD_DM_POLICY": "allowlist"}, set(), "DISCORD_ALLOWED_USER_IDS is not set"),
    ],
)
def test_channel_vars_are_checked(
    worker_vars: dict[str, str], secrets: set[str], fragment: str
) -> None:
    problems = var_problems(worker_vars, secrets)
    assert any(fragment in p for p in problems), problems
    assert all(p.startswith("openclaw-edge:workerVars.") for p in problems)


def test_good_channel_vars_pass() -> None:
    worker_vars = {
        "TELEGRAM_DM_ALLOW_FROM": "123456789, tg:987654321",
        "TELEGRAM_DM_POLICY": "allowlist",
        "DISCORD_DM_POLICY": "allowlist",
        "DISCORD_GUILD_IDS": "1490000000000000100",
    }
    assert var_problems(worker_vars, {"DISCORD_ALLOWED_USER_IDS"}) == []


def test_a_malformed_token_fails_the_program_at_preview(tmp_path: Path) -> None:
    bad = "SENTINEL-not-a-discord-token"
    # Pulumi re-raises it as the ValueError `pulumi preview` prints, naming the secrets step.
    with pytest.raises(ValueError, match="worker-secrets") as failed:
        run(
            tmp_path,
            {"optionalSecrets": ["DISCORD_BOT_TOKEN"]},
            secrets={**SECRETS, "DISCORD_BOT_TOKEN": bad},
        )
    assert "DISCORD_BOT_TOKEN must be a Discord bot token" in str(failed.value)
    assert bad not in str(failed.value)


def test_a_malformed_var_fails_the_program_before_any_value_is_read(tmp_path: Path) -> None:
    with pytest.raises(ChannelInputError, match="TELEGRAM_DM_ALLOW_FROM"):
        run(tmp_path, {"workerVars": {"TELEGRAM_DM_ALLOW_FROM": "alice"}})


def test_well_formed_channel_secrets_deploy(tmp_path: Path) -> None:
    secrets = {**SECRETS, **EXAMPLE_VALUES}
    result = run(tmp_path, {"optionalSecrets": sorted(EXAMPLE_VALUES)}, secrets=secrets)
    assert set(EXAMPLE_VALUES) <= set(result.outputs["workerSecretNames"])
