"""`boot.py run|snapshot|snapshots|restore ID|status|config|selftest`: the container's entry point.

`run` is the supervisor (supervisor.py); the others are one-shots printing JSON, defined here.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from . import selftest
from .backup import Backup, BackupError, RestoreResult, SnapshotResult
from .settings import Settings, SettingsError, load
from .status import Status
from .supervisor import RunLock, Runner, run_is_live, write_config

Result = dict[str, Any]


def _print(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    sys.stdout.flush()


def _control_call(settings: Settings, method: str, path: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.control_port}{path}",
        data=data,
        method=method,
        headers={
            "Authorization": "Bearer " + settings.get("OPENCLAW_GATEWAY_TOKEN"),
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=3600) as response:  # noqa: S310
            result: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        result = json.loads(exc.read() or b"{}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boot.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="restore, write config, snapshot loop, gateway (foreground)")
    sub.add_parser("snapshot", help="take a snapshot now if anything changed (JSON)")
    sub.add_parser("snapshots", help="list snapshots, newest first (JSON)")
    restore = sub.add_parser("restore", help="restore a snapshot by id, or 'latest' (JSON)")
    restore.add_argument("snapshot_id")
    sub.add_parser("status", help="restore/gateway/backup status (JSON)")
    sub.add_parser("config", help="write and validate openclaw.json only (JSON)")
    sub.add_parser("selftest", help="run each tool's version command (JSON)")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=os.environ.get("OPENCLAW_EDGE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load()
    except SettingsError as exc:
        _print({"ok": False, "error": str(exc)})
        return 2

    if args.command == "run":
        return Runner(settings).run()

    live = run_is_live(settings)
    status = Status(settings.run_dir / "status.json")
    if not live:
        status.update("gateway", state="stopped", pid=None)
    result = ONE_SHOTS[args.command](settings, status, args, live)
    _print(result)
    return 0 if result.get("ok", True) and result.get("passed", True) else 1


def _status(settings: Settings, status: Status, _args: argparse.Namespace, _live: bool) -> Result:
    Backup(settings, status).record_configured()
    return status.snapshot()


def _config(settings: Settings, status: Status, _args: argparse.Namespace, _live: bool) -> Result:
    write_config(settings, status)
    section = status.section("config")
    return {"ok": bool(section["valid"]), **section}


def _live_refusal(settings: Settings) -> str | None:
    if not run_is_live(settings):
        return None
    return (
        f"boot.py run is live in this container (pid {RunLock(settings.run_lock).holder()}); "
        "it owns the backups: ask its control API (POST /snapshot) instead"
    )


def _unrestored_refusal(status: Status) -> str | None:
    """No finished restore in this container: what is on disk may not be the assistant's state
    (a fresh image, or a restore cut off half-way), and a snapshot of it would become "latest"."""
    restore = status.section("restore")
    if restore.get("at") and restore.get("state") != "restoring":
        return None
    return (
        "no boot finished its restore in this container (state "
        f"{restore.get('state')!r}): a snapshot now could save a partial or empty state as the "
        "newest one; start `boot.py run` instead"
    )


def _snapshot(settings: Settings, status: Status, _args: argparse.Namespace, live: bool) -> Result:
    refusal = _live_refusal(settings) if live else _unrestored_refusal(status)
    if refusal is not None:
        return SnapshotResult(ok=False, error=refusal).to_json()
    backup = Backup(settings, status)
    backup.record_configured()
    if settings.backup.configured:
        try:  # no `run` ever started here: the repository may not exist yet
            backup.ensure_repository()
        except BackupError as exc:
            return SnapshotResult(ok=False, error=str(exc)).to_json()
    # Checked again under the backup lock: a `run` that starts now restores under that lock.
    return backup.snapshot(reason="one-shot", guard=lambda: _live_refusal(settings)).to_json()


def _snapshots(
    settings: Settings, status: Status, _args: argparse.Namespace, _live: bool
) -> Result:
    try:
        backup = Backup(settings, status)
        backup.record_configured()
        return {"snapshots": [item.to_json() for item in backup.snapshots()]}
    except BackupError as exc:
        return {"ok": False, "error": str(exc)}


def _restore(settings: Settings, status: Status, args: argparse.Namespace, live: bool) -> Result:
    snapshot_id: str = args.snapshot_id
    if live:  # the running process must stop the gateway around the restore
        if not settings.control_port:
            return {"ok": False, "snapshot_id": snapshot_id, "error": _live_refusal(settings)}
        return _control_call(settings, "POST", "/restore", {"snapshot_id": snapshot_id})
    backup = Backup(settings, status)
    backup.record_configured()
    try:
        return backup.restore(snapshot_id).to_json()
    except (BackupError, OSError) as exc:
        return RestoreResult(snapshot_id, ok=False, error=str(exc)).to_json()


def _selftest(
    settings: Settings, _status: Status, _args: argparse.Namespace, _live: bool
) -> Result:
    return selftest.run(settings)


ONE_SHOTS: dict[str, Callable[[Settings, Status, argparse.Namespace, bool], Result]] = {
    "status": _status,
    "config": _config,
    "snapshot": _snapshot,
    "snapshots": _snapshots,
    "restore": _restore,
    "selftest": _selftest,
}
