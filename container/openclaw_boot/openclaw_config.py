"""Declarative ~/.openclaw/openclaw.json: rendered from environment on every boot.

The boot code owns a fixed set of key paths (MANAGED_PATHS) plus every path it wrote from
OPENCLAW_CONFIG_OVERRIDES last time. Each boot removes those paths from the existing file and
writes them again from the current environment, so a removed provider or channel disappears,
while keys a user (or OpenClaw itself) added elsewhere are kept. Secrets are written as
`${VAR}` references that OpenClaw substitutes at load time; the file never holds a secret.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import compile_cache, plugins
from .settings import BACKUP_ONLY_ENV_NAMES, SECRET_ENV_NAMES, Settings, split_list

JsonObject = dict[str, Any]

AI_GATEWAY_PROVIDER = {"anthropic": "cf-ai-gateway-anthropic", "openai": "cf-ai-gateway-openai"}
DEFAULT_MODEL = {"anthropic": "claude-sonnet-5", "openai": "gpt-5.4"}
DM_POLICIES = ("pairing", "allowlist", "open", "disabled")
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
    ("channels", "discord", "enabled"),
    ("channels", "discord", "token"),
    ("channels", "discord", "dmPolicy"),
    ("channels", "discord", "allowFrom"),
    ("channels", "discord", "groupPolicy"),
    ("channels", "telegram", "enabled"),
    ("channels", "telegram", "botToken"),
    ("channels", "telegram", "dmPolicy"),
    ("channels", "telegram", "allowFrom"),
    ("channels", "telegram", "apiRoot"),
    ("channels", "slack", "enabled"),
    ("channels", "slack", "mode"),
    ("channels", "slack", "botToken"),
    ("channels", "slack", "appToken"),
    ("channels", "slack", "dmPolicy"),
    ("channels", "slack", "allowFrom"),
    ("plugins", "entries", "discord", "enabled"),
    ("plugins", "entries", "slack", "enabled"),
)
CHANNELS = ("discord", "telegram", "slack")
# Channels whose plugin is installed separately (config/plugins.py); Telegram is bundled.
# OpenClaw loads such a plugin for a configured channel only when `plugins.entries.<id>.enabled`
# is true ("channel is configured, but external plugin "discord" is installed without explicit
# trust. Add plugins.entries.discord.enabled=true.", gateway log of 2026.9.6).
EXTERNAL_PLUGIN_CHANNELS = ("discord", "slack")


class ConfigError(ValueError):
    """The environment describes a configuration the boot code refuses to write."""


def ref(name: str) -> str:
    """An OpenClaw env substitution reference."""
    return "${" + name + "}"


def _dm_policy(settings: Settings, name: str, allow_from: list[str]) -> str:
    raw = settings.get(name).lower()
    if not raw:
        return "allowlist" if allow_from else "pairing"
    if raw not in DM_POLICIES:
        raise ConfigError(f"{name} must be one of {', '.join(DM_POLICIES)}, got {raw!r}")
    return raw


def _allow_from(policy: str, ids: list[str]) -> list[str] | None:
    if policy == "open":
        return ["*"]
    return ids or None


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


def _channels(settings: Settings) -> JsonObject:
    """channels.* in the shapes the plugins' schemas define (openclaw.plugin.json
    channelConfigs of @openclaw/discord, @openclaw/slack and the bundled telegram): top-level
    `dmPolicy`/`allowFrom`, Discord guilds as `guilds.<id>.{requireMention, users}`."""
    channels: JsonObject = {}
    if settings.has("DISCORD_BOT_TOKEN"):
        ids = split_list(settings.get("DISCORD_ALLOWED_USER_IDS"))
        policy = _dm_policy(settings, "DISCORD_DM_POLICY", ids)
        discord: JsonObject = {
            "enabled": True,
            "token": ref("DISCORD_BOT_TOKEN"),
            "dmPolicy": policy,
            # OpenClaw's own secure default, written out so the file says what happens.
            "groupPolicy": "allowlist",
        }
        allow = _allow_from(policy, ids)
        if allow:
            discord["allowFrom"] = allow
        guilds = split_list(settings.get("DISCORD_GUILD_IDS"))
        if guilds:
            # Mentions only; in a guild the DM allowlist (if any) also decides who is heard.
            guild: JsonObject = {"requireMention": True, **({"users": ids} if ids else {})}
            discord["guilds"] = {guild_id: dict(guild) for guild_id in guilds}
        channels["discord"] = discord
    if settings.has("TELEGRAM_BOT_TOKEN"):
        ids = split_list(settings.get("TELEGRAM_DM_ALLOW_FROM"))
        policy = _dm_policy(settings, "TELEGRAM_DM_POLICY", ids)
        telegram: JsonObject = {
            "enabled": True,
            "botToken": ref("TELEGRAM_BOT_TOKEN"),
            "dmPolicy": policy,
        }
        allow = _allow_from(policy, ids)
        if allow:
            telegram["allowFrom"] = allow
        if settings.has("TELEGRAM_API_ROOT"):  # local Bot API stand-in (dev/telegram.py)
            telegram["apiRoot"] = settings.get("TELEGRAM_API_ROOT")
        channels["telegram"] = telegram
    if settings.has("SLACK_BOT_TOKEN") and settings.has("SLACK_APP_TOKEN"):
        channels["slack"] = {
            "enabled": True,
            "mode": "socket",
            "botToken": ref("SLACK_BOT_TOKEN"),
            "appToken": ref("SLACK_APP_TOKEN"),
        }
    return channels


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
    channels = _channels(settings)
    if channels:
        config["channels"] = channels
        entries = {name: {"enabled": True} for name in EXTERNAL_PLUGIN_CHANNELS if name in channels}
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def build(settings: Settings, *, with_overrides: bool = True) -> tuple[JsonObject, list[list[str]]]:
    """Existing file minus last boot's managed paths, plus this boot's managed config."""
    existing = _read_json(settings.config_path)
    config: JsonObject = existing if isinstance(existing, dict) else {}
    previous = _read_json(_managed_record(settings))
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


# --- plugins.allow ------------------------------------------------------------------------------
# OpenClaw loads every bundled plugin that is enabled by default unless `plugins.allow` lists the
# ones to load. The boot code writes that list from the plugins' own manifests and the config it
# just built: everything enabled by default except model/media/voice provider plugins the config
# does not use and whose key is not in the environment; plus every configured channel's plugin,
# every provider the config names, anthropic and openai (the stack's providers), every
# `plugins.entries.<id>` not disabled, every `plugins.slots` choice and every plugin activated by
# a config path that is present. A `plugins.allow` from the user (overrides or the file) stays,
# with the configured channels' and providers' plugins added. Opt-in (OPENCLAW_EDGE_PLUGIN_
# ALLOWLIST=on): in `make bench` it did not shorten the cold start or lower the memory beyond the
# noise (docs/benchmarks.md), so by default none is written (OpenClaw's default set loads).
ALLOWLIST_ENV = "OPENCLAW_EDGE_PLUGIN_ALLOWLIST"
PROVIDER_CATEGORIES = frozenset({"models", "media", "voice"})
STACK_PROVIDERS = ("anthropic", "openai")


def _has_path(tree: Mapping[str, Any], dotted: str) -> bool:
    node: Any = tree
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def _used_providers(config: Mapping[str, Any]) -> set[str]:
    used: set[str] = set(STACK_PROVIDERS)
    models = config.get("models")
    providers = models.get("providers") if isinstance(models, Mapping) else None
    if isinstance(providers, Mapping):
        used.update(str(name) for name in providers)
    agents = config.get("agents")
    defaults = agents.get("defaults") if isinstance(agents, Mapping) else None
    model = defaults.get("model") if isinstance(defaults, Mapping) else None
    refs: list[Any] = []
    if isinstance(model, str):
        refs.append(model)
    elif isinstance(model, Mapping):
        refs.append(model.get("primary"))
        fallbacks = model.get("fallbacks")
        refs += fallbacks if isinstance(fallbacks, list) else []
    used.update(ref.split("/", 1)[0] for ref in refs if isinstance(ref, str) and "/" in ref)
    return used


def _configured_channels(config: Mapping[str, Any]) -> set[str]:
    channels = config.get("channels")
    if not isinstance(channels, Mapping):
        return set()
    return {
        str(name)
        for name, block in channels.items()
        if not (isinstance(block, Mapping) and block.get("enabled") is False)
    }


def required_plugins(
    config: Mapping[str, Any], manifests: list[plugins.Manifest], env: Mapping[str, str]
) -> set[str]:
    """Plugin ids the config cannot do without: its channels' and providers' plugins, entries
    not disabled, slot choices (never left out of any allowlist)."""
    channels, providers = _configured_channels(config), _used_providers(config)
    needed = set(channels) | set(STACK_PROVIDERS)
    for manifest in manifests:
        if manifest.channels & channels or manifest.providers & providers:
            needed.add(manifest.id)
    section = config.get("plugins")
    section = section if isinstance(section, Mapping) else {}
    entries = section.get("entries")
    if isinstance(entries, Mapping):
        for name, entry in entries.items():
            if not (isinstance(entry, Mapping) and entry.get("enabled") is False):
                needed.add(str(name))
    slots = section.get("slots")
    if isinstance(slots, Mapping):
        needed.update(value for value in slots.values() if isinstance(value, str) and value)
    return needed


def default_plugins(
    config: Mapping[str, Any], manifests: list[plugins.Manifest], env: Mapping[str, str]
) -> set[str]:
    """OpenClaw's enabled-by-default set minus the provider plugins nothing here uses."""
    providers = _used_providers(config)
    chosen: set[str] = {"memory-core"}  # the default `memory` slot (kind: memory)
    for manifest in manifests:
        if any(_has_path(config, path) for path in manifest.config_paths):
            chosen.add(manifest.id)
            continue
        if not manifest.enabled_by_default:
            continue
        provider_plugin = bool(manifest.categories & PROVIDER_CATEGORIES)
        used = bool(manifest.providers & providers) or any(env.get(n) for n in manifest.env_vars)
        keyless = not manifest.providers and not manifest.env_vars  # e.g. Edge TTS, talk-voice
        if not provider_plugin or used or keyless:
            chosen.add(manifest.id)
    return chosen


def plugin_allowlist(settings: Settings, config: Mapping[str, Any]) -> list[str] | None:
    """The `plugins.allow` to write, or None to leave the key as it is (not switched on, or no
    manifests found: never guess an allowlist)."""
    if settings.get(ALLOWLIST_ENV).lower() != "on":
        return None
    found = plugins.manifests(openclaw_package(settings), plugins.plugin_dir(settings))
    if not found:
        return None
    needed = required_plugins(config, found, settings.env)
    section = config.get("plugins")
    current = section.get("allow") if isinstance(section, Mapping) else None
    if isinstance(current, list):  # the user's own list: kept, never missing what is needed
        return [*current, *sorted(needed - {str(item) for item in current})]
    return sorted(needed | default_plugins(config, found, settings.env))


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def validate(
    settings: Settings, env: Mapping[str, str], timeout: float = 60
) -> tuple[bool, list[str], list[str]]:
    """Run the real `openclaw config validate --json`; (valid, issues, warnings)."""
    child_env = compile_cache.child_env(
        {k: v for k, v in env.items() if k not in BACKUP_ONLY_ENV_NAMES}
    )
    try:
        proc = subprocess.run(
            [settings.openclaw_bin, "config", "validate", "--json"],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, [f"openclaw config validate could not run: {type(exc).__name__}"], []
    try:
        start = proc.stdout.index("{")
        result = json.loads(proc.stdout[start:])
    except ValueError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return False, [f"openclaw config validate exited {proc.returncode}: {' '.join(tail)}"], []
    issues = [f"{item.get('path')}: {item.get('message')}" for item in result.get("issues", [])]
    warnings = [f"{item.get('path')}: {item.get('message')}" for item in result.get("warnings", [])]
    return bool(result.get("valid")), issues, warnings


# --- validation cache -------------------------------------------------------------------------
# `openclaw config validate` is a second full OpenClaw CLI start (3-6 s of every boot, see
# docs/benchmarks.md). Its verdict depends only on the file's text, the OpenClaw release, the
# plugins whose schemas judge the channel blocks, and which referenced ${VAR}s are set, so a
# boot whose inputs hash to the key of the last *successful* validation skips it. Only a valid
# file is ever recorded: a bad override changes the text, misses the cache and fails loudly on
# every boot. The last VALIDATED_KEEP valid keys are kept. OPENCLAW_EDGE_CONFIG_VALIDATION=always
# validates on every boot regardless.
VALIDATION_ENV = "OPENCLAW_EDGE_CONFIG_VALIDATION"
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _validated_record(settings: Settings) -> Path:
    return settings.edge_dir / "validated-config.json"


def openclaw_package(settings: Settings) -> Path | None:
    """The installed `openclaw` package directory behind OPENCLAW_BIN (a symlink into it)."""
    found = shutil.which(settings.openclaw_bin, path=settings.env.get("PATH"))
    if found is None:
        return None
    directory = Path(os.path.realpath(found)).parent
    for candidate in (directory, *directory.parents):
        manifest = candidate / "package.json"
        if manifest.is_file():
            try:
                if json.loads(manifest.read_text(encoding="utf-8")).get("name") == "openclaw":
                    return candidate
            except (OSError, ValueError, AttributeError):
                return None
            return None
    return None


def validation_key(settings: Settings, text: str) -> str:
    """Hash of everything `openclaw config validate` judges `text` with (never a secret value:
    only whether each referenced variable is set)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    package = openclaw_package(settings)
    if package is not None:  # its package.json names the release (npm's mtimes are all equal)
        manifest = hashlib.sha256((package / "package.json").read_bytes()).hexdigest()
        digest.update(f"\0openclaw {package} {manifest}".encode())
    else:
        digest.update(f"\0openclaw-bin {settings.openclaw_bin}".encode())
    for plugin in plugins.installed(plugins.plugin_dir(settings)):
        digest.update(f"\0plugin {plugin.package}@{plugin.version} {plugin.path}".encode())
    for name in sorted(set(REFERENCE.findall(text))):
        digest.update(f"\0env {name}={'set' if settings.env.get(name) else 'unset'}".encode())
    return digest.hexdigest()


VALIDATED_KEEP = 4
"""Valid configurations remembered (switching an override off and on again costs nothing)."""


def _validated(settings: Settings) -> dict[str, list[str]]:
    """key → warnings of the last VALIDATED_KEEP successful validations (oldest first)."""
    try:
        record = _read_json(_validated_record(settings))
    except (OSError, ValueError):
        return {}
    entries = record.get("valid") if isinstance(record, dict) else None
    if not isinstance(entries, list):
        return {}
    found: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            warnings = entry.get("warnings")
            found[entry["key"]] = [str(w) for w in warnings] if isinstance(warnings, list) else []
    return found


def _cached_warnings(settings: Settings, key: str) -> list[str] | None:
    """The warnings of a successful validation with key `key`, else None."""
    if settings.get(VALIDATION_ENV).lower() == "always":
        return None
    return _validated(settings).get(key)


def _remember_valid(settings: Settings, key: str, warnings: list[str]) -> None:
    known = _validated(settings)
    known.pop(key, None)
    known[key] = warnings
    kept = list(known.items())[-VALIDATED_KEEP:]
    entries = [{"key": k, "warnings": w} for k, w in kept]
    atomic_write(_validated_record(settings), json.dumps({"valid": entries}, indent=1) + "\n")


def _validate_cached(
    settings: Settings, env: Mapping[str, str], result: WriteResult
) -> WriteResult:
    text = result.path.read_text(encoding="utf-8")
    key = validation_key(settings, text)
    cached = _cached_warnings(settings, key)
    if cached is not None:
        result.valid, result.issues, result.warnings = True, [], cached
        result.validation = "cached"
        return result
    result.valid, result.issues, result.warnings = validate(settings, env)
    result.validation = "ran"
    if result.valid:
        _remember_valid(settings, key, result.warnings)
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
    result = _validate_cached(settings, env or settings.env, result)
    if not result.valid and result.overrides_applied:
        first_issues = result.issues
        result = _write_once(settings, with_overrides=False, previous_text=previous_text)
        result = _validate_cached(settings, env or settings.env, result)
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
