"""Where the reference wrote its state: detect the layout in the bucket, plan each object's target.

The layouts themselves are described in the package docstring (legacy_import/__init__.py).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..r2 import R2Client, R2Error, S3Object
from ..settings import Settings

LAYOUT_RCLONE = "moltworker-rclone"
LAYOUT_CLAWDBOT = "moltworker-clawdbot"
LAYOUT_SDK = "moltworker-sdk-backup"
WORKSPACE = ".openclaw/workspace"
SKIP_SUFFIXES = (".lock", ".log", ".tmp", ".pid", ".sock")
SKIP_SEGMENTS = frozenset({".git", "node_modules", ".cache", "__pycache__"})
NOT_STATE_DIRS = ("logs", "cache", "tmp", "browser")  # below the config dir
MARKERS = frozenset({".last-sync", ".migrated-prefixes"})


@dataclass
class Entry:
    """One legacy object: where it goes (or why not), and what it was when read."""

    key: str
    size: int
    etag: str
    last_modified: str
    target: str | None = None
    reason: str | None = None

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "size": self.size, "etag": self.etag}
        if self.target:
            out["target"] = self.target
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Found:
    layout: str
    entries: list[Entry]
    """Every object of the chosen layout (imported or deliberately skipped)."""
    last_sync: str | None
    last_sync_marker: str | None = None
    archive: Entry | None = None
    other_layouts: list[dict[str, Any]] = field(default_factory=list)
    old_workspace: str | None = None
    tree_skipped: list[dict[str, str]] = field(default_factory=list)
    """Files of an SDK archive that were not imported, with the reason."""


# ---- detection ---------------------------------------------------------------------------------


def client_for(settings: Settings) -> R2Client | None:
    env = settings.env
    bucket = settings.get("R2_BUCKET_NAME")
    endpoint = settings.get("R2_ENDPOINT").rstrip("/")
    account = settings.get("CF_ACCOUNT_ID")
    if not endpoint and account:
        endpoint = f"https://{account}.r2.cloudflarestorage.com"
    key_id, secret = settings.get("R2_ACCESS_KEY_ID"), settings.get("R2_SECRET_ACCESS_KEY")
    if not (bucket and endpoint and key_id and secret):
        return None
    region = env.get("AWS_DEFAULT_REGION", "").strip() or "auto"
    return R2Client(endpoint, bucket, key_id, secret, region=region)


def _entries(client: R2Client, prefix: str) -> list[Entry]:
    return [
        Entry(o.key, o.size, o.etag, o.last_modified)
        for o in client.list(prefix)
        if not o.key.endswith("/")  # s3fs directory markers
    ]


def _newest(entries: Iterable[Entry]) -> str | None:
    times = [e.last_modified for e in entries if e.last_modified]
    return max(times) if times else None


def detect(client: R2Client) -> Found | None:
    """The newest reference layout in the bucket, or None. Raises R2Error when unreachable."""
    candidates: list[Found] = []
    config_dir = _entries(client, "openclaw/")
    clawdbot_dir = _entries(client, "clawdbot/")
    shared = _entries(client, "workspace/") + _entries(client, "skills/")
    marker = client.head(".last-sync")
    marker_text = None
    if marker is not None:
        with contextlib.suppress(R2Error, UnicodeDecodeError):
            marker_text = client.get(".last-sync", limit=256).decode().strip() or None
    marker_entry = (
        [Entry(marker.key, marker.size, marker.etag, marker.last_modified)] if marker else []
    )
    # start-openclaw.sh restore precedence: openclaw/openclaw.json, else clawdbot/clawdbot.json.
    if any(e.key == "openclaw/openclaw.json" for e in config_dir):
        entries = config_dir + shared + marker_entry
        candidates.append(Found(LAYOUT_RCLONE, entries, _newest(entries), marker_text))
    elif any(e.key == "clawdbot/clawdbot.json" for e in clawdbot_dir):
        entries = clawdbot_dir + shared + marker_entry
        candidates.append(Found(LAYOUT_CLAWDBOT, entries, _newest(entries), marker_text))
    handle = client.head("backup-handle.json")
    if handle is not None:
        candidates.append(_sdk_found(client, handle))
    if not candidates:
        return None
    candidates.sort(key=lambda f: f.last_sync or "", reverse=True)
    chosen = candidates[0]
    chosen.other_layouts = [
        {"layout": f.layout, "last_sync": f.last_sync, "objects": len(f.entries)}
        for f in candidates[1:]
    ]
    if chosen.layout != LAYOUT_CLAWDBOT and clawdbot_dir:
        chosen.other_layouts.append(
            {
                "layout": LAYOUT_CLAWDBOT,
                "last_sync": _newest(clawdbot_dir),
                "objects": len(clawdbot_dir),
            }
        )
    return chosen


def _sdk_found(client: R2Client, handle: S3Object) -> Found:
    entries = [Entry(handle.key, handle.size, handle.etag, handle.last_modified)]
    try:
        value = json.loads(client.get(handle.key, limit=64 * 1024))
        backup_id = str(value["id"])
    except (ValueError, KeyError, TypeError, R2Error):
        found = Found(LAYOUT_SDK, entries, handle.last_modified)
        found.archive = None
        return found
    if not re.fullmatch(r"[0-9a-fA-F-]{36}", backup_id):
        return Found(LAYOUT_SDK, entries, handle.last_modified)
    prefix = f"backups/{backup_id}/"
    objects = _entries(client, prefix)
    entries += objects
    needed = client.head("restore-needed")
    if needed is not None:
        entries.append(Entry(needed.key, needed.size, needed.etag, needed.last_modified))
    created: str | None = None
    meta = next((e for e in objects if e.key == prefix + "meta.json"), None)
    if meta is not None:
        with contextlib.suppress(ValueError, R2Error, TypeError):
            created = str(json.loads(client.get(meta.key, limit=64 * 1024)).get("createdAt"))
    found = Found(LAYOUT_SDK, entries, created or handle.last_modified)
    found.archive = next((e for e in objects if e.key == prefix + "data.sqsh"), None)
    return found


# ---- where each object goes ---------------------------------------------------------------------


def _skip_reason(parts: tuple[str, ...]) -> str | None:
    name = parts[-1]
    if any(p in SKIP_SEGMENTS for p in parts):
        return "not state (.git, node_modules, caches)"
    if name.endswith(SKIP_SUFFIXES):
        return "not state (lock, log, temporary file)"
    return None


def _config_rel_reason(rel: tuple[str, ...]) -> str | None:
    """Skip reasons for paths inside the config directory (relative to it)."""
    name = rel[-1]
    if rel[0] in NOT_STATE_DIRS:
        return "not state (logs, caches)"
    if name in MARKERS:
        return "sync marker of the reference"
    if re.fullmatch(r"(openclaw|clawdbot|moltbot)\.json\.bak(\.\d+)?", name) or name == ".env":
        return "credentials: old config backup with secrets in plain text"
    if rel[0] == "agents" and name in {"auth-profiles.json", "auth.json", "models.json"}:
        return "credentials: API keys in plain text (the stack's secrets replace them)"
    if rel[0] == "credentials" and not re.search(r"(allowfrom|pairing)", name, re.IGNORECASE):
        return "credentials: sign-in material is not imported"
    return None


def plan_prefixed(found: Found) -> None:
    """Targets for the rclone/clawdbot layouts (key prefixes → HOME-relative paths)."""
    config_prefix = "openclaw/" if found.layout == LAYOUT_RCLONE else "clawdbot/"
    clawd_is_workspace = _clawd_is_workspace(found.old_workspace)
    claimed: dict[str, Entry] = {}

    def priority(entry: Entry) -> int:
        """The active workspace first, so its files win a name clash with the inactive one."""
        from_clawd = entry.key.startswith(("workspace/", "skills/"))
        from_config_workspace = entry.key.startswith(config_prefix + "workspace/")
        active = from_clawd if clawd_is_workspace else not from_clawd
        return 0 if active or not (from_clawd or from_config_workspace) else 1

    ordered = sorted(found.entries, key=priority)
    for entry in ordered:
        parts = tuple(PurePosixPath(entry.key).parts)
        if entry.key in MARKERS:
            entry.reason = "sync marker of the reference"
            continue
        reason = _skip_reason(parts)
        target: str | None = None
        if reason is None and entry.key.startswith(config_prefix):
            rel = parts[1:]
            reason = _config_rel_reason(rel)
            if reason is None:
                if len(rel) == 1 and rel[0] == "clawdbot.json":
                    rel = ("openclaw.json",)
                target = str(PurePosixPath(".openclaw", *rel))
        elif reason is None and entry.key.startswith("workspace/"):
            target = str(PurePosixPath(WORKSPACE, *parts[1:]))
        elif reason is None and entry.key.startswith("skills/"):
            target = str(PurePosixPath(WORKSPACE, "skills", *parts[1:]))
        if target is not None and target in claimed:
            target = str(PurePosixPath(".openclaw-edge/state/legacy-import/conflicts", entry.key))
        entry.reason = reason
        entry.target = target
        if target is not None:
            claimed[target] = entry


def _clawd_is_workspace(old_workspace: str | None) -> bool:
    """Was /root/clawd (or /home/openclaw/clawd) the agent workspace? (clawdbot-era template)"""
    return bool(old_workspace) and str(old_workspace).rstrip("/").endswith("/clawd")


def plan_tree(stage_root: Path, old_workspace: str | None) -> list[tuple[Path, str | None, str]]:
    """Targets for an extracted /home/openclaw tree: (source, target or None, reason)."""
    out: list[tuple[Path, str | None, str]] = []
    clawd_is_workspace = _clawd_is_workspace(old_workspace)
    claimed: set[str] = set()
    files = sorted(p for p in stage_root.rglob("*") if p.is_file() and not p.is_symlink())
    files.sort(
        key=lambda p: int((p.relative_to(stage_root).parts[0] == "clawd") != clawd_is_workspace)
    )
    for path in files:
        parts = path.relative_to(stage_root).parts
        reason = _skip_reason(parts)
        target: str | None = None
        if reason is None and parts[0] == ".openclaw" and len(parts) > 1:
            reason = _config_rel_reason(parts[1:])
            if reason is None:
                target = str(PurePosixPath(*parts))
        elif reason is None and parts[0] == "clawd" and len(parts) > 1:
            target = str(PurePosixPath(WORKSPACE, *parts[1:]))
        elif reason is None:
            reason = "outside the OpenClaw state (not imported)"
        if target is not None and target in claimed:
            target = str(PurePosixPath(".openclaw-edge/state/legacy-import/conflicts", *parts))
        if target is not None:
            claimed.add(target)
        out.append((path, target, reason or ""))
    return out
