"""Channel plugins baked into the image, made visible to OpenClaw after every restore.

The image installs `@openclaw/discord` and `@openclaw/slack` with OpenClaw's own managed npm
install into OPENCLAW_EDGE_PLUGIN_DIR (`/opt/openclaw-edge/plugins/npm`, see container/Dockerfile).
OpenClaw looks for managed npm plugins under `~/.openclaw/npm/projects/*` and rebuilds their
install records from those projects when its own index lacks them (OpenClaw 2026.9.6
`dist/installed-plugin-index-record-reader-*.mjs`, `mergeRecoveredManagedNpmInstallRecords`),
so a link `~/.openclaw/npm -> OPENCLAW_EDGE_PLUGIN_DIR` is all a fresh or restored state needs:
the plugins load as trusted official installs, nothing is installed at start, and snapshots
carry only the link (restic stores symlinks as symlinks), never plugin code.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .settings import Settings

log = logging.getLogger("openclaw-edge.plugins")

PLUGIN_DIR_ENV = "OPENCLAW_EDGE_PLUGIN_DIR"


@dataclass(frozen=True)
class InstalledPlugin:
    package: str
    version: str
    path: Path


def plugin_dir(settings: Settings) -> Path | None:
    raw = settings.get(PLUGIN_DIR_ENV)
    return Path(raw) if raw else None


def installed(root: Path | None) -> list[InstalledPlugin]:
    """Plugin packages in the image's managed npm projects (package name, version)."""
    if root is None:
        return []
    found: list[InstalledPlugin] = []
    for project in sorted((root / "projects").glob("*")):
        try:
            wanted = json.loads((project / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        dependencies = wanted.get("dependencies") if isinstance(wanted, dict) else None
        for package in sorted(dependencies if isinstance(dependencies, dict) else {}):
            manifest = project / "node_modules" / package / "package.json"
            if not (project / "node_modules" / package / "openclaw.plugin.json").is_file():
                continue  # a dependency OpenClaw pins next to the plugin, not a plugin
            try:
                version = str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
            except (OSError, ValueError, KeyError):
                continue
            found.append(InstalledPlugin(package, version, manifest.parent))
    return found


def link(settings: Settings) -> Path | None:
    """Point `~/.openclaw/npm` at the image's plugin root; returns the link target (or None).

    Anything else found there (a real directory from a snapshot of an older image, whose
    `node_modules` were never backed up) is moved aside to the per-container run dir.
    """
    root = plugin_dir(settings)
    if root is None:
        return None
    if not root.is_dir():
        log.error("%s=%s does not exist: channel plugins are unavailable", PLUGIN_DIR_ENV, root)
        return None
    target = settings.openclaw_dir / "npm"
    if target.is_symlink() and Path(os.readlink(target)) == root:
        return root
    settings.openclaw_dir.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        aside = settings.run_dir / f"npm-replaced-{time.strftime('%Y%m%dT%H%M%S')}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), str(aside))
        log.warning("moved the old %s aside to %s: plugins come from the image", target, aside)
    target.symlink_to(root, target_is_directory=True)
    log.info("channel plugins: %s -> %s", target, root)
    return root


# --- plugin manifests (for the plugins.allow the boot code derives, config.plugin_allowlist) ----


@dataclass(frozen=True)
class Manifest:
    """What an `openclaw.plugin.json` says about when the plugin is needed (OpenClaw 2026.9.6
    manifests: `id`, `categories`, `enabledByDefault`, `kind`, `providers`, `channels`,
    `setup.providers[].envVars`, `activation.onConfigPaths`)."""

    id: str
    categories: frozenset[str]
    enabled_by_default: bool
    kind: str | None
    providers: frozenset[str]
    channels: frozenset[str]
    env_vars: frozenset[str]
    config_paths: tuple[str, ...]


def _manifest(path: Path) -> Manifest | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None

    def strings(value: object) -> list[str]:
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    setup = raw.get("setup")
    setup_providers = setup.get("providers") if isinstance(setup, dict) else None
    env_vars = [
        name
        for provider in (setup_providers if isinstance(setup_providers, list) else [])
        if isinstance(provider, dict)
        for name in strings(provider.get("envVars"))
    ]
    activation = raw.get("activation")
    config_paths = activation.get("onConfigPaths") if isinstance(activation, dict) else None
    return Manifest(
        id=raw["id"],
        categories=frozenset(strings(raw.get("categories"))),
        enabled_by_default=raw.get("enabledByDefault") is True,
        kind=raw.get("kind") if isinstance(raw.get("kind"), str) else None,
        providers=frozenset(strings(raw.get("providers"))),
        channels=frozenset(strings(raw.get("channels"))),
        env_vars=frozenset(env_vars),
        config_paths=tuple(strings(config_paths)),
    )


def manifests(openclaw_package: Path | None, root: Path | None) -> list[Manifest]:
    """The bundled plugins' manifests (`<openclaw>/dist/extensions/*/openclaw.plugin.json`)
    and those of the image's channel plugins."""
    paths: list[Path] = []
    if openclaw_package is not None:
        paths += sorted((openclaw_package / "dist" / "extensions").glob("*/openclaw.plugin.json"))
    paths += [plugin.path / "openclaw.plugin.json" for plugin in installed(root)]
    found = [_manifest(path) for path in paths]
    return [item for item in found if item is not None]


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
