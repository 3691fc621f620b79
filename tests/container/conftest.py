"""Fixtures for the container boot code: a moto S3 server standing in for R2, temp HOMEs,
the environment the Worker would pass, and the real OpenClaw / restic binaries."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "container"
BOOT = CONTAINER / "boot.py"
OPENCLAW = ROOT / ".venv" / "openclaw" / "node_modules" / ".bin" / "openclaw"
NODE_SHIMS = ROOT / ".venv" / "node-shims"

sys.path.insert(0, str(CONTAINER))

# Recognisable fake secrets: tests grep files, argv and logs for them.
SECRETS = {
    "OPENCLAW_GATEWAY_TOKEN": "gw-token-0f3c9a7e51d24b68",
    "BACKUP_PASSWORD": "backup-pass-7d1e2b9c4a",
    "R2_ACCESS_KEY_ID": "AKIDTEST4f2a9c1e",
    "R2_SECRET_ACCESS_KEY": "r2-secret-8b3d6f0a2c9e",
    "ANTHROPIC_API_KEY": "fake-anthropic-key-5e8a1c3f7b",
    "OPENAI_API_KEY": "sk-openai-test-2b7d9e4a1f",
    "AI_GATEWAY_API_KEY": "aig-token-6c0f3a8d2e",
    "DISCORD_BOT_TOKEN": "discord-token-1a9e7c3b5d",
    "TELEGRAM_BOT_TOKEN": "123456:telegram-token-4d2f8b",
    "SLACK_BOT_TOKEN": "xoxb-slack-bot-9f1b3d5e7a",
    "SLACK_APP_TOKEN": "xapp-slack-app-3c5e7a9b1d",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    """A fresh bucket per test (the stack creates the R2 bucket; the repo is made at boot)."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=SECRETS["R2_ACCESS_KEY_ID"],
        aws_secret_access_key=SECRETS["R2_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    ).create_bucket(Bucket=name)
    return name


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def base_env(home: Path) -> dict[str, str]:
    path = f"{NODE_SHIMS}:{os.environ.get('PATH', os.defpath)}"
    return {
        "HOME": str(home),
        "PATH": path,
        "LANG": "C.UTF-8",
        "OPENCLAW_GATEWAY_TOKEN": SECRETS["OPENCLAW_GATEWAY_TOKEN"],
        "OPENCLAW_GATEWAY_BIND": "loopback",
        "OPENCLAW_BIN": str(OPENCLAW),
    }


@pytest.fixture
def backup_env(home: Path, s3_endpoint: str, bucket: str) -> dict[str, str]:
    env = base_env(home)
    env.update(
        {
            "BACKUP_PASSWORD": SECRETS["BACKUP_PASSWORD"],
            "R2_ACCESS_KEY_ID": SECRETS["R2_ACCESS_KEY_ID"],
            "R2_SECRET_ACCESS_KEY": SECRETS["R2_SECRET_ACCESS_KEY"],
            "R2_BUCKET_NAME": bucket,
            "R2_ENDPOINT": s3_endpoint,
        }
    )
    return env


@pytest.fixture(scope="session")
def openclaw_bin() -> Path:
    if not OPENCLAW.exists():
        pytest.fail("OpenClaw is not installed: run scripts/install-openclaw (make setup)")
    return OPENCLAW


@pytest.fixture(scope="session")
def restic_bin() -> str:
    found = shutil.which("restic")
    if found is None:
        pytest.fail("restic is not installed: run scripts/setup-system (make setup)")
    return found
