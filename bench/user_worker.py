"""The user worker's own address under `wrangler dev`: the Worker measured without wrangler's proxy.

wrangler 4 serves the dev port (`--port`) from a ProxyWorker, a Durable Object in a separate
workerd, which re-`fetch`es every request to the user worker's Miniflare on a random loopback
port (wrangler-dist/cli.js, `LocalRuntimeController`: `const userWorkerUrl = await
this.#mf.ready;`, handed to the ProxyWorker as `proxyData.userWorkerUrl`). That port is found
here from /proc: the listening TCP sockets of the worker piece's processes (wrangler's process
group, workerd among its children), without the dev and inspector ports, and the one that answers
`GET /sandbox-health` as the dev port does.

What a request sent straight to that port gets, from Miniflare's entry worker
(worker/node_modules/miniflare/dist/src/workers/core/entry.worker.js, `getUserRequest`,
lines 5118-5151, miniflare 5.20261023.2-beta; called for every request at line 5327):

- line 5119: the URL the Worker sees is `MF-Original-URL` when present, else the request's own
  URL, whether or not the shared secret came with it. Without the header the Worker's own origin
  is `http://127.0.0.1:<random port>`, and its same-origin check (worker/src/auth/same-origin.ts:
  `Origin` must equal the request URL's origin) refuses a WebSocket upgrade that carries the dev
  port's `Origin` with 403 (checked by hand). So direct requests carry `MF-Original-URL: <the
  dev-port URL of the same path>`, as the ProxyWorker sends it (`headers.set("MF-Original-URL",
  innerUrl.href)` in wrangler's ProxyWorker): the Worker sees the same URL on both paths.
- lines 5126-5138: a request without `MF-Proxy-Shared-Secret` is not refused (a wrong secret is a
  400); the secret only turns on `rewriteHeadersFromOriginalUrl`, with which line 5146 sets `Host`
  to the original URL's host. Direct requests keep `Host: 127.0.0.1:<user worker port>`; the
  Worker reads `request.url`, never `Host`. (A single `Host: <dev port>` would do too, since
  workerd builds the URL from `Host`; but the WebSocket client sends its own, and a second `Host`
  made workerd answer 500; hence `MF-Original-URL`.)
- lines 5146-5148: `CF-Connecting-IP` is set to the client's address when absent: 127.0.0.1 on
  both paths (the ProxyWorker's loopback fetch, or the bench's), a loopback client either way.
- line 5150: `MF-Proxy-Shared-Secret` and `MF-Original-URL` are removed before the Worker runs.

Both paths still go through Miniflare's entry worker, which, for instance, posts a log line per
request to wrangler's Node loopback (`maybeLogRequest`, line 5291, in `waitUntil`): part of the
runtime's floor, for `/sandbox-health` and `/healthz` alike.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROC = Path("/proc")
LISTEN = "0A"  # TCP_LISTEN in include/net/tcp_states.h, as /proc/net/tcp prints it (hex)
LOOPBACK = "127.0.0.1"
ORIGINAL_URL = "MF-Original-URL"
VOLATILE_KEYS = frozenset({"time"})
"""`/sandbox-health` fields that differ between any two answers (its clock)."""

Answer = tuple[int, bytes] | None
"""(status, body) of `GET /sandbox-health`, or None when the port did not answer HTTP."""
Probe = Callable[[str], Answer]


@dataclass(frozen=True)
class UserWorker:
    """The user worker's Miniflare entry socket, and the dev-port URL its requests stand for."""

    port: int
    dev_url: str
    """The dev port's base URL (`http://127.0.0.1:<port>/`): what `MF-Original-URL` names."""

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{LOOPBACK}:{self.port}{path}"

    def headers(self, path: str = "/") -> dict[str, str]:
        """What the ProxyWorker would have added that the Worker can see: the original URL."""
        return {ORIGINAL_URL: self.dev_url.rstrip("/") + path}


# --- /proc ----------------------------------------------------------------------------------


def _stat(proc: Path, pid: int) -> tuple[int, int] | None:
    """(ppid, pgrp) from /proc/<pid>/stat; comm (field 2) may hold spaces and parentheses."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # state ppid pgrp session ...
    if len(fields) < 3:
        return None
    return int(fields[1]), int(fields[2])


def piece_processes(root: int, proc: Path = PROC) -> set[int]:
    """The root's process group and every descendant of the root (one may have left the group)."""
    pids = [int(name) for name in os.listdir(proc) if name.isdigit()]
    stats = {pid: stat for pid in pids if (stat := _stat(proc, pid)) is not None}
    group = {pid for pid, (_ppid, pgrp) in stats.items() if pgrp == root}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _pgrp) in stats.items():
        children.setdefault(ppid, []).append(pid)
    seen = {root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return group | (seen & stats.keys())


def socket_inodes(pid: int, proc: Path = PROC) -> set[int]:
    """Inodes of the sockets among /proc/<pid>/fd (links read `socket:[<inode>]`)."""
    inodes: set[int] = set()
    fd_dir = proc / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:  # gone, or not ours to read
        return inodes
    for name in names:
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue
        if target.startswith("socket:[") and target.endswith("]"):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _ipv4(hex_address: str) -> str:
    """/proc/net/tcp prints the address as the kernel's 32-bit word: little-endian on x86."""
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        raw = raw[::-1]
    return ".".join(str(b) for b in raw)


def loopback_listeners(proc: Path = PROC) -> dict[int, int]:
    """Inode -> port of every LISTEN socket on 127.0.0.1 in /proc/net/tcp."""
    found: dict[int, int] = {}
    try:
        lines = (proc / "net" / "tcp").read_text().splitlines()[1:]  # after the header
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        address, port = fields[1].split(":")
        if _ipv4(address) == LOOPBACK:
            found[int(fields[9])] = int(port, 16)
    return found


def candidate_ports(root: int, exclude: Iterable[int], proc: Path = PROC) -> list[int]:
    """Loopback ports the worker piece listens on, but the excluded ones (dev, inspector)."""
    listeners = loopback_listeners(proc)
    skip = set(exclude)
    ports = {
        listeners[inode]
        for pid in piece_processes(root, proc)
        for inode in socket_inodes(pid, proc)
        if inode in listeners
    }
    return sorted(ports - skip)


# --- which one is the user worker ------------------------------------------------------------


def http_probe(url: str, headers: Mapping[str, str] | None = None, timeout: float = 2.0) -> Answer:
    """`GET url` once: (status, body), or None (no HTTP answer in time: debug ports, capnp)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or LOOPBACK, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/", headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def same_answer(reference: Answer, answer: Answer) -> bool:
    """Same status and body; JSON bodies compared without their clock (`time`)."""
    if reference is None or answer is None or reference[0] != answer[0]:
        return False
    return _comparable(reference[1]) == _comparable(answer[1])


def _comparable(body: bytes) -> object:
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in VOLATILE_KEYS}
    return value


def find_user_worker(
    root: int,
    dev_url: str,
    exclude: Iterable[int],
    *,
    proc: Path = PROC,
    probe: Probe | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> UserWorker | None:
    """The worker piece's (`root`: wrangler's pid = its group id) listening port that answers
    `/sandbox-health` as the dev port `dev_url` does, or None (reasons go to `say`)."""
    ask: Probe = probe or http_probe
    base = dev_url.rstrip("/")
    reference = ask(f"{base}/sandbox-health")
    if reference is None:
        say(f"user worker: the dev port {base} does not answer /sandbox-health")
        return None
    ports = candidate_ports(root, exclude, proc)
    matches = [
        port
        for port in ports
        if same_answer(reference, ask(f"http://{LOOPBACK}:{port}/sandbox-health"))
    ]
    if not matches:
        say(
            f"user worker: none of the worker piece's loopback ports {ports or '(none)'} "
            f"answers /sandbox-health as {base} does"
        )
        return None
    if len(matches) > 1:
        say(f"user worker: ports {matches} all answer as {base} does; using {matches[0]}")
    return UserWorker(matches[0], base + "/")
