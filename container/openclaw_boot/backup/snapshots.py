"""Snapshot policy: tags, which snapshot a restore picks, retention, and the typed results.

- Every snapshot is tagged with what took it (`trigger=interval|manual|shutdown|one-shot`), so
  a boot can say whether the stop before it ended with a final snapshot (the recovery point).
- Snapshots taken while the boot is protected (its restore failed) are tagged `restore-failed`;
  boot restore skips them and retention never forgets them.
- The results are dataclasses; `to_json()` is the one place their control API / CLI shape
  (docs/interfaces.md) is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import BackupSettings

HOST_NAME = "openclaw-edge"
TAG = "openclaw-edge"
TAG_RESTORE_FAILED = "restore-failed"
HOME_TAG_PREFIX = "home="
TRIGGER_TAG_PREFIX = "trigger="


def trigger_of(tags: Sequence[str]) -> str | None:
    return next(
        (t[len(TRIGGER_TAG_PREFIX) :] for t in tags if t.startswith(TRIGGER_TAG_PREFIX)), None
    )


def snapshot_tags(home: Path, trigger: str, extra: Iterable[str], *, protected: bool) -> list[str]:
    tags = [TAG, HOME_TAG_PREFIX + str(home), TRIGGER_TAG_PREFIX + trigger, *extra]
    if protected:
        tags.append(TAG_RESTORE_FAILED)
    return tags


def retention_args(backup: BackupSettings) -> list[str]:
    """`restic forget` arguments: keep last N, daily M, and every `restore-failed` snapshot."""
    return [
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
    ]


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of the repository, as `restic snapshots --json` lists it."""

    id: str | None
    short_id: str
    time: str | None
    paths: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def trigger(self) -> str | None:
        return trigger_of(self.tags)

    @property
    def home(self) -> str | None:
        """The HOME the snapshot was taken in (its paths are absolute below it)."""
        return next(
            (t[len(HOME_TAG_PREFIX) :] for t in self.tags if t.startswith(HOME_TAG_PREFIX)), None
        )

    @classmethod
    def from_restic(cls, item: Mapping[str, Any]) -> Snapshot:
        return cls(
            id=item.get("id"),
            short_id=item.get("short_id") or str(item.get("id", ""))[:8],
            time=item.get("time"),
            paths=list(item.get("paths", [])),
            tags=list(item.get("tags") or []),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "short_id": self.short_id,
            "time": self.time,
            "paths": self.paths,
            "tags": self.tags,
            "trigger": self.trigger,
        }


def choose(snapshots: Sequence[Snapshot], wanted: str, *, boot: bool) -> Snapshot | None:
    """`wanted` = an id (prefix) or short id, or "latest": the newest (at boot: not tagged
    `restore-failed`). `snapshots` are newest first."""
    if wanted != "latest":
        for item in snapshots:
            if str(item.id).startswith(wanted) or item.short_id == wanted:
                return item
        return None
    for item in snapshots:
        if boot and TAG_RESTORE_FAILED in item.tags:
            continue
        return item
    return None


@dataclass(frozen=True)
class SnapshotResult:
    """What a snapshot attempt did. `reason` says why it was skipped or failed (or its
    trigger when taken); `error` is set instead when a guard refused it."""

    ok: bool
    snapshot_id: str | None = None
    skipped: bool = False
    reason: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "snapshot_id": self.snapshot_id,
            "skipped": self.skipped,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class RestoreResult:
    """What a restore of `requested` did; `empty`: "latest" of a repository without snapshots."""

    requested: str
    ok: bool
    snapshot: Snapshot | None = None
    error: str | None = None
    empty: bool = False

    @property
    def snapshot_id(self) -> str | None:
        return self.snapshot.id if self.snapshot is not None else None

    def to_json(self) -> dict[str, Any]:
        """The control API's / `boot.py restore`'s answer."""
        return {
            "ok": self.ok,
            "snapshot_id": self.snapshot_id or self.requested,
            "error": self.error,
        }


@dataclass(frozen=True)
class RetentionResult:
    ok: bool
    skipped: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "skipped": self.skipped, "reason": self.reason}
