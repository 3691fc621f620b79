"""The boot code's small S3 client (openclaw_boot/r2.py): SigV4 as AWS specifies it, and list /
head / get / download / delete against the moto stand-in, without credentials in any error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from openclaw_boot.r2 import EMPTY_SHA256, R2Client, R2Error, sigv4_headers

from .conftest import ROOT, SECRETS
from .moltworker import s3


def test_signature_matches_the_aws_documented_example() -> None:
    # AWS S3 API reference, "Signature Calculations for the Authorization Header (AWS Signature
    # Version 4)", example "GET Bucket (List Objects)".
    headers = sigv4_headers(
        "GET",
        "examplebucket.s3.amazonaws.com",
        "/",
        {"max-keys": "2", "prefix": "J"},
        EMPTY_SHA256,
        "20130524T000000Z",
        "us-east-1",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    )


def test_operations_against_the_s3_stand_in(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    raw = s3(s3_endpoint)
    keys = [f"openclaw/agents/main/sessions/s {i:04d}+ü.jsonl" for i in range(1005)]
    for i, key in enumerate(keys):
        raw.put_object(Bucket=bucket, Key=key, Body=f"line {i}\n".encode())
    client = R2Client(
        s3_endpoint, bucket, SECRETS["R2_ACCESS_KEY_ID"], SECRETS["R2_SECRET_ACCESS_KEY"]
    )

    listed = list(client.list("openclaw/"))  # more than one page of 1000
    assert [o.key for o in listed] == sorted(keys)
    assert listed[3].size == len(b"line 3\n")
    assert listed[3].etag == hashlib.md5(b"line 3\n").hexdigest()  # noqa: S324 - S3's ETag
    assert listed[3].last_modified.endswith("Z")
    assert client.head(keys[7]) is not None
    assert client.head("no/such/key") is None
    assert client.get(keys[7]) == b"line 7\n"
    size, md5 = client.download(keys[9], tmp_path / "out")
    assert (size, md5) == (7, hashlib.md5(b"line 9\n").hexdigest())  # noqa: S324
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o600
    client.delete(keys[9])
    assert client.head(keys[9]) is None
    with pytest.raises(R2Error) as missing:
        client.get("no/such/key")
    assert missing.value.status == 404
    for value in (SECRETS["R2_ACCESS_KEY_ID"], SECRETS["R2_SECRET_ACCESS_KEY"]):
        assert value not in str(missing.value)
    with pytest.raises(R2Error, match="failed"):
        list(R2Client("http://127.0.0.1:9", bucket, "k", "s", timeout=2).list())


def test_the_sandbox_base_image_ships_unsquashfs() -> None:
    """The SDK-backup import needs unsquashfs; our image is FROM cloudflare/sandbox, whose
    Dockerfile (shipped in the npm package of the same version) installs squashfs-tools."""
    dockerfile = (ROOT / "worker/node_modules/@cloudflare/sandbox/Dockerfile").read_text()
    assert "squashfs-tools" in dockerfile
    assert "FROM docker.io/cloudflare/sandbox:" in (ROOT / "container/Dockerfile").read_text()
