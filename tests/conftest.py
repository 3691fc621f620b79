"""Shared pytest setup: the repository root on sys.path so `infra`, `container`, `dev` import,
and a current asyncio event loop before every test."""

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _a_current_event_loop() -> None:
    """The Pulumi SDK's mocks (`set_mocks`, `@pulumi.runtime.test`) schedule on
    `asyncio.get_event_loop()`, which raises once any earlier test's `asyncio.run` has left the
    thread without a loop (it ends with `set_event_loop(None)`): give them one, whatever ran
    before (the order of the whole run is not theirs to know)."""
    try:
        if asyncio.get_event_loop_policy().get_event_loop().is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
