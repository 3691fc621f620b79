"""S3 stand-in for R2: a moto server whose buckets survive restarts through a disk mirror.

moto keeps objects in memory only, so this process loads the mirror at start, copies new and
removed objects to it every few seconds, and once more on SIGTERM. Run alone:
`python -m dev.s3 --port 8792 --bucket openclaw-edge-dev --mirror .dev-state/r2`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

# moto accepts any credentials; these only keep botocore from looking for real ones.
DEV_ACCESS_KEY_ID = "dev-r2-access-key"
DEV_SECRET_ACCESS_KEY = "dev-r2-secret-key"  # noqa: S105 - a fixed local placeholder, not a secret
INDEX_FILE = ".index.json"


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=DEV_ACCESS_KEY_ID,
        aws_secret_access_key=DEV_SECRET_ACCESS_KEY,
    )


class BucketMirror:
    """Keeps `<mirror>/<bucket>/<key>` equal to the bucket; `.index.json` holds the ETags."""

    def __init__(self, client: Any, bucket: str, mirror: Path) -> None:
        self.client = client
        self.bucket = bucket
        self.root = mirror / bucket
        self.index_path = mirror / INDEX_FILE
        self._lock = threading.Lock()

    def _index(self) -> dict[str, str]:
        if not self.index_path.exists():
            return {}
        data = json.loads(self.index_path.read_text())
        return {str(k): str(v) for k, v in data.get(self.bucket, {}).items()}

    def _write_index(self, index: dict[str, str]) -> None:
        data = json.loads(self.index_path.read_text()) if self.index_path.exists() else {}
        data[self.bucket] = index
        tmp = self.index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True))
        tmp.replace(self.index_path)

    def ensure_bucket(self) -> None:
        existing = {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            self.client.create_bucket(Bucket=self.bucket)

    def load(self) -> int:
        """Upload every mirrored object (at start, into an empty moto). Returns the count."""
        self.root.mkdir(parents=True, exist_ok=True)
        loaded: dict[str, str] = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                key = path.relative_to(self.root).as_posix()
                reply = self.client.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
                loaded[key] = str(reply["ETag"])
        with self._lock:
            self._write_index(loaded)
        return len(loaded)

    def sync(self) -> tuple[int, int]:
        """Copy new/changed objects to disk and drop removed ones. Returns (copied, removed)."""
        with self._lock:
            index = self._index()
            live: dict[str, str] = {}
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    live[str(item["Key"])] = str(item["ETag"])
            copied = removed = 0
            for key, etag in live.items():
                if index.get(key) == etag:
                    continue
                target = self.root / key
                target.parent.mkdir(parents=True, exist_ok=True)
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                part = target.with_name(target.name + ".part")
                part.write_bytes(body)
                os.replace(part, target)
                copied += 1
            for key in set(index) - set(live):
                (self.root / key).unlink(missing_ok=True)
                removed += 1
            if copied or removed:
                self._write_index(live)
            return copied, removed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument("--sync-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    endpoint = f"http://{args.host}:{args.port}"
    mirror = BucketMirror(s3_client(endpoint), args.bucket, args.mirror)
    mirror.ensure_bucket()
    print(f"s3: loaded {mirror.load()} objects from {args.mirror}", flush=True)
    print(f"s3: listening on {endpoint} (bucket {args.bucket})", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(args.sync_seconds):
        try:
            copied, removed = mirror.sync()
        except Exception as error:  # keep serving; the next pass retries
            print(f"s3: mirror sync failed: {error}", flush=True)
            continue
        if copied or removed:
            print(f"s3: mirrored {copied} new/changed, {removed} removed", flush=True)
    copied, removed = mirror.sync()
    print(f"s3: final mirror sync: {copied} new/changed, {removed} removed; stopping", flush=True)
    server.stop()


if __name__ == "__main__":
    main()
