#!/usr/bin/env python3
"""Counts snapshots an idle gateway causes: `boot.py run` with a 5 s loop against a local S3.

    .venv/bin/python container/bench/idle_snapshots.py [--idle-seconds 90]

Prints how many snapshots were taken until 30 s after /readyz, and during the idle window after
that. Needs the OpenClaw from scripts/install-openclaw, restic and moto.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
KEY_ID, KEY_SECRET = "idle", "idle-secret"  # throwaway credentials of the local S3 server
OPENCLAW = ROOT / ".venv" / "openclaw" / "node_modules" / ".bin" / "openclaw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=int, default=90)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    s3_port, gateway_port = free_port(), free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{s3_port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=KEY_SECRET,
        region_name="us-east-1",
    ).create_bucket(Bucket="idle-check")
    with tempfile.TemporaryDirectory() as home:
        env = {
            "HOME": home,
            "PATH": f"{ROOT / '.venv' / 'node-shims'}:{os.environ['PATH']}",
            "OPENCLAW_BIN": str(OPENCLAW),
            "OPENCLAW_GATEWAY_BIND": "loopback",
            "OPENCLAW_GATEWAY_PORT": str(gateway_port),
            "OPENCLAW_EDGE_CONTROL_PORT": "0",
            "OPENCLAW_GATEWAY_TOKEN": "idle-gateway-token",
            "BACKUP_PASSWORD": "idle-password",
            "R2_ACCESS_KEY_ID": KEY_ID,
            "R2_SECRET_ACCESS_KEY": KEY_SECRET,
            "R2_BUCKET_NAME": "idle-check",
            "R2_ENDPOINT": endpoint,
            "BACKUP_INTERVAL_SECONDS": "5",
        }
        log_path = Path(home) / "boot.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "container" / "boot.py"), "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started = time.monotonic()
            while True:
                try:
                    url = f"http://127.0.0.1:{gateway_port}/readyz"
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    time.sleep(1)
            print(f"gateway ready after {time.monotonic() - started:.0f} s")
            time.sleep(30)
            settled = log_path.read_text().count("(interval)")
            time.sleep(args.idle_seconds)
            idle = log_path.read_text().count("(interval)") - settled
            proc.terminate()
            proc.wait()
    server.stop()
    print(f"snapshots until ready+30 s: {settled}; during {args.idle_seconds} s idle: {idle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
