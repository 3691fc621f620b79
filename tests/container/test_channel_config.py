"""The channel blocks of openclaw.json come from one table (channels.CHANNELS): what a block
writes is what the next boot rewrites or removes, and each channel's secrets are references."""

from __future__ import annotations

from pathlib import Path

import pytest
from openclaw_boot import channel_config, openclaw_config
from openclaw_boot.channels import CHANNELS, Channel
from openclaw_boot.config_base import ConfigError
from openclaw_boot.settings import load

from .conftest import base_env

EVERYTHING = {
    "DISCORD_BOT_TOKEN": "discord-token-value",
    "DISCORD_ALLOWED_USER_IDS": "111111111111111111,222222222222222222",
    "DISCORD_DM_POLICY": "open",
    "TELEGRAM_BOT_TOKEN": "7100000001:telegram-token-value",
    "TELEGRAM_DM_ALLOW_FROM": "12345",
    "TELEGRAM_API_ROOT": "http://127.0.0.1:9/",
    "SLACK_BOT_TOKEN": "xoxb-slack-bot-token",
    "SLACK_APP_TOKEN": "xapp-slack-app-token",
}
USER_OWNED = {("channels", "discord", "guilds")}
"""Written once from DISCORD_GUILD_IDS, then the user's (per-guild settings live there)."""


def test_every_key_a_block_writes_is_rewritten_by_the_next_boot(home: Path) -> None:
    settings = load({**base_env(home), **EVERYTHING, "DISCORD_GUILD_IDS": "333333333333333333"})
    blocks = channel_config.blocks(settings)
    assert set(blocks) == {c.name for c in CHANNELS}
    written = {("channels", name, key) for name, block in blocks.items() for key in block}
    assert written - set(openclaw_config.MANAGED_PATHS) == USER_OWNED
    for channel in CHANNELS:
        for key, env in zip(channel.token_keys, channel.tokens, strict=True):
            assert blocks[channel.name][key] == "${" + env + "}"


def test_a_channel_whose_secrets_go_away_loses_its_managed_keys(home: Path) -> None:
    openclaw_config.write(load({**base_env(home), **EVERYTHING}), check=False)
    without_slack = {k: v for k, v in EVERYTHING.items() if k != "SLACK_APP_TOKEN"}
    built, _paths = openclaw_config.build(load({**base_env(home), **without_slack}))
    assert "slack" not in built["channels"]
    assert "slack" not in built["plugins"]["entries"]
    assert built["channels"]["discord"]["allowFrom"] == ["*"]  # dmPolicy open


@pytest.mark.parametrize("channel", [c for c in CHANNELS if c.policy_env], ids=lambda c: c.name)
def test_the_dm_policy_follows_the_allowlist_unless_set(home: Path, channel: Channel) -> None:
    assert channel.policy_env is not None
    assert channel.allow_env is not None
    tokens = {name: EVERYTHING[name] for name in channel.tokens}
    bare = channel_config.block(load({**base_env(home), **tokens}), channel)
    assert bare["dmPolicy"] == "pairing"
    assert "allowFrom" not in bare
    listed = {**tokens, channel.allow_env: "444444444444444444"}
    block = channel_config.block(load({**base_env(home), **listed}), channel)
    assert block["dmPolicy"] == "allowlist"
    assert block["allowFrom"] == ["444444444444444444"]
    with pytest.raises(ConfigError, match=f"{channel.policy_env} must be one of pairing"):
        channel_config.block(load({**base_env(home), **tokens, channel.policy_env: "yes"}), channel)
