"""`boot.py run` through the lifecycle the Sandbox SDK gives it, on this host.

- Many concurrent cold starts (a page load plus its favicon, the cron plus a user) each start a
  `run`, because the SDK runs a duplicate process id again: exactly one boots, one gateway.
- A stop is the SDK's kill (sandbox-container/src/session.ts, killCommand): SIGTERM to every
  process of the tree, children first, SIGKILL to what is left 5 s later. `run` must be gone
  by then with its final snapshot, or stop restic cleanly and say the snapshot is missing.
- The control API answers from the first second (restoring), one-shots refuse while `run`
  is live, and the gateway's output goes to a size-bounded file, not to the SDK's pipes.

The tests with "real gateway" in their name run the real OpenClaw; the others use a stand-in.

One file (about 500 lines): each scenario starts real `boot.py run` processes with the same
helpers (signals, process trees, status polling) defined here.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import BOOT, SECRETS, free_port
from .test_supervisor import FAKE_OPENCLAW, descendants, http, wait_ready

pytestmark = pytest.mark.slow

TOKEN = SECRETS["OPENCLAW_GATEWAY_TOKEN"]
SDK_KILL_AFTER = 5.0  # sandbox-container/src/session.ts: waitForPidsExit(treePids, 5000)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def sdk_stop(proc: subprocess.Popen[bytes]) -> tuple[bool, float]:
    """Stop the tree the way the SDK does; (exited before the SIGKILL, seconds it took)."""
    started = time.monotonic()
    tree = [*reversed(descendants(proc.pid)), proc.pid]  # children first, like terminateTree
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    while time.monotonic() - started < SDK_KILL_AFTER:
        proc.poll()
        if not any(alive(pid) for pid in tree):
            return True, time.monotonic() - started
        time.sleep(0.05)
    for pid in {*tree, *descendants(proc.pid)}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    return False, time.monotonic() - started


def parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    for pid in [*descendants(proc.pid), proc.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def fake_openclaw(tmp_path: Path, body: str = "") -> Path:
    """The control-API stand-in of test_supervisor, optionally printing first."""
    script = FAKE_OPENCLAW.format(python=sys.executable)
    if body:
        script = script.replace("port = int(", body + "\nport = int(", 1)
    path = tmp_path / "openclaw"
    path.write_text(script)
    path.chmod(0o755)
    return path


def image_env(name: str) -> str:
    """What container/Dockerfile sets: these tests run `run` as it runs in the image."""
    found = re.search(rf"\b{name}=(\S+)", (BOOT.parent / "Dockerfile").read_text())
    assert found, name
    return found.group(1)


def run_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **base,
        "OPENCLAW_EDGE_SHUTDOWN_BUDGET_SECONDS": image_env("OPENCLAW_EDGE_SHUTDOWN_BUDGET_SECONDS"),
        "OPENCLAW_EDGE_GATEWAY_STOP_GRACE_SECONDS": image_env(
            "OPENCLAW_EDGE_GATEWAY_STOP_GRACE_SECONDS"
        ),
        "OPENCLAW_GATEWAY_PORT": str(free_port()),
        "OPENCLAW_EDGE_CONTROL_PORT": str(free_port()),
        "OPENCLAW_EDGE_CONTROL_BIND": "127.0.0.1",
        "BACKUP_INTERVAL_SECONDS": "3600",
        **extra,
    }


def control_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['OPENCLAW_EDGE_CONTROL_PORT']}"


def wait_control(env: dict[str, str], proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "boot.py run exited before its control API answered"
        with contextlib.suppress(urllib.error.URLError, OSError):
            if http(f"{control_url(env)}/status", token=TOKEN)[0] == 200:
                return
        time.sleep(0.1)
    pytest.fail("control API not up")


@contextlib.contextmanager
def booted(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, str(BOOT), "run"], env=env, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            kill_tree(proc)


def snapshots(env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(BOOT), "snapshots"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)["snapshots"]
    return found


def one_shot_snapshot(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """`boot.py snapshot` as the Worker's fallback runs it: (exit code, its JSON)."""
    done = subprocess.run(
        [sys.executable, str(BOOT), "snapshot"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, answer


def restic_env(env: dict[str, str]) -> dict[str, str]:
    """restic's own environment for the repository `run` uses."""
    return {
        "PATH": env["PATH"],
        "HOME": env["HOME"],
        "RESTIC_REPOSITORY": f"s3:{env['R2_ENDPOINT']}/{env['R2_BUCKET_NAME']}/openclaw-edge",
        "RESTIC_PASSWORD": env["BACKUP_PASSWORD"],
        "AWS_ACCESS_KEY_ID": env["R2_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["R2_SECRET_ACCESS_KEY"],
    }


def snapshot_has(env: dict[str, str], snapshot_id: str, rel: str, restic_bin: str) -> str:
    """Content of HOME-relative `rel` in a snapshot (restic dump)."""
    done = subprocess.run(
        [restic_bin, "dump", snapshot_id, str(Path(env["HOME"]) / rel)],
        env=restic_env(env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def gateway_processes(home: Path, marker: str) -> list[int]:
    """Live processes started for this HOME whose argv contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        ours = marker.encode() in b" ".join(argv) and f"HOME={home}".encode() in environ
        if ours and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


# -- concurrent cold starts ------------------------------------------------------------------


def test_concurrent_cold_starts_boot_once_with_the_real_gateway(
    backup_env: dict[str, str], home: Path, tmp_path: Path, openclaw_bin: Path, restic_bin: str
) -> None:
    """Eight `run`s at once in one HOME, as eight cold requests make the SDK start them."""
    env = run_env(backup_env, **{"ANTHROPIC_API_KEY": SECRETS["ANTHROPIC_API_KEY"]})
    logs = [tmp_path / f"run-{i}.log" for i in range(8)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for log in logs:
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, str(BOOT), "run"], env=env, stdout=out, stderr=out
                    )
                )
        # The losers exit at once and cleanly; the winner goes on to boot.
        deadline = time.monotonic() + 60
        while sum(p.poll() is not None for p in procs) < 7 and time.monotonic() < deadline:
            time.sleep(0.2)
        exited = [p for p in procs if p.poll() is not None]
        live = [p for p in procs if p.poll() is None]
        assert (len(exited), len(live)) == (7, 1), [p.returncode for p in procs]
        assert {p.returncode for p in exited} == {0}
        winner = live[0]
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), winner)
        texts = [log.read_text(errors="replace") for log in logs]
        boots = sum(" restore: " in text for text in texts)
        refusals = sum("another `boot.py run` is live" in text for text in texts)
        gateways = gateway_processes(home, "gateway")
        # `openclaw gateway run` processes started by a boot (their parent is a `run`).
        started = [pid for pid in gateways if parent(pid) in {p.pid for p in procs}]
        print(f"cold start x8: boots={boots} refusals={refusals} gateways={len(started)}")
        assert (boots, refusals) == (1, 7), texts
        assert len(started) == 1, started
        assert set(gateways) <= set(descendants(winner.pid)), "a gateway outside the one run"
        status = http(f"{control_url(env)}/status", token=TOKEN)[1]
        assert status["gateway"]["state"] == "running"
        assert status["gateway"]["pid"] == started[0]

        # The second run after a stop: the lock went with the first one.
        stopped, _ = sdk_stop(winner)
        assert stopped
        with booted(env, tmp_path / "second.log") as second:
            wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), second)
            kill_tree(second)  # ... and after a SIGKILL of the whole tree too
        with booted(env, tmp_path / "third.log") as third:
            wait_control(env, third)
            assert "another `boot.py run`" not in (tmp_path / "third.log").read_text()
            sdk_stop(third)
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_tree(proc)


# -- the SDK's 5 s stop ----------------------------------------------------------------------


def test_stop_under_the_sdk_kill_keeps_the_last_change_with_the_real_gateway(
    backup_env: dict[str, str], home: Path, tmp_path: Path, openclaw_bin: Path, restic_bin: str
) -> None:
    env = run_env(backup_env)
    with booted(env, tmp_path / "boot.log") as proc:
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), proc)
        note = home / ".openclaw" / "workspace" / "last-words.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("written a moment before the stop\n")
        exited, seconds = sdk_stop(proc)
    log = (tmp_path / "boot.log").read_text(errors="replace")
    final = re.search(r"final snapshot: (\S+) \(([\d.]+)s after the stop began\)", log)
    print(f"real gateway: stop took {seconds:.2f}s, final snapshot after {final and final[2]}s")
    assert exited, f"SIGKILLed after {SDK_KILL_AFTER}s:\n{log[-2000:]}"
    assert final, log[-2000:]
    newest = snapshots(env)[0]
    assert newest["id"].startswith(final[1])
    assert newest["trigger"] == "shutdown"
    assert snapshot_has(env, newest["id"], ".openclaw/workspace/last-words.md", restic_bin) == (
        "written a moment before the stop\n"
    )


SLOW_EXIT_WRAPPER = """#!/bin/bash
# The real OpenClaw, but its stop takes {seconds}s (like a gateway finishing an agent turn).
"{real}" "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null; sleep {seconds}; exit 0' TERM
wait $child
"""


def test_stop_with_a_slow_gateway_still_takes_the_final_snapshot_with_the_real_gateway(
    backup_env: dict[str, str], home: Path, tmp_path: Path, openclaw_bin: Path, restic_bin: str
) -> None:
    """A gateway busy for 8 s on SIGTERM must not cost the final snapshot."""
    wrapper = tmp_path / "openclaw-slow-exit"
    wrapper.write_text(SLOW_EXIT_WRAPPER.format(real=openclaw_bin, seconds=8))
    wrapper.chmod(0o755)
    env = run_env(backup_env, OPENCLAW_BIN=str(wrapper))
    with booted(env, tmp_path / "boot.log") as proc:
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), proc)
        note = home / ".openclaw" / "workspace" / "busy.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("changed while the gateway was busy\n")
        exited, seconds = sdk_stop(proc)
    log = (tmp_path / "boot.log").read_text(errors="replace")
    print(f"slow gateway: stop took {seconds:.2f}s")
    assert exited, f"SIGKILLed after {SDK_KILL_AFTER}s:\n{log[-2000:]}"
    newest = snapshots(env)[0]
    assert newest["trigger"] == "shutdown"
    assert snapshot_has(env, newest["id"], ".openclaw/workspace/busy.md", restic_bin)


SLOW_UPLINK_RESTIC = """#!/bin/bash
# restic, but a backup uploads at 1 KiB/s once {marker} exists (a congested uplink).
if [ "$1" = backup ] && [ -e "{marker}" ]; then exec "{real}" "$@" --limit-upload 1; fi
exec "{real}" "$@"
"""


def test_a_final_snapshot_that_cannot_fit_stops_cleanly_and_says_so(
    backup_env: dict[str, str], home: Path, tmp_path: Path, restic_bin: str
) -> None:
    marker = tmp_path / "slow-uplink"
    wrapper = tmp_path / "restic"
    wrapper.write_text(SLOW_UPLINK_RESTIC.format(marker=marker, real=restic_bin))
    wrapper.chmod(0o755)
    env = run_env(backup_env, OPENCLAW_BIN=str(fake_openclaw(tmp_path)), RESTIC_BIN=str(wrapper))
    with booted(env, tmp_path / "boot.log") as proc:
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), proc)
        code, first = http(f"{control_url(env)}/snapshot", method="POST", token=TOKEN)
        assert code == 200, first
        big = home / ".openclaw" / "workspace" / "big.bin"
        big.parent.mkdir(parents=True, exist_ok=True)
        big.write_bytes(os.urandom(4 * 1024 * 1024))
        marker.touch()
        exited, seconds = sdk_stop(proc)
    log = (tmp_path / "boot.log").read_text(errors="replace")
    assert exited, f"SIGKILLed after {SDK_KILL_AFTER}s:\n{log[-2000:]}"
    assert "final snapshot: shutdown snapshot not taken" in log, log[-2000:]
    marker.unlink()
    status = json.loads((home / ".openclaw-edge" / "run" / "status.json").read_text())
    assert status["shutdown"]["final_snapshot"]["ok"] is False
    # The recovery point is the snapshot before: still the newest, and no stale lock left.
    assert [s["trigger"] for s in snapshots(env)][:1] != ["shutdown"]
    locks = subprocess.run(
        [restic_bin, "list", "locks", "--no-lock"],
        env=restic_env(env),
        capture_output=True,
        text=True,
        check=True,
    )
    assert locks.stdout.strip() == "", "restic left its lock behind"
    assert seconds < SDK_KILL_AFTER


# -- restoring, one-shots, logs ----------------------------------------------------------------

HELD_RESTORE_RESTIC = """#!/bin/bash
# restic, but `restore` waits until {release} exists (a long restore of a big state).
if [ "$1" = restore ]; then while [ ! -e "{release}" ]; do sleep 0.1; done; fi
exec "{real}" "$@"
"""


def test_control_api_answers_while_restoring_and_nothing_snapshots_a_half_restored_state(
    backup_env: dict[str, str], home: Path, tmp_path: Path, restic_bin: str
) -> None:
    note = home / ".openclaw" / "workspace" / "kept.md"
    seed_env = run_env(backup_env, OPENCLAW_BIN=str(fake_openclaw(tmp_path)))
    with booted(seed_env, tmp_path / "seed.log") as seed:  # the last container's life
        wait_ready(int(seed_env["OPENCLAW_GATEWAY_PORT"]), seed)
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("from the last container\n")
        assert http(f"{control_url(seed_env)}/snapshot", method="POST", token=TOKEN)[0] == 200
        assert sdk_stop(seed)[0]
    for child in home.iterdir():  # a fresh container: nothing on disk
        subprocess.run(["rm", "-rf", str(child)], check=True)
    release = tmp_path / "release"
    wrapper = tmp_path / "restic"
    wrapper.write_text(HELD_RESTORE_RESTIC.format(release=release, real=restic_bin))
    wrapper.chmod(0o755)
    env = run_env(backup_env, OPENCLAW_BIN=str(fake_openclaw(tmp_path)), RESTIC_BIN=str(wrapper))
    with booted(env, tmp_path / "boot.log") as proc:
        wait_control(env, proc)
        control = control_url(env)
        status = http(f"{control}/status", token=TOKEN)[1]
        assert (status["restore"]["state"], status["phase"]) == ("restoring", "restoring")
        ready = http(f"{control}/gateway/ready", token=TOKEN)[1]
        assert ready["ready"] is False
        assert "restoring" in ready["detail"]
        code, refused = http(f"{control}/snapshot", method="POST", token=TOKEN)
        assert code == 409
        assert "restored" in refused["error"]
        assert http(f"{control}/gateway/restart", method="POST", token=TOKEN)[0] == 409
        fallback = one_shot_snapshot(env)
        assert fallback[0] == 1
        assert "boot.py run is live" in fallback[1]["error"]
        assert len(snapshots(env)) == 1, "something snapshotted the half-restored state"
        kill_tree(proc)  # killed mid-restore: the next one-shot must not save what is on disk
    status_file = home / ".openclaw-edge" / "run" / "status.json"
    assert json.loads(status_file.read_text())["restore"]["state"] == "restoring"
    after_kill = one_shot_snapshot(env)
    assert after_kill[0] == 1
    assert "no boot finished its restore" in after_kill[1]["error"]
    assert len(snapshots(env)) == 1
    with booted(env, tmp_path / "boot-again.log") as proc:
        release.touch()
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), proc)
        status = http(f"{control}/status", token=TOKEN)[1]
        assert status["restore"]["state"] == "ok"
        assert status["restore"]["snapshot_trigger"] == "manual"
        assert note.read_text() == "from the last container\n"
        note.write_text("after the restore\n")
        code, taken = http(f"{control}/snapshot", method="POST", token=TOKEN)
        assert (code, taken["ok"], taken["skipped"]) == (200, True, False)
        sdk_stop(proc)


LOUD = """
for _ in range(30000):
    print("gateway noise " + "x" * 90, flush=False)
print("the last line", flush=True)
"""


def test_gateway_output_goes_to_a_bounded_file_not_to_the_sdk(
    backup_env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    """3 MB of gateway output: the SDK (run's stdout/stderr) sees none of it."""
    env = run_env(
        backup_env,
        OPENCLAW_BIN=str(fake_openclaw(tmp_path, LOUD)),
        OPENCLAW_EDGE_LOG_MAX_BYTES=str(256 * 1024),
        OPENCLAW_EDGE_STDERR_LEVEL="WARNING",
        R2_BUCKET_NAME="",
    )
    with booted(env, tmp_path / "sdk-pipes.log") as proc:
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), proc)
        control = control_url(env)
        deadline = time.monotonic() + 30
        lines: list[str] = []
        while time.monotonic() < deadline:
            lines = http(f"{control}/logs?source=gateway&lines=3", token=TOKEN)[1]["lines"]
            if lines and lines[-1] == "the last line":
                break
            time.sleep(0.2)
        assert lines[-1] == "the last line"
        assert len(lines) == 3
        boot_lines = http(f"{control}/logs?source=boot&lines=50", token=TOKEN)[1]["lines"]
        assert any("gateway started" in line for line in boot_lines)
        assert http(f"{control}/logs?source=nope", token=TOKEN)[0] == 400
        sdk_stop(proc)
    seen_by_sdk = (tmp_path / "sdk-pipes.log").stat().st_size
    run_dir = home / ".openclaw-edge" / "run"
    on_disk = sum(p.stat().st_size for p in run_dir.glob("gateway.log*"))
    print(f"gateway output: {seen_by_sdk} bytes to the SDK, {on_disk} bytes on disk")
    assert seen_by_sdk < 16 * 1024
    assert on_disk <= 3 * 256 * 1024 + 4096


def test_a_rotated_gateway_token_takes_effect_on_the_next_run_and_backups_go_on(
    backup_env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    """Same container, new process with a new token: local state kept, backups continue."""
    env = run_env(backup_env, OPENCLAW_BIN=str(fake_openclaw(tmp_path)))
    with booted(env, tmp_path / "first.log") as proc:
        wait_ready(int(env["OPENCLAW_GATEWAY_PORT"]), proc)
        note = home / ".openclaw" / "workspace" / "note.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("one\n")
        assert http(f"{control_url(env)}/snapshot", method="POST", token=TOKEN)[0] == 200
        assert sdk_stop(proc)[0]
    rotated = "gw-token-rotated-77aa31"
    env2 = {**env, "OPENCLAW_GATEWAY_TOKEN": rotated}
    with booted(env2, tmp_path / "second.log") as proc:
        wait_ready(int(env2["OPENCLAW_GATEWAY_PORT"]), proc)
        control = control_url(env2)
        assert http(f"{control}/status", token=TOKEN)[0] == 401
        status = http(f"{control}/status", token=rotated)[1]
        assert status["shutdown"]["previous"]["final_snapshot"]["ok"] is True
        note.write_text("two\n")
        code, taken = http(f"{control}/snapshot", method="POST", token=rotated)
        assert (code, taken["skipped"]) == (200, False)
        assert note.read_text() == "two\n"
        sdk_stop(proc)
    # Both manual snapshots are there; the stops found nothing new to save.
    assert [s["trigger"] for s in snapshots(env2)] == ["manual", "manual"]
