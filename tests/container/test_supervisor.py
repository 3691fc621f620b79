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
        "BACKUP_INTERVAL_SECONDS": "10",
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
            kill_tree(proc)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a still-running `boot.py run` and everything it started (a failed test's cleanup)."""
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

    code, status = http(f"{control}/status", token=token)
    assert code == 200
    assert status["restore"]["state"] == "initialized"
    assert status["gateway"]["state"] == "running"
    assert status["backup"]["configured"] is True
    assert status["backup"]["protected"] is False
    assert status["config"]["valid"] is True, status["config"]
    gateway_pid = status["gateway"]["pid"]
    # The Worker's readiness probe: the real gateway's /readyz, asked over loopback.
    code, ready = http(f"{control}/gateway/ready", token=token)
    assert (code, ready["ready"], ready["http_status"]) == (200, True, 200), ready

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

    # SIGTERM: the gateway stops, a final snapshot captures the last change, exit code 0.
    note = home / ".openclaw" / "workspace" / "edge-note.md"
    note.parent.mkdir(parents=True, exist_ok=True)
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
    openclaw_logs = Path("/tmp/openclaw")
    extra = "".join(
        p.read_text(errors="replace") for p in openclaw_logs.glob("*.log") if p.is_file()
    )
    for name, value in SECRETS.items():
        assert value not in log_text, f"{name} in boot log"
        assert value not in extra, f"{name} in OpenClaw's log"
    config_text = (home / ".openclaw" / "openclaw.json").read_text()
    for name, value in SECRETS.items():
        assert value not in config_text, f"{name} in openclaw.json"


FAKE_OPENCLAW = """#!{python}
# Stand-in for `openclaw` (config validate, gateway run) so control-API tests run in seconds.
import http.server, json, signal, sys
if sys.argv[1:3] == ["config", "validate"]:
    print(json.dumps({{"valid": True, "warnings": []}}))
    sys.exit(0)
port = int(sys.argv[sys.argv.index("--port") + 1])
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{{"ready":true}}')
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Ready)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server.serve_forever()
"""


def test_control_api_routes(backup_env: dict[str, str], home: Path, tmp_path: Path) -> None:
    fake = tmp_path / "openclaw"
    fake.write_text(FAKE_OPENCLAW.format(python=sys.executable))
    fake.chmod(0o755)
    gateway_port, control_port = free_port(), free_port()
    control = f"http://127.0.0.1:{control_port}"
    token = SECRETS["OPENCLAW_GATEWAY_TOKEN"]
    env = {
        **backup_env,
        "OPENCLAW_BIN": str(fake),
        "OPENCLAW_GATEWAY_PORT": str(gateway_port),
        "OPENCLAW_EDGE_CONTROL_PORT": str(control_port),
        "OPENCLAW_EDGE_CONTROL_BIND": "127.0.0.1",
        "BACKUP_INTERVAL_SECONDS": "3600",  # only manual snapshots here
    }
    proc = subprocess.Popen(
        [sys.executable, str(BOOT), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(gateway_port, proc, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http(f"{control}/status")
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        assert http(f"{control}/status")[0] == 401
        assert http(f"{control}/status", token="wrong-token")[0] == 401
        assert http(f"{control}/nope", token=token)[0] == 404
        assert http(f"{control}/snapshot", token=token)[0] == 405
        assert http(f"{control}/gateway/ready")[0] == 401
        assert http(f"{control}/gateway/ready", token=token)[1]["ready"] is True

        note = home / ".openclaw" / "workspace" / "edge-note.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("before restore\n")
        code, taken = http(f"{control}/snapshot", method="POST", token=token)
        assert code == 200, taken
        assert list(taken) == ["ok", "snapshot_id", "skipped", "reason"]
        assert taken["ok"] is True
        assert taken["skipped"] is False
        assert taken["reason"] == "manual"
        code, again = http(f"{control}/snapshot", method="POST", token=token)
        assert (code, again["skipped"], again["reason"]) == (200, True, "unchanged")
        code, listed = http(f"{control}/snapshots", token=token)
        assert code == 200
        assert listed["snapshots"][0]["id"].startswith(taken["snapshot_id"])
        assert list(listed["snapshots"][0]) == [
            "id",
            "short_id",
            "time",
            "paths",
            "tags",
            "trigger",
        ]
        assert listed["snapshots"][0]["trigger"] == "manual"

        note.write_text("after the snapshot\n")
        code, restored = http(
            f"{control}/restore",
            method="POST",
            token=token,
            body={"snapshot_id": taken["snapshot_id"]},
        )
        assert code == 200, restored
        assert restored == {"ok": True, "snapshot_id": listed["snapshots"][0]["id"], "error": None}
        assert note.read_text() == "before restore\n"
        wait_ready(gateway_port, proc, timeout=60)
        assert http(f"{control}/restore", method="POST", token=token, body={})[0] == 400
        pid_before = http(f"{control}/status", token=token)[1]["gateway"]["pid"]
        code, missing = http(
            f"{control}/restore", method="POST", token=token, body={"snapshot_id": "0badc0de"}
        )
        # An id no snapshot has: 404 (the caller's mistake), and the gateway was not stopped.
        assert code == 404, missing
        assert missing == {"ok": False, "error": "no snapshot '0badc0de' in the repository"}
        assert http(f"{control}/status", token=token)[1]["gateway"]["pid"] == pid_before
        # Routes of other modules (supervisor.EXTRA_ROUTES) are served by the same API.
        code, imported = http(f"{control}/import", token=token)
        assert (code, imported["ok"], imported["state"]) == (200, True, "none"), imported
        code, restart = http(f"{control}/gateway/restart", method="POST", token=token)
        assert (code, restart) == (200, {"ok": True})
        wait_ready(gateway_port, proc, timeout=60)
        status = http(f"{control}/status", token=token)[1]
        assert status["gateway"]["restarts"] == 1
        assert status["gateway"]["state"] == "running"
        assert status["backup"]["last_snapshot"]["id"] == taken["snapshot_id"]
        body = json.dumps(status) + json.dumps(listed)
        for name, value in SECRETS.items():
            assert value not in body, f"{name} returned by the control API"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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


def test_missing_gateway_binary_exits_127(backup_env: dict[str, str], tmp_path: Path) -> None:
    env = {
        **backup_env,
        "OPENCLAW_BIN": str(tmp_path / "no-such-openclaw"),
        "OPENCLAW_EDGE_CONTROL_PORT": "0",
        "R2_BUCKET_NAME": "",
    }
    proc = subprocess.run(
        [sys.executable, str(BOOT), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 127, proc.stderr
    assert "gateway could not start" in proc.stderr


def test_missing_gateway_token_refuses_to_start(backup_env: dict[str, str]) -> None:
    env = {**backup_env, "OPENCLAW_GATEWAY_TOKEN": ""}
    proc = subprocess.run(
        [sys.executable, str(BOOT), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "OPENCLAW_GATEWAY_TOKEN is required" in proc.stderr
