"""A Node compile cache for OpenClaw, built into the image and used read-only at every start.

Every fresh container starts with an empty temp dir, and OpenClaw keeps Node's compile cache
there by default (`openclaw.mjs` of 2026.9.6, `resolvePackagedCompileCacheDirectory`:
`os.tmpdir()/node-compile-cache` unless NODE_COMPILE_CACHE is set), so each cold start compiles
its ~5,800 modules again. The image build runs `python3 -m openclaw_boot.compile_cache DIR`
once: a real `openclaw gateway run` to `/readyz` and a real `openclaw config validate` with the
cache at DIR, then DIR is made read-only. At start the boot code points NODE_COMPILE_CACHE at it
(OPENCLAW_EDGE_COMPILE_CACHE) for the gateway and for `config validate`. Node reads the entries
and only writes entries it did not find (none, for the modules the build loaded); a directory
that cannot be written just means nothing new is stored (Node's compile cache is best-effort:
"skip persisting ... because cache was the same", NODE_DEBUG_NATIVE=COMPILE_CACHE).

A missing, unreadable or switched-off (`off`) cache falls back cleanly: NODE_COMPILE_CACHE is
then left unset and OpenClaw uses its own temp-dir cache, as the stock gateway does.
scripts/install-openclaw builds the same cache for the local stack (.venv/openclaw/compile-cache).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger("openclaw-edge.compile-cache")

COMPILE_CACHE_ENV = "OPENCLAW_EDGE_COMPILE_CACHE"
NODE_ENV = "NODE_COMPILE_CACHE"


def usable(raw: str) -> Path | None:
    """The cache directory named by OPENCLAW_EDGE_COMPILE_CACHE if it can be read, else None."""
    if not raw or raw.strip().lower() == "off":
        return None
    path = Path(raw)
    if not path.is_dir():
        log.warning("%s=%s is not a directory: no prebuilt compile cache", COMPILE_CACHE_ENV, raw)
        return None
    if not os.access(path, os.R_OK | os.X_OK):
        log.warning("%s=%s cannot be read: no prebuilt compile cache", COMPILE_CACHE_ENV, raw)
        return None
    return path


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for an OpenClaw child: NODE_COMPILE_CACHE set to the prebuilt cache when usable.

    Otherwise NODE_COMPILE_CACHE is removed, so an unusable image cache never half-applies and
    OpenClaw falls back to its own default (a cache in the temp dir).
    """
    result = dict(env)
    raw = result.get(COMPILE_CACHE_ENV, "")
    if not raw:
        return result  # not configured: whatever the environment says stays
    cache = usable(raw)
    if cache is None:
        result.pop(NODE_ENV, None)
    else:
        result[NODE_ENV] = str(cache)
    return result


# --- build (image build, scripts/install-openclaw) ------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/readyz"
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def build(
    openclaw_bin: str,
    cache: Path,
    env: Mapping[str, str],
    *,
    timeout: float = 300,
    lock_dirs: bool = True,
) -> int:
    """Fill `cache` by starting the real gateway once and validating a config; then read-only
    (every file; the directories too unless `lock_dirs` is False, which a developer checkout
    needs so that `rm -rf .venv` keeps working).

    Returns the number of cache files. Raises RuntimeError if the gateway does not get ready.
    """
    if cache.exists():
        _make_writable(cache)
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="openclaw-compile-cache-"))
    try:
        port = _free_port()
        home = work / "home"
        (home / ".openclaw").mkdir(parents=True)
        config = {
            "gateway": {
                "mode": "local",
                "port": port,
                "bind": "loopback",
                "auth": {"mode": "token", "token": "${OPENCLAW_GATEWAY_TOKEN}"},
            }
        }
        (home / ".openclaw" / "openclaw.json").write_text(json.dumps(config), encoding="utf-8")
        child = {
            **env,
            "HOME": str(home),
            "TMPDIR": str(work),
            NODE_ENV: str(cache),
            "OPENCLAW_GATEWAY_TOKEN": secrets.token_hex(24),
        }
        child.pop(COMPILE_CACHE_ENV, None)
        subprocess.run(
            [openclaw_bin, "config", "validate", "--json"],
            env=child,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        _gateway_once(openclaw_bin, port, child, work / "gateway.log", timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files = sum(1 for item in cache.rglob("*") if item.is_file())
    _make_read_only(cache, lock_dirs=lock_dirs)
    return files


def _gateway_once(
    openclaw_bin: str, port: int, env: Mapping[str, str], log_path: Path, timeout: float
) -> None:
    with log_path.open("wb") as output:
        proc = subprocess.Popen(
            [openclaw_bin, "gateway", "run", "--port", str(port), "--bind", "loopback"],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        began = time.monotonic()
        try:
            while not _ready(port):
                if proc.poll() is not None or time.monotonic() - began > timeout:
                    tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
                    raise RuntimeError("gateway did not get ready: " + " | ".join(tail))
                time.sleep(0.2)
            time.sleep(2)  # the post-ready work (plugins' deferred start) loads modules too
        finally:
            # SIGTERM: the gateway shuts down cleanly and Node writes the cache at exit.
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _make_read_only(root: Path, *, lock_dirs: bool) -> None:
    writable = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [*root.rglob("*"), root]:
        if lock_dirs or not path.is_dir():
            path.chmod(path.stat().st_mode & ~writable)


def _make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m openclaw_boot.compile_cache",
        description="Build OpenClaw's Node compile cache in DIR (then read-only).",
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--openclaw", default=os.environ.get("OPENCLAW_BIN", "openclaw"))
    parser.add_argument(
        "--files-only",
        action="store_true",
        help="make only the files read-only (a developer checkout: rm -rf must still work)",
    )
    args = parser.parse_args(argv)
    try:
        files = build(args.openclaw, args.directory, os.environ, lock_dirs=not args.files_only)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"compile cache: {exc}", file=sys.stderr)
        return 1
    if files == 0:
        print(f"compile cache: nothing was written to {args.directory}", file=sys.stderr)
        return 1
    print(f"compile cache: {files} files in {args.directory} (read-only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
