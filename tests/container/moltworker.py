"""Buckets in the layouts cloudflare/moltworker wrote, built from the captured fixtures.

tests/fixtures/moltworker/<flavour>/bucket/ holds the objects exactly as the reference's own sync
wrote them while the reference's own OpenClaw release ran (see its README.md). These helpers put
them into the moto S3 stand-in, add what a layout needs (s3fs directory markers, an SDK backup),
and read buckets and trees back for byte-for-byte comparisons.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from .conftest import ROOT, SECRETS

FIXTURES = ROOT / "tests" / "fixtures" / "moltworker"


def captured(flavour: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((FIXTURES / flavour / "captured.json").read_text())
    return value


def fake_secrets(flavour: str = "rclone") -> dict[str, str]:
    """The plain-text credentials the old deployment kept in R2 (recognisable fakes)."""
    return dict(captured(flavour)["fake_secrets"])


def s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=SECRETS["R2_ACCESS_KEY_ID"],
        aws_secret_access_key=SECRETS["R2_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def fixture_objects(flavour: str) -> dict[str, bytes]:
    root = FIXTURES / flavour / "bucket"
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def upload(client: Any, bucket: str, objects: dict[str, bytes]) -> None:
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)


def upload_layout(client: Any, bucket: str, flavour: str, *, s3fs_markers: bool = False) -> None:
    objects = fixture_objects(flavour)
    if s3fs_markers:
        # s3fs (the clawdbot era mounted the bucket at /data/moltbot) stores directories as
        # zero-byte "dir/" objects next to the files.
        dirs = {k.rsplit("/", 1)[0] + "/" for k in objects if "/" in k}
        for key in list(dirs):
            parts = key.rstrip("/").split("/")
            dirs |= {"/".join(parts[:i]) + "/" for i in range(1, len(parts))}
        objects = {**dict.fromkeys(sorted(dirs), b""), **objects}
    upload(client, bucket, objects)


def bucket_state(client: Any, bucket: str) -> dict[str, tuple[str, str]]:
    """key → (ETag, sha256 of the content) for every object."""
    out: dict[str, tuple[str, str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"]] = (item["ETag"], hashlib.sha256(body).hexdigest())
    return out


def legacy_state(client: Any, bucket: str) -> dict[str, tuple[str, str]]:
    """The same, without the restic repository (which the boot is meant to write)."""
    return {
        k: v for k, v in bucket_state(client, bucket).items() if not k.startswith("openclaw-edge/")
    }


def sdk_tree(tmp: Path, flavour: str = "rclone") -> Path:
    """/home/openclaw as the SDK-backup era's container had it (Dockerfile "v32-home-dir": HOME=
    /home/openclaw, /root/.openclaw and /root/clawd are symlinks into it), from a captured state."""
    objects = fixture_objects(flavour)
    root = tmp / "home-openclaw"
    for key, body in objects.items():
        prefix, _, rest = key.partition("/")
        target = {
            "openclaw": root / ".openclaw" / rest,
            "workspace": root / "clawd" / rest,
            "skills": root / "clawd" / "skills" / rest,
        }.get(prefix)
        if target is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        text = body.replace(b"/root/.openclaw", b"/home/openclaw/.openclaw")
        target.write_bytes(text)
    (root / ".cache").mkdir()
    (root / ".cache" / "node-compile").write_bytes(b"x" * 100)
    return root


def upload_sdk_backup(
    client: Any, bucket: str, tree: Path, tmp: Path, *, age_days: float = 10, archive: bool = True
) -> str:
    """An SDK backup as @cloudflare/sandbox createBackup leaves it (backups/<id>/data.sqsh +
    meta.json) plus moltworker's backup-handle.json; `age_days` past the 7-day TTL by default."""
    backup_id = str(uuid.uuid4())
    sqsh = tmp / "data.sqsh"
    subprocess.run(
        ["mksquashfs", str(tree), str(sqsh), "-noappend", "-quiet", "-no-progress"],
        check=True,
        capture_output=True,
    )
    created = datetime.now(UTC) - timedelta(days=age_days)
    meta = {
        "id": backup_id,
        "dir": "/home/openclaw",
        "name": None,
        "sizeBytes": sqsh.stat().st_size,
        "ttl": 604800,
        "createdAt": created.isoformat().replace("+00:00", "Z"),
    }
    if archive:
        client.put_object(
            Bucket=bucket, Key=f"backups/{backup_id}/data.sqsh", Body=sqsh.read_bytes()
        )
    client.put_object(Bucket=bucket, Key=f"backups/{backup_id}/meta.json", Body=json.dumps(meta))
    handle = {"id": backup_id, "dir": "/home/openclaw"}
    client.put_object(Bucket=bucket, Key="backup-handle.json", Body=json.dumps(handle))
    sqsh.unlink()
    return backup_id


def files_under(
    root: Path, *, skip: tuple[str, ...] = (".cache", ".openclaw-edge/run")
) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(rel == s or rel.startswith(s + "/") for s in skip):
            out[rel] = path.read_bytes()
    return out


def assert_no_secret(files: dict[str, bytes], secrets: dict[str, str], where: str) -> None:
    for rel, body in files.items():
        for name, value in secrets.items():
            assert value.encode() not in body, f"legacy {name} found in {where}: {rel}"


def copy_fixture_tree(flavour: str, target: Path) -> None:
    shutil.copytree(FIXTURES / flavour / "bucket", target)
