"""`make verify` against the local stack (the real Worker under wrangler dev, the real boot code and
OpenClaw gateway, the Access stand-in in front admitting the local service token): every check
that applies here passes; then each piece is broken in turn and the matching check fails with its
message. No run prints or writes a secret.

Runs in file order: the breaking tests come last, the gateway stopped at the very end.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dev.stack import ROOT, Stack
from ops import phase_docs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOCAL_CHECKS = {
    "dns_tls": "skipped",
    "access": "ok",
    "service_token": "ok",
    "gateway": "ok",
    "versions": "ok",
    "channels": "ok",
    "backups": "ok",
    "tools": "ok",
    "cdp": "skipped",
    "worker_secrets": "skipped",
}
"""What applies locally passes (the chat channels against dev/discord.py and dev/telegram.py);
the rest says why it is skipped (no DNS/TLS, no Browser Rendering binding, no Cloudflare API
under wrangler dev)."""


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    doc: dict[str, Any]
    argv: list[str]

    def check(self, check_id: str) -> dict[str, Any]:
        found: dict[str, Any] = next(
            c for c in self.doc["$verify"]["checks"] if c["id"] == check_id
        )
        return found

    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.doc["$verify"]["checks"]}


def _command(
    stack: Stack,
    tmp_path: Path,
    *args: str,
    secret: str | None = None,
    outputs: dict[str, Any] | None = None,
) -> tuple[list[str], dict[str, str], Path]:
    """`python -m ops.verify` as `make verify` runs it; the token secret only in its environment."""
    out_file = tmp_path / "outputs.json"
    out_file.write_text(json.dumps(outputs or stack.outputs()))
    json_file = tmp_path / "verify.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CF_ACCESS_CLIENT_ID", "CDP_SECRET", "CLOUDFLARE_API_TOKEN"}
    }
    env["CF_ACCESS_CLIENT_SECRET"] = secret or stack.secrets.access_client_secret
    argv = [sys.executable, "-m", "ops.verify", "--outputs", str(out_file)]
    return [*argv, "--json", str(json_file), *args], env, json_file


def _finish(
    stack: Stack, argv: list[str], env: dict[str, str], json_file: Path, done: tuple[int, str, str]
) -> Run:
    """The run's results, after proving no secret reached its output, JSON or argv."""
    code, stdout, stderr = done
    print(stdout)
    written = json_file.read_text()
    secrets = [
        stack.secrets.gateway_token,
        stack.secrets.backup_password,
        stack.secrets.access_client_secret,
        env["CF_ACCESS_CLIENT_SECRET"],
    ]
    for value in secrets:
        assert value not in stdout
        assert value not in stderr
        assert value not in written
        assert value not in " ".join(argv)
    return Run(code, stdout, stderr, json.loads(written), argv)


def verify(
    stack: Stack,
    tmp_path: Path,
    *args: str,
    secret: str | None = None,
    outputs: dict[str, Any] | None = None,
) -> Run:
    argv, env, json_file = _command(stack, tmp_path, *args, secret=secret, outputs=outputs)
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    return _finish(stack, argv, env, json_file, (done.returncode, done.stdout, done.stderr))


@pytest.fixture(scope="module")
def passing(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return verify(stack, tmp_path_factory.mktemp("passing"), "--write")


def test_every_check_that_applies_locally_passes(passing: Run) -> None:
    assert passing.code == 0, passing.stdout
    assert passing.statuses() == LOCAL_CHECKS
    assert passing.doc["$verify"]["passed"] is True
    lines = passing.stdout.splitlines()
    assert lines[0].endswith("(local stack)")
    # Each check is printed as it runs, then what it waits for (`    ... `), then its outcome.
    for number, check in enumerate(passing.doc["$verify"]["checks"], 1):
        start = lines.index(f"[{number}/10] {check['title']} ...")
        after = (line.strip() for line in lines[start + 1 :] if not line.startswith("    ... "))
        outcome = next(after)
        if check["status"] == "ok":
            assert outcome.startswith("ok (")
        else:
            assert outcome == f"skipped: {check['detail']}"
    assert passing.check("access")["facts"]["location"].startswith("https://127.0.0.1:")
    assert "/cdn-cgi/access/login/" in passing.check("access")["facts"]["location"]
    assert passing.check("service_token")["facts"] == {"environment": "local", "backend": "origin"}
    assert passing.check("versions")["facts"]["openclaw"]["running"] == "2026.9.6"
    tools = {t["name"]: t for t in passing.check("tools")["facts"]["tools"]}
    assert {n for n, t in tools.items() if t["required"]} == {"node", "openclaw", "restic"}
    assert all(t["ok"] for t in tools.values() if t["required"])
    channels = {c["name"]: c for c in passing.check("channels")["facts"]["channels"]}
    assert channels["discord"]["connected"]
    assert channels["telegram"]["connected"]
    assert channels["slack"]["configured"] is False
    written = passing.check("backups")["facts"]["written"]
    assert written
    assert f"--write took {written} and it is listed" in passing.check("backups")["detail"]


def test_the_local_run_is_evidence_for_item_0_7_only(passing: Run) -> None:
    entries = {k: v for k, v in passing.doc.items() if not k.startswith("$")}
    assert set(entries) == {"0-7"}
    manual = phase_docs.parse_manual(passing.doc, "verify.json")
    ev = phase_docs.Evidence({}, manual=manual)
    text = phase_docs.render_phase(0, ev, {"reviewed evidence": "verify.json"}, sample=False)
    assert "local stack (`make dev`" in text
    assert "not checked by ops.verify: a chat reply" in text


def test_a_wrong_service_token_fails_the_token_check(stack: Stack, tmp_path: Path) -> None:
    run = verify(stack, tmp_path, secret="0" * 64)
    assert run.code == 1
    token = run.check("service_token")
    assert token["status"] == "failed"
    assert token["detail"] == "Access refused the service token (HTTP 403)"
    assert "FAILED (" in run.stdout
    assert "Access refused the service token (HTTP 403) — check CF_ACCESS_CLIENT_ID" in run.stdout
    assert run.check("gateway")["detail"] == "needs the service token check to pass"


def test_a_worker_without_access_in_front_fails_the_access_check(
    stack: Stack, tmp_path: Path
) -> None:
    direct = {**stack.outputs(), "workerUrl": stack.config.url("worker").rstrip("/")}
    run = verify(stack, tmp_path, outputs=direct)
    assert run.code == 1
    check = run.check("access")
    assert check["status"] == "failed"
    assert check["detail"].startswith("the Worker's own JWT check answered (HTTP 401)")
    assert "access-covers-worker-hostname" in check["fix"]


def test_a_tool_missing_from_the_path_fails_the_tools_check(stack: Stack, tmp_path: Path) -> None:
    link = stack.tools_dir / "openclaw"
    link.unlink()
    try:
        run = verify(stack, tmp_path)
    finally:
        stack.prepare()  # puts the link back
    assert run.code == 1
    tools = run.check("tools")
    assert tools["status"] == "failed"
    assert tools["detail"] == "openclaw not found on PATH"
    assert "container/Dockerfile" in tools["fix"]
    assert run.check("versions")["detail"] == "OpenClaw unknown runs, the outputs say 2026.9.6"
    assert run.check("backups")["status"] == "ok"


def test_misconfigured_backups_fail_the_backup_check(stack: Stack, tmp_path: Path) -> None:
    right = stack.secrets.backup_password
    stack.stop(["boot"])
    stack.secrets.backup_password = "not-the-repository-password"
    try:
        stack.start(["boot"])
        run = verify(stack, tmp_path)
    finally:
        stack.secrets.backup_password = right
    assert run.code == 1
    backups = run.check("backups")
    assert backups["status"] == "failed"
    # A restart on the same disk restores nothing (the local state is newer): the wrong password
    # shows when the repository is read.
    assert backups["detail"].startswith("listing the snapshots (/api/admin/snapshots) answered")
    assert "wrong password or no key found" in backups["detail"]
    assert "BACKUP_PASSWORD" in backups["fix"]
    assert run.check("gateway")["status"] == "ok"


def test_a_wrong_discord_token_fails_the_channels_check(stack: Stack, tmp_path: Path) -> None:
    # The user pasted another bot's token: well-formed (the stack's preview accepts it), but the
    # fake Discord closes the IDENTIFY with 4004 "Authentication failed." as Discord does.
    right = stack.secrets.discord_bot_token
    head, _, _ = right.split(".")
    wrong = f"{head}.AAAAAA.{'x' * 38}"
    stack.stop(["boot"])
    stack.secrets.discord_bot_token = wrong
    try:
        stack.start(["boot"])
        run = verify(stack, tmp_path)
    finally:
        stack.stop(["boot"])
        stack.secrets.discord_bot_token = right
        stack.start(["boot"])
    assert run.code == 1
    channels = run.check("channels")
    assert channels["status"] == "failed"
    assert channels["detail"].startswith("not connected: discord: "), channels["detail"]
    assert "telegram" not in channels["detail"]  # the other channel is still judged connected
    assert "DISCORD_BOT_TOKEN" in channels["fix"]
    assert wrong not in run.stdout
    assert wrong not in json.dumps(run.doc)
    assert run.check("gateway")["status"] == "ok"


def test_a_stopped_gateway_fails_the_gateway_check(stack: Stack, tmp_path: Path) -> None:
    stack.stop(["boot"])
    run = verify(stack, tmp_path, "--start-timeout", "5")
    assert run.code == 1
    gateway = run.check("gateway")
    assert gateway["status"] == "failed"
    # The Worker's origin backend: its fetch of /readyz through `edge` fails (not_running) or
    # `edge` answers 502 for the dead gateway first (not_responding), depending on the race.
    assert re.fullmatch(
        r"gateway not running after 5 s \(state (not_running: gateway origin unreachable|"
        r"not_responding: readyz answered HTTP 502)\)",
        gateway["detail"],
    ), gateway["detail"]
    assert "restart it from /_admin/" in gateway["fix"]
    assert re.search(r"\.\.\. not_r\w+ after \d+ s", run.stdout)  # progress while it waited
    assert run.check("backups")["detail"].startswith("the boot code's control API did not answer")


def test_a_gateway_that_comes_up_while_verify_waits_is_timed(stack: Stack, tmp_path: Path) -> None:
    if "boot" in stack.running:
        stack.stop(["boot"])
    argv, env, json_file = _command(stack, tmp_path, "--start-timeout", "600")
    log = tmp_path / "stdout.txt"
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
        try:
            for _ in range(240):  # at most 2 minutes for verify to reach the wait
                if re.search(r"\.\.\. not_r\w+ after", log.read_text()):
                    break
                time.sleep(0.5)
            else:
                pytest.fail(f"verify never waited for the gateway:\n{log.read_text()}")
            stack.start(["boot"])
            _, stderr = process.communicate(timeout=900)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    run = _finish(
        stack, argv, env, json_file, (process.returncode, log.read_text(), stderr.decode())
    )
    gateway = run.check("gateway")
    assert gateway["status"] == "ok"
    assert gateway["detail"].startswith("running after ")
    assert gateway["detail"].endswith(" s (cold start from the first request)")
    assert gateway["facts"]["coldStartSeconds"] > 0
    assert run.code == 0, run.stdout
