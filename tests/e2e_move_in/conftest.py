"""Fixtures for the move-in end-to-end test: a local stack whose R2 stand-in starts with the
bucket a running moltworker left (tests/fixtures/moltworker/rclone), and a headless Chromium.

Its own package, so its stack starts after the tests/e2e stack has stopped; ports are those of
tests/e2e moved up by another 40 (OPENCLAW_EDGE_E2E_PORT_OFFSET + 40), state in
.dev-state/e2e-move-in (wiped at the start). OPENCLAW_EDGE_E2E=skip skips it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from dev.stack import ROOT, Ports, Stack, StackConfig
from tests.container.moltworker import fixture_objects
from tests.e2e.conftest import (
    ARTIFACTS,
    CHROMIUM,
    E2E_PORT_OFFSET,
    headless_chromium,
    running_stack,
)

STATE = ROOT / ".dev-state" / "e2e-move-in"
BUCKET = "moltbot-data"  # the reference's default bucket name (src/config.ts)


@pytest.fixture(scope="package")
def legacy_stack() -> Iterator[Stack]:
    if os.environ.get("OPENCLAW_EDGE_E2E", "").lower() == "skip":
        pytest.skip("OPENCLAW_EDGE_E2E=skip")
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup-system (make setup)")
    shutil.rmtree(STATE, ignore_errors=True)
    ARTIFACTS.mkdir(exist_ok=True)
    # The S3 stand-in loads its disk mirror at start: the bucket begins as moltworker left it.
    for key, body in fixture_objects("rclone").items():
        target = STATE / "r2" / BUCKET / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    config = StackConfig(
        state_dir=STATE,
        ports=Ports().shifted(E2E_PORT_OFFSET + 40),
        llm="standin",
        bucket=BUCKET,
        backup_interval_seconds=3600,
    )
    with running_stack(config, "move-in stack") as local:
        yield local


@pytest.fixture(scope="package")
def browser(legacy_stack: Stack) -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium
