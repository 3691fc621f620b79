"""The user worker's own port under `wrangler dev` (bench.user_worker) and the Worker-cost rows on
both paths (bench.proxy.Overhead, bench.run.overhead_table). No stack, no timing."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from bench import run as bench_run
from bench import user_worker
from bench.proxy import DirectUnavailable, Overhead, _DirectRuns

# /proc/net/tcp as this machine prints it (x86: the address word little-endian, ports big-endian
# hex): header, then one line per socket; field 4 is the state (0A LISTEN, 01 ESTABLISHED) and
# field 10 the inode. The trailing blanks are the kernel's.
TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode                                                     "
)


def _tcp_line(sl: int, local: str, remote: str, state: str, inode: int) -> str:
    tail = "100 0 0 10 0" if state == "0A" else "20 4 30 11 -1"
    return (
        f"{sl:4d}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000     0        0 "
        f"{inode} 1 000000004ded45c9 {tail}                     "
    )


def _stat(pid: int, comm: str, ppid: int, pgrp: int) -> str:
    """/proc/<pid>/stat: pid (comm) state ppid pgrp session tty_nr tpgid flags ..."""
    return (
        f"{pid} ({comm}) S {ppid} {pgrp} {pgrp} 0 -1 4194304 40467 0 3 0 832 156 0 0 20 0 3 0 "
        "240998 46990950400 54193 18446744073709551615 94377984929792 94378050435904 "
        "140720438068816 0 0 0 0 4096 1073759464 0 0 0 17 1 0 0 0 0 0\n"
    )


def _process(proc: Path, pid: int, comm: str, ppid: int, pgrp: int, fds: list[str]) -> None:
    (proc / str(pid) / "fd").mkdir(parents=True)
    (proc / str(pid) / "stat").write_text(_stat(pid, comm, ppid, pgrp))
    for n, target in enumerate(fds):
        os.symlink(target, proc / str(pid) / "fd" / str(n))  # dangling, as readlink sees them


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    """wrangler dev as the worker piece runs it (pids and ports from a real one): wrangler (group
    leader 4100) -> its node child -> the ProxyWorker's workerd (dev 9087, inspector 9093) and the
    user worker's workerd (entry 45235, inspector 39499, debug 37203); node's loopback 36407; a
    child that left the group (40001); an unrelated gateway (18789) outside the group."""
    root = tmp_path / "proc"
    (root / "net").mkdir(parents=True)
    (root / "self").mkdir()  # non-numeric entries are not processes
    (root / "net" / "tcp").write_text(
        "\n".join(
            [
                TCP_HEADER,
                _tcp_line(0, "0100007F:237F", "00000000:0000", "0A", 20899),  # 9087 dev
                _tcp_line(1, "0100007F:2385", "00000000:0000", "0A", 20900),  # 9093 inspector
                _tcp_line(2, "0100007F:8E37", "00000000:0000", "0A", 20883),  # 36407 node
                _tcp_line(3, "0100007F:B0B3", "00000000:0000", "0A", 20953),  # 45235 entry
                _tcp_line(4, "0100007F:9A4B", "00000000:0000", "0A", 20954),  # 39499
                _tcp_line(5, "0100007F:9153", "00000000:0000", "0A", 20197),  # 37203 debug
                _tcp_line(6, "00000000:1F41", "00000000:0000", "0A", 20955),  # 0.0.0.0:8001
                _tcp_line(7, "0100007F:9C41", "00000000:0000", "0A", 20960),  # 40001 setsid child
                _tcp_line(8, "0100007F:4965", "00000000:0000", "0A", 14574),  # 18789 gateway
                _tcp_line(9, "0100007F:E150", "0100007F:2385", "01", 20910),  # a connection
            ]
        )
        + "\n"
    )
    _process(root, 4000, "python", 1, 4000, ["/dev/null"])
    _process(root, 4100, "MainThread", 4000, 4100, ["/dev/null", "pipe:[20001]"])
    _process(root, 4107, "MainThread", 4100, 4100, ["socket:[20883]", "anon_inode:[eventpoll]"])
    _process(root, 4152, "workerd", 4107, 4100, ["socket:[20899]", "socket:[20900]"])
    _process(
        root,
        4196,
        "workerd",
        4107,
        4100,
        ["socket:[20953]", "socket:[20954]", "socket:[20197]", "socket:[20955]", "socket:[20910]"],
    )
    _process(root, 4200, "odd) name", 4196, 4200, ["socket:[20960]"])  # parentheses in comm
    _process(root, 5000, "openclaw-gatewa", 1, 5000, ["socket:[14574]"])
    return root


def test_the_piece_is_wranglers_group_and_its_descendants(proc: Path) -> None:
    assert user_worker.piece_processes(4100, proc) == {4100, 4107, 4152, 4196, 4200}


@pytest.mark.skipif(sys.byteorder != "little", reason="the fixture is /proc/net/tcp of an x86")
def test_only_loopback_listening_sockets_count(proc: Path) -> None:
    listeners = user_worker.loopback_listeners(proc)
    assert listeners[20953] == 45235
    assert listeners[20899] == 9087
    assert 20955 not in listeners  # 0.0.0.0
    assert 20910 not in listeners  # ESTABLISHED
    assert user_worker.socket_inodes(4196, proc) == {20953, 20954, 20197, 20955, 20910}
    assert user_worker.socket_inodes(4100, proc) == set()  # a pipe and /dev/null only


@pytest.mark.skipif(sys.byteorder != "little", reason="the fixture is /proc/net/tcp of an x86")
def test_candidates_are_the_pieces_loopback_ports_but_dev_and_inspector(proc: Path) -> None:
    assert user_worker.candidate_ports(4100, (9087, 9093), proc) == [
        36407,
        37203,
        39499,
        40001,
        45235,
    ]
    assert user_worker.candidate_ports(9999, (), proc) == []  # no such process


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux /proc")
def test_the_real_proc_shows_a_socket_this_process_listens_on() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port in user_worker.candidate_ports(os.getpid(), ())
        assert port not in user_worker.candidate_ports(os.getpid(), (port,))


def _health(at: str, service: str = "openclaw-edge") -> bytes:
    return json.dumps(
        {
            "status": "ok",
            "service": service,
            "environment": "local",
            "backend": "origin",
            "time": at,
        }
    ).encode()


@pytest.mark.skipif(sys.byteorder != "little", reason="the fixture is /proc/net/tcp of an x86")
def test_the_user_worker_is_the_port_that_answers_as_the_dev_port(proc: Path) -> None:
    answers: dict[str, user_worker.Answer] = {
        "http://127.0.0.1:9087/sandbox-health": (200, _health("2026-12-02T17:06:55.322Z")),
        "http://127.0.0.1:45235/sandbox-health": (200, _health("2026-12-02T17:06:55.234Z")),
        "http://127.0.0.1:39499/sandbox-health": (500, b"Not yet implemented"),
        "http://127.0.0.1:36407/sandbox-health": (403, b"Forbidden"),
        "http://127.0.0.1:37203/sandbox-health": None,  # the debug port speaks no HTTP
        "http://127.0.0.1:40001/sandbox-health": (200, _health("x", service="something else")),
    }
    asked: list[str] = []

    def probe(url: str) -> user_worker.Answer:
        asked.append(url)
        return answers[url]

    found = user_worker.find_user_worker(
        4100, "http://127.0.0.1:9087/", (9087, 9093), proc=proc, probe=probe
    )
    assert found == user_worker.UserWorker(45235, "http://127.0.0.1:9087/")
    assert "http://127.0.0.1:9093/sandbox-health" not in asked
    # What the ProxyWorker would have sent: the dev-port URL of the same path.
    assert found.headers("/healthz") == {"MF-Original-URL": "http://127.0.0.1:9087/healthz"}
    assert found.url("/", scheme="ws") == "ws://127.0.0.1:45235/"


@pytest.mark.skipif(sys.byteorder != "little", reason="the fixture is /proc/net/tcp of an x86")
def test_no_user_worker_when_nothing_answers_alike(proc: Path) -> None:
    said: list[str] = []
    found = user_worker.find_user_worker(
        4100,
        "http://127.0.0.1:9087",
        (9087, 9093),
        proc=proc,
        probe=lambda url: (200, _health("t")) if ":9087/" in url else (404, b"{}"),
        say=said.append,
    )
    assert found is None
    assert "answers /sandbox-health as http://127.0.0.1:9087 does" in said[0]
    said.clear()
    assert (
        user_worker.find_user_worker(
            4100, "http://127.0.0.1:9087", (), proc=proc, probe=lambda _url: None, say=said.append
        )
        is None
    )
    assert "does not answer" in said[0]


def test_answers_compare_without_the_clock() -> None:
    assert user_worker.same_answer((200, _health("a")), (200, _health("b")))
    assert not user_worker.same_answer((200, _health("a")), (503, _health("a")))
    assert not user_worker.same_answer((200, b"ok"), (200, b"no"))
    assert user_worker.same_answer((200, b"ok"), (200, b"ok"))
    assert not user_worker.same_answer((200, b"ok"), None)


# --- the Worker's own cost on both paths -------------------------------------------------------


def _overhead(direct: bool) -> Overhead:
    return Overhead(
        http_floor_p50_ms=[6.0, 7.0],
        http_worker_p50_ms=[7.5, 7.5],
        ws_direct_p50_ms=[4.0, 5.0],
        ws_worker_p50_ms=[5.0, 5.0],
        sandbox_p50_ms=[5.6, 6.6],
        http_floor_direct_p50_ms=[2.5, 3.0] if direct else [],
        http_worker_direct_p50_ms=[3.0, 3.25] if direct else [],
        ws_worker_direct_p50_ms=[4.1, 5.0] if direct else [],
        sandbox_direct_p50_ms=[2.1, 2.6] if direct else [],
        user_worker_port=45235 if direct else None,
        direct_note="" if direct else "the worker piece is not running",
    )


def test_overhead_computes_both_paths() -> None:
    overhead = _overhead(direct=True)
    assert overhead.http_own_ms == pytest.approx([1.5, 0.5])
    assert overhead.ws_ratio == pytest.approx([1.25, 1.0])
    assert overhead.direct_available
    assert overhead.http_own_direct_ms == pytest.approx([0.5, 0.25])
    assert overhead.ws_ratio_direct == pytest.approx([1.025, 1.0])
    assert overhead.wrangler_proxy_ms == pytest.approx([3.5, 4.0])


def test_overhead_without_the_user_worker_has_no_direct_values() -> None:
    overhead = _overhead(direct=False)
    assert not overhead.direct_available
    assert overhead.http_own_direct_ms == []
    assert overhead.ws_ratio_direct == []
    assert overhead.wrangler_proxy_ms == []
    assert overhead.http_own_ms == pytest.approx([1.5, 0.5])  # the dev-port rows are unchanged
    # The old four-list form (JSON consumers, callers) still builds.
    assert Overhead([1.0], [2.0], [3.0], [3.3]).ws_ratio_direct == []


def _rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| measure"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_the_table_labels_each_path_with_its_target_and_verdict() -> None:
    text = bench_run.overhead_table(_overhead(direct=True), 2)
    rows = _rows(text)
    proxied = "through wrangler dev's proxy"
    direct = "user worker's workerd directly"
    assert f"{direct}: 127.0.0.1:45235" in text
    assert rows[f"{proxied}: Worker's own cost = through - floor (ms)"] == [
        "1.00 (0.50-1.50)",
        "<= 1 ms",
        "True",
    ]
    assert rows[f"{proxied}: WS health RPC through Worker / direct to the gateway"][1:] == [
        "<= 1.05",
        "False",
    ]
    assert rows[f"{direct}: Worker's own cost = through - floor (ms)"] == [
        "0.38 (0.25-0.50)",
        "<= 1 ms",
        "True",
    ]
    assert rows[f"{direct}: WS health RPC through Worker / direct to the gateway"][1:] == [
        "<= 1.05",
        "True",
    ]
    assert rows[f"{direct}: floor = /sandbox-health + gateway /healthz direct (ms)"][0] == (
        "2.75 (2.50-3.00)"
    )
    assert any(label.startswith("wrangler dev's proxy itself") for label in rows)


def test_the_table_says_unavailable_rather_than_a_number() -> None:
    text = bench_run.overhead_table(_overhead(direct=False), 2)
    rows = _rows(text)
    direct = {label: cells for label, cells in rows.items() if "workerd directly" in label}
    assert len(direct) == 4
    assert all(cells[0] == "unavailable" for cells in direct.values())
    own = direct["user worker's workerd directly: Worker's own cost = through - floor (ms)"]
    assert own[1:] == ["<= 1 ms", "-"]
    assert "unavailable (the worker piece is not running)" in text


def test_a_direct_measure_that_fails_ends_the_direct_rows() -> None:
    said: list[str] = []
    runs = _DirectRuns(user_worker.UserWorker(45235, "http://127.0.0.1:9087/"), "")
    runs.measure("sandbox", lambda _u: 2.0)
    runs.measure("worker", lambda _u: 3.0)
    runs.measure("ws", lambda _u: 4.0)
    runs.end_repetition(gateway_p50_ms=0.5)
    assert runs.values == {"sandbox": [2.0], "floor": [2.5], "worker": [3.0], "ws": [4.0]}

    def fails(_u: user_worker.UserWorker) -> float:
        raise DirectUnavailable("/healthz: 0 answered, 200 failed")

    def counted(_u: user_worker.UserWorker) -> float:
        said.append("measured")
        return 4.0

    runs.measure("sandbox", lambda _u: 2.0)
    runs.measure("worker", fails)
    runs.measure("ws", counted)
    runs.end_repetition(gateway_p50_ms=0.5)
    assert runs.user is None
    assert said == []  # nothing more is measured on that port
    assert runs.values == {"sandbox": [], "floor": [], "worker": [], "ws": []}  # no partial rows
    assert runs.note == "127.0.0.1:45235 stopped answering (/healthz: 0 answered, 200 failed)"
