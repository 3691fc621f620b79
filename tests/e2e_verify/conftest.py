"""The local stack for the `ops.verify` proof: the same `dev.stack.Stack` as `make dev`, in its own
state dir (`.dev-state/e2e-verify`, wiped first) with every port moved by
OPENCLAW_EDGE_E2E_PORT_OFFSET + 40 (default 140), so it never meets the browser e2e stack. Its
tests break pieces of it, so it is not shared. OPENCLAW_EDGE_E2E=skip skips these tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from dev.stack import ROOT, Ports, Stack, StackConfig
from tests.e2e.conftest import E2E_PORT_OFFSET, running_stack, skip_if_disabled

STATE = ROOT / ".dev-state" / "e2e-verify"
PORT_OFFSET = E2E_PORT_OFFSET + 40


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    skip_if_disabled()
    shutil.rmtree(STATE, ignore_errors=True)
    config = StackConfig(
        state_dir=STATE,
        ports=Ports().shifted(PORT_OFFSET),
        llm="standin",
        backup_interval_seconds=3600,
        # Discord and Telegram against their fakes, so the channels check applies locally too.
        channels=True,
    )
    with running_stack(config, "verify stack") as local:
        yield local
