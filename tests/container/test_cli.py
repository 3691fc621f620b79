"""The one-shot commands of `boot.py` (openclaw_boot/cli.py): JSON on stdout, no secret in it,
the shapes docs/interfaces.md names; real restic against a moto S3 server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import BOOT, SECRETS, base_env
from .test_backup import make_backup, populate, wipe


@pytest.mark.slow
def test_one_shot_commands_print_json(
    backup_env: dict[str, str], home: Path, restic_bin: str
) -> None:
    def boot(*args: str) -> dict[str, object]:
        proc = subprocess.run(
            [sys.executable, str(BOOT), *args],
            env=backup_env,
            capture_output=True,
            text=True,
            check=False,
        )
        for value in SECRETS.values():
            assert value not in proc.stdout + proc.stderr
        result: dict[str, object] = json.loads(proc.stdout)
        return result

    make_backup(backup_env).boot_restore()
    populate(home, files=3)
    taken = boot("snapshot")
    assert taken["ok"] is True
    assert taken["skipped"] is False
    assert taken["reason"] == "one-shot"
    assert list(taken) == ["ok", "snapshot_id", "skipped", "reason"]
    listed = boot("snapshots")["snapshots"]
    assert isinstance(listed, list)
    assert len(listed) == 1
    assert list(listed[0]) == ["id", "short_id", "time", "paths", "tags", "trigger"]
    assert listed[0]["trigger"] == "one-shot"
    assert str(listed[0]["id"]).startswith(str(taken["snapshot_id"]))
    wipe(home)
    restored = boot("restore", "latest")
    assert restored == {"ok": True, "snapshot_id": listed[0]["id"], "error": None}
    assert (home / ".openclaw" / "workspace" / "notes" / "todo.md").exists()
    missing = boot("restore", "deadbeef")
    assert missing == {"ok": False, "snapshot_id": "deadbeef", "error": "no such snapshot"}
    status = boot("status")
    assert status["backup"]["configured"] is True  # type: ignore[index]


def run_boot(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, str(BOOT), *args], env=env, capture_output=True, text=True, check=False
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, result


def test_snapshot_before_any_restore_is_refused_and_status_says_unconfigured(home: Path) -> None:
    """No `run` ever restored here: a snapshot could save an empty state as the newest one."""
    env = base_env(home)
    code, refused = run_boot(env, "snapshot")
    assert code == 1
    assert list(refused) == ["ok", "snapshot_id", "skipped", "error"]
    assert refused["ok"] is False
    assert refused["snapshot_id"] is None
    assert "no boot finished its restore" in refused["error"]
    code, status = run_boot(env, "status")
    assert code == 0
    assert status["backup"]["configured"] is False
    assert status["gateway"]["state"] == "stopped"
