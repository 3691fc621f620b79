"""Package fixtures for the e2e tests: the local stack and a headless Debian Chromium, both closed
when the package ends (the Playwright sync loop must not outlive it: later tests use asyncio).

The stack is the same `dev.stack.Stack` that `make dev DEV_FLAGS=--channels` runs (the
Discord and Telegram fakes included), with every port moved up by 100 (Worker on 8887, gateway
on 18889, ...; OPENCLAW_EDGE_E2E_PORT_OFFSET changes the 100) so a running `make dev` does not
get in the way, and its state in `.dev-state/e2e` (wiped at the start). Screenshots go to
`test-artifacts/`.
Set OPENCLAW_EDGE_E2E=skip to skip these tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from dev.stack import ROOT, PieceFailed, Ports, Stack, StackConfig

E2E_STATE = ROOT / ".dev-state" / "e2e"
# OPENCLAW_EDGE_E2E_PORT_OFFSET moves the e2e stack elsewhere (two checkouts testing at once).
E2E_PORT_OFFSET = int(os.environ.get("OPENCLAW_EDGE_E2E_PORT_OFFSET", "100"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("OPENCLAW_EDGE_CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium as root on a machine without a network (see docs/interfaces.md, dev stack).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def skip_if_disabled() -> None:
    """OPENCLAW_EDGE_E2E=skip skips the e2e packages that start a local stack."""
    if os.environ.get("OPENCLAW_EDGE_E2E", "").lower() == "skip":
        pytest.skip("OPENCLAW_EDGE_E2E=skip")


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    skip_if_disabled()
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup-system (make setup)")
    shutil.rmtree(E2E_STATE, ignore_errors=True)
    ARTIFACTS.mkdir(exist_ok=True)
    config = StackConfig(
        state_dir=E2E_STATE,
        ports=Ports().shifted(E2E_PORT_OFFSET),
        llm="standin",
        # Only "backup now" and the shutdown snapshot write snapshots, so counts are exact.
        backup_interval_seconds=3600,
        # Discord and Telegram against their fakes (tests/e2e/test_channels.py).
        channels=True,
    )
    with running_stack(config, "e2e stack") as local:
        yield local


@contextmanager
def running_stack(config: StackConfig, label: str) -> Iterator[Stack]:
    """A started local stack, stopped on exit; a piece that fails to start fails the test."""
    local = Stack(config, progress=lambda line: print(f"[{label}] {line}", flush=True))
    try:
        local.start()
    except PieceFailed as error:
        pytest.fail(f"the local stack did not start: {error}")
    try:
        yield local
    finally:
        local.stop()


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package")
def browser(stack: Stack) -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
