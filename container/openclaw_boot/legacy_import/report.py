"""The import report (~/.openclaw-edge/state/legacy-import.json): built, read, summarised."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..settings import Settings
from ..status import now_iso
from .layouts import Found

REPORT_NAME = "legacy-import.json"
REPORT_LIST_LIMIT = 50


@dataclass
class Outcome:
    """What an import placed in HOME (counted while staging)."""

    files: int = 0
    bytes: int = 0
    config_removed: list[str] = field(default_factory=list)
    masked_files: int = 0
    conflicts: int = 0
    moved: list[str] = field(default_factory=list)


def read_report(settings: Settings) -> dict[str, Any] | None:
    try:
        value = json.loads((settings.edge_dir / REPORT_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def plan_digest(report: Mapping[str, Any]) -> str:
    """A digest of exactly what a delete would remove (the admin page echoes it back)."""
    items = sorted(f"{m['key']}\0{m['etag']}" for m in report.get("manifest", []))
    return hashlib.sha256("\n".join(items).encode()).hexdigest()[:32]


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """What status and the admin API show: the report minus its manifest, lists capped."""
    out = {k: v for k, v in report.items() if k not in {"manifest", "targets"}}
    skipped = list(report.get("skipped") or [])
    out["skipped"] = skipped[:REPORT_LIST_LIMIT]
    out["skipped_count"] = len(skipped)
    out["legacy_objects"] = len(report.get("manifest") or [])
    deletable = report.get("state") == "imported" and bool(report.get("verified"))
    deleted = report.get("deleted")
    out["delete_offer"] = deletable and not (isinstance(deleted, dict) and deleted.get("objects"))
    if deletable:
        out["delete_plan"] = plan_digest(report)
    return out


def new_report(found: Found, outcome: Outcome, bucket: str, seconds: float) -> dict[str, Any]:
    """The report of an import that just landed in HOME (not yet snapshotted nor verified)."""
    skipped = [
        {"key": e.key, "reason": e.reason} for e in found.entries if e.target is None and e.reason
    ]
    skipped += found.tree_skipped
    return {
        "state": "imported",
        "layout": found.layout,
        "at": now_iso(),
        "duration_s": round(seconds, 1),
        "files": outcome.files,
        "bytes": outcome.bytes,
        "source": {
            "bucket": bucket,
            "last_sync": found.last_sync,
            "last_sync_marker": found.last_sync_marker,
            "objects": len(found.entries),
            "bytes": sum(e.size for e in found.entries),
            "old_workspace": found.old_workspace,
        },
        "other_layouts": found.other_layouts,
        "skipped": skipped,
        "config_removed": outcome.config_removed,
        "masked_files": outcome.masked_files,
        "conflicts": outcome.conflicts,
        "verified": False,
        "verification": None,
        "snapshot_id": None,
        "doctor": {"state": "pending"},
        "deleted": None,
        "manifest": [e.manifest() for e in found.entries],
        "targets": sorted(outcome.moved),
    }
