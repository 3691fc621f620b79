"""Shared, persisted boot status: what restore did, the gateway's state, the last snapshot.

The `run` process owns it; one-shot commands (`boot.py status`) read the persisted copy in
~/.openclaw-edge/run/status.json, so the status survives as long as the container does.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .files import atomic_write


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _initial() -> dict[str, Any]:
    return {
        "restore": {
            "state": "disabled",
            "snapshot_id": None,
            "snapshot_time": None,
            "snapshot_trigger": None,
            "error": None,
            "at": None,
        },
        "gateway": {"state": "stopped", "pid": None, "restarts": 0},
        "backup": {
            "configured": False,
            "last_snapshot": None,
            "snapshot_count": 0,
            "repository_size": None,
            "last_error": None,
            "protected": False,
            "interval_seconds": None,
        },
        # This run's stop (and, after a process restart in the same container, the one before).
        "shutdown": {"state": "running", "final_snapshot": None, "previous": None},
        "config": {"valid": None, "issues": [], "warnings": [], "changed": None},
        # channel name -> {"state", "reason", "plugin", ...} (channels.py)
        "channels": {},
        "cron": {"enabled": None, "jobs": None, "next_run_at": None, "checked_at": None},
        # Moving in from moltworker (openclaw_boot/legacy_import.py): what the first boot imported.
        "import": {"state": "none", "layout": None, "message": None, "at": None},
    }


class Status:
    def __init__(self, path: Path, *, fresh: bool = False) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._data = _initial()
        stored = None if fresh else self.read(path)
        if stored:
            for section, values in stored.items():
                if isinstance(values, dict) and section in self._data:
                    self._data[section].update(values)

    @staticmethod
    def read(path: Path) -> dict[str, Any] | None:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def update(self, section: str, **values: Any) -> None:
        with self._lock:
            self._data[section].update(values)
            atomic_write(self.path, json.dumps(self._data, indent=2) + "\n")

    def section(self, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._data[name])

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            copy: dict[str, Any] = json.loads(json.dumps(self._data))
            return copy

    @property
    def protected(self) -> bool:
        return bool(self.section("backup")["protected"])
