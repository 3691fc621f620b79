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

Modules: restic.py (running restic), state_tree.py (what is saved, change fingerprint),
sqlite_copy.py (consistent database copies), snapshots.py (tags, choice, retention, results),
operations.py (`Backup`, the operations under one lock).
"""

from .operations import Backup
from .restic import BackupError, DeadlineExceeded, Restic
from .snapshots import (
    TAG_RESTORE_FAILED,
    RestoreResult,
    RetentionResult,
    Snapshot,
    SnapshotResult,
)
from .state_tree import TreeScan

__all__ = [
    "TAG_RESTORE_FAILED",
    "Backup",
    "BackupError",
    "DeadlineExceeded",
    "Restic",
    "RestoreResult",
    "RetentionResult",
    "Snapshot",
    "SnapshotResult",
    "TreeScan",
]
