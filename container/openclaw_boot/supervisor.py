"""`boot.py run`: the supervisor that owns this container's state while the gateway runs.

Run lock → control API → restore → move-in from moltworker (when due) → write config → Doctor
(after a move-in) → snapshot loop → gateway in the foreground; on a stop it leaves within the
Sandbox SDK's 5 s kill window, final snapshot included when it fits. Control API routes beyond
the core ones are registered in `EXTRA_ROUTES` (one line per module).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from . import devices, legacy_import, openclaw_config, selftest
from .backup import Backup, RestoreResult, SnapshotResult
from .channels import ChannelMonitor
from .config_base import ConfigError
from .control import Busy, ControlApp, NotFound, Route, serve
from .gateway import Gateway, exit_code
from .logs import configure_run_logging, tail
from .settings import Settings
from .status import Status, now_iso

log = logging.getLogger("openclaw-edge")

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# A stop asked through the control API (POST /shutdown) is not under the SDK's SIGKILL.
API_SHUTDOWN_BUDGET_SECONDS = 120.0
# A one-shot probing the run lock holds it for microseconds; a live `run` holds it for good.
LOCK_RETRY_SECONDS = 1.0
# Control API routes of other modules: (settings, status) -> {(method, path): handler}.
EXTRA_ROUTES: tuple[Callable[[Settings, Status], dict[tuple[str, str], Route]], ...] = (
    legacy_import.control_routes,
    devices.control_routes,
)


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
        result = openclaw_config.write(settings)
    except ConfigError as exc:
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
        self.backup.record_configured()
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
        return self.backup.snapshot(reason="manual").to_json()

    def api_snapshots(self) -> dict[str, Any]:
        return {"snapshots": [item.to_json() for item in self.backup.snapshots()]}

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
                return RestoreResult(snapshot_id, ok=False, error=str(exc)).to_json()
            if result.ok and result.snapshot is not None and result.snapshot.id:
                # A deliberate, successful restore ends protection: the state is known-good.
                self.status.update(
                    "restore",
                    state="ok",
                    snapshot_id=result.snapshot.id,
                    snapshot_time=result.snapshot.time,
                    snapshot_trigger=result.snapshot.trigger,
                    error=None,
                    at=now_iso(),
                )
                self.status.update("backup", protected=False)
            write_config(self.settings, self.status)
            self.gateway.start()
            return result.to_json()

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
            if result.ok and not self.status.protected:
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
        for extra in EXTRA_ROUTES:
            app.routes.update(extra(settings, self.status))
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
        legacy_import.after_boot_restore(settings, self.status, self.backup)  # move-in, if due
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
        final: SnapshotResult | None = None
        if settings.backup.configured:
            final = self.backup.snapshot(reason="shutdown", deadline=deadline)
            elapsed = time.monotonic() - started
            log.info(
                "final snapshot: %s (%.1fs after the stop began)",
                final.snapshot_id or final.reason,
                elapsed,
            )
            self.status.update(
                "shutdown",
                final_snapshot={
                    "ok": final.ok,
                    "snapshot_id": final.snapshot_id,
                    "skipped": final.skipped,
                    "reason": final.reason,
                    "seconds": round(elapsed, 2),
                    "at": now_iso(),
                },
            )
        self.status.update("shutdown", state="stopped")
        # The control API's threads are daemons and die with the process; a polite
        # server.shutdown() would spend up to half a second of the window polling.
        del server
        return exit_code(code)
