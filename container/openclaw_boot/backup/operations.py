"""`Backup`: the operations (snapshot, restore, boot restore, retention) under one lock.

It combines the parts of this package: restic.py runs restic, state_tree.py says what changed,
sqlite_copy.py makes the databases consistent, snapshots.py decides tags, choice and retention.
Constructing a `Backup` has no side effect; `record_configured()` publishes whether backup is
configured in the status (the callers that report status do it).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from ..files import atomic_write
from ..settings import Settings
from ..status import Status, now_iso
from . import sqlite_copy
from .restic import (
    INCOMPLETE_SOURCE_EXIT,
    INTERRUPT_GRACE_SECONDS,
    BackupError,
    DeadlineExceeded,
    Restic,
    json_lines,
    unreadable_items,
)
from .snapshots import (
    HOST_NAME,
    RestoreResult,
    RetentionResult,
    Snapshot,
    SnapshotResult,
    choose,
    retention_args,
    snapshot_tags,
)
from .state_tree import StateTree, TreeScan

log = logging.getLogger("openclaw-edge.backup")


class Backup:
    def __init__(self, settings: Settings, status: Status) -> None:
        self.settings = settings
        self.status = status
        self.home = settings.home
        self._lock = threading.Lock()
        self.sqlite_dir = settings.edge_dir / "sqlite"
        self.restic = Restic(settings)
        self.tree = StateTree(self.home, self.sqlite_dir)
        self._last_retention = 0.0

    def record_configured(self) -> None:
        """Publish `status.backup.configured` (whether R2_* and BACKUP_PASSWORD are set)."""
        self.status.update("backup", configured=self.settings.backup.configured)

    # ---- repository ------------------------------------------------------------------
    def ensure_repository(self) -> Literal["exists", "initialized"]:
        return self.restic.ensure_repository()

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, newest first (also counted in `status.backup.snapshot_count`)."""
        proc = self.restic.run("snapshots", "--json", timeout=300)
        items = json.loads(proc.stdout or "[]") or []
        result = [Snapshot.from_restic(item) for item in items]
        result.sort(key=lambda item: str(item.time), reverse=True)
        self.status.update("backup", snapshot_count=len(result))
        return result

    def scan(self) -> TreeScan:
        return self.tree.scan()

    # ---- fingerprint of the last snapshot ------------------------------------------------
    @property
    def _fingerprint_file(self) -> Path:
        return self.settings.run_dir / "last-fingerprint.json"

    def last_fingerprint(self) -> str | None:
        try:
            value = json.loads(self._fingerprint_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        fingerprint = value.get("fingerprint") if isinstance(value, dict) else None
        return fingerprint if isinstance(fingerprint, str) else None

    def remember(self, fingerprint: str, snapshot_id: str | None) -> None:
        atomic_write(
            self._fingerprint_file,
            json.dumps({"fingerprint": fingerprint, "snapshot_id": snapshot_id, "at": now_iso()}),
        )

    @contextmanager
    def exclusive(self, deadline: float | None = None) -> Iterator[None]:
        """One snapshot/restore at a time, across threads and processes of this container.

        With a deadline (time.monotonic()), give up waiting at that time (DeadlineExceeded).
        """
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=wait):
            raise DeadlineExceeded("another backup operation was still running at the deadline")
        try:
            with (self.settings.run_dir / "backup.lock").open("a") as handle:
                while True:
                    try:
                        fcntl.flock(
                            handle, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB)
                        )
                        break
                    except BlockingIOError:
                        if time.monotonic() >= (deadline or 0):
                            raise DeadlineExceeded(
                                "another backup operation was still running at the deadline"
                            ) from None
                        time.sleep(0.05)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    # ---- snapshot --------------------------------------------------------------------------
    def snapshot(
        self,
        *,
        force: bool = False,
        reason: str = "interval",
        tags: Sequence[str] = (),
        deadline: float | None = None,
        guard: Callable[[], str | None] | None = None,
    ) -> SnapshotResult:
        """Take a snapshot if the tree changed (`tags` are added to it). Never deletes anything.

        `deadline` (time.monotonic()) bounds the whole operation; past it the snapshot is not
        taken (`ok` false, `reason` says so) and restic has removed its lock. `guard`, asked
        under the backup lock, may refuse the snapshot with a reason.
        """
        if not self.settings.backup.configured:
            return SnapshotResult(ok=False, skipped=True, reason="not configured")
        try:
            with self.exclusive(deadline):
                refusal = guard() if guard is not None else None
                if refusal is not None:
                    return SnapshotResult(ok=False, error=refusal)
                return self._snapshot_locked(
                    force=force, reason=reason, tags=tags, deadline=deadline
                )
        except DeadlineExceeded as exc:
            message = f"{reason} snapshot not taken: {exc}"
            self.status.update("backup", last_error=message)
            log.error("%s", message)
            return SnapshotResult(ok=False, reason=message)

    def _snapshot_locked(
        self, *, force: bool, reason: str, tags: Sequence[str], deadline: float | None
    ) -> SnapshotResult:
        scan = self.tree.scan()
        if not force and scan.fingerprint == self.last_fingerprint():
            return SnapshotResult(ok=True, skipped=True, reason="unchanged")
        if not self.tree.roots():
            return SnapshotResult(ok=True, skipped=True, reason="no state")
        try:
            sqlite_copy.copy_databases(self.home, self.sqlite_dir, scan.databases)
            # Opening a WAL database can leave side files behind: fingerprint what is now.
            scan = self.tree.scan()
            roots = self.tree.roots()  # the SQLite copies may have created edge state
            args = ["backup", "--json", "--host", HOST_NAME]
            for tag in snapshot_tags(self.home, reason, tags, protected=self.status.protected):
                args += ["--tag", tag]
            args += self.tree.restic_excludes(scan.databases)
            args += [str(path) for path in roots]
            # restic must be interrupted early enough to remove its lock before the deadline.
            remaining = (
                3600.0
                if deadline is None
                else deadline - time.monotonic() - INTERRUPT_GRACE_SECONDS
            )
            proc = self.restic.run(*args, timeout=remaining, check=False)
            summary = next(
                (i for i in json_lines(proc.stdout) if i.get("message_type") == "summary"), {}
            )
            snapshot_id = summary.get("snapshot_id")
            # Exit 3: the snapshot exists, without what could not be read (an item that vanished
            # while restic walked the tree). It is kept and counted, but its fingerprint is not
            # remembered, so the next round takes a complete one even if nothing changes.
            incomplete = proc.returncode == INCOMPLETE_SOURCE_EXIT and bool(snapshot_id)
            if proc.returncode != 0 and not incomplete:
                raise self.restic.failed("backup", proc)
        except DeadlineExceeded:
            raise
        except (BackupError, OSError, sqlite3.Error) as exc:
            message = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}"
            self.status.update("backup", last_error=message)
            log.error("snapshot failed: %s", message)
            return SnapshotResult(ok=False, reason=message)
        unreadable = unreadable_items(proc) if incomplete else []
        if incomplete:
            shown = ", ".join(unreadable[:5]) + (" ..." if len(unreadable) > 5 else "")
            log.warning(
                "snapshot %s is incomplete: restic could not read %d item(s) (%s); the next "
                "round takes another",
                str(snapshot_id)[:8],
                len(unreadable),
                shown or "not named",
            )
        # An incomplete snapshot is the latest one, but no scan is ever "unchanged" from it.
        self.remember("incomplete" if incomplete else scan.fingerprint, snapshot_id)
        count = int(self.status.section("backup").get("snapshot_count") or 0) + 1
        self.status.update(
            "backup",
            last_error=None,
            snapshot_count=count,
            last_snapshot={
                "id": snapshot_id,
                "time": now_iso(),
                "trigger": reason,
                "files_new": summary.get("files_new"),
                "files_changed": summary.get("files_changed"),
                "bytes_added": summary.get("data_added"),
                "unreadable": unreadable,
            },
        )
        log.info(
            "snapshot %s (%s): %s new, %s changed files, %s bytes added",
            str(snapshot_id)[:8],
            reason,
            summary.get("files_new"),
            summary.get("files_changed"),
            summary.get("data_added"),
        )
        if deadline is None:  # a final snapshot on a stop has no time for it
            self.refresh_stats()  # /_admin/ shows the size after this snapshot, not 6 h old
        return SnapshotResult(ok=True, snapshot_id=snapshot_id, reason=reason)

    # ---- retention -------------------------------------------------------------------------
    def apply_retention(self, *, force: bool = False) -> RetentionResult:
        """forget+prune (keep last 48, daily 14). Refused while the boot is protected."""
        if self.status.protected:
            return RetentionResult(
                ok=False, skipped=True, reason="protected: restore failed this boot"
            )
        elapsed = time.monotonic() - self._last_retention
        due = elapsed >= self.settings.backup.retention_interval_seconds
        if not (force or due or self._last_retention == 0.0):
            return RetentionResult(ok=True, skipped=True, reason="not due")
        with self.exclusive():
            try:
                self.restic.run("unlock", timeout=120, check=False)
                self.restic.run(*retention_args(self.settings.backup), timeout=3600)
            except BackupError as exc:
                self.status.update("backup", last_error=str(exc))
                return RetentionResult(ok=False, skipped=False, reason=str(exc))
            self._last_retention = time.monotonic()
        self.refresh_stats()
        return RetentionResult(ok=True, skipped=False, reason="applied")

    def refresh_stats(self) -> None:
        try:
            proc = self.restic.run("stats", "--json", "--mode", "raw-data", timeout=300)
            size = json.loads(proc.stdout).get("total_size")
            self.snapshots()
        except (BackupError, ValueError):
            return
        self.status.update("backup", repository_size=size)

    # ---- restore ---------------------------------------------------------------------------
    def restore(self, snapshot_id: str = "latest", *, boot: bool = False) -> RestoreResult:
        """Restore a snapshot over the state paths it contains (staged, then swapped in)."""
        with self.exclusive():
            chosen = choose(self.snapshots(), snapshot_id, boot=boot)
            if chosen is None:
                if snapshot_id == "latest":
                    return RestoreResult(snapshot_id, ok=True, empty=True)
                return RestoreResult(snapshot_id, ok=False, error="no such snapshot")
            stage = self.settings.run_dir / "restore"
            shutil.rmtree(stage, ignore_errors=True)
            stage.mkdir(parents=True)
            try:
                self.restic.run("restore", str(chosen.id), "--target", str(stage), timeout=3600)
                self._swap_in(stage, chosen)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            sqlite_copy.restore_databases(self.home, self.sqlite_dir)
            self.remember(self.tree.scan().fingerprint, str(chosen.id))
            return RestoreResult(snapshot_id, ok=True, snapshot=chosen)

    def find(self, snapshot_id: str) -> Snapshot | None:
        """The snapshot `restore(snapshot_id)` would restore, or None (same matching rule)."""
        return choose(self.snapshots(), snapshot_id, boot=False)

    def _swap_in(self, stage: Path, snapshot: Snapshot) -> None:
        old_home = snapshot.home or str(self.home)
        moves: list[tuple[Path, Path]] = []
        for original in snapshot.paths:
            restored = stage / str(original).lstrip("/")
            if not restored.exists() and not restored.is_symlink():
                continue
            try:
                rel = Path(original).relative_to(old_home)
            except ValueError:
                continue  # outside HOME: never written by this code
            moves.append((restored, self.home / rel))
        aside = stage.parent / "replaced"
        shutil.rmtree(aside, ignore_errors=True)
        aside.mkdir(parents=True)
        done: list[tuple[Path, Path | None]] = []
        try:
            for index, (restored, target) in enumerate(moves):
                backup_path: Path | None = None
                if target.exists() or target.is_symlink():
                    backup_path = aside / str(index)
                    os.replace(target, backup_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(restored, target)
                done.append((target, backup_path))
        except OSError:
            for target, backup_path in reversed(done):  # put the previous state back
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
                if backup_path is not None:
                    os.replace(backup_path, target)
            raise
        finally:
            shutil.rmtree(aside, ignore_errors=True)

    def boot_restore(self, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Restore at boot. Any failure other than 'empty repository' protects history.

        `previous` is the persisted status of an earlier `run` in this same container (the
        Worker restarts the process, not the disk): its local state is newer than any snapshot,
        so it is kept, and a protection it was under stays on. Returns `status.restore`; the
        supervisor then runs legacy_import.after_boot_restore (the move-in from moltworker).
        """
        earlier = (previous or {}).get("restore") or {}
        if earlier.get("at") and earlier.get("state") != "disabled":
            # Never restore over this container's own state; keep reporting how it began.
            self.status.update("restore", **earlier)
            if (previous or {}).get("backup", {}).get("protected"):
                self.status.update("backup", protected=True, last_error=earlier.get("error"))
            log.info("process restart in the same container: local state kept")
            return self.status.section("restore")
        if not self.settings.backup.configured:
            self.status.update(
                "restore", state="disabled", snapshot_id=None, error=None, at=now_iso()
            )
            return self.status.section("restore")
        try:
            repo = self.restic.ensure_repository()
            if repo == "initialized":
                self.status.update(
                    "restore", state="initialized", snapshot_id=None, error=None, at=now_iso()
                )
            else:
                result = self.restore("latest", boot=True)
                chosen = result.snapshot
                self.status.update(
                    "restore",
                    state="empty" if result.empty else "ok",
                    snapshot_id=result.snapshot_id,
                    snapshot_time=chosen.time if chosen else None,
                    snapshot_trigger=chosen.trigger if chosen else None,
                    error=None,
                    at=now_iso(),
                )
        except (BackupError, OSError, ValueError, sqlite3.Error) as exc:
            message = str(exc) if isinstance(exc, BackupError) else type(exc).__name__
            log.error("restore failed, history is protected this boot: %s", message)
            self.status.update(
                "restore", state="failed", snapshot_id=None, error=message, at=now_iso()
            )
            self.status.update("backup", protected=True, last_error=message)
        return self.status.section("restore")
