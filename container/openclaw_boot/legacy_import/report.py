"""The import report (~/.openclaw-edge/legacy-import.json): read, summarised, plan digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..settings import Settings

REPORT_NAME = "legacy-import.json"
REPORT_LIST_LIMIT = 50


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
