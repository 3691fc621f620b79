"""The control API routes of the import: `GET /import` and `POST /import/delete-legacy`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..r2 import R2Error
from ..settings import Settings
from ..status import Status, now_iso
from .importer import LegacyImport
from .report import plan_digest, summary


def details(importer: LegacyImport) -> dict[str, Any]:
    """`GET /import`: the report's summary (or the import status when nothing was imported)."""
    report = importer.read_report()
    section = importer.status.section("import")
    if report is None:
        return {"ok": True, **section}
    return {
        "ok": True,
        **summary(report),
        "imported_this_boot": section.get("imported_this_boot"),
    }


def delete_legacy(importer: LegacyImport, body: Mapping[str, Any]) -> dict[str, Any]:
    """`POST /import/delete-legacy`: delete the imported legacy objects that did not change."""
    report = importer.read_report()
    if report is None or report.get("state") != "imported":
        raise ValueError("nothing was imported from moltworker: there is nothing to delete")
    if not report.get("verified"):
        raise ValueError(
            "the import is not verified (its snapshot was not confirmed): the legacy "
            "objects are kept"
        )
    if body.get("confirm") != "delete-legacy-objects" or body.get("plan") != plan_digest(report):
        raise ValueError(
            'confirmation required: {"confirm": "delete-legacy-objects", "plan": "<plan from '
            'GET /import>"}'
        )
    if importer.client is None:
        raise ValueError("R2 is not configured")
    recorded = {m["key"]: m["etag"] for m in report.get("manifest", [])}
    prefixes = sorted({k.split("/", 1)[0] + "/" if "/" in k else k for k in recorded})
    current: dict[str, str] = {}
    for prefix in prefixes:
        if prefix.endswith("/"):
            current.update({o.key: o.etag for o in importer.client.list(prefix)})
        else:
            head = importer.client.head(prefix)
            if head is not None:
                current[head.key] = head.etag
    deleted, kept, errors = 0, [], []
    for key, etag in sorted(recorded.items()):
        if key not in current:
            continue
        if current[key] != etag:
            kept.append(key)  # changed since the import: the old deployment still writes
            continue
        try:
            importer.client.delete(key)
            deleted += 1
        except R2Error as exc:
            errors.append(str(exc))
    report = dict(report)
    report["deleted"] = {
        "at": now_iso(),
        "objects": deleted,
        "kept_changed": kept,
        "errors": errors,
    }
    importer.write_report(report)
    importer.publish(report)
    return {"ok": not errors, "deleted": deleted, "kept_changed": kept, "errors": errors}


def control_routes(
    settings: Settings, status: Status
) -> dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Routes the `run` command adds to the control API (docs/interfaces.md)."""
    importer = LegacyImport(settings, status)
    return {
        ("GET", "/import"): lambda _body: details(importer),
        ("POST", "/import/delete-legacy"): lambda body: delete_legacy(importer, body),
    }
