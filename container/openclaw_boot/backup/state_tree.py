"""The state tree: which paths below HOME a snapshot holds, and its change fingerprint.

A snapshot is taken only when the tree changed: the fingerprint covers size/mtime/mode of every
file and, for SQLite databases, their content (sqlite_copy.DatabaseDigests).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .sqlite_copy import DatabaseDigests, is_database

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
# Name prefixes of OpenClaw's own short-lived staging entries. A workspace bootstrap file (e.g.
# AGENTS.md) is written into `<dir>/openclaw-bootstrap-XXXXXX/<name>`, hard-linked to its final
# name and the directory removed (OpenClaw 2026.9.6 dist/workspace-*.mjs `publishBootstrapFile`,
# @openclaw/fs-safe dist/temp-target.js `fs.mkdtemp(path.join(rootDir, prefix))`). A snapshot
# that lists one while it exists finds it gone a moment later (restic exits 3).
EXCLUDED_PREFIXES = ("openclaw-bootstrap-",)


@dataclass(frozen=True)
class TreeScan:
    fingerprint: str
    files: int
    bytes: int
    databases: list[Path]


def _excluded_file(name: str) -> bool:
    return (
        name.endswith(EXCLUDED_SUFFIXES)
        or name in EXCLUDED_NAMES
        or name.startswith(EXCLUDED_PREFIXES)
    )


class StateTree:
    """The state paths of one HOME; `sqlite_dir` (the database copies) is never walked."""

    def __init__(self, home: Path, sqlite_dir: Path) -> None:
        self.home = home
        self.sqlite_dir = sqlite_dir
        self._digests = DatabaseDigests()

    def roots(self) -> list[Path]:
        return [self.home / rel for rel in STATE_PATHS if (self.home / rel).exists()]

    def _excluded_dirs(self) -> set[Path]:
        return {self.home / rel for rel in EXCLUDED_DIRS} | {self.sqlite_dir}

    def _walk(self) -> Iterator[tuple[Path, os.stat_result]]:
        excluded = self._excluded_dirs()
        for root in self.roots():
            if root.is_file() or root.is_symlink():
                yield root, root.lstat()
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                here = Path(dirpath)
                dirnames[:] = sorted(
                    name
                    for name in dirnames
                    if name not in EXCLUDED_NAMES
                    and not name.startswith(EXCLUDED_PREFIXES)
                    and here / name not in excluded
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
            if is_database(path):
                databases.append(path)
                digest.update(f"{rel}\0db\0{self._digests.digest(path, info)}\n".encode())
            else:
                digest.update(
                    f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_mode}\n".encode()
                )
            files += 1
            total += info.st_size
        return TreeScan(digest.hexdigest(), files, total, databases)

    def restic_excludes(self, databases: Sequence[Path]) -> list[str]:
        """`restic backup` arguments leaving out what the scan leaves out, and live databases."""
        args: list[str] = []
        for rel in EXCLUDED_DIRS:
            args += ["--exclude", str(self.home / rel)]
        for name in EXCLUDED_NAMES:
            args += ["--exclude", name]
        for suffix in EXCLUDED_SUFFIXES:
            args += ["--exclude", "*" + suffix]
        for prefix in EXCLUDED_PREFIXES:
            args += ["--exclude", prefix + "*"]
        for database in databases:
            args += ["--exclude", str(database)]
        return args
