"""`boot.py run|snapshot|snapshots|restore ID|status|config`: the container's entry point.

`run` = restore → write config → control API + snapshot loop → gateway in the foreground;
exits with the gateway's code after a final snapshot. The others are one-shots printing JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from . import config, legacy_import
from .backup import Backup, BackupError
from .control import ControlApp, serve
from .gateway import Gateway, exit_code
from .settings import Settings, SettingsError, load
from .status import Status, now_iso

log = logging.getLogger("openclaw-edge")

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
Result = dict[str, Any]


def _print(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    sys.stdout.flush()


def _pid_file(settings: Settings) -> str:
    return str(settings.run_dir / "run.pid")


def _running_pid(settings: Settings) -> int | None:
    try:
        pid = int(open(_pid_file(settings), encoding="ascii").read().strip())  # noqa: SIM115
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def write_config(settings: Settings, status: Status) -> None:
    try:
        result = config.write(settings)
    except config.ConfigError as exc:
        log.error("config not written: %s", exc)
        status.update("config", valid=False, issues=[str(exc)], warnings=[], changed=False)
        return
    status.update(
        "config",
        valid=result.valid,
        issues=result.issues,
        warnings=result.warnings,
        changed=result.changed,
    )
    if result.valid:
        log.info("config %s (%s)", "written" if result.changed else "unchanged", result.path)
    else:
        log.error("config invalid: %s", "; ".join(result.issues))


class Runner:
    """The `run` command's moving parts, shared by the main thread, loop and control API."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # An earlier `run` in this container (same disk) left its status behind.
        self.previous = Status.read(settings.run_dir / "status.json")
        self.status = Status(settings.run_dir / "status.json", fresh=True)
        self.backup = Backup(settings, self.status)
        self.gateway = Gateway(settings, self.status)
        self.stop_event = threading.Event()
        self.stop_signal = signal.SIGTERM
        self._ops = threading.Lock()

    # control API actions
    def api_status(self) -> dict[str, Any]:
        return self.status.snapshot()

    def api_snapshot(self) -> dict[str, Any]:
        return self.backup.snapshot(reason="manual")

    def api_snapshots(self) -> dict[str, Any]:
        return {"snapshots": self.backup.snapshots()}

    def api_restore(self, snapshot_id: str) -> dict[str, Any]:
        with self._ops:
            self.gateway.stop()
            try:
                result = self.backup.restore(snapshot_id)
            except Exception as exc:
                log.error("restore %s failed: %s", snapshot_id, exc)
                self.gateway.start()
                return {"ok": False, "snapshot_id": snapshot_id, "error": str(exc)}
            if result.get("ok") and result.get("snapshot_id"):
                # A deliberate, successful restore ends protection: the state is known-good.
                self.status.update(
                    "restore",
                    state="ok",
                    snapshot_id=result["snapshot_id"],
                    error=None,
                    at=now_iso(),
                )
                self.status.update("backup", protected=False)
            write_config(self.settings, self.status)
            self.gateway.start()
            return {
                "ok": bool(result.get("ok")),
                "snapshot_id": result.get("snapshot_id") or snapshot_id,
                "error": result.get("error"),
            }

    def api_restart(self) -> dict[str, Any]:
        with self._ops:
            self.gateway.restart()
        return {"ok": True}

    def snapshot_loop(self) -> None:
        interval = self.settings.backup.interval_seconds
        while not self.stop_event.wait(interval):
            result = self.backup.snapshot(reason="interval")
            if result.get("ok") and not self.status.protected:
                self.backup.apply_retention()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received, stopping", signum)
        self.stop_signal = signal.Signals(signum)
        self.stop_event.set()

    def run(self) -> int:
        settings = self.settings
        if not settings.gateway_token_set:
            log.error("OPENCLAW_GATEWAY_TOKEN is required (the gateway's auth token)")
            return 2
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        with open(_pid_file(settings), "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))
        for sig in FORWARDED_SIGNALS:
            signal.signal(sig, self._on_signal)

        restore = self.backup.boot_restore(self.previous)
        log.info("restore: %s", restore["state"])
        write_config(settings, self.status)
        legacy_import.before_gateway_start(settings, self.status, write_config)  # Doctor, if due

        server = None
        if settings.control_port:
            token = settings.get("OPENCLAW_GATEWAY_TOKEN")
            app = ControlApp(
                token=token,
                status=self.api_status,
                snapshot=self.api_snapshot,
                snapshots=self.api_snapshots,
                restore=self.api_restore,
                restart=self.api_restart,
                ready=self.gateway.readiness,
            )
            app.routes.update(legacy_import.control_routes(settings, self.status))
            server = serve(app, settings.control_bind, settings.control_port)
        loop = None
        if settings.backup.configured:
            loop = threading.Thread(target=self.snapshot_loop, name="snapshot-loop", daemon=True)
            loop.start()

        code: int | None = None
        if not self.stop_event.is_set():  # a SIGTERM during a long restore: skip the start
            try:
                self.gateway.start()
            except OSError as exc:
                log.error("gateway could not start (%s): %s", settings.openclaw_bin, exc.strerror)
                self.status.update("gateway", state="exited", pid=None)
                code = 127
                self.stop_event.set()
        while not self.stop_event.wait(0.5):
            with self._ops:
                code = self.gateway.unexpected_exit()
            if code is not None:
                break
        if code is None:
            code = self.gateway.stop(self.stop_signal)
            code = 0 if code is None else code
        self.stop_event.set()
        if loop is not None:
            loop.join(timeout=5)
        if server is not None:
            server.shutdown()
        if settings.backup.configured:
            final = self.backup.snapshot(reason="shutdown")
            log.info("final snapshot: %s", final.get("snapshot_id") or final.get("reason"))
        os.unlink(_pid_file(settings))
        return exit_code(code)


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

    live = _running_pid(settings) is not None and settings.control_port > 0
    status = Status(settings.run_dir / "status.json")
    if not live:
        status.update("gateway", state="stopped", pid=None)
    result = ONE_SHOTS[args.command](settings, status, args, live)
    _print(result)
    return 0 if result.get("ok", True) else 1


def _status(settings: Settings, status: Status, _args: argparse.Namespace, _live: bool) -> Result:
    Backup(settings, status)  # records whether backup is configured
    return status.snapshot()


def _config(settings: Settings, status: Status, _args: argparse.Namespace, _live: bool) -> Result:
    write_config(settings, status)
    section = status.section("config")
    return {"ok": bool(section["valid"]), **section}


def _snapshot(settings: Settings, status: Status, _args: argparse.Namespace, _live: bool) -> Result:
    return Backup(settings, status).snapshot(reason="one-shot")


def _snapshots(
    settings: Settings, status: Status, _args: argparse.Namespace, _live: bool
) -> Result:
    try:
        return {"snapshots": Backup(settings, status).snapshots()}
    except BackupError as exc:
        return {"ok": False, "error": str(exc)}


def _restore(settings: Settings, status: Status, args: argparse.Namespace, live: bool) -> Result:
    snapshot_id: str = args.snapshot_id
    if live:  # the running process must stop the gateway around the restore
        return _control_call(settings, "POST", "/restore", {"snapshot_id": snapshot_id})
    try:
        result = Backup(settings, status).restore(snapshot_id)
    except (BackupError, OSError) as exc:
        return {"ok": False, "snapshot_id": snapshot_id, "error": str(exc)}
    return {
        "ok": bool(result.get("ok")),
        "snapshot_id": result.get("snapshot_id") or snapshot_id,
        "error": result.get("error"),
    }


ONE_SHOTS: dict[str, Callable[[Settings, Status, argparse.Namespace, bool], Result]] = {
    "status": _status,
    "config": _config,
    "snapshot": _snapshot,
    "snapshots": _snapshots,
    "restore": _restore,
}
