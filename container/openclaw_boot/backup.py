"""Encrypted, additive snapshots of the container's state to R2 with restic.

Design rules (docs/backup-comparison.md measures them against mirror-sync):
- A snapshot only adds to the repository. Nothing local can delete remote history; only the
  retention policy forgets old snapshots, and never while the boot is "protected" (its restore
  failed) nor the snapshots taken during such a boot (tag `restore-failed`).
- Boot restore picks the newest snapshot not tagged `restore-failed`, so an empty state written
  after a failed restore never becomes what the next boot restores.
- A snapshot is taken only when the file tree changed (size/mtime fingerprint).
- SQLite databases are copied with SQLite's online backup API (consistent even while the
  gateway writes) and the live files plus their -wal/-shm are left out of the snapshot.
- Every snapshot is tagged with what took it (`trigger=interval|manual|shutdown|one-shot`), so
  a boot can say whether the stop before it ended with a final snapshot (the recovery point).
- A snapshot may carry a deadline (the shutdown window): restic is interrupted with SIGINT in
  time to remove its repository lock, and the snapshot is reported incomplete.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import atomic_write
from .settings import Settings
from .status import Status, now_iso

log = logging.getLogger("openclaw-edge.backup")

HOST_NAME = "openclaw-edge"
TAG = "openclaw-edge"
TAG_RESTORE_FAILED = "restore-failed"
HOME_TAG_PREFIX = "home="
TRIGGER_TAG_PREFIX = "trigger="
SQLITE_SUFFIX = ".snapshot"
SQLITE_HEADER = b"SQLite format 3\x00"
# Rows OpenClaw rewrites while idle (lease renewals, diagnostics): not a reason to snapshot.
VOLATILE_TABLES = frozenset({"state_leases", "agent_database_leases", "diagnostic_events"})

# What is worth keeping, relative to HOME. Missing ones are skipped.
STATE_PATHS = (
    ".openclaw",
    ".openclaw-edge/state",
    ".gitconfig",
    ".config/gh",
    ".config/gwq",
    ".config/ghq",
    ".claude",
    ".claude.json",
    ".codex",
    ".ssh",
    ".bash_history",
)
# Directories (relative to HOME) never worth a snapshot: logs, caches, scratch space.
EXCLUDED_DIRS = (
    ".openclaw/logs",
    ".openclaw/cache",
    ".openclaw/tmp",
    ".openclaw/browser",
    ".claude/cache",
    ".claude/statsig",
    ".claude/shell-snapshots",
    ".codex/log",
    ".codex/tmp",
)
# Basenames never worth a snapshot anywhere below the state paths.
EXCLUDED_NAMES = ("node_modules", ".cache", "__pycache__")
EXCLUDED_SUFFIXES = (".lock", ".log", ".pid", ".sock", "-wal", "-shm", "-journal", ".tmp")
# restic needs well under a second after SIGINT to remove its lock from the repository.
INTERRUPT_GRACE_SECONDS = 0.4


class BackupError(RuntimeError):
    """restic failed; the message is safe to show (no secret in it)."""


class DeadlineExceeded(BackupError):
    """The operation could not finish before its deadline and was stopped cleanly."""


def trigger_of(tags: Sequence[str]) -> str | None:
    return next(
        (t[len(TRIGGER_TAG_PREFIX) :] for t in tags if t.startswith(TRIGGER_TAG_PREFIX)), None
    )


@dataclass(frozen=True)
class TreeScan:
    fingerprint: str
    files: int
    bytes: int
    databases: list[Path]


def _excluded_file(name: str) -> bool:
    return name.endswith(EXCLUDED_SUFFIXES) or name in EXCLUDED_NAMES


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_HEADER
    except OSError:
        return False


class Backup:
    def __init__(self, settings: Settings, status: Status) -> None:
        self.settings = settings
        self.status = status
        self.home = settings.home
        self._lock = threading.Lock()
        self.sqlite_dir = settings.edge_dir / "sqlite"
        self._last_retention = 0.0
        self._db_digests: dict[Path, tuple[str, str]] = {}
        status.update("backup", configured=settings.backup.configured)

    # ---- restic plumbing -------------------------------------------------------------
    def restic_env(self) -> dict[str, str]:
        env = self.settings.env
        out = {
            "PATH": env.get("PATH", os.defpath),
            "HOME": str(self.home),
            "RESTIC_REPOSITORY": self.settings.backup.repository or "",
            "RESTIC_PASSWORD": env.get("BACKUP_PASSWORD", ""),
            "AWS_ACCESS_KEY_ID": env.get("R2_ACCESS_KEY_ID", ""),
            "AWS_SECRET_ACCESS_KEY": env.get("R2_SECRET_ACCESS_KEY", ""),
            "RESTIC_CACHE_DIR": str(self.home / ".cache" / "restic"),
            "RESTIC_PROGRESS_FPS": "0.2",
        }
        for name in ("TMPDIR", "AWS_DEFAULT_REGION", "SSL_CERT_FILE"):
            if env.get(name):
                out[name] = env[name]
        return out

    def restic(
        self, *args: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run restic; at `timeout` it gets SIGINT (it then removes its repository lock)."""
        if not self.settings.backup.configured:
            raise BackupError("backup is not configured (R2_* and BACKUP_PASSWORD)")
        cmd = [self.settings.restic_bin, *args]
        try:
            child = subprocess.Popen(
                cmd,
                env=self.restic_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            raise BackupError(f"restic could not run: {exc.strerror}") from None
        try:
            stdout, stderr = child.communicate(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
            try:
                child.communicate(timeout=INTERRUPT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
            raise DeadlineExceeded(
                f"restic {args[0]} stopped after {timeout:.1f}s (deadline)"
            ) from None
        proc = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
        if check and proc.returncode != 0:
            raise BackupError(f"restic {args[0]} failed ({proc.returncode}): {self._tail(proc)}")
        return proc

    def _tail(self, proc: subprocess.CompletedProcess[str]) -> str:
        lines = [line for line in (proc.stderr or "").splitlines() if line.strip()]
        text = " | ".join(lines[-3:])[:500]
        for name in ("BACKUP_PASSWORD", "R2_SECRET_ACCESS_KEY", "R2_ACCESS_KEY_ID"):
            secret = self.settings.get(name)
            if secret:
                text = text.replace(secret, "***")
        return text

    @staticmethod
    def _json_lines(text: str) -> Iterator[dict[str, Any]]:
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("{"):
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict):
                    yield item

    # ---- repository ------------------------------------------------------------------
    def ensure_repository(self) -> str:
        """'exists' or 'initialized'; raises BackupError when the repository is unusable."""
        probe = self.restic("cat", "config", timeout=120, check=False)
        if probe.returncode == 0:
            self.restic("unlock", timeout=120, check=False)  # stale locks of killed runs
            return "exists"
        missing = probe.returncode == 10 or "Is there a repository at the following" in (
            probe.stderr or ""
        )
        if not missing:
            raise BackupError(f"repository unreachable: {self._tail(probe)}")
        # `restic init` refuses to overwrite an existing repository, so a wrong guess is safe.
        self.restic("init", timeout=120)
        return "initialized"

    def snapshots(self) -> list[dict[str, Any]]:
        proc = self.restic("snapshots", "--json", timeout=300)
        items = json.loads(proc.stdout or "[]") or []
        result = [
            {
                "id": item.get("id"),
                "short_id": item.get("short_id") or str(item.get("id", ""))[:8],
                "time": item.get("time"),
                "paths": item.get("paths", []),
                "tags": item.get("tags") or [],
                "trigger": trigger_of(item.get("tags") or []),
            }
            for item in items
        ]
        result.sort(key=lambda item: str(item["time"]), reverse=True)
        self.status.update("backup", snapshot_count=len(result))
        return result

    # ---- the local tree ------------------------------------------------------------------
    def state_roots(self) -> list[Path]:
        return [self.home / rel for rel in STATE_PATHS if (self.home / rel).exists()]

    def _excluded_dirs(self) -> set[Path]:
        return {self.home / rel for rel in EXCLUDED_DIRS} | {self.sqlite_dir}

    def _walk(self) -> Iterator[tuple[Path, os.stat_result]]:
        excluded = self._excluded_dirs()
        for root in self.state_roots():
            if root.is_file() or root.is_symlink():
                yield root, root.lstat()
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                here = Path(dirpath)
                dirnames[:] = sorted(
                    name
                    for name in dirnames
                    if name not in EXCLUDED_NAMES and here / name not in excluded
                )
                for name in sorted(filenames):
                    if _excluded_file(name):
                        continue
                    path = here / name
                    try:
                        yield path, path.lstat()
                    except FileNotFoundError:
                        continue

    def scan(self) -> TreeScan:
        digest = hashlib.sha256()
        files = total = 0
        databases: list[Path] = []
        for path, info in self._walk():
            rel = str(path.relative_to(self.home))
            if path.suffix in {".sqlite", ".sqlite3", ".db"} and is_sqlite(path):
                databases.append(path)
                # The gateway renews leases every few seconds: compare content, not mtimes.
                digest.update(f"{rel}\0db\0{self._database_digest(path, info)}\n".encode())
            else:
                digest.update(
                    f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_mode}\n".encode()
                )
            files += 1
            total += info.st_size
        return TreeScan(digest.hexdigest(), files, total, databases)

    def _database_digest(self, path: Path, info: os.stat_result) -> str:
        """Hash of every row outside VOLATILE_TABLES; cached while file and -wal are untouched."""
        wal_key = ""
        with contextlib.suppress(FileNotFoundError):
            wal = Path(str(path) + "-wal").stat()
            wal_key = f"{wal.st_size}:{wal.st_mtime_ns}"
        key = f"{info.st_size}:{info.st_mtime_ns}:{wal_key}"
        cached = self._db_digests.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        digest = hashlib.sha256()
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                tables = [
                    row[0]
                    for row in db.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                    )
                    if row[0] not in VOLATILE_TABLES
                ]
                for table in tables:
                    digest.update(table.encode() + b"\0")
                    quoted = '"' + table.replace('"', '""') + '"'
                    for row in db.execute(f"SELECT * FROM {quoted}"):  # noqa: S608
                        digest.update(repr(row).encode())
            finally:
                db.close()
        except sqlite3.Error:
            return key  # unreadable right now: fall back to the file's stat
        value = digest.hexdigest()
        self._db_digests[path] = (key, value)
        return value

    def _copy_databases(self, databases: Sequence[Path]) -> None:
        """Consistent copies of live SQLite files next to (not inside) the state."""
        wanted: set[Path] = set()
        for database in databases:
            target = self.sqlite_dir / (str(database.relative_to(self.home)) + SQLITE_SUFFIX)
            wanted.add(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".partial")
            src = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
            try:
                dst = sqlite3.connect(tmp)
                try:
                    src.backup(dst)
                finally:
                    dst.close()
            finally:
                src.close()
            os.replace(tmp, target)
        if self.sqlite_dir.exists():
            for old in self.sqlite_dir.rglob("*" + SQLITE_SUFFIX):
                if old not in wanted:
                    old.unlink()

    def _restic_excludes(self, databases: Sequence[Path]) -> list[str]:
        args: list[str] = []
        for rel in EXCLUDED_DIRS:
            args += ["--exclude", str(self.home / rel)]
        for name in EXCLUDED_NAMES:
            args += ["--exclude", name]
        for suffix in EXCLUDED_SUFFIXES:
            args += ["--exclude", "*" + suffix]
        for database in databases:
            args += ["--exclude", str(database)]
        return args

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

    # ---- operations ----------------------------------------------------------------------
    def snapshot(
        self,
        *,
        force: bool = False,
        reason: str = "interval",
        tags: Sequence[str] = (),
        deadline: float | None = None,
        guard: Callable[[], str | None] | None = None,
    ) -> dict[str, Any]:
        """Take a snapshot if the tree changed (`tags` are added to it). Never deletes anything.

        `deadline` (time.monotonic()) bounds the whole operation; past it the snapshot is not
        taken (`ok: false`, `reason` says so) and restic has removed its lock. `guard`, asked
        under the backup lock, may refuse the snapshot with a reason.
        """
        if not self.settings.backup.configured:
            return {"ok": False, "snapshot_id": None, "skipped": True, "reason": "not configured"}
        try:
            with self.exclusive(deadline):
                refusal = guard() if guard is not None else None
                if refusal is not None:
                    return {"ok": False, "snapshot_id": None, "skipped": False, "error": refusal}
                return self._snapshot_locked(
                    force=force, reason=reason, tags=tags, deadline=deadline
                )
        except DeadlineExceeded as exc:
            message = f"{reason} snapshot not taken: {exc}"
            self.status.update("backup", last_error=message)
            log.error("%s", message)
            return {"ok": False, "snapshot_id": None, "skipped": False, "reason": message}

    def _snapshot_locked(
        self, *, force: bool, reason: str, tags: Sequence[str], deadline: float | None
    ) -> dict[str, Any]:
        scan = self.scan()
        if not force and scan.fingerprint == self.last_fingerprint():
            return {"ok": True, "snapshot_id": None, "skipped": True, "reason": "unchanged"}
        if not self.state_roots():
            return {"ok": True, "snapshot_id": None, "skipped": True, "reason": "no state"}
        try:
            self._copy_databases(scan.databases)
            # Opening a WAL database can leave side files behind: fingerprint what is now.
            scan = self.scan()
            roots = self.state_roots()  # the SQLite copies may have created edge state
            tags = [TAG, HOME_TAG_PREFIX + str(self.home), TRIGGER_TAG_PREFIX + reason, *tags]
            if self.status.protected:
                tags.append(TAG_RESTORE_FAILED)
            args = ["backup", "--json", "--host", HOST_NAME]
            for tag in tags:
                args += ["--tag", tag]
            args += self._restic_excludes(scan.databases)
            args += [str(path) for path in roots]
            # restic must be interrupted early enough to remove its lock before the deadline.
            remaining = (
                3600.0
                if deadline is None
                else deadline - time.monotonic() - INTERRUPT_GRACE_SECONDS
            )
            proc = self.restic(*args, timeout=remaining)
        except DeadlineExceeded:
            raise
        except (BackupError, OSError, sqlite3.Error) as exc:
            message = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}"
            self.status.update("backup", last_error=message)
            log.error("snapshot failed: %s", message)
            return {"ok": False, "snapshot_id": None, "skipped": False, "reason": message}
        summary = next(
            (
                item
                for item in self._json_lines(proc.stdout)
                if item.get("message_type") == "summary"
            ),
            {},
        )
        snapshot_id = summary.get("snapshot_id")
        self.remember(scan.fingerprint, snapshot_id)
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
        return {"ok": True, "snapshot_id": snapshot_id, "skipped": False, "reason": reason}

    def apply_retention(self, *, force: bool = False) -> dict[str, Any]:
        """forget+prune (keep last 48, daily 14). Refused while the boot is protected."""
        if self.status.protected:
            return {"ok": False, "skipped": True, "reason": "protected: restore failed this boot"}
        elapsed = time.monotonic() - self._last_retention
        due = elapsed >= self.settings.backup.retention_interval_seconds
        if not (force or due or self._last_retention == 0.0):
            return {"ok": True, "skipped": True, "reason": "not due"}
        backup = self.settings.backup
        with self.exclusive():
            try:
                self.restic("unlock", timeout=120, check=False)
                self.restic(
                    "forget",
                    "--group-by",
                    "host",
                    "--keep-last",
                    str(backup.keep_last),
                    "--keep-daily",
                    str(backup.keep_daily),
                    "--keep-tag",
                    TAG_RESTORE_FAILED,
                    "--prune",
                    timeout=3600,
                )
            except BackupError as exc:
                self.status.update("backup", last_error=str(exc))
                return {"ok": False, "skipped": False, "reason": str(exc)}
            self._last_retention = time.monotonic()
        self.refresh_stats()
        return {"ok": True, "skipped": False, "reason": "applied"}

    def refresh_stats(self) -> None:
        try:
            proc = self.restic("stats", "--json", "--mode", "raw-data", timeout=300)
            size = json.loads(proc.stdout).get("total_size")
            self.snapshots()
        except (BackupError, ValueError):
            return
        self.status.update("backup", repository_size=size)

    def restore(self, snapshot_id: str = "latest", *, boot: bool = False) -> dict[str, Any]:
        """Restore a snapshot over the state paths it contains (staged, then swapped in)."""
        with self.exclusive():
            snapshots = self.snapshots()
            chosen = self._choose(snapshots, snapshot_id, boot=boot)
            if chosen is None:
                if snapshot_id == "latest":
                    return {"ok": True, "snapshot_id": None, "error": None, "empty": True}
                return {"ok": False, "snapshot_id": snapshot_id, "error": "no such snapshot"}
            stage = self.settings.run_dir / "restore"
            shutil.rmtree(stage, ignore_errors=True)
            stage.mkdir(parents=True)
            try:
                self.restic("restore", str(chosen["id"]), "--target", str(stage), timeout=3600)
                self._swap_in(stage, chosen)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            self._restore_databases()
            self.remember(self.scan().fingerprint, str(chosen["id"]))
            return {
                "ok": True,
                "snapshot_id": chosen["id"],
                "snapshot_time": chosen.get("time"),
                "snapshot_trigger": chosen.get("trigger"),
                "error": None,
                "empty": False,
            }

    def find(self, snapshot_id: str) -> Mapping[str, Any] | None:
        """The snapshot `restore(snapshot_id)` would restore, or None (same matching rule)."""
        return self._choose(self.snapshots(), snapshot_id, boot=False)

    @staticmethod
    def _choose(
        snapshots: Sequence[Mapping[str, Any]], wanted: str, *, boot: bool
    ) -> Mapping[str, Any] | None:
        if wanted != "latest":
            for item in snapshots:
                if str(item["id"]).startswith(wanted) or item["short_id"] == wanted:
                    return item
            return None
        for item in snapshots:  # newest first
            if boot and TAG_RESTORE_FAILED in item["tags"]:
                continue
            return item
        return None

    def _swap_in(self, stage: Path, snapshot: Mapping[str, Any]) -> None:
        old_home = next(
            (t[len(HOME_TAG_PREFIX) :] for t in snapshot["tags"] if t.startswith(HOME_TAG_PREFIX)),
            str(self.home),
        )
        moves: list[tuple[Path, Path]] = []
        for original in snapshot["paths"]:
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

    def _restore_databases(self) -> None:
        if not self.sqlite_dir.exists():
            return
        for copy in self.sqlite_dir.rglob("*" + SQLITE_SUFFIX):
            rel = copy.relative_to(self.sqlite_dir)
            live = self.home / str(rel)[: -len(SQLITE_SUFFIX)]
            live.parent.mkdir(parents=True, exist_ok=True)
            for side in ("-wal", "-shm", "-journal"):
                Path(str(live) + side).unlink(missing_ok=True)
            shutil.copy2(copy, live)

    def boot_restore(self, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Restore at boot. Any failure other than 'empty repository' protects history.

        `previous` is the persisted status of an earlier `run` in this same container (the
        Worker restarts the process, not the disk): its local state is newer than any snapshot,
        so it is kept, and a protection it was under stays on.
        """
        earlier = (previous or {}).get("restore") or {}
        if earlier.get("at") and earlier.get("state") != "disabled":
            # Never restore over this container's own state; keep reporting how it began.
            self.status.update("restore", **earlier)
            if (previous or {}).get("backup", {}).get("protected"):
                self.status.update("backup", protected=True, last_error=earlier.get("error"))
            log.info("process restart in the same container: local state kept")
            self._after_boot_restore()
            return self.status.section("restore")
        configured = self.settings.backup.configured
        if not configured:
            self.status.update(
                "restore", state="disabled", snapshot_id=None, error=None, at=now_iso()
            )
            return self.status.section("restore")
        try:
            repo = self.ensure_repository()
            if repo == "initialized":
                self.status.update(
                    "restore", state="initialized", snapshot_id=None, error=None, at=now_iso()
                )
            else:
                result = self.restore("latest", boot=True)
                state = "empty" if result.get("empty") else "ok"
                self.status.update(
                    "restore",
                    state=state,
                    snapshot_id=result.get("snapshot_id"),
                    snapshot_time=result.get("snapshot_time"),
                    snapshot_trigger=result.get("snapshot_trigger"),
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
        # Hook (issue 13): an empty repository on a bucket the reference wrote → import it once.
        self._after_boot_restore()
        return self.status.section("restore")

    def _after_boot_restore(self) -> None:
        from .legacy_import import LegacyImport

        importer = LegacyImport(self.settings, self.status)
        if self.status.section("restore")["state"] in {"initialized", "empty"}:
            importer.run(self)
        else:
            importer.load_earlier()
