"""`LegacyImport`: the first-boot import (stage, check, sanitise, swap into HOME, snapshot)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backup import BackupError, sqlite_copy
from ..files import atomic_write
from ..r2 import R2Client, R2Error
from ..settings import SECRET_ENV_NAMES, Settings
from ..status import Status, now_iso
from .layouts import LAYOUT_RCLONE, LAYOUT_SDK, Found, client_for, detect, plan_prefixed, plan_tree
from .report import REPORT_NAME, Outcome, new_report, read_report, summary
from .sanitize import credential_values, mask_secrets, sanitize_config

if TYPE_CHECKING:
    from ..backup import Backup

log = logging.getLogger("openclaw-edge.import")

TAG_PREFIX = "imported-from="
SWITCH = "OPENCLAW_EDGE_LEGACY_IMPORT"  # "off" skips the import (start empty on purpose)


class ImportFailed(RuntimeError):
    """The source is incomplete or corrupt; nothing was changed. The message says what to do."""


class NotImportable(RuntimeError):
    """A layout was found that cannot be imported here; the message says what to do."""


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
        report = new_report(found, outcome, self.settings.get("R2_BUCKET_NAME"), seconds)
        self.write_report(report)
        tags = [TAG_PREFIX + found.layout]
        snapshot = backup.snapshot(force=True, reason="legacy import", tags=tags)
        report["snapshot_id"] = snapshot.snapshot_id
        if snapshot.ok and snapshot.snapshot_id:
            report["verified"], report["verification"] = self.verify(backup, report)
        else:
            report["verification"] = f"first snapshot failed: {snapshot.reason}"
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

    # -- verification --------------------------------------------------------------------------
    def verify(self, backup: Backup, report: Mapping[str, Any]) -> tuple[bool, str]:
        """Every imported file is in the import snapshot with the same size."""
        snapshot_id = str(report.get("snapshot_id") or "")
        try:
            proc = backup.restic.run("ls", "--json", snapshot_id, timeout=1800)
        except BackupError as exc:
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
            copy = sqlite_copy.copy_path(backup.sqlite_dir, rel)
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


def _is_md5(etag: str) -> bool:
    return len(etag) == 32 and all(c in "0123456789abcdefABCDEF" for c in etag)


def after_boot_restore(settings: Settings, status: Status, backup: Backup) -> None:
    """Hook of `run` after the boot restore: an initialized or empty repository on a bucket the
    reference wrote → import it once; a restored state → show the import of an earlier boot."""
    state = status.section("restore")["state"]
    if state == "disabled":  # no backup configured: nothing to import into
        return
    importer = LegacyImport(settings, status)
    if state in {"initialized", "empty"}:
        importer.run(backup)
    else:
        importer.load_earlier()
