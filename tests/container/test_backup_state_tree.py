"""What a snapshot holds and when the state counts as changed (openclaw_boot/backup/state_tree.py),
and the consistent SQLite copies (openclaw_boot/backup/sqlite_copy.py). No restic needed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from openclaw_boot.backup import sqlite_copy
from openclaw_boot.backup.state_tree import StateTree


def make_state(home: Path) -> Path:
    oc = home / ".openclaw"
    for rel in ("workspace", "logs", "cache", "agents/main/node_modules/x"):
        (oc / rel).mkdir(parents=True)
    (oc / "openclaw.json").write_text("{}\n")
    (oc / "workspace" / "MEMORY.md").write_text("remember\n")
    (oc / "logs" / "gateway.log").write_text("noise\n")
    (oc / "cache" / "blob").write_text("cache\n")
    (oc / "agents" / "main" / "node_modules" / "x" / "index.js").write_text("code\n")
    (oc / "gateway.lock").write_text("1\n")
    (home / ".bash_history").write_text("ls\n")
    (home / "Downloads").mkdir()
    (home / "Downloads" / "big.iso").write_text("not state\n")
    db = sqlite3.connect(oc / "state.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")
    db.execute("CREATE TABLE state_leases (owner TEXT, until INTEGER)")
    db.execute("INSERT INTO kv VALUES ('a', '1')")
    db.commit()
    db.close()
    return oc / "state.sqlite"


def test_scan_counts_state_only_and_finds_the_live_databases(home: Path) -> None:
    database = make_state(home)
    scan = StateTree(home, home / ".openclaw-edge" / "sqlite").scan()
    # openclaw.json, MEMORY.md, state.sqlite, .bash_history: no logs, caches, locks,
    # node_modules, -wal/-shm side files, nor anything outside the state paths.
    assert scan.files == 4
    assert scan.databases == [database]


def test_fingerprint_follows_content_but_not_lease_renewals(home: Path) -> None:
    database = make_state(home)
    tree = StateTree(home, home / ".openclaw-edge" / "sqlite")
    first = tree.scan().fingerprint
    assert tree.scan().fingerprint == first
    (home / ".openclaw" / "logs" / "gateway.log").write_text("more noise\n")
    assert tree.scan().fingerprint == first, "logs are not state"
    db = sqlite3.connect(database)
    db.execute("INSERT INTO state_leases VALUES ('gateway', 1)")
    db.commit()
    assert tree.scan().fingerprint == first, "a lease renewal is no reason to snapshot"
    db.execute("INSERT INTO kv VALUES ('b', '2')")
    db.commit()
    db.close()
    changed = tree.scan().fingerprint
    assert changed != first
    (home / ".openclaw" / "workspace" / "MEMORY.md").write_text("remember more\n")
    assert tree.scan().fingerprint != changed


def test_restic_leaves_out_what_the_scan_leaves_out_and_the_live_database(home: Path) -> None:
    database = make_state(home)
    tree = StateTree(home, home / ".openclaw-edge" / "sqlite")
    args = tree.restic_excludes([database])
    excluded = set(args[1::2])
    assert set(args[::2]) == {"--exclude"}
    assert {str(home / ".openclaw/logs"), "node_modules", "*-wal", "*.lock"} <= excluded
    assert str(database) in excluded


def test_database_copies_are_consistent_and_come_back_over_the_live_file(home: Path) -> None:
    database = make_state(home)
    sqlite_dir = home / ".openclaw-edge" / "state" / "sqlite"
    stale = sqlite_copy.copy_path(sqlite_dir, ".openclaw/gone.sqlite")
    stale.parent.mkdir(parents=True)
    stale.write_text("old copy\n")
    # An uncheckpointed write lives only in the -wal: the copy still has it.
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO kv VALUES ('in-wal', 'yes')")
    writer.commit()
    sqlite_copy.copy_databases(home, sqlite_dir, [database])
    writer.close()
    copy = sqlite_copy.copy_path(sqlite_dir, ".openclaw/state.sqlite")
    assert sorted(p.name for p in sqlite_dir.rglob("*") if p.is_file()) == [copy.name]
    assert sqlite_copy.is_sqlite(copy)

    database.unlink()
    Path(str(database) + "-wal").write_text("stale side file\n")
    sqlite_copy.restore_databases(home, sqlite_dir)
    assert not Path(str(database) + "-wal").exists()
    restored = sqlite3.connect(database)
    rows = restored.execute("SELECT k FROM kv ORDER BY k").fetchall()
    restored.close()
    assert rows == [("a",), ("in-wal",)]


def test_openclaw_staging_entries_are_never_state(home: Path) -> None:
    """OpenClaw stages a workspace bootstrap file in `<dir>/openclaw-bootstrap-XXXXXX/` and
    removes the directory at once: a snapshot must neither count nor read it."""
    make_state(home)
    tree = StateTree(home, home / ".openclaw-edge" / "sqlite")
    before = tree.scan()
    staging = home / ".openclaw" / "workspace" / "openclaw-bootstrap-a1B2c3"
    staging.mkdir()
    (staging / "AGENTS.md").write_text("seed\n")
    (home / ".openclaw" / "workspace" / "openclaw-bootstrap-1764000000-x.md").write_text("x\n")
    assert tree.scan() == before
    excludes = tree.restic_excludes([])
    assert excludes[excludes.index("openclaw-bootstrap-*") - 1] == "--exclude"
