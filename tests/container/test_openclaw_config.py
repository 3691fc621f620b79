"""openclaw.json rendered from environment: every mapping, merge rules, no secrets, and the real
`openclaw config validate` accepting the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot import openclaw_config
from openclaw_boot.config_base import ConfigError
from openclaw_boot.settings import load

from .conftest import ROOT, SECRETS, base_env

AIGW = "https://gateway.ai.cloudflare.com/v1/acct123/gw1"
TOKEN_REF = "${OPENCLAW_GATEWAY_TOKEN}"


def env_with(home: Path, **extra: str) -> dict[str, str]:
    env = base_env(home)
    env.update(extra)
    return env


def render(home: Path, **extra: str) -> dict[str, Any]:
    return openclaw_config.render(load(env_with(home, **extra)))


def dig(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


# (id, environment, {dotted path: expected value}) — None means "absent".
CASES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    (
        "gateway-only",
        {},
        {
            "gateway.mode": "local",
            "gateway.port": 18789,
            "gateway.bind": "loopback",
            "gateway.auth": {"mode": "token", "token": TOKEN_REF},
            "gateway.trustedProxies": openclaw_config.TRUSTED_PROXIES,
            "models": None,
            "channels": None,
            "agents": None,
        },
    ),
    (
        "container-bind-default",
        {"OPENCLAW_GATEWAY_BIND": ""},
        {"gateway.bind": "lan"},
    ),
    (
        "worker-origin-allowed",
        {"WORKER_URL": "https://claw.example.com/some/path"},
        {"gateway.controlUi.allowedOrigins": ["https://claw.example.com"]},
    ),
    (
        "anthropic-direct",
        {"ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"]},
        {
            "models.providers.anthropic": {"apiKey": "${ANTHROPIC_API_KEY}"},
            "agents.defaults.model.primary": "anthropic/claude-sonnet-5",
        },
    ),
    (
        "openai-direct-with-model",
        {"OPENAI_API_KEY": SECRETS["OPENAI_API_KEY"], "LLM_MODEL": "gpt-5.4-mini"},
        {
            "models.providers.openai": {"apiKey": "${OPENAI_API_KEY}"},
            "agents.defaults.model.primary": "openai/gpt-5.4-mini",
        },
    ),
    (
        "both-keys-explicit-openai",
        {
            "ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"],
            "OPENAI_API_KEY": SECRETS["OPENAI_API_KEY"],
            "LLM_PROVIDER": "openai",
        },
        {
            "agents.defaults.model.primary": "openai/gpt-5.4",
            "models.providers.anthropic": None,
        },
    ),
    (
        "ai-gateway-anthropic-unauthenticated",
        {"ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"], "AI_GATEWAY_BASE_URL": AIGW + "/"},
        {
            "models.providers.cf-ai-gateway-anthropic": {
                "baseUrl": AIGW + "/anthropic",
                "api": "anthropic-messages",
                "apiKey": "${ANTHROPIC_API_KEY}",
                "models": [{"id": "claude-sonnet-5", "name": "claude-sonnet-5"}],
            },
            "agents.defaults.model.primary": "cf-ai-gateway-anthropic/claude-sonnet-5",
            "models.providers.anthropic": None,
        },
    ),
    (
        "ai-gateway-openai-authenticated",
        {
            "OPENAI_API_KEY": SECRETS["OPENAI_API_KEY"],
            "AI_GATEWAY_BASE_URL": AIGW,
            "AI_GATEWAY_API_KEY": SECRETS["AI_GATEWAY_API_KEY"],
        },
        {
            "models.providers.cf-ai-gateway-openai.baseUrl": AIGW + "/openai",
            "models.providers.cf-ai-gateway-openai.api": "openai-completions",
            "models.providers.cf-ai-gateway-openai.apiKey": "${OPENAI_API_KEY}",
            "models.providers.cf-ai-gateway-openai.headers": {
                "cf-aig-authorization": "Bearer ${AI_GATEWAY_API_KEY}"
            },
            "agents.defaults.model.primary": "cf-ai-gateway-openai/gpt-5.4",
        },
    ),
    (
        "ai-gateway-token-only",
        {
            "LLM_PROVIDER": "anthropic",
            "AI_GATEWAY_BASE_URL": AIGW,
            "AI_GATEWAY_API_KEY": SECRETS["AI_GATEWAY_API_KEY"],
        },
        {
            "models.providers.cf-ai-gateway-anthropic.apiKey": "${AI_GATEWAY_API_KEY}",
            "models.providers.cf-ai-gateway-anthropic.headers.cf-aig-authorization": (
                "Bearer ${AI_GATEWAY_API_KEY}"
            ),
        },
    ),
    (
        "discord-allowlist-from-ids",
        {
            "DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"],
            "DISCORD_ALLOWED_USER_IDS": "111, 222,111",
        },
        {
            "channels.discord": {
                "enabled": True,
                "token": "${DISCORD_BOT_TOKEN}",
                "dmPolicy": "allowlist",
                "groupPolicy": "allowlist",
                "allowFrom": ["111", "222"],
            },
            # The separately installed plugin loads only when enabled explicitly.
            "plugins.entries.discord": {"enabled": True},
            "plugins.entries.slack": None,
        },
    ),
    (
        "discord-guilds-answer-mentions-from-the-allowlist",
        {
            "DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"],
            "DISCORD_ALLOWED_USER_IDS": "111",
            "DISCORD_GUILD_IDS": "900, 901",
        },
        {
            "channels.discord.guilds": {
                "900": {"requireMention": True, "users": ["111"]},
                "901": {"requireMention": True, "users": ["111"]},
            }
        },
    ),
    (
        "discord-guilds-without-allowlist-hear-every-member",
        {"DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"], "DISCORD_GUILD_IDS": "900"},
        {"channels.discord.guilds": {"900": {"requireMention": True}}},
    ),
    (
        "telegram-local-bot-api-root",
        {
            "TELEGRAM_BOT_TOKEN": SECRETS["TELEGRAM_BOT_TOKEN"],
            "TELEGRAM_API_ROOT": "http://127.0.0.1:8796",
        },
        {"channels.telegram.apiRoot": "http://127.0.0.1:8796", "plugins": None},
    ),
    (
        "discord-pairing-without-ids",
        {"DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"]},
        {"channels.discord.dmPolicy": "pairing", "channels.discord.allowFrom": None},
    ),
    (
        "discord-open-policy",
        {"DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"], "DISCORD_DM_POLICY": "open"},
        {"channels.discord.dmPolicy": "open", "channels.discord.allowFrom": ["*"]},
    ),
    (
        "telegram-pairing-with-allow-from",
        {
            "TELEGRAM_BOT_TOKEN": SECRETS["TELEGRAM_BOT_TOKEN"],
            "TELEGRAM_DM_POLICY": "pairing",
            "TELEGRAM_DM_ALLOW_FROM": "987654321",
        },
        {
            "channels.telegram": {
                "enabled": True,
                "botToken": "${TELEGRAM_BOT_TOKEN}",
                "dmPolicy": "pairing",
                "allowFrom": ["987654321"],
            }
        },
    ),
    (
        "telegram-allow-from-implies-allowlist",
        {"TELEGRAM_BOT_TOKEN": SECRETS["TELEGRAM_BOT_TOKEN"], "TELEGRAM_DM_ALLOW_FROM": "5,6"},
        {"channels.telegram.dmPolicy": "allowlist", "channels.telegram.allowFrom": ["5", "6"]},
    ),
    (
        "slack-socket-mode",
        {
            "SLACK_BOT_TOKEN": SECRETS["SLACK_BOT_TOKEN"],
            "SLACK_APP_TOKEN": SECRETS["SLACK_APP_TOKEN"],
        },
        {
            "channels.slack": {
                "enabled": True,
                "mode": "socket",
                "botToken": "${SLACK_BOT_TOKEN}",
                "appToken": "${SLACK_APP_TOKEN}",
            },
            "plugins.entries": {"slack": {"enabled": True}},
        },
    ),
    (
        "slack-needs-both-tokens",
        {"SLACK_BOT_TOKEN": SECRETS["SLACK_BOT_TOKEN"]},
        {"channels": None},
    ),
]


@pytest.mark.parametrize(("env", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mapping(home: Path, env: dict[str, str], expected: dict[str, Any]) -> None:
    rendered = render(home, **env)
    for dotted, value in expected.items():
        assert dig(rendered, dotted) == value, f"{dotted} in {json.dumps(rendered, indent=1)}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OPENCLAW_GATEWAY_TOKEN": ""}, "OPENCLAW_GATEWAY_TOKEN is required"),
        ({"LLM_PROVIDER": "mistral"}, "LLM_PROVIDER must be"),
        ({"DISCORD_BOT_TOKEN": "x" * 10, "DISCORD_DM_POLICY": "everyone"}, "DISCORD_DM_POLICY"),
    ],
)
def test_rejected_environment(home: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        render(home, **env)


def test_overrides_merged_and_user_keys_kept_and_stale_removed(home: Path) -> None:
    first = env_with(
        home,
        ANTHROPIC_API_KEY=SECRETS["ANTHROPIC_API_KEY"],
        DISCORD_BOT_TOKEN=SECRETS["DISCORD_BOT_TOKEN"],
        TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
        OPENCLAW_CONFIG_OVERRIDES=json.dumps(
            {"gateway": {"controlUi": {"basePath": "/claw"}}, "agents": {"defaults": {"x": 1}}}
        ),
    )
    openclaw_config.write(load(first), check=False)
    path = home / ".openclaw" / "openclaw.json"
    written = json.loads(path.read_text())
    assert written["gateway"]["controlUi"]["basePath"] == "/claw"
    assert written["agents"]["defaults"]["x"] == 1
    assert written["gateway"]["auth"]["token"] == TOKEN_REF

    # A user (or OpenClaw itself) adds keys between boots, some inside managed objects.
    written["channels"]["discord"]["guilds"] = {"42": {"requireMention": False}}
    written["tools"] = {"profile": "coding"}
    path.write_text(json.dumps(written))

    second = env_with(
        home,
        OPENAI_API_KEY=SECRETS["OPENAI_API_KEY"],
        TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
        TELEGRAM_DM_POLICY="disabled",
    )
    result = openclaw_config.write(load(second), check=False)
    assert result.changed
    after = json.loads(path.read_text())
    assert dig(after, "models.providers.anthropic") is None, "stale provider removed"
    assert dig(after, "agents.defaults.model.primary") == "openai/gpt-5.4"
    assert dig(after, "gateway.controlUi.basePath") is None, "override removed with the env"
    assert dig(after, "agents.defaults.x") is None
    assert dig(after, "channels.telegram.dmPolicy") == "disabled"
    # Discord token gone: the managed keys go, the user's guild config stays.
    assert dig(after, "channels.discord.token") is None
    assert dig(after, "channels.discord.enabled") is None
    assert dig(after, "channels.discord.guilds") == {"42": {"requireMention": False}}
    assert dig(after, "plugins.entries.discord") is None, "plugin entry goes with the channel"
    assert after["tools"] == {"profile": "coding"}, "user key kept"

    # Same environment again: byte-identical file, not rewritten.
    mtime = path.stat().st_mtime_ns
    assert not openclaw_config.write(load(second), check=False).changed
    assert path.stat().st_mtime_ns == mtime


def test_no_secret_value_in_file_even_when_pasted_into_overrides(home: Path) -> None:
    env = env_with(home, **SECRETS)
    env["AI_GATEWAY_BASE_URL"] = AIGW
    env["OPENCLAW_CONFIG_OVERRIDES"] = json.dumps(
        {"env": {"vars": {"LEAK": SECRETS["OPENAI_API_KEY"]}}}
    )
    openclaw_config.write(load(env), check=False)
    text = (home / ".openclaw" / "openclaw.json").read_text()
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked into openclaw.json"
    assert "${OPENAI_API_KEY}" in text
    assert oct((home / ".openclaw" / "openclaw.json").stat().st_mode & 0o777) == "0o600"


def test_invalid_overrides_json_is_reported(home: Path) -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        openclaw_config.write(load(env_with(home, OPENCLAW_CONFIG_OVERRIDES="{nope")), check=False)


FULL_ENVS = {
    "everything-direct": {
        **SECRETS,
        "DISCORD_ALLOWED_USER_IDS": "1,2",
        "DISCORD_GUILD_IDS": "1490000000000000100",
        "TELEGRAM_DM_ALLOW_FROM": "3",
        "TELEGRAM_API_ROOT": "http://127.0.0.1:8796",
        "WORKER_URL": "https://claw.example.com",
    },
    "ai-gateway-authenticated": {
        "OPENAI_API_KEY": SECRETS["OPENAI_API_KEY"],
        "AI_GATEWAY_API_KEY": SECRETS["AI_GATEWAY_API_KEY"],
        "AI_GATEWAY_BASE_URL": AIGW,
        "LLM_PROVIDER": "openai",
        "DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"],
        "DISCORD_DM_POLICY": "open",
        "OPENCLAW_CONFIG_OVERRIDES": json.dumps({"gateway": {"controlUi": {"basePath": "/x"}}}),
    },
    "ai-gateway-anthropic": {
        "ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"],
        "AI_GATEWAY_BASE_URL": AIGW,
        "TELEGRAM_BOT_TOKEN": SECRETS["TELEGRAM_BOT_TOKEN"],
        "TELEGRAM_DM_POLICY": "disabled",
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FULL_ENVS))
def test_real_openclaw_validates(home: Path, openclaw_bin: Path, name: str) -> None:
    # With the real channel plugins linked, so their own schemas judge the channel blocks.
    plugin_dir = str(ROOT / ".venv" / "openclaw" / "plugins" / "npm")
    env = env_with(home, **FULL_ENVS[name], OPENCLAW_EDGE_PLUGIN_DIR=plugin_dir)
    result = openclaw_config.write(load(env))
    assert result.valid, result.issues
    assert not result.issues
    # Every ${VAR} resolved: no "Missing env var" warning for the variables we referenced.
    assert not [w for w in result.warnings if "Missing env var" in w], result.warnings


@pytest.mark.slow
def test_invalid_override_dropped_so_gateway_can_start(home: Path, openclaw_bin: Path) -> None:
    env = env_with(home, OPENCLAW_CONFIG_OVERRIDES=json.dumps({"notAKey": True}))
    result = openclaw_config.write(load(env))
    assert result.valid
    assert any("overrides dropped" in issue and "notAKey" in issue for issue in result.issues)
    written = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert "notAKey" not in written
