"""Size-bounded logs of `run`: its own log lines and the gateway's output, each a rotating file.

Why files and not stdout: the Sandbox SDK's container server appends every byte a process
prints to the process record in memory (sandbox-container/src/services/process-service.ts,
`storedRecord.stdout += event.data`) and to the session's command log under /tmp, for as long
as the process lives, and `getProcessLogs` returns all of it. `run` lives for weeks.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO

from .settings import LogSettings

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
MAX_TAIL_LINES = 2000


def rotating_handler(path: Path, logs: LogSettings) -> logging.handlers.RotatingFileHandler:
    path.parent.mkdir(parents=True, exist_ok=True)
    return logging.handlers.RotatingFileHandler(
        path, maxBytes=logs.max_bytes, backupCount=logs.backups, encoding="utf-8"
    )


def configure_run_logging(path: Path, logs: LogSettings) -> None:
    """`run`: everything at `logs.level` to the rotating file, `logs.stderr_level` to stderr."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(min(logging.getLevelName(logs.level), logging.getLevelName(logs.stderr_level)))
    to_file = rotating_handler(path, logs)
    to_file.setLevel(logs.level)
    to_file.setFormatter(logging.Formatter(FORMAT))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logs.stderr_level)
    to_stderr.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(to_file)
    root.addHandler(to_stderr)


class OutputPump:
    """Copies a child's output, line by line, into a rotating file (never into our stdout)."""

    def __init__(self, path: Path, logs: LogSettings) -> None:
        self._handler = rotating_handler(path, logs)
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._lock = threading.Lock()

    def write_line(self, line: str) -> None:
        record = logging.LogRecord("gateway", logging.INFO, "", 0, line, None, None)
        with self._lock:
            self._handler.emit(record)

    def follow(self, stream: IO[bytes], name: str) -> threading.Thread:
        def pump() -> None:
            # A write error must never stop the draining: a full pipe would block the gateway.
            for raw in iter(stream.readline, b""):
                self.write_line(raw.decode("utf-8", errors="replace").rstrip("\n"))
            stream.close()

        thread = threading.Thread(target=pump, name=name, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        with self._lock:
            self._handler.close()


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a rotating log (current file, then .1, .2 ... as needed)."""
    wanted = max(1, min(lines, MAX_TAIL_LINES))
    found: deque[str] = deque(maxlen=wanted)
    files = [path, *sorted(path.parent.glob(path.name + ".*"), key=_rotation_index)]
    chunks: list[list[str]] = []
    total = 0
    for file in files:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        chunk = text.splitlines()
        chunks.append(chunk)
        total += len(chunk)
        if total >= wanted:
            break
    for chunk in reversed(chunks):  # oldest rotation first
        found.extend(chunk)
    return list(found)


def _rotation_index(path: Path) -> int:
    suffix = path.suffix.lstrip(".")
    return int(suffix) if suffix.isdigit() else 0
