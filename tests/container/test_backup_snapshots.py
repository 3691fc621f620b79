"""Snapshot policy (openclaw_boot/backup/snapshots.py): which snapshot a restore picks, the tags
a snapshot gets, retention, and the JSON shapes of the results (docs/interfaces.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openclaw_boot.backup import (
    TAG_RESTORE_FAILED,
    RestoreResult,
    RetentionResult,
    Snapshot,
    SnapshotResult,
)
from openclaw_boot.backup.snapshots import choose, retention_args, snapshot_tags
from openclaw_boot.settings import load

from .conftest import base_env

# Newest first, as Backup.snapshots() returns them; fields as `restic snapshots --json` has them.
LISTED: list[dict[str, Any]] = [
    {
        "id": "c3" * 32,
        "short_id": "c3c3c3c3",
        "time": "2026-12-02T10:00:00Z",
        "paths": ["/home/openclaw/.openclaw"],
        "tags": ["openclaw-edge", "home=/home/openclaw", "trigger=interval", TAG_RESTORE_FAILED],
    },
    {
        "id": "b2" * 32,
        "time": "2026-12-02T09:00:00Z",
        "paths": ["/home/openclaw/.openclaw"],
        "tags": ["openclaw-edge", "home=/home/openclaw", "trigger=shutdown"],
    },
    {"id": "a1" * 32, "short_id": "a1a1a1a1", "time": "2026-12-01T09:00:00Z", "tags": None},
]
SNAPSHOTS = [Snapshot.from_restic(item) for item in LISTED]


def test_latest_at_boot_skips_snapshots_of_a_protected_boot() -> None:
    assert choose(SNAPSHOTS, "latest", boot=True) == SNAPSHOTS[1]
    # Asked for explicitly (the admin page), the newest is the newest.
    assert choose(SNAPSHOTS, "latest", boot=False) == SNAPSHOTS[0]
    assert choose([], "latest", boot=True) is None


def test_an_id_prefix_or_short_id_picks_that_snapshot_whatever_its_tags() -> None:
    assert choose(SNAPSHOTS, "c3c3c3c3", boot=True) == SNAPSHOTS[0]
    assert choose(SNAPSHOTS, "b2b2", boot=False) == SNAPSHOTS[1]
    assert choose(SNAPSHOTS, "0badc0de", boot=False) is None


def test_a_listed_snapshot_knows_its_trigger_and_home() -> None:
    newest, previous, oldest = SNAPSHOTS
    assert previous.short_id == "b2b2b2b2", "derived from the id when restic gives none"
    assert previous.trigger == "shutdown"
    assert previous.home == "/home/openclaw"
    assert oldest.tags == []
    assert oldest.trigger is None
    assert oldest.home is None
    assert json.dumps(newest.to_json()) == json.dumps(
        {
            "id": "c3" * 32,
            "short_id": "c3c3c3c3",
            "time": "2026-12-02T10:00:00Z",
            "paths": ["/home/openclaw/.openclaw"],
            "tags": LISTED[0]["tags"],
            "trigger": "interval",
        }
    )


def test_tags_say_what_took_the_snapshot_and_mark_a_protected_boot() -> None:
    home = Path("/home/openclaw")
    assert snapshot_tags(home, "manual", ["imported-from=x"], protected=False) == [
        "openclaw-edge",
        "home=/home/openclaw",
        "trigger=manual",
        "imported-from=x",
    ]
    assert snapshot_tags(home, "interval", [], protected=True)[-1] == TAG_RESTORE_FAILED


def test_retention_keeps_what_the_settings_say_and_every_protected_snapshot(home: Path) -> None:
    env = {**base_env(home), "BACKUP_KEEP_LAST": "5", "BACKUP_KEEP_DAILY": "3"}
    args = retention_args(load(env).backup)
    assert args[0] == "forget"
    assert args[args.index("--keep-last") + 1] == "5"
    assert args[args.index("--keep-daily") + 1] == "3"
    assert args[args.index("--keep-tag") + 1] == TAG_RESTORE_FAILED
    assert "--prune" in args


def test_result_json_has_the_shapes_the_control_api_always_had() -> None:
    """Byte for byte what the dict-returning code answered (key order included)."""
    cases: list[tuple[SnapshotResult | RestoreResult | RetentionResult, str]] = [
        (
            SnapshotResult(ok=True, snapshot_id="abcd1234", reason="manual"),
            '{"ok": true, "snapshot_id": "abcd1234", "skipped": false, "reason": "manual"}',
        ),
        (
            SnapshotResult(ok=True, skipped=True, reason="unchanged"),
            '{"ok": true, "snapshot_id": null, "skipped": true, "reason": "unchanged"}',
        ),
        (
            SnapshotResult(ok=False, error="boot.py run is live"),
            '{"ok": false, "snapshot_id": null, "skipped": false, "error": "boot.py run is live"}',
        ),
        (
            RestoreResult("latest", ok=True, empty=True),
            '{"ok": true, "snapshot_id": "latest", "error": null}',
        ),
        (
            RestoreResult("b2b2", ok=True, snapshot=SNAPSHOTS[1]),
            '{"ok": true, "snapshot_id": "' + "b2" * 32 + '", "error": null}',
        ),
        (
            RestoreResult("deadbeef", ok=False, error="no such snapshot"),
            '{"ok": false, "snapshot_id": "deadbeef", "error": "no such snapshot"}',
        ),
        (
            RetentionResult(ok=True, skipped=True, reason="not due"),
            '{"ok": true, "skipped": true, "reason": "not due"}',
        ),
    ]
    for result, expected in cases:
        assert json.dumps(result.to_json()) == expected, result
