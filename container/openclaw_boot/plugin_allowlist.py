"""`plugins.allow` for openclaw.json, derived from the plugins' manifests and the config.

OpenClaw loads every bundled plugin that is enabled by default unless `plugins.allow` lists the
ones to load. The boot code writes that list from the plugins' own manifests and the config it
just built: everything enabled by default except model/media/voice provider plugins the config
does not use and whose key is not in the environment; plus every configured channel's plugin,
every provider the config names, anthropic and openai (the stack's providers), every
`plugins.entries.<id>` not disabled, every `plugins.slots` choice and every plugin activated by
a config path that is present. A `plugins.allow` from the user (overrides or the file) stays,
with the configured channels' and providers' plugins added. Opt-in (OPENCLAW_EDGE_PLUGIN_
ALLOWLIST=on): in `make bench` it did not shorten the cold start or lower the memory beyond the
noise (docs/benchmarks.md), so by default none is written (OpenClaw's default set loads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import plugins
from .settings import Settings

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
    found = plugins.manifests(plugins.openclaw_package(settings), plugins.plugin_dir(settings))
    if not found:
        return None
    needed = required_plugins(config, found, settings.env)
    section = config.get("plugins")
    current = section.get("allow") if isinstance(section, Mapping) else None
    if isinstance(current, list):  # the user's own list: kept, never missing what is needed
        return [*current, *sorted(needed - {str(item) for item in current})]
    return sorted(needed | default_plugins(config, found, settings.env))
