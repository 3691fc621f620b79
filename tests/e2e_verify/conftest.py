"""The local stack for the `ops.verify` proof: the same `dev.stack.Stack` as `make dev`, in its own
state dir (`.dev-state/e2e-verify`, wiped first) with every port moved by
OPENCLAW_EDGE_E2E_PORT_OFFSET + 40 (default 140), so it never meets the browser e2e stack. Its
tests break pieces of it, so it is not shared. OPENCLAW_EDGE_E2E=skip skips these tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from dev.stack import ROOT, PieceFailed, Ports, Stack, StackConfig

STATE = ROOT / ".dev-state" / "e2e-verify"
PORT_OFFSET = int(os.environ.get("OPENCLAW_EDGE_E2E_PORT_OFFSET", "100")) + 40


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    if os.environ.get("OPENCLAW_EDGE_E2E", "").lower() == "skip":
        pytest.skip("OPENCLAW_EDGE_E2E=skip")
    shutil.rmtree(STATE, ignore_errors=True)
    config = StackConfig(
        state_dir=STATE,
        ports=Ports().shifted(PORT_OFFSET),
        llm="standin",
        backup_interval_seconds=3600,
    )
    local = Stack(config, progress=lambda line: print(f"[verify stack] {line}", flush=True))
    try:
        local.start()
    except PieceFailed as error:
        pytest.fail(f"the local stack did not start: {error}")
    try:
        yield local
    finally:
        local.stop()
