"""Secrets never move in: drop the old deployment's config sections and secret keys, mask copies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Where the reference kept HOME (rclone/clawdbot era, SDK-backup era).
OLD_HOMES = ("/root", "/home/openclaw")
# Secret-looking keys in the old config (anywhere) and in credential files.
SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|apikey|api_key|privatekey|private_key|credential|cookie)$",
    re.IGNORECASE,
)
SECRET_KEY_EXACT = frozenset({"key", "access", "refresh", "env"})
# Config sections that belonged to the old deployment and are rendered from the stack instead.
DROPPED_CONFIG_PATHS: tuple[tuple[str, ...], ...] = (
    ("gateway",),
    ("models", "providers"),
    ("agents", "defaults", "model"),
    ("agents", "defaults", "models"),
    ("channels",),
    ("auth",),
    ("env",),
    ("plugins", "entries", "telegram"),
    ("plugins", "entries", "discord"),
    ("plugins", "entries", "slack"),
)


def _walk_secrets(node: Any, path: tuple[str, ...], removed: list[str], values: set[str]) -> Any:
    if isinstance(node, dict):
        kept: dict[str, Any] = {}
        for key, value in node.items():
            here = (*path, str(key))
            secretish = SECRET_KEY.search(str(key)) or str(key).lower() in SECRET_KEY_EXACT
            if secretish and not isinstance(value, bool | int | float) and value is not None:
                removed.append(".".join(here))
                _collect_strings(value, values)
                continue
            kept[key] = _walk_secrets(value, here, removed, values)
        return kept
    if isinstance(node, list):
        return [_walk_secrets(item, path, removed, values) for item in node]
    return node


def _collect_strings(node: Any, values: set[str]) -> None:
    if isinstance(node, str):
        if len(node) >= 8 and not node.startswith("${"):
            values.add(node)
    elif isinstance(node, dict):
        for item in node.values():
            _collect_strings(item, values)
    elif isinstance(node, list):
        for item in node:
            _collect_strings(item, values)


def _pop_path(tree: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return None
        node = node[key]
    return node.pop(path[-1], None) if isinstance(node, dict) else None


def sanitize_config(config: dict[str, Any]) -> tuple[dict[str, Any], list[str], set[str]]:
    """The old config without its deployment-specific sections and secrets.

    Returns (config, removed key paths, secret values seen) — the values only to mask stray
    copies elsewhere; they are never written anywhere.
    """
    removed: list[str] = []
    values: set[str] = set()
    for path in DROPPED_CONFIG_PATHS:
        dropped = _pop_path(config, path)
        if dropped is not None:
            removed.append(".".join(path))
            _collect_secret_values(dropped, values)
    defaults = (
        config.get("agents", {}).get("defaults", {})
        if isinstance(config.get("agents"), dict)
        else {}
    )
    if isinstance(defaults, dict) and _is_legacy_workspace(defaults.get("workspace")):
        defaults.pop("workspace")
        removed.append("agents.defaults.workspace")
    agents = (
        config.get("agents", {}).get("list") if isinstance(config.get("agents"), dict) else None
    )
    if isinstance(agents, list):
        for index, agent in enumerate(agents):
            if isinstance(agent, dict) and _is_legacy_workspace(agent.get("workspace")):
                agent.pop("workspace")
                removed.append(f"agents.list[{index}].workspace")
    cleaned = _walk_secrets(config, (), removed, values)
    for section in ("agents", "plugins", "models"):
        if cleaned.get(section) == {} or (
            isinstance(cleaned.get(section), dict) and _empty_tree(cleaned[section])
        ):
            cleaned.pop(section, None)
    return cleaned, removed, values


def _empty_tree(node: Any) -> bool:
    return isinstance(node, dict) and all(_empty_tree(v) for v in node.values())


def _collect_secret_values(node: Any, values: set[str]) -> None:
    """Strings under secret-named keys inside a dropped section (URLs and names are kept out)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if SECRET_KEY.search(str(key)) or str(key).lower() in SECRET_KEY_EXACT:
                _collect_strings(value, values)
            else:
                _collect_secret_values(value, values)
    elif isinstance(node, list):
        for item in node:
            _collect_secret_values(item, values)


def _is_legacy_workspace(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    value = value.rstrip("/")
    locations = {
        f"{home}/{rel}"
        for home in OLD_HOMES
        for rel in (".openclaw/workspace", ".clawdbot/workspace", "clawd")
    }
    return value in locations or value in {"~/.openclaw/workspace", "~/clawd"}


def credential_values(path: Path) -> set[str]:
    """Secret strings inside a skipped credential file (to mask copies elsewhere)."""
    values: set[str] = set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return values
    _collect_secret_values(data, values)
    return values


def mask_secrets(path: Path, secrets: Iterable[str]) -> int:
    """Replace every occurrence of a secret with asterisks of the same length (SQLite-safe)."""
    needles = [s.encode() for s in secrets if len(s) >= 8]
    if not needles:
        return 0
    data = path.read_bytes()
    count = 0
    for needle in needles:
        found = data.count(needle)
        if found:
            count += found
            data = data.replace(needle, b"*" * len(needle))
    if count:
        path.write_bytes(data)
    return count
