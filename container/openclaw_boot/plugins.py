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
