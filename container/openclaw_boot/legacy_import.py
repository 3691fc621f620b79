"""Moving in from cloudflare/moltworker: import its state from R2 on the first boot.

Runs when boot restore finds the restic repository empty (first boot) and the bucket holds a
layout the reference implementation wrote. It only reads the source; everything is staged,
checked and sanitised before anything lands in HOME, and the first snapshot is tagged
`imported-from=<layout>`. A failed or impossible import changes nothing in HOME, writes nothing to
the repository, turns on protection (snapshots of this boot are tagged `restore-failed`, so the
next boot tries again from the unchanged source) and says why in `status.import`.

The layouts, from the reference's own code (cloudflare/moltworker; facts, not code, carried over):

- `moltworker-rclone` (start-openclaw.sh and src/gateway/sync.ts from 95307a3, 2026-02-11, to
  aa5f75b; the s3fs+rsync version 12eb483..6ecc273 wrote the same prefixes plus `.last-sync`):
  `openclaw/` = /root/.openclaw minus `*.lock *.log *.tmp .git/**` (config with secrets in plain
  text, agents/*/sessions, devices; `openclaw onboard` also put the workspace inside it, at
  /root/.openclaw/workspace), `workspace/` = /root/clawd minus `skills/** .git/** node_modules/**`,
  `skills/` = /root/clawd/skills. The rclone era keeps its last-sync time in the container
  (/tmp/.last-sync), not in R2.
- `moltworker-clawdbot` (039ae24, 2026-01-26, to 9ab56d7^, clawdbot 2026.1.24-3): `clawdbot/` =
  /root/.clawdbot (clawdbot.json), `skills/`, and `.last-sync` (ISO time) at the bucket root. The
  rclone era's restore still falls back to `clawdbot/clawdbot.json` when `openclaw/openclaw.json`
  is missing, renaming clawdbot.json to openclaw.json; we follow the same precedence.
- `moltworker-sdk-backup` (src/persistence.ts, Dockerfile "v32-home-dir", 2026-03-26 on): one
  Sandbox SDK backup of /home/openclaw (HOME there; /root/.openclaw and /root/clawd are symlinks
  into it). `backup-handle.json` = {"id", "dir"}; the SDK stores `backups/<id>/data.sqsh` (a plain
  squashfs) and `backups/<id>/meta.json` ({id, dir, name, sizeBytes, ttl, createdAt}); TTL 7 days,
  enforced only by the SDK's restore (the objects stay until deleted). We read the archive
  directly with unsquashfs (squashfs-tools, installed by container/Dockerfile), so an expired
  TTL does not matter; a missing archive is reported as not importable, with what to do.

Where things land: the config directory in ~/.openclaw, the agent workspace in
~/.openclaw/workspace (OpenClaw's default; the old config's absolute workspace path is dropped),
skills in ~/.openclaw/workspace/skills. Secrets are never copied: the config's gateway, model
providers, channels, env and every secret-named key are dropped (the stack's secrets are written
as `${NAME}` references on every boot), credential files (auth profiles, the generated
models.json, config backups) are skipped, and any remaining occurrence of a dropped secret value
in another file is masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .config import atomic_write
from .gateway import gateway_env
from .r2 import R2Client, R2Error, S3Object
from .settings import SECRET_ENV_NAMES, Settings
from .status import Status, now_iso

if TYPE_CHECKING:
    from .backup import Backup

log = logging.getLogger("openclaw-edge.import")

LAYOUT_RCLONE = "moltworker-rclone"
LAYOUT_CLAWDBOT = "moltworker-clawdbot"
LAYOUT_SDK = "moltworker-sdk-backup"
TAG_PREFIX = "imported-from="
WORKSPACE = ".openclaw/workspace"
REPORT_NAME = "legacy-import.json"
SWITCH = "OPENCLAW_EDGE_LEGACY_IMPORT"  # "off" skips the import (start empty on purpose)
DOCTOR_TIMEOUT = 1800
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
OLD_HOMES = ("/root", "/home/openclaw")
SKIP_SUFFIXES = (".lock", ".log", ".tmp", ".pid", ".sock")
SKIP_SEGMENTS = frozenset({".git", "node_modules", ".cache", "__pycache__"})
NOT_STATE_DIRS = ("logs", "cache", "tmp", "browser")  # below the config dir
MARKERS = frozenset({".last-sync", ".migrated-prefixes"})
REPORT_LIST_LIMIT = 50


class ImportFailed(RuntimeError):
    """The source is incomplete or corrupt; nothing was changed. The message says what to do."""


class NotImportable(RuntimeError):
    """A layout was found that cannot be imported here; the message says what to do."""


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


# ---- sanitising ---------------------------------------------------------------------------------


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


# ---- the import -------------------------------------------------------------------------------


@dataclass
class Outcome:
    files: int = 0
    bytes: int = 0
    config_removed: list[str] = field(default_factory=list)
    masked_files: int = 0
    conflicts: int = 0
    moved: list[str] = field(default_factory=list)


class LegacyImport:
    def __init__(self, settings: Settings, status: Status, client: R2Client | None = None):
        self.settings = settings
        self.status = status
        self.client = client if client is not None else client_for(settings)
        self.home = settings.home
        self.work = settings.run_dir / "legacy-import"

    @property
    def report_path(self) -> Path:
        return self.settings.edge_dir / REPORT_NAME

    def read_report(self) -> dict[str, Any] | None:
        return read_report(self.settings)

    def write_report(self, report: Mapping[str, Any]) -> None:
        atomic_write(self.report_path, json.dumps(report, indent=1, sort_keys=True) + "\n")

    def publish(self, report: Mapping[str, Any], **extra: Any) -> None:
        """The report without its manifest, as `status.import`."""
        self.status.update("import", **summary(report), **extra)

    # -- first boot --------------------------------------------------------------------------
    def run(self, backup: Backup) -> dict[str, Any]:
        if self.client is None or self.settings.get(SWITCH).lower() in {"off", "false", "0"}:
            if self.client is not None:
                self.status.update("import", state="disabled", message=f"{SWITCH}=off")
            return self.status.section("import")
        started = time.monotonic()
        found: Found | None = None
        try:
            found = detect(self.client)
            if found is None:
                self.status.update("import", state="none", message="no moltworker layout found")
                return self.status.section("import")
            log.info(
                "moltworker layout %s (last sync %s): importing", found.layout, found.last_sync
            )
            self.status.update("import", state="importing", layout=found.layout, at=now_iso())
            outcome = self._import(found)
        except NotImportable as exc:
            return self._failed(found, str(exc), state="not-importable")
        except (ImportFailed, R2Error) as exc:
            return self._failed(found, str(exc))
        except OSError as exc:
            return self._failed(found, f"local file error while importing: {exc.strerror or exc}")
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
        return self._finish(found, outcome, backup, time.monotonic() - started)

    def _finish(
        self, found: Found, outcome: Outcome, backup: Backup, seconds: float
    ) -> dict[str, Any]:
        """Report, first snapshot (tagged imported-from=<layout>), verification."""
        report = self._report(found, outcome, seconds)
        self.write_report(report)
        tags = [TAG_PREFIX + found.layout]
        snapshot = backup.snapshot(force=True, reason="legacy import", tags=tags)
        report["snapshot_id"] = snapshot.get("snapshot_id")
        if snapshot.get("ok") and snapshot.get("snapshot_id"):
            report["verified"], report["verification"] = self.verify(backup, report)
        else:
            report["verification"] = f"first snapshot failed: {snapshot.get('reason')}"
        self.write_report(report)
        self.publish(report, imported_this_boot=True)
        log.info(
            "imported %s files (%s bytes) from %s in %.1fs; snapshot %s",
            outcome.files,
            outcome.bytes,
            found.layout,
            seconds,
            str(report.get("snapshot_id"))[:8],
        )
        return self.status.section("import")

    def _failed(self, found: Found | None, message: str, state: str = "failed") -> dict[str, Any]:
        if found is None:
            message = f"could not look for a moltworker layout: {message}"
        log.error("legacy import %s: %s", state, message)
        self.status.update(
            "import",
            state=state,
            layout=found.layout if found else None,
            last_sync=found.last_sync if found else None,
            message=message,
            at=now_iso(),
        )
        if found is not None:
            # Snapshots of this boot are tagged restore-failed: the next boot sees an empty
            # repository again and retries the import from the untouched source.
            note = f"legacy import {state}: {message}"
            self.status.update("backup", protected=True, last_error=note)
        return self.status.section("import")

    def _import(self, found: Found) -> Outcome:
        shutil.rmtree(self.work, ignore_errors=True)
        stage = self.work / "stage"
        stage.mkdir(parents=True)
        if found.layout == LAYOUT_SDK:
            placed = self._stage_sdk(found, stage)
        else:
            placed = self._stage_prefixed(found, stage)
        outcome = Outcome()
        secrets = self._sanitize(stage, placed, found, outcome)
        secrets |= {
            self.settings.get(n) for n in SECRET_ENV_NAMES if len(self.settings.get(n)) >= 8
        }
        for rel in placed:
            if mask_secrets(stage / rel, secrets):
                outcome.masked_files += 1
        outcome.files = len(placed)
        outcome.bytes = sum((stage / rel).stat().st_size for rel in placed)
        outcome.conflicts = sum(1 for rel in placed if "/legacy-import/conflicts/" in "/" + rel)
        self._swap_in(stage, placed, outcome)
        return outcome

    def _config_old_workspace(self, config_text: bytes) -> tuple[dict[str, Any], str | None]:
        try:
            config = json.loads(config_text)
        except ValueError as exc:
            raise ImportFailed(
                f"the old config is not valid JSON ({exc}); nothing imported"
            ) from None
        if not isinstance(config, dict):
            raise ImportFailed("the old config is not a JSON object; nothing imported")
        defaults = (config.get("agents") or {}).get("defaults") or {}
        workspace = defaults.get("workspace") if isinstance(defaults, dict) else None
        return config, workspace if isinstance(workspace, str) else None

    def _stage_prefixed(self, found: Found, stage: Path) -> list[str]:
        assert self.client is not None
        config_key = (
            "openclaw/openclaw.json" if found.layout == LAYOUT_RCLONE else "clawdbot/clawdbot.json"
        )
        _, found.old_workspace = self._config_old_workspace(self.client.get(config_key))
        plan_prefixed(found)
        placed: list[str] = []
        for entry in found.entries:
            if entry.target is None:
                continue
            target = stage / entry.target
            size, md5 = self.client.download(entry.key, target)
            if size != entry.size:
                raise ImportFailed(
                    f"{entry.key}: read {size} bytes, the bucket lists {entry.size} "
                    "(changed while reading, or a broken transfer); nothing imported — "
                    "boot again to retry"
                )
            if _is_md5(entry.etag) and md5 != entry.etag.lower():
                raise ImportFailed(
                    f"{entry.key}: content does not match its ETag (corrupt object); nothing "
                    "imported — re-upload it from the old deployment (its sync rewrites it) or "
                    "delete it, then boot again"
                )
            placed.append(entry.target)
        return placed

    def _stage_sdk(self, found: Found, stage: Path) -> list[str]:
        assert self.client is not None
        archive = found.archive
        what_to_do = (
            "open the old Worker's /_admin/ and take a backup there (it writes a new "
            "backup-handle.json and archive), then restart this container while its restic "
            "repository is still empty"
        )
        if archive is None:
            raise NotImportable(
                "backup-handle.json points at an SDK backup whose archive "
                f"(backups/<id>/data.sqsh) is not in the bucket: {what_to_do}"
            )
        unsquashfs = shutil.which("unsquashfs")
        if unsquashfs is None:
            raise NotImportable(
                "this image has no unsquashfs (squashfs-tools) to read the SDK backup: "
                "use an image built from the cloudflare/sandbox base"
            )
        local = self.work / "data.sqsh"
        size, md5 = self.client.download(archive.key, local)
        if size != archive.size or (_is_md5(archive.etag) and md5 != archive.etag.lower()):
            raise ImportFailed(f"{archive.key}: the archive read does not match the bucket listing")
        tree = self.work / "tree"
        proc = subprocess.run(
            [unsquashfs, "-no-xattrs", "-n", "-d", str(tree), str(local)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if proc.returncode != 0:
            tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])[:300]
            raise ImportFailed(f"{archive.key} is not a readable squashfs archive ({tail})")
        local.unlink()
        config_file = tree / ".openclaw" / "openclaw.json"
        if not config_file.is_file():
            raise ImportFailed(f"{archive.key} holds no .openclaw/openclaw.json; nothing imported")
        _, found.old_workspace = self._config_old_workspace(config_file.read_bytes())
        placed: list[str] = []
        for source, target, reason in plan_tree(tree, found.old_workspace):
            rel = str(source.relative_to(tree))
            if target is None:
                found.tree_skipped.append({"path": rel, "reason": reason})
                continue
            destination = stage / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, destination)
            placed.append(target)
        for entry in found.entries:
            entry.target = None
            entry.reason = None if entry.key == archive.key else "SDK backup bookkeeping"
        return placed

    def _sanitize(self, stage: Path, placed: list[str], found: Found, outcome: Outcome) -> set[str]:
        secrets: set[str] = set()
        config = stage / ".openclaw" / "openclaw.json"
        if config.exists():
            raw, _ = self._config_old_workspace(config.read_bytes())
            cleaned, removed, values = sanitize_config(raw)
            outcome.config_removed = removed
            secrets |= values
            atomic_write(config, json.dumps(cleaned, indent=2) + "\n")
        for rel in placed:
            path = stage / rel
            if rel.endswith(".json") and rel.startswith(".openclaw/") and "/workspace/" not in rel:
                try:
                    json.loads(path.read_bytes())
                except ValueError:
                    raise ImportFailed(
                        f"{rel}: not valid JSON (a partial or corrupt object in the source); "
                        "nothing imported — boot again after the old deployment synced once "
                        "more, or delete the object"
                    ) from None
        # Credential files we skip may hold keys also pasted elsewhere: mask those copies too.
        for item in found.tree_skipped:
            if item["reason"].startswith("credentials"):
                secrets |= credential_values(self.work / "tree" / item["path"])
        if self.client is not None and found.layout != LAYOUT_SDK:
            for entry in found.entries:
                if entry.reason and entry.reason.startswith("credentials") and entry.size < 1 << 20:
                    scratch = self.work / "credential"
                    self.client.download(entry.key, scratch)
                    secrets |= credential_values(scratch)
                    scratch.unlink()
        return secrets

    def _swap_in(self, stage: Path, placed: list[str], outcome: Outcome) -> None:
        """Move staged files into HOME; put everything back if a move fails."""
        aside = self.work / "replaced"
        aside.mkdir(parents=True, exist_ok=True)
        done: list[tuple[Path, Path | None]] = []
        try:
            for index, rel in enumerate(placed):
                target = self.home / rel
                previous: Path | None = None
                if target.exists() or target.is_symlink():
                    previous = aside / str(index)
                    os.replace(target, previous)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage / rel, target)
                done.append((target, previous))
        except OSError:
            for target, previous in reversed(done):
                target.unlink(missing_ok=True)
                if previous is not None:
                    os.replace(previous, target)
            raise
        outcome.moved = placed

    def _report(self, found: Found, outcome: Outcome, seconds: float) -> dict[str, Any]:
        skipped = [
            {"key": e.key, "reason": e.reason}
            for e in found.entries
            if e.target is None and e.reason
        ]
        skipped += found.tree_skipped
        return {
            "state": "imported",
            "layout": found.layout,
            "at": now_iso(),
            "duration_s": round(seconds, 1),
            "files": outcome.files,
            "bytes": outcome.bytes,
            "source": {
                "bucket": self.settings.get("R2_BUCKET_NAME"),
                "last_sync": found.last_sync,
                "last_sync_marker": found.last_sync_marker,
                "objects": len(found.entries),
                "bytes": sum(e.size for e in found.entries),
                "old_workspace": found.old_workspace,
            },
            "other_layouts": found.other_layouts,
            "skipped": skipped,
            "config_removed": outcome.config_removed,
            "masked_files": outcome.masked_files,
            "conflicts": outcome.conflicts,
            "verified": False,
            "verification": None,
            "snapshot_id": None,
            "doctor": {"state": "pending"},
            "deleted": None,
            "manifest": [e.manifest() for e in found.entries],
            "targets": sorted(outcome.moved),
        }

    # -- verification --------------------------------------------------------------------------
    def verify(self, backup: Backup, report: Mapping[str, Any]) -> tuple[bool, str]:
        """Every imported file is in the import snapshot with the same size."""
        snapshot_id = str(report.get("snapshot_id") or "")
        try:
            proc = backup.restic("ls", "--json", snapshot_id, timeout=1800)
        except Exception as exc:  # BackupError; imported lazily to keep the module standalone
            return False, f"could not list snapshot {snapshot_id[:8]}: {exc}"
        sizes: dict[str, int] = {}
        for line in proc.stdout.splitlines():
            with contextlib.suppress(ValueError):
                node = json.loads(line)
                if isinstance(node, dict) and node.get("type") == "file":
                    sizes[str(node.get("path"))] = int(node.get("size") or 0)
        missing = []
        for rel in report.get("targets", []):
            path = self.home / rel
            expected = path.stat().st_size if path.exists() else None
            copy = backup.sqlite_dir / (rel + ".snapshot")
            if str(path) in sizes and sizes[str(path)] == expected:
                continue
            if str(copy) in sizes:  # live SQLite files are snapshotted as consistent copies
                continue
            missing.append(rel)
        short = snapshot_id[:8]
        if missing:
            return False, f"{len(missing)} imported file(s) not in snapshot {short}: {missing[0]}"
        return True, f"all {len(report.get('targets', []))} imported files are in snapshot {short}"

    # -- later boots and the admin API ---------------------------------------------------------
    def load_earlier(self) -> None:
        """After a restore: show the import that happened on an earlier boot (if any)."""
        report = self.read_report()
        if report is not None:
            self.publish(report, imported_this_boot=False)

    def details(self) -> dict[str, Any]:
        report = self.read_report()
        section = self.status.section("import")
        if report is None:
            return {"ok": True, **section}
        return {
            "ok": True,
            **summary(report),
            "imported_this_boot": section.get("imported_this_boot"),
        }

    def delete_legacy(self, body: Mapping[str, Any]) -> dict[str, Any]:
        report = self.read_report()
        if report is None or report.get("state") != "imported":
            raise ValueError("nothing was imported from moltworker: there is nothing to delete")
        if not report.get("verified"):
            raise ValueError(
                "the import is not verified (its snapshot was not confirmed): the legacy "
                "objects are kept"
            )
        if body.get("confirm") != "delete-legacy-objects" or body.get("plan") != plan_digest(
            report
        ):
            raise ValueError(
                'confirmation required: {"confirm": "delete-legacy-objects", "plan": "<plan from '
                'GET /import>"}'
            )
        if self.client is None:
            raise ValueError("R2 is not configured")
        recorded = {m["key"]: m["etag"] for m in report.get("manifest", [])}
        prefixes = sorted({k.split("/", 1)[0] + "/" if "/" in k else k for k in recorded})
        current: dict[str, str] = {}
        for prefix in prefixes:
            if prefix.endswith("/"):
                current.update({o.key: o.etag for o in self.client.list(prefix)})
            else:
                head = self.client.head(prefix)
                if head is not None:
                    current[head.key] = head.etag
        deleted, kept, errors = 0, [], []
        for key, etag in sorted(recorded.items()):
            if key not in current:
                continue
            if current[key] != etag:
                kept.append(key)  # changed since the import: the old deployment still writes
                continue
            try:
                self.client.delete(key)
                deleted += 1
            except R2Error as exc:
                errors.append(str(exc))
        report = dict(report)
        report["deleted"] = {
            "at": now_iso(),
            "objects": deleted,
            "kept_changed": kept,
            "errors": errors,
        }
        self.write_report(report)
        self.publish(report)
        return {"ok": not errors, "deleted": deleted, "kept_changed": kept, "errors": errors}


def _is_md5(etag: str) -> bool:
    return len(etag) == 32 and all(c in "0123456789abcdefABCDEF" for c in etag)


def plan_digest(report: Mapping[str, Any]) -> str:
    """A digest of exactly what a delete would remove (the admin page echoes it back)."""
    items = sorted(f"{m['key']}\0{m['etag']}" for m in report.get("manifest", []))
    return hashlib.sha256("\n".join(items).encode()).hexdigest()[:32]


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """What status and the admin API show: the report minus its manifest, lists capped."""
    out = {k: v for k, v in report.items() if k not in {"manifest", "targets"}}
    skipped = list(report.get("skipped") or [])
    out["skipped"] = skipped[:REPORT_LIST_LIMIT]
    out["skipped_count"] = len(skipped)
    out["legacy_objects"] = len(report.get("manifest") or [])
    deletable = report.get("state") == "imported" and bool(report.get("verified"))
    deleted = report.get("deleted")
    out["delete_offer"] = deletable and not (isinstance(deleted, dict) and deleted.get("objects"))
    if deletable:
        out["delete_plan"] = plan_digest(report)
    return out


# ---- doctor --------------------------------------------------------------------------------------


def read_report(settings: Settings) -> dict[str, Any] | None:
    try:
        value = json.loads((settings.edge_dir / REPORT_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def doctor_due(settings: Settings) -> bool:
    report = read_report(settings)
    return report is not None and (report.get("doctor") or {}).get("state") != "done"


def run_doctor(settings: Settings, status: Status) -> dict[str, Any]:
    """`openclaw doctor --fix --non-interactive` on the imported state, before the gateway starts.

    OpenClaw 2026.9 keeps sessions and devices in SQLite; `gateway run` refuses to start on a
    legacy session store once its state has a startup checkpoint (and only migrates on its own
    on a pristine state), so the migration is run explicitly, with the gateway's environment.
    """
    importer = LegacyImport(settings, status)
    report = importer.read_report()
    if report is None:
        return {}
    log.info("running openclaw doctor --fix on the imported state")
    started = time.monotonic()
    log_path = settings.run_dir / "doctor.log"
    try:
        with log_path.open("wb") as handle:
            proc = subprocess.run(
                [settings.openclaw_bin, "doctor", "--fix", "--non-interactive"],
                env=gateway_env(settings.env),
                cwd=str(settings.home),
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=DOCTOR_TIMEOUT,
                check=False,
            )
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        code = None
    except OSError as exc:
        code = None
        log.error("doctor could not run: %s", exc.strerror)
    notes = doctor_notes(
        log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else "",
        settings.env,
    )
    doctor = {
        "state": "done" if code == 0 else "failed",
        "exit_code": code,
        "duration_s": round(time.monotonic() - started, 1),
        "at": now_iso(),
        "notes": notes,
    }
    if code != 0:
        doctor["message"] = (
            f"openclaw doctor --fix exited {code}; the gateway may refuse the legacy session "
            f"store. Output: {log_path} in the container; Doctor runs again on the next start"
        )
    report["doctor"] = doctor
    importer.write_report(report)
    importer.publish(report)
    log.info("doctor %s in %.1fs", doctor["state"], doctor["duration_s"])
    return doctor


def before_gateway_start(
    settings: Settings, status: Status, write_config: Callable[[Settings, Status], None]
) -> None:
    """Hook of `run` between writing the config and starting the gateway: Doctor when due.

    The config is written again afterwards: Doctor may rewrite openclaw.json, and the managed
    keys (with `${NAME}` references only) must be what the gateway reads.
    """
    if doctor_due(settings):
        run_doctor(settings, status)
        write_config(settings, status)


NOTE_PATTERNS = (
    re.compile(r"Legacy entries: .*"),
    re.compile(r"Transcript events: .*"),
    re.compile(r"device pairing store migrated to SQLite: [^│]*"),
    re.compile(r"Cron store migrated to SQLite[^│]*"),
    re.compile(r"Migrated [^│]*→ shared SQLite state"),
)


def doctor_notes(output: str, env: Mapping[str, str]) -> list[str]:
    """The migration lines of Doctor's output (what moved into SQLite), secrets masked."""
    flat = re.sub(r"\x1b\[[0-9;]*m", "", output)
    notes: list[str] = []
    for pattern in NOTE_PATTERNS:
        for match in pattern.findall(flat):
            text = " ".join(match.replace("│", " ").split()).rstrip(".")
            if text and text not in notes:
                notes.append(text)
    secrets = [env.get(n, "") for n in SECRET_ENV_NAMES if len(env.get(n, "")) >= 6]
    for secret in secrets:
        notes = [n.replace(secret, "***") for n in notes]
    return notes[:20]


# ---- control API --------------------------------------------------------------------------------


def control_routes(
    settings: Settings, status: Status
) -> dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Routes the `run` command adds to the control API (docs/interfaces.md)."""
    importer = LegacyImport(settings, status)
    return {
        ("GET", "/import"): lambda _body: importer.details(),
        ("POST", "/import/delete-legacy"): importer.delete_legacy,
    }
