"""Declarative ~/.openclaw/openclaw.json: rendered from environment on every boot.

The boot code owns a fixed set of key paths (MANAGED_PATHS) plus every path it wrote from
OPENCLAW_CONFIG_OVERRIDES last time. Each boot removes those paths from the existing file and
writes them again from the current environment, so a removed provider or channel disappears,
while keys a user (or OpenClaw itself) added elsewhere are kept. Secrets are written as
`${VAR}` references that OpenClaw substitutes at load time; the file never holds a secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import channel_config, config_validation, plugins
from .config_base import ConfigError, ref
from .files import atomic_write, read_json
from .plugin_allowlist import plugin_allowlist
from .settings import SECRET_ENV_NAMES, Settings

JsonObject = dict[str, Any]

AI_GATEWAY_PROVIDER = {"anthropic": "cf-ai-gateway-anthropic", "openai": "cf-ai-gateway-openai"}
DEFAULT_MODEL = {"anthropic": "claude-sonnet-5", "openai": "gpt-5.4"}
# Private ranges the Sandbox runtime proxies from, plus loopback for local runs.
TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

MANAGED_PATHS: tuple[tuple[str, ...], ...] = (
    ("gateway", "mode"),
    ("gateway", "port"),
    ("gateway", "bind"),
    ("gateway", "auth"),
    ("gateway", "trustedProxies"),
    ("gateway", "controlUi", "allowedOrigins"),
    ("models", "providers", "anthropic"),
    ("models", "providers", "openai"),
    ("models", "providers", AI_GATEWAY_PROVIDER["anthropic"]),
    ("models", "providers", AI_GATEWAY_PROVIDER["openai"]),
    ("agents", "defaults", "model"),
    *channel_config.MANAGED_PATHS,
    *(("plugins", "entries", name, "enabled") for name in channel_config.EXTERNAL_PLUGIN_CHANNELS),
)


def llm_provider(settings: Settings) -> str | None:
    chosen = settings.get("LLM_PROVIDER").lower()
    if chosen:
        if chosen not in DEFAULT_MODEL:
            raise ConfigError(f"LLM_PROVIDER must be anthropic or openai, got {chosen!r}")
        return chosen
    if settings.has("ANTHROPIC_API_KEY"):
        return "anthropic"
    if settings.has("OPENAI_API_KEY"):
        return "openai"
    return None


def _model_section(settings: Settings) -> tuple[JsonObject, str | None]:
    provider = llm_provider(settings)
    if provider is None:
        return {}, None
    key_name = "ANTHROPIC_API_KEY" if provider == "anthropic" else "OPENAI_API_KEY"
    model = settings.get("LLM_MODEL") or DEFAULT_MODEL[provider]
    gateway_url = settings.get("AI_GATEWAY_BASE_URL").rstrip("/")
    entry: JsonObject
    if gateway_url:
        provider_id = AI_GATEWAY_PROVIDER[provider]
        entry = {
            "baseUrl": f"{gateway_url}/{provider}",
            "api": "anthropic-messages" if provider == "anthropic" else "openai-completions",
            "models": [{"id": model, "name": model}],
        }
        # An authenticated AI Gateway without a provider key uses the gateway token for both
        # (Cloudflare's unified billing); normally the provider key authenticates upstream.
        if settings.has(key_name):
            entry["apiKey"] = ref(key_name)
        elif settings.has("AI_GATEWAY_API_KEY"):
            entry["apiKey"] = ref("AI_GATEWAY_API_KEY")
        if settings.has("AI_GATEWAY_API_KEY"):
            entry["headers"] = {"cf-aig-authorization": "Bearer " + ref("AI_GATEWAY_API_KEY")}
    else:
        provider_id = provider
        entry = {"apiKey": ref(key_name)} if settings.has(key_name) else {}
    section: JsonObject = {"agents": {"defaults": {"model": {"primary": f"{provider_id}/{model}"}}}}
    if entry:
        section["models"] = {"providers": {provider_id: entry}}
    return section, provider_id


def render(settings: Settings) -> JsonObject:
    """The managed part of openclaw.json for this environment (no overrides, no user keys)."""
    if not settings.gateway_token_set:
        raise ConfigError("OPENCLAW_GATEWAY_TOKEN is required (the gateway's auth token)")
    gateway: JsonObject = {
        "mode": "local",
        "port": settings.gateway_port,
        "bind": settings.gateway_bind,
        "auth": {"mode": "token", "token": ref("OPENCLAW_GATEWAY_TOKEN")},
        "trustedProxies": list(TRUSTED_PROXIES),
    }
    worker_url = settings.get("WORKER_URL")
    if worker_url:
        parts = urlsplit(worker_url)
        if parts.scheme in {"http", "https"} and parts.netloc:
            gateway["controlUi"] = {"allowedOrigins": [f"{parts.scheme}://{parts.netloc}"]}
    config: JsonObject = {"gateway": gateway}
    model_section, _ = _model_section(settings)
    deep_merge(config, model_section)
    channels = channel_config.blocks(settings)
    if channels:
        config["channels"] = channels
        external = channel_config.EXTERNAL_PLUGIN_CHANNELS
        entries = {name: {"enabled": True} for name in external if name in channels}
        if entries:
            config["plugins"] = {"entries": entries}
    return config


def overrides(settings: Settings) -> JsonObject:
    raw = settings.get("OPENCLAW_CONFIG_OVERRIDES")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"OPENCLAW_CONFIG_OVERRIDES is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ConfigError("OPENCLAW_CONFIG_OVERRIDES must be a JSON object")
    return value


def deep_merge(base: JsonObject, extra: Mapping[str, Any]) -> JsonObject:
    """Merge `extra` into `base` in place: objects merge, everything else replaces."""
    for key, value in extra.items():
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            deep_merge(current, value)
        else:
            base[key] = json.loads(json.dumps(value))
    return base


def leaf_paths(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of every non-object value (an empty object counts as a leaf)."""
    for key, value in tree.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, path)
        else:
            yield path


def remove_path(tree: JsonObject, path: tuple[str, ...]) -> None:
    """Delete `path` and any parent objects that become empty because of it."""
    parents: list[tuple[JsonObject, str]] = []
    node: Any = tree
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return
        parents.append((node, key))
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, key in reversed(parents):
        if parent[key] == {}:
            del parent[key]
        else:
            break


def scrub_secrets(value: Any, env: Mapping[str, str]) -> Any:
    """Replace any literal secret value (e.g. pasted into overrides) with its ${NAME} reference."""
    secrets = sorted(
        ((name, env.get(name, "").strip()) for name in SECRET_ENV_NAMES),
        key=lambda item: -len(item[1]),
    )
    secrets = [(name, secret) for name, secret in secrets if len(secret) >= 6]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            for name, secret in secrets:
                node = node.replace(secret, ref(name))
            return node
        return node

    return walk(value)


@dataclass
class WriteResult:
    path: Path
    changed: bool
    managed_paths: list[list[str]]
    overrides_applied: bool
    valid: bool | None = None
    issues: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    validation: str = "skipped"
    """ran | cached (the same inputs validated before) | skipped (check=False)."""


def _managed_record(settings: Settings) -> Path:
    return settings.edge_dir / "managed-config-paths.json"


def build(settings: Settings, *, with_overrides: bool = True) -> tuple[JsonObject, list[list[str]]]:
    """Existing file minus last boot's managed paths, plus this boot's managed config."""
    existing = read_json(settings.config_path)
    config: JsonObject = existing if isinstance(existing, dict) else {}
    previous = read_json(_managed_record(settings))
    stale: list[tuple[str, ...]] = list(MANAGED_PATHS)
    if isinstance(previous, list):
        stale += [tuple(str(part) for part in item) for item in previous if isinstance(item, list)]
    for path in stale:
        remove_path(config, path)
    managed = render(settings)
    extra = overrides(settings) if with_overrides else {}
    section = config.get("plugins")
    users_file_list = isinstance(section, dict) and isinstance(section.get("allow"), list)
    deep_merge(config, managed)
    deep_merge(config, extra)
    paths = {*leaf_paths(managed), *leaf_paths(extra)}
    allow = plugin_allowlist(settings, config)
    if allow is not None:
        config.setdefault("plugins", {})["allow"] = allow
        extra_section = extra.get("plugins")
        from_overrides = isinstance(extra_section, Mapping) and "allow" in extra_section
        if from_overrides or not users_file_list:
            paths.add(("plugins", "allow"))  # ours (or the overrides'): rewritten every boot
    written = [list(path) for path in sorted(paths)]
    return scrub_secrets(config, settings.env), written


def _validate(settings: Settings, env: Mapping[str, str], result: WriteResult) -> WriteResult:
    verdict = config_validation.check(settings, env, result.path)
    result.valid, result.issues, result.warnings = verdict.valid, verdict.issues, verdict.warnings
    result.validation = verdict.validation
    return result


def write(
    settings: Settings, env: Mapping[str, str] | None = None, *, check: bool = True
) -> WriteResult:
    """Link the image's channel plugins, render, write (only when the content changed) and
    validate openclaw.json (skipped when the inputs equal those of the last successful
    validation, see validation_key).

    If OPENCLAW_CONFIG_OVERRIDES make the file invalid, the file is written again without them
    so the gateway still starts; the result carries the validation issues either way.
    """
    plugins.link(settings)
    previous_text = (
        settings.config_path.read_text(encoding="utf-8") if settings.config_path.exists() else None
    )
    result = _write_once(settings, with_overrides=True, previous_text=previous_text)
    if not check:
        return result
    result = _validate(settings, env or settings.env, result)
    if not result.valid and result.overrides_applied:
        first_issues = result.issues
        result = _write_once(settings, with_overrides=False, previous_text=previous_text)
        result = _validate(settings, env or settings.env, result)
        result.issues = [f"overrides dropped: {issue}" for issue in first_issues] + result.issues
    return result


def _write_once(
    settings: Settings, *, with_overrides: bool, previous_text: str | None
) -> WriteResult:
    config, managed_paths = build(settings, with_overrides=with_overrides)
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    changed = text != previous_text
    current = (
        settings.config_path.read_text(encoding="utf-8") if settings.config_path.exists() else None
    )
    if text != current:
        atomic_write(settings.config_path, text)
    record = json.dumps(managed_paths, indent=1) + "\n"
    record_path = _managed_record(settings)
    if not record_path.exists() or record_path.read_text(encoding="utf-8") != record:
        atomic_write(record_path, record)
    return WriteResult(
        path=settings.config_path,
        changed=changed,
        managed_paths=managed_paths,
        overrides_applied=with_overrides and bool(overrides(settings)),
    )
