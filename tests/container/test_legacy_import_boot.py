"""The whole `boot.py run` on a bucket the reference wrote: import → Doctor → a real OpenClaw 2026.9
gateway that knows the browser paired under OpenClaw 2026.2.3 and shows its chat history; then a
second boot (new container) restores that from restic without importing or running Doctor again.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot.gateway import gateway_env

from .conftest import BOOT, SECRETS, free_port
from .moltworker import (
    FIXTURES,
    assert_no_secret,
    captured,
    fake_secrets,
    files_under,
    s3,
    upload_layout,
)
from .test_supervisor import http, kill_tree, wait_ready

pytestmark = pytest.mark.slow

DOCTOR_READY_TIMEOUT = 600  # Doctor on 2 busy cores, then the gateway's own start


@contextlib.contextmanager
def boot_run(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as handle:
        proc = subprocess.Popen(
            [sys.executable, str(BOOT), "run"], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            kill_tree(proc)


def openclaw(env: dict[str, str], *args: str) -> Any:
    """The real CLI against the running gateway (token from the environment, never argv)."""
    proc = subprocess.run(
        [env["OPENCLAW_BIN"], *args, "--json"],
        env=gateway_env(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout[proc.stdout.index("{") :])


def browser_device_id() -> str:
    storage = json.loads((FIXTURES / "rclone" / "browser-localstorage.json").read_text())
    identity = json.loads(storage["openclaw-device-identity-v1"])
    return str(identity["deviceId"])


def history_texts(env: dict[str, str]) -> list[str]:
    history = openclaw(
        env,
        "gateway",
        "call",
        "chat.history",
        "--params",
        json.dumps({"sessionKey": "agent:main:main", "limit": 50}),
    )
    return [
        part.get("text", "")
        for message in history.get("messages", [])
        for part in message.get("content", [])
        if isinstance(part, dict)
    ]


def test_imported_state_serves_paired_device_and_history_then_restores_on_second_boot(
    backup_env: dict[str, str],
    home: Path,
    tmp_path: Path,
    s3_endpoint: str,
    bucket: str,
    openclaw_bin: Path,
    restic_bin: str,
) -> None:
    upload_layout(s3(s3_endpoint), bucket, "rclone")
    gateway_port, control_port = free_port(), free_port()
    env = {
        **backup_env,
        "ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"],
        "OPENCLAW_GATEWAY_PORT": str(gateway_port),
        "OPENCLAW_EDGE_CONTROL_PORT": str(control_port),
        "OPENCLAW_EDGE_CONTROL_BIND": "127.0.0.1",
        "BACKUP_INTERVAL_SECONDS": "3600",
    }
    control = f"http://127.0.0.1:{control_port}"
    token = SECRETS["OPENCLAW_GATEWAY_TOKEN"]
    question, answer = captured("rclone")["question"], captured("rclone")["answer"]
    log = tmp_path / "boot.log"

    with boot_run(env, log) as proc:
        wait_ready(gateway_port, proc, timeout=DOCTOR_READY_TIMEOUT)
        status = http(f"{control}/status", token=token)[1]
        imported = status["import"]
        assert imported["state"] == "imported", imported
        assert imported["verified"] is True
        doctor = imported["doctor"]
        assert doctor["state"] == "done", doctor
        notes = " ".join(doctor["notes"])
        assert "device pairing store migrated to SQLite: imported 1 paired device" in notes
        assert re.search(r"Transcript events: imported=\d+", notes), notes
        assert status["config"]["valid"] is True, status["config"]

        # The browser paired under 2026.2.3 is a paired device of the 2026.9 gateway.
        devices = openclaw(env, "devices", "list")
        paired = {d["deviceId"]: d for d in devices["paired"]}
        assert browser_device_id() in paired, devices
        assert paired[browser_device_id()]["clientId"] == "openclaw-control-ui"
        assert devices["pending"] == []
        # Its chat is history of the main session.
        texts = history_texts(env)
        assert question in texts, texts
        assert answer in texts, texts

        code, details = http(f"{control}/import", token=token)
        assert code == 200
        assert details["delete_offer"] is True
        assert http(f"{control}/import")[0] == 401
        code, refused = http(f"{control}/import/delete-legacy", method="POST", token=token, body={})
        assert code == 400
        assert "confirmation required" in refused["error"]

        # No credential of the old deployment (or of this one) in the state or the config.
        secrets = {**fake_secrets(), **SECRETS}
        state = files_under(home, skip=(".cache", ".openclaw-edge/run", ".openclaw/cache"))
        assert_no_secret(state, fake_secrets(), "HOME")
        config_text = (home / ".openclaw/openclaw.json").read_text()
        for name, value in secrets.items():
            assert value not in config_text, f"{name} in openclaw.json"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=180) == 0

    # A new container: empty disk, same bucket. Restic brings everything back; no import.
    subprocess.run(["rm", "-rf", str(home)], check=True)
    home.mkdir()
    second_log = tmp_path / "boot-2.log"
    with boot_run(env, second_log) as proc:
        wait_ready(gateway_port, proc, timeout=DOCTOR_READY_TIMEOUT)
        status = http(f"{control}/status", token=token)[1]
        assert status["restore"]["state"] == "ok", status["restore"]
        assert status["import"]["state"] == "imported"
        assert status["import"]["imported_this_boot"] is False
        assert status["import"]["doctor"]["state"] == "done"
        assert browser_device_id() in {
            d["deviceId"] for d in openclaw(env, "devices", "list")["paired"]
        }
        texts = history_texts(env)
        assert question in texts
        assert answer in texts
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=180) == 0
    text = second_log.read_text(errors="replace")
    assert "importing" not in text, text[-3000:]
    assert "running openclaw doctor" not in text, text[-3000:]
