"""Live SQLite databases: consistent copies for a snapshot, put back on restore, content digests.

The copies are taken with SQLite's online backup API (consistent even while the gateway writes)
into `~/.openclaw-edge/sqlite/<path relative to HOME>.snapshot`; the live files and their
-wal/-shm are left out of the snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

SQLITE_SUFFIX = ".snapshot"
SQLITE_HEADER = b"SQLite format 3\x00"
DATABASE_SUFFIXES = frozenset({".sqlite", ".sqlite3", ".db"})
# Rows OpenClaw rewrites while idle (lease renewals, diagnostics): not a reason to snapshot.
VOLATILE_TABLES = frozenset({"state_leases", "agent_database_leases", "diagnostic_events"})


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_HEADER
    except OSError:
        return False


def is_database(path: Path) -> bool:
    return path.suffix in DATABASE_SUFFIXES and is_sqlite(path)


def copy_path(sqlite_dir: Path, rel: str) -> Path:
    """Where the snapshot copy of the database at HOME/`rel` lives."""
    return sqlite_dir / (rel + SQLITE_SUFFIX)


def copy_databases(home: Path, sqlite_dir: Path, databases: Sequence[Path]) -> None:
    """Consistent copies of live SQLite files next to (not inside) the state; stale ones go."""
    wanted: set[Path] = set()
    for database in databases:
        target = copy_path(sqlite_dir, str(database.relative_to(home)))
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
    if sqlite_dir.exists():
        for old in sqlite_dir.rglob("*" + SQLITE_SUFFIX):
            if old not in wanted:
                old.unlink()


def restore_databases(home: Path, sqlite_dir: Path) -> None:
    """Put every restored copy back in place of its live database (side files removed)."""
    if not sqlite_dir.exists():
        return
    for copy in sqlite_dir.rglob("*" + SQLITE_SUFFIX):
        rel = copy.relative_to(sqlite_dir)
        live = home / str(rel)[: -len(SQLITE_SUFFIX)]
        live.parent.mkdir(parents=True, exist_ok=True)
        for side in ("-wal", "-shm", "-journal"):
            Path(str(live) + side).unlink(missing_ok=True)
        shutil.copy2(copy, live)


class DatabaseDigests:
    """Hash of every row outside VOLATILE_TABLES; cached while the file and its -wal are untouched.

    The gateway renews leases every few seconds: a snapshot decision compares content, not mtimes.
    """

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[str, str]] = {}

    def digest(self, path: Path, info: os.stat_result) -> str:
        wal_key = ""
        with contextlib.suppress(FileNotFoundError):
            wal = Path(str(path) + "-wal").stat()
            wal_key = f"{wal.st_size}:{wal.st_mtime_ns}"
        key = f"{info.st_size}:{info.st_mtime_ns}:{wal_key}"
        cached = self._cache.get(path)
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
        self._cache[path] = (key, value)
        return value
