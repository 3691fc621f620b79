"""Snapshot cost: unchanged / 1 % / 10 % changed state against the bytes that really changed."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import control
from dev.s3 import s3_client
from dev.stack import Stack

STATE_FILES = 1000
FILE_BYTES = 4096


@dataclass(frozen=True)
class SnapshotCost:
    case: str
    seconds: float
    skipped: bool
    files_new: int
    files_changed: int
    bytes_added: int
    s3_requests: int
    changed_bytes: int = 0
    """Bytes of the workspace files this case rewrote."""
    db_page_bytes: int = 0
    """Bytes of SQLite pages that differ from the previous snapshot's database copies."""
    bytes_uploaded: int = 0
    """Sizes of the objects the snapshot added to the bucket (restic's packs, index, snapshot
    file: what went to S3 after compression and encryption). restic's own `bytes_added`
    (`data_added` of restic 0.14) is the blobs' plaintext size before compression, without
    the index and snapshot files (internal/ui/backup/json.go: DataSize + TreeSize;
    `data_added_packed` came only in 0.17)."""

    @property
    def ratio(self) -> float | None:
        """bytes uploaded / (changed file bytes + changed database page bytes)."""
        changed = self.changed_bytes + self.db_page_bytes
        return self.bytes_uploaded / changed if changed and not self.skipped else None


def bucket_sizes(stack: Stack) -> dict[str, int]:
    """Key -> size of every object in the stack's bucket (the moto stand-in, dev/s3.py)."""
    client = s3_client(stack.config.url("s3").rstrip("/"))
    sizes: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=stack.config.bucket):
        for item in page.get("Contents") or []:
            sizes[str(item["Key"])] = int(item["Size"])
    return sizes


def uploaded_bytes(before: dict[str, int], after: dict[str, int]) -> int:
    """Bytes of the objects that are new or changed (restic writes new files, never rewrites;
    a lock it created and removed in between is missed: a few hundred bytes)."""
    return sum(size for key, size in after.items() if before.get(key) != size)


def page_digests(directory: Path) -> dict[tuple[str, int], tuple[bytes, int]]:
    """SHA-256 of every page of every SQLite copy the boot code snapshots
    (~/.openclaw-edge/state/sqlite/*.snapshot, backup/sqlite_copy.py `copy_databases`)."""

    pages: dict[tuple[str, int], tuple[bytes, int]] = {}
    for copy in sorted(directory.rglob("*.snapshot")) if directory.exists() else []:
        data = copy.read_bytes()
        if len(data) < 100 or not data.startswith(b"SQLite format 3\x00"):
            continue
        size = int.from_bytes(data[16:18], "big")
        size = 65536 if size == 1 else size
        for n in range(0, len(data), size):
            pages[(str(copy), n // size)] = (hashlib.sha256(data[n : n + size]).digest(), size)
    return pages


def changed_page_bytes(
    before: dict[tuple[str, int], tuple[bytes, int]],
    after: dict[tuple[str, int], tuple[bytes, int]],
) -> int:
    return sum(page[1] for key, page in after.items() if before.get(key) != page)


def _s3_requests(stack: Stack) -> int:
    log = stack.config.logs_dir / "s3.log"
    return sum(1 for line in log.read_text(errors="replace").splitlines() if '] "' in line)


def write_state(directory: Path, files: Sequence[int]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in files:
        (directory / f"file-{n:04d}.bin").write_bytes(os.urandom(FILE_BYTES))


def snapshot_once(stack: Stack, case: str, changed_bytes: int = 0) -> SnapshotCost:
    sqlite_dir = stack.config.home / ".openclaw-edge" / "state" / "sqlite"
    pages_before = page_digests(sqlite_dir)
    objects_before = bucket_sizes(stack)  # listed outside the counted requests
    before = _s3_requests(stack)
    began = time.perf_counter()
    result = control(stack, "POST", "/snapshot")
    seconds = time.perf_counter() - began
    time.sleep(1.0)  # let moto's access log catch up before counting
    requests = _s3_requests(stack) - before
    uploaded = uploaded_bytes(objects_before, bucket_sizes(stack))
    if not result.get("ok"):
        raise RuntimeError(f"snapshot failed: {result}")
    last = (control(stack, "GET", "/status").get("backup") or {}).get("last_snapshot") or {}
    skipped = bool(result.get("skipped"))
    db_bytes = 0 if skipped else changed_page_bytes(pages_before, page_digests(sqlite_dir))
    return SnapshotCost(
        case,
        seconds,
        skipped,
        0 if skipped else int(last.get("files_new") or 0),
        0 if skipped else int(last.get("files_changed") or 0),
        0 if skipped else int(last.get("bytes_added") or 0),
        requests,
        changed_bytes,
        db_bytes,
        uploaded,
    )


def snapshot_costs(stack: Stack, reps: int) -> list[SnapshotCost]:
    data = stack.config.home / ".openclaw" / "workspace" / "bench-state"
    write_state(data, range(STATE_FILES))
    initial = f"initial ({STATE_FILES} x {FILE_BYTES // 1024} KiB)"
    results = [snapshot_once(stack, initial, STATE_FILES * FILE_BYTES)]
    for _ in range(reps):
        results.append(snapshot_once(stack, "unchanged"))
    for share, label in ((0.01, "1% changed"), (0.10, "10% changed")):
        count = int(STATE_FILES * share)
        for rep in range(reps):
            start = (rep * count) % STATE_FILES
            write_state(data, [(start + i) % STATE_FILES for i in range(count)])
            results.append(snapshot_once(stack, f"{label} ({count} files)", count * FILE_BYTES))
    return results
