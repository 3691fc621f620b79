"""Every name the Worker forwards to the container is either consumed by the boot code or a
documented pass-through for the tools (the reference read TELEGRAM_DM_ALLOW_FROM and then
never forwarded it; this catches that class of bug)."""

from __future__ import annotations

import json

from openclaw_boot import settings

from .conftest import CONTAINER, ROOT

# Read by the tools the agent runs (gh, claude, mcp-grafana, skills), not by the boot code.
PASS_THROUGH = {
    "GITHUB_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "GRAFANA_API_KEY",
    "GEMINI_API_KEY",
    "XAI_API_KEY",
    "CDP_SECRET",
}


def container_names() -> dict[str, bool]:
    catalog = json.loads((ROOT / "worker" / "src" / "env-catalog.json").read_text())
    names: dict[str, bool] = {}
    for entry in catalog["secrets"]:
        if entry.get("container"):
            names[entry.get("containerName") or entry["name"]] = True
    for entry in catalog["vars"]:
        if entry.get("container"):
            names[entry.get("containerName") or entry["name"]] = False
    return names


def test_every_forwarded_name_is_used_or_passed_through() -> None:
    source = "".join(p.read_text() for p in (CONTAINER / "openclaw_boot").rglob("*.py"))
    for name in container_names():
        if name in PASS_THROUGH:
            continue
        assert f'"{name}"' in source, f"{name} is forwarded to the container but never read"


# Stored in SSM with the secrets, but it is an allowlist of user ids that must be written into
# openclaw.json as values (allowFrom is a list; ${VAR} substitutes strings only).
NOT_CREDENTIALS = {"DISCORD_ALLOWED_USER_IDS"}


def test_every_forwarded_secret_is_treated_as_secret() -> None:
    for name, is_secret in container_names().items():
        if is_secret and name not in NOT_CREDENTIALS:
            assert name in settings.SECRET_ENV_NAMES, f"{name} missing from SECRET_ENV_NAMES"


def test_pass_through_names_still_exist_in_the_catalog() -> None:
    assert container_names().keys() >= PASS_THROUGH
