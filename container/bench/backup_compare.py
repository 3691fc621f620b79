#!/usr/bin/env python3
"""Measures restic snapshots (this project) against mirror-sync (the reference) on S3.

Counts every S3 request and byte the backup tools send to a local S3 server (moto, wrapped in
a counting WSGI middleware) for: first backup, an unchanged cycle, a 1%-changed cycle of 1,000
files, and a cycle that runs after a failed restore (local state empty). Then checks how many
of the 1,000 original files can still be recovered from the bucket.

    .venv/bin/python container/bench/backup_compare.py [--files 1000] [--json out.json]

Needs restic and rclone (Debian packages) and moto (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openclaw_boot.backup import Backup
from openclaw_boot.settings import load
from openclaw_boot.status import Status

KEY_ID, SECRET = "AKIDBENCH", "bench-secret-key"
PASSWORD = "bench-password"  # noqa: S105 - throwaway local repository
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Traffic:
    requests: Counter[str] = field(default_factory=Counter)
    bytes_up: int = 0
    bytes_down: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> dict[str, Any]:
        with self.lock:
            result = {
                "requests": sum(self.requests.values()),
                "by_method": dict(sorted(self.requests.items())),
                "bytes_up": self.bytes_up,
                "bytes_down": self.bytes_down,
            }
            self.requests.clear()
            self.bytes_up = self.bytes_down = 0
        return result


def counting(app: WsgiApp, traffic: Traffic) -> WsgiApp:
    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        with traffic.lock:
            traffic.requests[environ["REQUEST_METHOD"]] += 1
            traffic.bytes_up += length
        for chunk in app(environ, start_response):
            with traffic.lock:
                traffic.bytes_down += len(chunk)
            yield chunk

    return middleware


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_s3(traffic: Traffic) -> str:
    port = free_port()
    app = counting(DomainDispatcherApplication(create_backend_app), traffic)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}"


def make_tree(root: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not crypto
    for i in range(files):
        path = root / f"dir{i % 20:02d}" / f"file{i:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(2_000, 16_000)))


def change_percent(root: Path, files: int, percent: float, seed: int = 11) -> int:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not crypto
    count = max(1, int(files * percent / 100))
    for i in rng.sample(range(files), count):
        path = root / f"dir{i % 20:02d}" / f"file{i:04d}.json"
        path.write_bytes(rng.randbytes(path.stat().st_size))
    return count


def tree_digest(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


class Mirror:
    """The reference's approach: make the bucket a mirror of the local directory."""

    def __init__(self, endpoint: str, bucket: str, home: Path, ignore_times: bool) -> None:
        self.remote = f"bench:{bucket}/mirror"
        self.ignore_times = ignore_times
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": KEY_ID,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": SECRET,
            "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
        }

    def backup(self, source: Path) -> None:
        args = ["rclone", "sync", str(source), self.remote, "--checksum", "--transfers", "4"]
        if self.ignore_times:
            args.append("--ignore-times")  # rsync --no-times on s3fs rewrites every file
        subprocess.run(args, env=self.env, check=True, capture_output=True)

    def restore(self, target: Path) -> None:
        subprocess.run(
            ["rclone", "copy", self.remote, str(target)],
            env=self.env,
            check=True,
            capture_output=True,
        )


class Snapshots:
    """This project: openclaw_boot.backup (restic underneath) with its change detection."""

    def __init__(self, endpoint: str, bucket: str, home: Path, skip_unchanged: bool) -> None:
        self.home = home
        self.skip_unchanged = skip_unchanged
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "OPENCLAW_GATEWAY_TOKEN": "unused",
            "BACKUP_PASSWORD": PASSWORD,
            "R2_ACCESS_KEY_ID": KEY_ID,
            "R2_SECRET_ACCESS_KEY": SECRET,
            "R2_BUCKET_NAME": bucket,
            "R2_ENDPOINT": endpoint,
        }
        settings = load(env)
        self.backup_impl = Backup(settings, Status(settings.run_dir / "status.json", fresh=True))
        self.first_id: str | None = None

    def init(self) -> None:
        self.backup_impl.ensure_repository()

    def backup(self, _source: Path) -> None:
        result = self.backup_impl.snapshot(force=not self.skip_unchanged, reason="bench")
        if not result.ok:
            raise RuntimeError(result)
        self.first_id = self.first_id or result.snapshot_id

    def restore_first(self) -> None:
        assert self.first_id
        self.backup_impl.restore(self.first_id)


def run(files: int) -> dict[str, Any]:
    traffic = Traffic()
    endpoint = start_s3(traffic)
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    results: dict[str, Any] = {"files": files, "tools": {}}
    with tempfile.TemporaryDirectory() as tmp:
        variants: dict[str, Callable[[str, Path], Any]] = {
            "restic snapshots (openclaw-edge boot code)": lambda bucket, home: Snapshots(
                endpoint, bucket, home, skip_unchanged=True
            ),
            "restic backup, no change detection": lambda bucket, home: Snapshots(
                endpoint, bucket, home, skip_unchanged=False
            ),
            "mirror-sync (rclone sync --checksum)": lambda bucket, home: Mirror(
                endpoint, bucket, home, ignore_times=False
            ),
            "mirror-sync, reference-like (rewrite all, rsync --no-times)": lambda b, h: Mirror(
                endpoint, b, h, ignore_times=True
            ),
        }
        for index, (name, factory) in enumerate(variants.items()):
            bucket = f"bench-{index}"
            s3.create_bucket(Bucket=bucket)
            home = Path(tmp) / f"home{index}"
            source = home / ".openclaw" / "workspace"
            source.mkdir(parents=True)
            make_tree(source, files)
            original = tree_digest(source)
            tool = factory(bucket, home)
            if isinstance(tool, Snapshots):
                tool.init()
            traffic.reset()
            rows: dict[str, Any] = {}
            tool.backup(source)
            rows["first backup"] = traffic.reset()
            tool.backup(source)
            rows["unchanged"] = traffic.reset()
            changed = change_percent(source, files, 1.0)
            tool.backup(source)
            rows[f"1% changed ({changed} files)"] = traffic.reset()
            after_change = tree_digest(source)

            # The container restarts, the restore fails, the state is empty; the next backup
            # cycle runs anyway (the reference's cron did exactly this).
            shutil.rmtree(source)
            source.mkdir(parents=True)
            (source.parent / "openclaw.json").write_text("{}\n")
            if isinstance(tool, Snapshots):
                tool.backup_impl.status.update("backup", protected=True)
            tool.backup(source)
            rows["cycle after failed restore"] = traffic.reset()

            # What is still recoverable?
            shutil.rmtree(home / ".openclaw")
            if isinstance(tool, Snapshots):
                tool.backup_impl.restore("latest", boot=True)
                recovered = tree_digest(source) if source.exists() else {}
                tool.restore_first()
                first = tree_digest(source)
                recoverable = {
                    "latest good snapshot": sum(
                        after_change.get(k) == v for k, v in recovered.items()
                    ),
                    "first snapshot": sum(original.get(k) == v for k, v in first.items()),
                }
            else:
                source.mkdir(parents=True)
                tool.restore(source)
                recovered = tree_digest(source)
                recoverable = {
                    "bucket mirror": sum(after_change.get(k) == v for k, v in recovered.items())
                }
            rows["recoverable files after failed restore"] = recoverable
            results["tools"][name] = rows
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"1,000-file state ({results['files']} files, 2-16 KB each); S3 requests / bytes up / "
        "bytes down per cycle",
        "",
        "| tool | cycle | requests | by method | bytes up | bytes down |",
        "|---|---|---:|---|---:|---:|",
    ]
    for name, rows in results["tools"].items():
        for cycle, row in rows.items():
            if "requests" not in row:
                continue
            methods = ", ".join(f"{m} {n}" for m, n in row["by_method"].items())
            lines.append(
                f"| {name} | {cycle} | {row['requests']} | {methods} | "
                f"{row['bytes_up']:,} | {row['bytes_down']:,} |"
            )
    lines += [
        "",
        "| tool | files recoverable after a failed restore + one backup cycle |",
        "|---|---|",
    ]
    for name, rows in results["tools"].items():
        rec = rows["recoverable files after failed restore"]
        lines.append(f"| {name} | {', '.join(f'{k}: {v}' for k, v in rec.items())} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args()
    for tool in ("restic", "rclone"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install {tool}", file=sys.stderr)
            return 1
    results = run(args.files)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
