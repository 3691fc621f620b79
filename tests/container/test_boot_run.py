"""The whole `boot.py run` on this host: temp HOME, moto S3 for R2, the real OpenClaw gateway.

Covers: gateway answers /readyz; control API auth and routes; restore through the API restarts
the gateway; secrets never in any spawned process's argv, in the gateway's environment (backup
credentials) or in logs; SIGTERM → final snapshot and a clean exit with the gateway's code.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import BOOT, SECRETS, free_port

pytestmark = pytest.mark.slow

READY_TIMEOUT = 150


def http(
    url: str, *, method: str = "GET", token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"null")
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "boot.py run exited before the gateway was ready"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"gateway not ready on :{port} after {timeout}s")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def read_proc(pid: int, name: str) -> bytes:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes()
    except OSError:
        return b""


@pytest.fixture
def running(
    backup_env: dict[str, str], home: Path, tmp_path: Path, openclaw_bin: Path, restic_bin: str
) -> Iterator[dict[str, Any]]:
    gateway_port, control_port = free_port(), free_port()
    env = {
        **backup_env,
        **{k: v for k, v in SECRETS.items() if k.startswith(("ANTHROPIC", "DISCORD"))},
        "OPENCLAW_GATEWAY_PORT": str(gateway_port),
        "OPENCLAW_EDGE_CONTROL_PORT": str(control_port),
        "OPENCLAW_EDGE_CONTROL_BIND": "127.0.0.1",
        "BACKUP_INTERVAL_SECONDS": "5",
        "DISCORD_DM_POLICY": "disabled",
    }
    log_path = tmp_path / "boot.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(BOOT), "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield {
                "proc": proc,
                "env": env,
                "gateway": gateway_port,
                "control": f"http://127.0.0.1:{control_port}",
                "log": log_path,
            }
        finally:
            if proc.poll() is None:
                for pid in descendants(proc.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                proc.kill()
                proc.wait()


def test_full_boot_serves_gateway_and_stops_with_final_snapshot(
    running: dict[str, Any], home: Path
) -> None:
    proc: subprocess.Popen[bytes] = running["proc"]
    control: str = running["control"]
    token = SECRETS["OPENCLAW_GATEWAY_TOKEN"]
    wait_ready(running["gateway"], proc)

    # Control API: Bearer auth with the gateway token.
    assert http(f"{control}/status")[0] == 401
    assert http(f"{control}/status", token="wrong-token")[0] == 401
    code, status = http(f"{control}/status", token=token)
    assert code == 200
    assert status["restore"]["state"] == "initialized"
    assert status["gateway"]["state"] == "running"
    assert status["backup"]["configured"] is True
    assert status["backup"]["protected"] is False
    assert status["config"]["valid"] is True, status["config"]
    gateway_pid = status["gateway"]["pid"]

    # Secrets: nowhere in argv of any process we spawned; no backup credential in the
    # gateway's environment (its tools inherit it); the gateway token is only in env.
    for pid in [proc.pid, *descendants(proc.pid)]:
        argv = read_proc(pid, "cmdline").decode(errors="replace")
        for name, value in SECRETS.items():
            assert value not in argv, f"{name} in argv of pid {pid}: {argv[:80]}"
    gateway_environ = read_proc(gateway_pid, "environ").decode(errors="replace")
    assert SECRETS["OPENCLAW_GATEWAY_TOKEN"] in gateway_environ
    for name in ("BACKUP_PASSWORD", "R2_SECRET_ACCESS_KEY", "R2_ACCESS_KEY_ID"):
        assert SECRETS[name] not in gateway_environ, f"{name} reached the gateway"

    # The snapshot loop already took the first snapshot (state changed since init).
    deadline = time.monotonic() + 60
    snapshots: list[dict[str, Any]] = []
    while not snapshots and time.monotonic() < deadline:
        snapshots = http(f"{control}/snapshots", token=token)[1]["snapshots"]
        time.sleep(1)
    assert snapshots, "no snapshot from the loop"
    assert {"id", "short_id", "time", "paths", "tags"} <= set(snapshots[0])

    # Manual snapshot with nothing changed: skipped; after a change: taken.
    note = home / ".openclaw" / "workspace" / "edge-note.md"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text("before restore\n")
    code, taken = http(f"{control}/snapshot", method="POST", token=token)
    assert code == 200, taken
    assert taken["ok"] is True, taken
    # The 5 s loop may have been first; then this one found nothing new.
    assert taken["skipped"] is False or taken["reason"] == "unchanged"
    wanted = (
        taken["snapshot_id"] or http(f"{control}/snapshots", token=token)[1]["snapshots"][0]["id"]
    )

    # Restore through the API: gateway stopped, state restored, gateway started again.
    note.write_text("after the snapshot\n")
    code, restored = http(
        f"{control}/restore", method="POST", token=token, body={"snapshot_id": wanted}
    )
    assert code == 200, restored
    assert restored["ok"] is True, restored
    assert note.read_text() == "before restore\n"
    assert http(f"{control}/status", token=token)[1]["gateway"]["state"] == "running"
    assert http(f"{control}/restore", method="POST", token=token, body={})[0] == 400
    code, restart = http(f"{control}/gateway/restart", method="POST", token=token)
    assert (code, restart) == (200, {"ok": True})
    wait_ready(running["gateway"], proc)
    assert http(f"{control}/status", token=token)[1]["gateway"]["restarts"] == 1

    # SIGTERM: the gateway stops, a final snapshot captures the last change, exit code 0.
    note.write_text("written just before shutdown\n")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0
    final = re.search(r"final snapshot: (\S+)", Path(running["log"]).read_text())
    assert final, "no final snapshot logged"
    after = subprocess.run(
        [sys.executable, str(BOOT), "snapshots"],
        env=running["env"],
        capture_output=True,
        text=True,
        check=True,
    )
    newest = json.loads(after.stdout)["snapshots"][0]
    assert newest["id"].startswith(final.group(1)), (final.group(1), newest)

    log_text = Path(running["log"]).read_text(errors="replace")
    assert "final snapshot" in log_text
    openclaw_logs = Path("/tmp/openclaw")
    extra = "".join(
        p.read_text(errors="replace") for p in openclaw_logs.glob("*.log") if p.is_file()
    )
    for name, value in SECRETS.items():
        assert value not in log_text, f"{name} in boot log"
        assert value not in extra, f"{name} in OpenClaw's log"


def test_gateway_exit_code_is_propagated(
    backup_env: dict[str, str], tmp_path: Path, home: Path
) -> None:
    fake = tmp_path / "openclaw"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = config ]; then echo \'{"valid": true, "warnings": []}\'; exit 0; fi\n'
        "exit 7\n"
    )
    fake.chmod(0o755)
    env = {
        **backup_env,
        "OPENCLAW_BIN": str(fake),
        "OPENCLAW_EDGE_CONTROL_PORT": "0",
        "R2_BUCKET_NAME": "",  # backup off: this is about the exit code only
    }
    proc = subprocess.run(
        [sys.executable, str(BOOT), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 7, proc.stderr
