"""`boot.py run|snapshot|snapshots|restore ID|status|config|selftest`: the container's entry point.

`run` = take the run lock → control API → restore → write config → snapshot loop → gateway in
the foreground; on a stop it leaves within the Sandbox SDK's 5 s kill window, final snapshot
included when it fits. The others are one-shots printing JSON.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from . import config, legacy_import, selftest
from .backup import Backup, BackupError
from .channels import ChannelMonitor
from .control import Busy, ControlApp, NotFound, serve
from .gateway import Gateway, exit_code
from .logs import configure_run_logging, tail
from .settings import Settings, SettingsError, load
from .status import Status, now_iso

log = logging.getLogger("openclaw-edge")

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# A stop asked through the control API (POST /shutdown) is not under the SDK's SIGKILL.
API_SHUTDOWN_BUDGET_SECONDS = 120.0
# A one-shot probing the run lock holds it for microseconds; a live `run` holds it for good.
LOCK_RETRY_SECONDS = 1.0
Result = dict[str, Any]


def _print(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    sys.stdout.flush()


class RunLock:
    """flock on ~/.openclaw-edge/run/run.lock: one live `boot.py run` per HOME.

    The Sandbox SDK runs a second `startProcess` with the same id instead of refusing it
    (sandbox-container/src/services/process-store.ts, `create` overwrites the record), so
    two requests that both find no gateway both start `run`: the second one must exit here.
    The kernel drops the lock when the holder dies, SIGKILL included.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, retry_seconds: float = LOCK_RETRY_SECONDS) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + retry_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> int | None:
        try:
            return int(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None


def run_is_live(settings: Settings) -> bool:
    """Whether a `boot.py run` holds the run lock of this HOME (without disturbing it)."""
    try:
        fd = os.open(settings.run_lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a shared lock we may have taken
    return False


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
        log.info(
            "config %s (%s), validation %s",
            "written" if result.changed else "unchanged",
            result.path,
            result.validation,
        )
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
        self.stop_started: float | None = None
        self.stop_budget = settings.shutdown_budget_seconds
        self.phase = "starting"  # → restoring → running → stopping
        self._ops = threading.Lock()

    # control API actions
    def _refuse_unless_running(self, action: str) -> None:
        if self.phase == "restoring":
            raise Busy(
                f"{action} refused: the state is still being restored from the backup "
                "(a snapshot now would capture a half-restored state); retry when "
                "GET /status says restore.state is no longer 'restoring'"
            )
        if self.phase == "stopping":
            raise Busy(f"{action} refused: boot.py run is shutting down (final snapshot)")

    def api_status(self) -> dict[str, Any]:
        return {**self.status.snapshot(), "phase": self.phase}

    def api_snapshot(self) -> dict[str, Any]:
        self._refuse_unless_running("snapshot")
        return self.backup.snapshot(reason="manual")

    def api_snapshots(self) -> dict[str, Any]:
        return {"snapshots": self.backup.snapshots()}

    def api_restore(self, snapshot_id: str) -> dict[str, Any]:
        self._refuse_unless_running("restore")
        with self._ops:
            # An id no snapshot has is the caller's mistake: 404, and the gateway keeps running.
            if self.backup.find(snapshot_id) is None:
                if snapshot_id == "latest":
                    raise NotFound("the repository has no snapshot yet: take one first")
                raise NotFound(f"no snapshot {snapshot_id!r} in the repository")
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
                    snapshot_time=result.get("snapshot_time"),
                    snapshot_trigger=result.get("snapshot_trigger"),
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
        self._refuse_unless_running("gateway restart")
        with self._ops:
            self.gateway.restart()
        return {"ok": True}

    def api_ready(self) -> dict[str, Any]:
        if self.phase in ("starting", "restoring"):
            detail = "restoring the state from the last snapshot"
            return {"ok": True, "ready": False, "http_status": None, "detail": detail}
        if self.phase == "stopping":
            return {"ok": True, "ready": False, "http_status": None, "detail": "shutting down"}
        return self.gateway.readiness()

    def api_shutdown(self) -> dict[str, Any]:
        """Stop like a SIGTERM, but with time for the final snapshot (nobody will SIGKILL)."""
        if not self.stop_event.is_set():
            log.info("shutdown requested through the control API")
            self._begin_stop(signal.SIGTERM, API_SHUTDOWN_BUDGET_SECONDS)
        return {"ok": True, "stopping": True, "phase": self.phase}

    def api_logs(self, source: str, lines: int) -> dict[str, Any]:
        path = self.settings.gateway_log if source == "gateway" else self.settings.boot_log
        return {"ok": True, "source": source, "lines": tail(path, lines)}

    def snapshot_loop(self) -> None:
        interval = self.settings.backup.interval_seconds
        while not self.stop_event.wait(interval):
            result = self.backup.snapshot(reason="interval")
            if self.stop_event.is_set():
                break  # retention can take minutes: never start it on the way out
            if result.get("ok") and not self.status.protected:
                self.backup.apply_retention()

    def _begin_stop(self, sig: int, budget: float) -> None:
        if self.stop_started is None:
            self.stop_started = time.monotonic()
            self.stop_budget = budget
        self.stop_signal = signal.Signals(sig)
        self.stop_event.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received, stopping", signum)
        self._begin_stop(signum, self.settings.shutdown_budget_seconds)

    def _serve_control(self) -> Any:
        settings = self.settings
        if not settings.control_port:
            return None
        app = ControlApp(
            token=settings.get("OPENCLAW_GATEWAY_TOKEN"),
            status=self.api_status,
            snapshot=self.api_snapshot,
            snapshots=self.api_snapshots,
            restore=self.api_restore,
            restart=self.api_restart,
            ready=self.api_ready,
            shutdown=self.api_shutdown,
            logs=self.api_logs,
            selftest=lambda: selftest.run(settings),
        )
        app.routes.update(legacy_import.control_routes(settings, self.status))
        return serve(app, settings.control_bind, settings.control_port)

    def run(self) -> int:
        settings = self.settings
        if not settings.gateway_token_set:
            log.error("OPENCLAW_GATEWAY_TOKEN is required (the gateway's auth token)")
            return 2
        lock = RunLock(settings.run_lock)
        if not lock.acquire():
            log.warning(
                "another `boot.py run` is live in %s (pid %s holds %s): this one exits",
                settings.home,
                lock.holder(),
                settings.run_lock,
            )
            return 0
        try:
            return self._run_locked()
        finally:
            lock.release()

    def _run_locked(self) -> int:
        settings = self.settings
        configure_run_logging(settings.boot_log, settings.logs)
        for sig in FORWARDED_SIGNALS:
            signal.signal(sig, self._on_signal)
        previous_shutdown = (self.previous or {}).get("shutdown")
        if isinstance(previous_shutdown, dict) and previous_shutdown.get("final_snapshot"):
            self.status.update(
                "shutdown", previous={k: v for k, v in previous_shutdown.items() if k != "previous"}
            )
        self.status.update("backup", interval_seconds=settings.backup.interval_seconds)
        # The control API answers from the first second: during the restore it says so and
        # refuses snapshots, so nobody takes one of a half-restored state.
        self.phase = "restoring"
        self.status.update("restore", state="restoring", error=None)
        server = self._serve_control()

        restore = self.backup.boot_restore(self.previous)
        log.info("restore: %s", restore["state"])
        write_config(settings, self.status)
        legacy_import.before_gateway_start(settings, self.status, write_config)  # Doctor, if due
        self.phase = "running"
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
        ChannelMonitor(settings, self.status).start(self.stop_event)
        while not self.stop_event.wait(0.5):
            # A restore through the API holds _ops for minutes: never wait for it here.
            if self._ops.acquire(blocking=False):
                try:
                    code = self.gateway.unexpected_exit()
                finally:
                    self._ops.release()
            if code is not None:
                break
        return self._shutdown(code, server)

    def _shutdown(self, code: int | None, server: Any) -> int:
        """Gateway down (briefly waited for), final snapshot before the deadline, exit."""
        settings = self.settings
        started = self.stop_started if self.stop_started is not None else time.monotonic()
        deadline = started + self.stop_budget
        self.phase = "stopping"
        self.status.update("shutdown", state="stopping", started_at=now_iso())
        # The SDK signals the gateway itself at the same moment (whole tree); waiting longer
        # than the grace would spend the window in which the final snapshot must fit.
        grace = min(settings.gateway_stop_grace_seconds, max(0.0, deadline - time.monotonic()))
        stopped = self.gateway.stop(self.stop_signal, timeout=grace)
        if code is None:
            code = 0 if stopped is None or self.stop_event.is_set() else stopped
        final: dict[str, Any] | None = None
        if settings.backup.configured:
            final = self.backup.snapshot(reason="shutdown", deadline=deadline)
            elapsed = time.monotonic() - started
            log.info(
                "final snapshot: %s (%.1fs after the stop began)",
                final.get("snapshot_id") or final.get("reason"),
                elapsed,
            )
            self.status.update(
                "shutdown",
                final_snapshot={
                    "ok": bool(final.get("ok")),
                    "snapshot_id": final.get("snapshot_id"),
                    "skipped": bool(final.get("skipped")),
                    "reason": final.get("reason"),
                    "seconds": round(elapsed, 2),
                    "at": now_iso(),
                },
            )
        self.status.update("shutdown", state="stopped")
        # The control API's threads are daemons and die with the process; a polite
        # server.shutdown() would spend up to half a second of the window polling.
        del server
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
    Backup(settings, status)  # records whether backup is configured
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
        return {"ok": False, "snapshot_id": None, "skipped": False, "error": refusal}
    backup = Backup(settings, status)
    if settings.backup.configured:
        try:  # no `run` ever started here: the repository may not exist yet
            backup.ensure_repository()
        except BackupError as exc:
            return {"ok": False, "snapshot_id": None, "skipped": False, "error": str(exc)}
    # Checked again under the backup lock: a `run` that starts now restores under that lock.
    return backup.snapshot(reason="one-shot", guard=lambda: _live_refusal(settings))


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
        if not settings.control_port:
            return {"ok": False, "snapshot_id": snapshot_id, "error": _live_refusal(settings)}
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
