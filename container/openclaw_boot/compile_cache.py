"""A Node compile cache for OpenClaw, built into the image and used read-only at every start.

Every fresh container starts with an empty temp dir, and OpenClaw keeps Node's compile cache
there by default (`openclaw.mjs` of 2026.9.6, `resolvePackagedCompileCacheDirectory`:
`os.tmpdir()/node-compile-cache` unless NODE_COMPILE_CACHE is set), so each cold start compiles
its ~5,800 modules again. The image build runs `python3 -m openclaw_boot.compile_cache DIR
--channels PLUGIN_DIR` once: a real `openclaw gateway run` to `/readyz`, a real `openclaw config
validate`, and a gateway start with every installed channel configured (against a refused
loopback port, stopped once the channels are starting: `channel_start`), all with the cache at
DIR; then DIR is made read-only. (Most of the plugins' own files are not cacheable: OpenClaw
loads them from a fresh copy under ~/.openclaw/tmp/plugin-captures/<uuid>/ at every start (2026.9.6
`dist/plugin-source-capture-directory-*.mjs`, randomUUID), and Node keys its entries by the
absolute path. What the channel start adds is OpenClaw's own channel runtime
and the dependencies it loads.) At start the boot code points NODE_COMPILE_CACHE at it
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
import re
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
from typing import Any

log = logging.getLogger("openclaw-edge.compile-cache")
CHANNEL_SECONDS = 90
# The only variables the build's OpenClaw starts see: a developer's DISCORD_BOT_TOKEN (or any
# channel or provider setting) must not turn the build into a real connection or an npm lookup.
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE")
# Preloaded (NODE_OPTIONS=--require) into the channel start's Node processes: a channel that
# never connects keeps OpenClaw's shutdown busy for over a minute (channel stop timeouts, and
# a second SIGTERM is ignored), so the cache is written when SIGTERM arrives instead of at exit
# (module.flushCompileCache(), Node >= 22.10: synchronous, errors ignored). A process without
# a SIGTERM handler of its own still exits on it.
FLUSH_ON_SIGTERM = """\
const { flushCompileCache } = require("node:module");
process.prependListener("SIGTERM", () => {
  try { flushCompileCache(); } catch {}
  if (process.listenerCount("SIGTERM") === 1) process.exit(143);
});
"""

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
    plugin_dir: Path | None = None,
    channel_seconds: float = CHANNEL_SECONDS,
) -> int:
    """Fill `cache` by starting the real gateway once and validating a config; then read-only
    (every file; the directories too unless `lock_dirs` is False, which a developer checkout
    needs so that `rm -rf .venv` keeps working).

    With `plugin_dir` (the image's managed npm root, OPENCLAW_EDGE_PLUGIN_DIR) a second start
    has the channels configured (`channel_start`), so the channel plugins' modules are cached
    too.

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
            **{name: env[name] for name in KEPT_ENV if name in env},
            "HOME": str(home),
            "TMPDIR": str(work),
            NODE_ENV: str(cache),
            "OPENCLAW_GATEWAY_TOKEN": secrets.token_hex(24),
        }
        subprocess.run(
            [openclaw_bin, "config", "validate", "--json"],
            env=child,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        _gateway_once(openclaw_bin, port, child, work / "gateway.log", timeout)
        if plugin_dir is not None:
            channel_start(openclaw_bin, plugin_dir, child, work / "channels", channel_seconds)
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
            _stop(proc)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released: connecting is refused)."""
    return _free_port()


def channel_config(port: int, closed: int, plugins: Sequence[str]) -> dict[str, Any]:
    """A config with every installed channel on, each pointed at a refused loopback port.

    The shapes are the boot code's (openclaw_config.py `_channels`); the tokens are
    placeholders. Telegram's API root is a config key (`apiRoot`); Discord and Slack read
    DISCORD_API_URL and SLACK_API_URL from the environment (`channel_env`). External channel
    plugins load only when enabled (`plugins.entries.<id>.enabled`, as openclaw_config.py
    writes them)."""
    channels: dict[str, Any] = {
        "telegram": {
            "enabled": True,
            "botToken": "0:compile-cache-placeholder",
            "dmPolicy": "pairing",
            "apiRoot": f"http://127.0.0.1:{closed}",
        }
    }
    if "discord" in plugins:
        channels["discord"] = {
            "enabled": True,
            "token": "compile-cache-placeholder",
            "dmPolicy": "pairing",
            "groupPolicy": "allowlist",
        }
    if "slack" in plugins:
        channels["slack"] = {
            "enabled": True,
            "botToken": "xoxb-compile-cache-placeholder",
            "appToken": "xapp-compile-cache-placeholder",
        }
    return {
        "gateway": {
            "mode": "local",
            "port": port,
            "bind": "loopback",
            "auth": {"mode": "token", "token": "${OPENCLAW_GATEWAY_TOKEN}"},
        },
        "channels": channels,
        "plugins": {"entries": {name: {"enabled": True} for name in plugins}},
    }


def channel_env(closed: int) -> dict[str, str]:
    """The Discord and Slack plugins' API base URLs, at the refused port (no network needed:
    @openclaw/discord's endpoint runtime derives REST and gateway URLs from DISCORD_API_URL,
    dev/discord.py; @openclaw/slack's client reads SLACK_API_URL, dist/.setup/probe-*.mjs)."""
    return {
        "DISCORD_API_URL": f"http://127.0.0.1:{closed}/api/v10",
        "SLACK_API_URL": f"http://127.0.0.1:{closed}/api/",
    }


def installed_channel_plugins(plugin_dir: Path) -> list[str]:
    """Channel ids of the plugins in the managed npm root (@openclaw/discord -> discord)."""
    found = []
    for manifest in sorted(
        plugin_dir.glob("projects/*/node_modules/@openclaw/*/openclaw.plugin.json")
    ):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("channels"):
            found.append(str(data.get("id") or manifest.parent.name))
    return found


def channel_start(
    openclaw_bin: str, plugin_dir: Path, env: Mapping[str, str], work: Path, seconds: float
) -> list[str]:
    """One gateway start with the channels configured, so their plugins' modules are compiled
    into the cache. /readyz waits for the channels, which never connect here, so this does not
    wait for it: it waits until every channel logged `starting provider` (the plugin's code is
    loaded by then) plus a short settle, or `seconds`, then SIGTERM; OpenClaw shuts down
    cleanly and Node writes the compile cache as the process exits (Node's module.md, "Module
    compile cache": the cache accumulated in memory is flushed to disk when the instance is
    about to exit). Returns the channels seen starting."""
    plugins = installed_channel_plugins(plugin_dir)
    home = work / "home"
    (home / ".openclaw").mkdir(parents=True)
    (home / ".openclaw" / "npm").symlink_to(plugin_dir.resolve())  # as plugins.py links it
    port, closed = _free_port(), _closed_port()
    config = channel_config(port, closed, plugins)
    (home / ".openclaw" / "openclaw.json").write_text(json.dumps(config), encoding="utf-8")
    preload = work / "flush-compile-cache.cjs"
    preload.write_text(FLUSH_ON_SIGTERM, encoding="utf-8")
    options = " ".join(filter(None, [env.get("NODE_OPTIONS", ""), f"--require={preload}"]))
    child = {**env, **channel_env(closed), "HOME": str(home), "NODE_OPTIONS": options}
    wanted = {"telegram", *plugins}
    log_path = work / "gateway.log"
    seen: set[str] = set()
    with log_path.open("wb") as output:
        proc = subprocess.Popen(
            [openclaw_bin, "gateway", "run", "--port", str(port), "--bind", "loopback"],
            env=child,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        began = time.monotonic()
        try:
            while time.monotonic() - began < seconds and proc.poll() is None:
                seen = _channels_starting(log_path.read_text(errors="replace"))
                if wanted <= seen:
                    time.sleep(3)  # the providers' first connect attempt loads more modules
                    break
                time.sleep(0.5)
        finally:
            _stop(proc, grace=20)
    log.info("compile cache: channels started %s of %s", sorted(seen), sorted(wanted))
    return sorted(seen)


def _channels_starting(text: str) -> set[str]:
    """Channels whose `[<id>] [<account>] starting provider` line the gateway logged."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the gateway colours its log even to a file
    return set(re.findall(r"\[([a-z0-9-]+)\] \[[^\]]+\] starting provider", plain))


def _stop(proc: subprocess.Popen[bytes], grace: float = 60) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
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
        "--channels",
        type=Path,
        metavar="PLUGIN_DIR",
        help="also start once with every channel of this managed npm root configured",
    )
    parser.add_argument(
        "--files-only",
        action="store_true",
        help="make only the files read-only (a developer checkout: rm -rf must still work)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        files = build(
            args.openclaw,
            args.directory,
            os.environ,
            lock_dirs=not args.files_only,
            plugin_dir=args.channels,
        )
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
