"""S3 stand-in: the disk mirror keeps a moto bucket across restarts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from dev import s3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_sync_copies_new_changed_and_removed_objects(endpoint: str, tmp_path: Path) -> None:
    client = s3.s3_client(endpoint)
    mirror = s3.BucketMirror(client, "bkt", tmp_path)
    mirror.ensure_bucket()
    mirror.ensure_bucket()  # idempotent
    assert mirror.load() == 0
    client.put_object(Bucket="bkt", Key="repo/data/ab/1", Body=b"one")
    client.put_object(Bucket="bkt", Key="repo/config", Body=b"cfg")
    assert mirror.sync() == (2, 0)
    assert (tmp_path / "bkt/repo/data/ab/1").read_bytes() == b"one"
    assert mirror.sync() == (0, 0), "unchanged bucket copies nothing"
    client.put_object(Bucket="bkt", Key="repo/config", Body=b"cfg2")
    client.delete_object(Bucket="bkt", Key="repo/data/ab/1")
    assert mirror.sync() == (1, 1)
    assert not (tmp_path / "bkt/repo/data/ab/1").exists()
    assert (tmp_path / "bkt/repo/config").read_bytes() == b"cfg2"


def test_load_restores_a_fresh_server(endpoint: str, tmp_path: Path) -> None:
    (tmp_path / "bkt/repo/keys").mkdir(parents=True)
    (tmp_path / "bkt/repo/keys/k1").write_bytes(b"key")
    (tmp_path / "bkt/repo/config").write_bytes(b"cfg")
    client = s3.s3_client(endpoint)
    mirror = s3.BucketMirror(client, "bkt", tmp_path)
    mirror.ensure_bucket()
    assert mirror.load() == 2
    assert client.get_object(Bucket="bkt", Key="repo/keys/k1")["Body"].read() == b"key"
    assert mirror.sync() == (0, 0), "index written by load matches the bucket"
