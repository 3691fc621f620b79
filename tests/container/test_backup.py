"""`Backup` (openclaw_boot/backup/operations.py) with real restic against a moto S3 server:
round trip, first boot, no-op when unchanged, protection after a failed restore, and a kill -9
in the middle of a snapshot."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openclaw_boot.backup import TAG_RESTORE_FAILED, Backup, Snapshot
from openclaw_boot.settings import load
from openclaw_boot.status import Status

from .conftest import BOOT

pytestmark = pytest.mark.slow


def make_backup(env: dict[str, str], *, fresh: bool = True) -> Backup:
    settings = load(env)
    return Backup(settings, Status(settings.run_dir / "status.json", fresh=fresh))


def populate(home: Path, files: int = 30) -> None:
    """A state tree like a real one: config, sessions, workspace, a live SQLite db, noise."""
    oc = home / ".openclaw"
    (oc / "agents" / "main" / "sessions").mkdir(parents=True)
    (oc / "workspace" / "notes").mkdir(parents=True)
    (oc / "logs").mkdir()
    (oc / "cache").mkdir()
    (oc / "state").mkdir()
    (oc / "openclaw.json").write_text('{"gateway": {"mode": "local"}}\n')
    for i in range(files):
        (oc / "agents" / "main" / "sessions" / f"s{i}.jsonl").write_text(f"line {i}\n" * (i + 1))
    (oc / "workspace" / "notes" / "todo.md").write_text("- keep history\n")
    (oc / "logs" / "gateway.log").write_text("noise\n")
    (oc / "cache" / "blob").write_bytes(os.urandom(1024))
    (oc / "gateway.lock").write_text("123")
    (home / ".gitconfig").write_text("[user]\n  name = claw\n")
    db = sqlite3.connect(oc / "state" / "openclaw.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")
    db.executemany("INSERT INTO kv VALUES (?, ?)", [(f"k{i}", f"v{i}") for i in range(100)])
    db.commit()
    db.close()


def tree(home: Path) -> dict[str, bytes]:
    """Relative path → content for what a snapshot must bring back (db compared by rows)."""
    out: dict[str, bytes] = {}
    for path in sorted(home.rglob("*")):
        rel = str(path.relative_to(home))
        if not path.is_file() or rel.startswith((".openclaw-edge", ".cache")):
            continue
        if rel.endswith((".sqlite-wal", ".sqlite-shm")):
            continue
        if rel.endswith(".sqlite"):
            db = sqlite3.connect(path)
            out[rel] = repr(db.execute("SELECT * FROM kv ORDER BY k").fetchall()).encode()
            db.close()
        else:
            out[rel] = path.read_bytes()
    return out


def kept(home: Path) -> dict[str, bytes]:
    """What a snapshot must bring back: the tree minus logs, caches and locks."""
    return {
        rel: content
        for rel, content in tree(home).items()
        if not rel.startswith((".openclaw/logs", ".openclaw/cache")) and not rel.endswith(".lock")
    }


def wipe(home: Path) -> None:
    for child in home.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def restic_snapshots(backup: Backup) -> list[Snapshot]:
    return backup.snapshots()


def test_first_boot_initialises_then_backup_wipe_restore_is_identical(
    backup_env: dict[str, str], home: Path, restic_bin: str
) -> None:
    backup = make_backup(backup_env)
    assert backup.boot_restore()["state"] == "initialized"
    assert backup.status.section("backup")["protected"] is False

    populate(home)
    expected = kept(home)
    first = backup.snapshot(reason="test")
    assert first.ok, first
    assert first.snapshot_id, first

    wipe(home)
    assert make_backup(backup_env).boot_restore()["state"] == "ok"
    assert tree(home) == expected, "restored tree differs (logs, caches and locks excluded)"


def test_empty_repository_reports_empty(backup_env: dict[str, str], restic_bin: str) -> None:
    assert make_backup(backup_env).boot_restore()["state"] == "initialized"
    status = make_backup(backup_env).boot_restore()
    assert status["state"] == "empty"
    assert status["error"] is None


def test_find_matches_what_restore_would_restore(
    backup_env: dict[str, str], home: Path, restic_bin: str
) -> None:
    """The control API answers 404 from `find` before it stops the gateway for a restore."""
    backup = make_backup(backup_env)
    backup.boot_restore()
    assert backup.find("latest") is None, "an empty repository has nothing to restore"
    populate(home, files=3)
    taken = str(backup.snapshot().snapshot_id)
    full = str(restic_snapshots(backup)[0].id)
    for wanted in ("latest", taken, taken[:8], full):
        found = backup.find(wanted)
        assert found is not None, wanted
        assert found.id == full
    assert backup.find("0badc0de") is None


def test_unchanged_state_makes_no_new_snapshot(
    backup_env: dict[str, str], home: Path, restic_bin: str
) -> None:
    backup = make_backup(backup_env)
    backup.boot_restore()
    populate(home, files=5)
    assert backup.snapshot().snapshot_id
    again = backup.snapshot()
    assert again.to_json() == {
        "ok": True,
        "snapshot_id": None,
        "skipped": True,
        "reason": "unchanged",
    }
    # A separate process (the Worker's cron fallback) agrees: nothing changed.
    assert make_backup(backup_env, fresh=False).snapshot().reason == "unchanged"
    assert len(restic_snapshots(backup)) == 1

    (home / ".openclaw" / "workspace" / "notes" / "todo.md").write_text("- changed\n")
    assert backup.snapshot().snapshot_id
    assert len(restic_snapshots(backup)) == 2


def test_repository_size_is_fresh_after_each_snapshot(
    backup_env: dict[str, str], home: Path, restic_bin: str
) -> None:
    # /_admin/ shows status.json's repository_size; it used to be refreshed only by the 6-hourly
    # retention run, so every snapshot in between left it stale.
    backup = make_backup({**backup_env, "BACKUP_RETENTION_INTERVAL_SECONDS": "86400"})
    backup.boot_restore()
    populate(home, files=5)
    assert backup.snapshot().snapshot_id
    first = backup.status.section("backup")["repository_size"]
    assert isinstance(first, int)
    assert first > 0
    (home / ".openclaw" / "workspace" / "big.bin").write_bytes(os.urandom(256 * 1024))
    assert backup.snapshot().snapshot_id
    second = backup.status.section("backup")["repository_size"]
    assert second >= first + 256 * 1024
    assert backup.status.section("backup")["snapshot_count"] == 2


def failing_restic(tmp_path: Path, restic_bin: str) -> Path:
    """restic that fails `restore` (disk full, timeout, ...) and works otherwise."""
    script = tmp_path / "restic-failing-restore"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = restore ]; then echo "Fatal: simulated restore failure" >&2; exit 1; fi\n'
        f'exec {restic_bin} "$@"\n'
    )
    script.chmod(0o755)
    return script


def test_failed_restore_protects_history(
    backup_env: dict[str, str], home: Path, tmp_path: Path, restic_bin: str
) -> None:
    env = {**backup_env, "BACKUP_KEEP_LAST": "1", "BACKUP_KEEP_DAILY": "1"}
    good = make_backup(env)
    good.boot_restore()
    populate(home)
    expected = kept(home)
    good_id = good.snapshot().snapshot_id
    assert good_id

    # Next boot: the container starts empty and the restore fails.
    wipe(home)
    bad_env = {**env, "RESTIC_BIN": str(failing_restic(tmp_path, restic_bin))}
    bad = make_backup(bad_env)
    restore = bad.boot_restore()
    assert restore["state"] == "failed"
    assert "simulated restore failure" in restore["error"]
    assert bad.status.section("backup")["protected"] is True

    # The gateway runs on an empty state; the loop keeps snapshotting it (additively)...
    (home / ".openclaw").mkdir()
    (home / ".openclaw" / "openclaw.json").write_text("{}\n")
    taken = bad.snapshot()
    assert taken.ok
    assert taken.snapshot_id
    # ...but retention, even with keep-last 1, is refused while protected.
    assert bad.apply_retention(force=True).reason.startswith("protected")
    snaps = restic_snapshots(bad)
    assert {s.short_id for s in snaps} >= {good_id[:8], taken.snapshot_id[:8]}
    protected_snap = next(s for s in snaps if TAG_RESTORE_FAILED in s.tags)

    # The next healthy boot restores the last good snapshot, not the empty one...
    wipe(home)
    healthy = make_backup(env)
    assert healthy.boot_restore()["snapshot_id"].startswith(good_id[:8])
    assert tree(home) == expected
    # ...and its retention (keep-last 1) still never forgets the protected session's snapshot.
    (home / ".openclaw" / "workspace" / "notes" / "todo.md").write_text("- newer\n")
    assert healthy.snapshot().snapshot_id
    assert healthy.apply_retention(force=True).ok
    remaining = {s.id for s in restic_snapshots(healthy)}
    assert protected_snap.id in remaining


def running_restic_backup(repo_hint: str) -> int | None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"restic") and argv[1] == b"backup":
            environ = (proc / "environ").read_bytes()
            if repo_hint.encode() in environ:
                return int(proc.name)
    return None


def test_kill_9_during_snapshot_leaves_repository_usable(
    backup_env: dict[str, str], home: Path, restic_bin: str
) -> None:
    backup = make_backup(backup_env)
    backup.boot_restore()
    populate(home)
    expected = kept(home)
    first = backup.snapshot().snapshot_id
    assert first

    # Enough new data that the snapshot is still uploading when it is killed.
    big = home / ".openclaw" / "workspace" / "big"
    big.mkdir()
    for i in range(40):
        (big / f"blob{i}").write_bytes(os.urandom(512 * 1024))
    proc = subprocess.Popen(
        [sys.executable, str(BOOT), "snapshot"],
        env=backup_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    pid = None
    while pid is None and time.monotonic() < deadline and proc.poll() is None:
        pid = running_restic_backup(backup_env["R2_BUCKET_NAME"])
        time.sleep(0.02)
    assert pid is not None, "restic backup never started"
    time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # restic calls a lock stale only once its process is gone (restic internal/restic/lock.go:
    # same host and kill(pid, 0) fails); on a loaded machine the orphaned restic can linger as
    # a zombie until init reaps it, and a zombie still answers kill(pid, 0).
    gone_by = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < gone_by:
        time.sleep(0.05)

    after = make_backup(backup_env, fresh=False)
    # What the next boot does first: drop the killed process's stale lock.
    after.ensure_repository()
    check = after.restic.run("check", timeout=300, check=False)
    assert check.returncode == 0, check.stderr
    # The previous snapshot restores exactly, and the next snapshot works.
    shutil.rmtree(big)
    wipe(home)
    after.restore(first)
    assert tree(home) == expected
    (home / ".openclaw" / "workspace" / "notes" / "todo.md").write_text("- after kill\n")
    retry = json.loads(
        subprocess.run(
            [sys.executable, str(BOOT), "snapshot"],
            env=backup_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert retry["ok"]
    assert retry["snapshot_id"]


def test_process_restart_in_same_container_keeps_local_state(
    backup_env: dict[str, str], home: Path, tmp_path: Path, restic_bin: str
) -> None:
    """The Worker may restart `run` in a container whose disk survived: no restore over it."""
    first = make_backup({**backup_env, "RESTIC_BIN": str(failing_restic(tmp_path, restic_bin))})
    first.boot_restore()
    populate(home, files=2)
    assert first.snapshot().ok
    wipe_marker = home / ".openclaw" / "workspace" / "local-only.md"
    wipe_marker.write_text("not in any snapshot yet\n")
    previous = first.status.snapshot()
    previous["backup"]["protected"] = True
    again = make_backup(backup_env)
    restore = again.boot_restore(previous)
    assert restore["state"] == previous["restore"]["state"]
    assert wipe_marker.read_text() == "not in any snapshot yet\n"
    assert again.status.protected is True


# What restic 0.14.0 printed, besides its summary, for a backup during which a directory of the
# state was deleted (a real run: 30,000 files removed while `restic backup --json` walked them;
# exit status 3, the snapshot saved without them). One of its 48 error lines and its last line:
VANISHED_ERROR = (
    '{"message_type":"error","error":{"Op":"lstat","Path":"%s","Err":2},'
    '"during":"archival","item":"%s"}'
)
INCOMPLETE_WARNING = "Warning: at least one source file could not be read"


def incomplete_restic(tmp_path: Path, restic_bin: str, vanished: Path, summary: bool) -> str:
    """A RESTIC_BIN that runs the real restic and, for `backup`, then reports `vanished` as
    unreadable and exits 3 as restic does (with `summary` False: the real backup's summary is
    dropped, as when restic stopped before saving a snapshot). The snapshot itself is real."""
    script = tmp_path / "restic-incomplete"
    script.write_text(
        f"""#!{sys.executable}
import subprocess, sys
proc = subprocess.run([{restic_bin!r}, *sys.argv[1:]], capture_output=True, text=True)
out = proc.stdout
if sys.argv[1:2] != ["backup"]:
    sys.stdout.write(out); sys.stderr.write(proc.stderr); sys.exit(proc.returncode)
if not {summary!r}:
    out = "".join(l for l in out.splitlines(True) if '"summary"' not in l)
sys.stdout.write(out)
sys.stderr.write({VANISHED_ERROR % (vanished, vanished)!r} + "\\n")
sys.stderr.write({INCOMPLETE_WARNING!r} + "\\n")
sys.exit(3)
"""
    )
    script.chmod(0o755)
    return str(script)


def test_an_incomplete_snapshot_is_kept_and_the_next_round_takes_another(
    backup_env: dict[str, str], home: Path, restic_bin: str, tmp_path: Path
) -> None:
    """restic exit 3 (an item vanished during the walk): the snapshot exists and counts, the
    item is named, and the state is never "unchanged" from it; a complete one follows."""
    make_backup(backup_env).boot_restore()
    populate(home, files=3)
    vanished = home / ".openclaw" / "workspace" / "notes" / "gone.md"
    env = {**backup_env, "RESTIC_BIN": incomplete_restic(tmp_path, restic_bin, vanished, True)}
    backup = make_backup(env)
    first = backup.snapshot(reason="interval")
    assert first.ok, first
    assert not first.skipped, first
    assert [str(s.id).startswith(str(first.snapshot_id)) for s in restic_snapshots(backup)] == [
        True
    ]
    section = backup.status.section("backup")
    assert section["last_error"] is None
    assert section["last_snapshot"]["unreadable"] == [str(vanished)]
    # Nothing changed, but the latest snapshot is incomplete: the real restic takes another.
    complete = make_backup({**backup_env}, fresh=False)
    second = complete.snapshot(reason="interval")
    assert second.ok, second
    assert second.snapshot_id, second
    assert not second.skipped, second
    assert complete.status.section("backup")["last_snapshot"]["unreadable"] == []
    assert complete.snapshot().reason == "unchanged"
    assert len(restic_snapshots(complete)) == 2


def test_exit_3_without_a_saved_snapshot_is_a_failure(
    backup_env: dict[str, str], home: Path, restic_bin: str, tmp_path: Path
) -> None:
    make_backup(backup_env).boot_restore()
    populate(home, files=3)
    vanished = home / ".openclaw" / "gone"
    env = {**backup_env, "RESTIC_BIN": incomplete_restic(tmp_path, restic_bin, vanished, False)}
    backup = make_backup(env)
    result = backup.snapshot()
    assert not result.ok
    assert result.reason
    assert "restic backup failed (3)" in result.reason
    assert INCOMPLETE_WARNING in result.reason
    assert backup.status.section("backup")["last_error"] == result.reason
    # Not remembered as taken: the next round tries again.
    assert make_backup(backup_env, fresh=False).snapshot().snapshot_id
