"""Benchmark helpers: percentiles, tables, boot-phase parsing, loopback-only load."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import coldstart, common, load, snapshots
from bench import run as bench_run


def test_summarize_percentiles() -> None:
    stats = load.summarize([i / 1000 for i in range(1, 101)], errors=2, seconds=2.0)
    assert stats.count == 100
    assert stats.errors == 2
    assert stats.p50_ms == pytest.approx(50)  # nearest rank (ops.stats): rank 50 of 100
    assert stats.p99_ms == pytest.approx(99)
    assert stats.per_second == 50


def test_table_is_markdown() -> None:
    text = common.table("T", ["a", "b"], [("x", 1.234), ("long name", 123.4)])
    lines = text.splitlines()
    assert lines[0] == "### T"
    assert lines[2].startswith("| a ")
    assert set(lines[3]) <= {"|", "-"}
    assert "| 1.23  |" in lines[4]
    assert "| 123.4 |" in lines[5]


def test_boot_phases_come_from_the_boot_log(tmp_path: Path) -> None:
    since = time.mktime(time.strptime("2026-11-22 03:00:00", "%Y-%m-%d %H:%M:%S"))
    log = tmp_path / "boot.log"
    log.write_text(
        "2026-11-22 02:00:00,000 openclaw-edge INFO restore: empty\n"  # an earlier run
        "2026-11-22 03:00:01,500 openclaw-edge INFO restore: ok\n"
        "2026-11-22T03:00:02.000+00:00 [gateway] loading configuration…\n"
        "2026-11-22 03:00:04,000 openclaw-edge INFO config written (/h/openclaw.json)\n"
        "2026-11-22 03:00:04,010 openclaw-edge.gateway INFO gateway started (pid 1)\n"
    )
    marks, state = coldstart._log_times(log, since)
    assert state == "ok"
    assert marks["restore"] - since == pytest.approx(1.5)
    assert marks["config"] - marks["restore"] == pytest.approx(2.5)


def test_load_refuses_anything_but_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        load.http_load("http://192.0.2.1/", requests=1, concurrency=1)


@pytest.fixture
def server() -> Iterator[str]:
    class Ok(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/ok" else 404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_load_counts_requests_and_errors(server: str) -> None:
    good = load.http_load(server + "/ok", requests=40, concurrency=4)
    assert (good.count, good.errors) == (40, 0)
    bad = load.http_load(server + "/missing", requests=10, concurrency=2)
    assert (bad.count, bad.errors) == (0, 10)


def test_json_path_is_checked_before_the_benchmarks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[bool] = []

    def fake_run(quick: bool) -> object:
        ran.append(quick)
        raise AssertionError("the benchmarks started before --json was checked")

    monkeypatch.setattr(bench_run, "run", fake_run)
    (tmp_path / "a-file").write_text("")
    assert bench_run.main(["--quick", "--json", str(tmp_path / "a-file" / "out.json")]) == 2
    assert ran == []
    assert "bench: --json " in capsys.readouterr().err
    assert bench_run.main(["--json", str(tmp_path)]) == 2
    assert ran == []


def test_bytes_uploaded_are_the_new_or_changed_objects() -> None:
    before = {"data/aa": 100, "index/1": 20, "keys/k": 5}
    after = {"data/aa": 100, "index/1": 20, "keys/k": 5, "data/bb": 300, "snapshots/s": 7}
    assert snapshots.uploaded_bytes(before, after) == 307
    assert snapshots.uploaded_bytes(after, after) == 0
    cost = snapshots.SnapshotCost("1%", 1.0, False, 0, 10, 9999, 40, 100, 50, bytes_uploaded=300)
    assert cost.ratio == 2.0  # bytes uploaded, not restic's bytes added, over what changed
    skipped = snapshots.SnapshotCost("same", 0.1, True, 0, 0, 0, 0, 100, 0)
    assert skipped.ratio is None


def test_the_reference_start_uses_the_references_flags_and_the_users_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stock gateway as moltworker starts it: its flags (no token in argv), a copy of the
    restored and configured ~/.openclaw without plugins.allow and without lock files."""
    template = tmp_path / "template"
    (template / "tmp").mkdir(parents=True)
    (template / "tmp" / "gateway.lock").write_text("")
    (template / "openclaw.json").write_text(
        '{"channels": {"telegram": {"enabled": true}}, "plugins": {"allow": ["telegram"]}}'
    )
    seen: dict[str, object] = {}

    def fake_start(_stack: object, home: Path, env: dict[str, str], argv: list[str]) -> float:
        seen["argv"] = argv
        seen["config"] = json.loads((home / ".openclaw" / "openclaw.json").read_text())
        seen["tmp"] = (home / ".openclaw" / "tmp").exists()
        seen["env"] = env
        return 1.0

    class FakeStack:
        class config:  # mimics Stack.config (state_dir, ports.gateway)
            state_dir = tmp_path
            ports = type("P", (), {"gateway": 18789})()

        def openclaw_bin(self) -> Path:
            return Path("/bin/openclaw")

        def boot_env(self) -> dict[str, str]:
            return {"OPENCLAW_EDGE_COMPILE_CACHE": "/c", "NODE_COMPILE_CACHE": "/c", "PATH": "/b"}

    monkeypatch.setattr(coldstart, "_stock_start", fake_start)
    assert coldstart.reference_gateway_start(FakeStack(), template) == 1.0  # type: ignore[arg-type]
    argv = seen["argv"]
    assert argv == ["/bin/openclaw", "gateway", "--port", "18789", "--verbose",
                    "--allow-unconfigured", "--bind", "loopback"]  # fmt: skip
    assert seen["config"] == {"channels": {"telegram": {"enabled": True}}, "plugins": {}}
    assert seen["tmp"] is False
    env = seen["env"]
    assert isinstance(env, dict)
    assert "NODE_COMPILE_CACHE" not in env
    assert "OPENCLAW_EDGE_COMPILE_CACHE" not in env
    assert env["TMPDIR"].startswith(str(tmp_path))
