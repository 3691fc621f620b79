"""Runs `openclaw gateway run` as a child: start, stop (whole process group), restart.

The gateway token reaches OpenClaw only through the environment (OPENCLAW_GATEWAY_TOKEN, read
by the `${OPENCLAW_GATEWAY_TOKEN}` reference in openclaw.json), never through argv. Backup
credentials are removed from the gateway's environment so the agent's tools never see them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Mapping

from .settings import BACKUP_ONLY_ENV_NAMES, Settings
from .status import Status

log = logging.getLogger("openclaw-edge.gateway")


def gateway_env(env: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in BACKUP_ONLY_ENV_NAMES}


def exit_code(returncode: int) -> int:
    """Shell convention: killed by signal N → 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class Gateway:
    def __init__(self, settings: Settings, status: Status, stop_timeout: float = 60) -> None:
        self.settings = settings
        self.status = status
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._intentional = False
        self._restarts = 0

    @property
    def command(self) -> list[str]:
        return [
            self.settings.openclaw_bin,
            "gateway",
            "run",
            "--port",
            str(self.settings.gateway_port),
            "--bind",
            self.settings.gateway_bind,
        ]

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        with self._lock:
            if self.pid is not None:
                return
            self._intentional = False
            self._proc = subprocess.Popen(
                self.command,
                env=gateway_env(self.settings.env),
                cwd=str(self.settings.home),
                start_new_session=True,  # signals reach it only through us, as a group
            )
            log.info("gateway started (pid %s)", self._proc.pid)
            self.status.update("gateway", state="running", pid=self._proc.pid)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Signal the gateway's process group and wait; SIGKILL after stop_timeout."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return None
            self._intentional = True
            if proc.poll() is None:
                self._signal_group(proc, sig)
                try:
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    log.warning(
                        "gateway ignored signal %s for %ss: killing", sig, self.stop_timeout
                    )
                    self._signal_group(proc, signal.SIGKILL)
                    proc.wait()
            self._signal_group(proc, signal.SIGKILL)  # leftovers in the group (spawn broker)
            self.status.update("gateway", state="stopped", pid=None)
            return proc.returncode

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def restart(self) -> None:
        with self._lock:
            self.stop()
            self._restarts += 1
            self.status.update("gateway", restarts=self._restarts, state="starting")
            self.start()

    def unexpected_exit(self) -> int | None:
        """The gateway's return code if it exited on its own, else None."""
        with self._lock:
            proc = self._proc
            if proc is None or self._intentional:
                return None
            code = proc.poll()
            if code is None:
                return None
            log.error("gateway exited on its own with %s", code)
            self.status.update("gateway", state="exited", pid=None)
            return code
