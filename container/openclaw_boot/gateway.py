"""Runs `openclaw gateway run` as a child: start, stop (whole process group), restart.

The gateway token reaches OpenClaw only through the environment (OPENCLAW_GATEWAY_TOKEN, read
by the `${OPENCLAW_GATEWAY_TOKEN}` reference in openclaw.json), never through argv. Backup
credentials are removed from the gateway's environment so the agent's tools never see them.
The gateway's output goes to a size-bounded rotating file (logs.OutputPump), not to our stdout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from . import compile_cache
from .logs import OutputPump
from .settings import BACKUP_ONLY_ENV_NAMES, Settings
from .status import Status

log = logging.getLogger("openclaw-edge.gateway")


def gateway_env(env: Mapping[str, str]) -> dict[str, str]:
    """The gateway's environment: no backup credentials; NODE_COMPILE_CACHE at the image's
    prebuilt cache when it is usable (compile_cache.child_env)."""
    plain = {key: value for key, value in env.items() if key not in BACKUP_ONLY_ENV_NAMES}
    return compile_cache.child_env(plain)


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
        self._output: OutputPump | None = None

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
            if self._output is None:
                self._output = OutputPump(self.settings.gateway_log, self.settings.logs)
            self._proc = subprocess.Popen(
                self.command,
                env=gateway_env(self.settings.env),
                cwd=str(self.settings.home),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # signals reach it only through us, as a group
            )
            assert self._proc.stdout is not None
            self._output.follow(self._proc.stdout, f"gateway-output-{self._proc.pid}")
            log.info("gateway started (pid %s)", self._proc.pid)
            self.status.update("gateway", state="running", pid=self._proc.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float | None = None) -> int | None:
        """Signal the gateway's process group and wait; SIGKILL after `timeout` seconds."""
        wait = self.stop_timeout if timeout is None else max(0.0, timeout)
        with self._lock:
            proc = self._proc
            if proc is None:
                return None
            self._intentional = True
            if proc.poll() is None:
                self._signal_group(proc, sig)
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    log.warning("gateway still running %.1fs after signal %s: killing", wait, sig)
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

    def readiness(self, timeout: float = 2.0) -> dict[str, Any]:
        """The gateway's own /readyz, asked over loopback from inside the container.

        The Worker cannot ask it directly when it has no end-user address to forward: the
        gateway refuses requests from a trusted proxy address that carry no X-Forwarded-For
        (`proxy_attribution_required`), and a loopback request without one counts as local.
        """
        url = f"http://127.0.0.1:{self.settings.gateway_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                code, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            code, raw = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return {"ok": True, "ready": False, "http_status": None, "detail": str(reason)}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        ready = code == 200 and not (isinstance(body, dict) and body.get("ready") is False)
        detail = None
        if not ready:
            failing = body.get("failing") if isinstance(body, dict) else None
            detail = f"/readyz answered HTTP {code}"
            if isinstance(failing, list) and failing:
                detail += " (failing: " + ", ".join(str(item) for item in failing) + ")"
        return {"ok": True, "ready": ready, "http_status": code, "detail": detail}

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
