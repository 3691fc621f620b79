"""Moving in from moltworker, in a real browser: a browser paired with the reference's OpenClaw
2026.2.3 (tests/fixtures/moltworker/rclone: its localStorage, and the bucket that deployment's sync
left) opens the new stack after the cut-over and is not asked to pair again; its chat history is
there; /_admin/ shows the import and, after explicit confirmation, deletes the legacy objects.

The cut-over keeps the hostname, so the user's browser keeps its storage for that origin; here the
Worker's local origin stands for that hostname: the captured storage is put into it before the
Control UI's scripts run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dev.s3 import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from dev.stack import Stack
from tests.container.moltworker import FIXTURES, captured, fixture_objects
from tests.e2e.conftest import screenshot
from tests.e2e.test_local_stack import SLOW_MS, _sign_in
from tests.e2e_move_in.conftest import BUCKET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUESTION = captured("rclone")["question"]
ANSWER = captured("rclone")["answer"]


def old_browser_storage(stack: Stack) -> dict[str, str]:
    """The paired browser's localStorage, its gateway URL now the same host's WebSocket."""
    storage: dict[str, str] = json.loads(
        (FIXTURES / "rclone" / "browser-localstorage.json").read_text()
    )
    settings = json.loads(storage["openclaw.control.settings.v1"])
    settings["gatewayUrl"] = stack.config.url("worker").rstrip("/").replace("http", "ws", 1)
    storage["openclaw.control.settings.v1"] = json.dumps(settings)
    return storage


def device_id() -> str:
    storage = json.loads((FIXTURES / "rclone" / "browser-localstorage.json").read_text())
    return str(json.loads(storage["openclaw-device-identity-v1"])["deviceId"])


def bucket_objects(stack: Stack) -> dict[str, str]:
    client = boto3.client(
        "s3",
        endpoint_url=stack.config.url("s3").rstrip("/"),
        region_name="us-east-1",
        aws_access_key_id=DEV_ACCESS_KEY_ID,
        aws_secret_access_key=DEV_SECRET_ACCESS_KEY,
    )
    out: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            out[item["Key"]] = hashlib.sha256(body).hexdigest()
    return out


@pytest.fixture(scope="module")
def moved_in(browser: Browser, legacy_stack: Stack) -> Iterator[tuple[BrowserContext, Page]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    origin = legacy_stack.config.url("worker").rstrip("/")
    storage = json.dumps(old_browser_storage(legacy_stack))
    context.add_init_script(
        f"""(() => {{
  if (location.origin !== {json.dumps(origin)}) return;
  const saved = {storage};
  for (const [key, value] of Object.entries(saved)) {{
    if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
  }}
}})();"""
    )
    try:
        yield context, _sign_in(context, legacy_stack)
    finally:
        context.close()


def test_browser_paired_before_the_import_connects_without_pairing(
    moved_in: tuple[BrowserContext, Page], legacy_stack: Stack
) -> None:
    context, ui = moved_in
    expect(ui.get_by_placeholder("Message Assistant")).to_be_visible(timeout=SLOW_MS)
    expect(ui.get_by_text("Approve this browser")).to_have_count(0)
    stored = ui.evaluate("() => JSON.parse(localStorage.getItem('openclaw-device-identity-v1'))")
    assert stored["deviceId"] == device_id(), "the old device identity is the one in use"
    devices = context.request.get(legacy_stack.config.url("worker", "/api/admin/devices")).json()
    assert device_id() in {d.get("deviceId") for d in devices["paired"]}
    assert all(p.get("deviceId") != device_id() for p in devices["pending"]), devices["pending"]
    screenshot(ui, "move-in-01-connected-without-pairing")


def test_imported_chat_history_is_visible(
    moved_in: tuple[BrowserContext, Page], legacy_stack: Stack
) -> None:
    _, ui = moved_in
    expect(ui.get_by_placeholder("Message Assistant")).to_be_visible(timeout=SLOW_MS)
    expect(ui.get_by_text(QUESTION).first).to_be_visible(timeout=SLOW_MS)
    expect(ui.get_by_text(ANSWER, exact=True).first).to_be_visible(timeout=SLOW_MS)
    screenshot(ui, "move-in-02-history")


def test_status_reports_the_import_and_the_source_is_unchanged(
    moved_in: tuple[BrowserContext, Page], legacy_stack: Stack
) -> None:
    context, _ = moved_in
    status: dict[str, Any] = context.request.get(
        legacy_stack.config.url("worker", "/api/status")
    ).json()
    imported = status["imported"]
    assert imported["state"] == "imported"
    assert imported["layout"] == "moltworker-rclone"
    assert imported["files"] > 0
    assert imported["bytes"] > 0
    assert imported["last_sync"]
    assert imported["verified"] is True
    objects = bucket_objects(legacy_stack)
    for key, body in fixture_objects("rclone").items():
        assert objects.get(key) == hashlib.sha256(body).hexdigest(), f"{key} changed"


def test_admin_shows_the_import_and_deletes_legacy_objects_only_when_confirmed(
    moved_in: tuple[BrowserContext, Page], legacy_stack: Stack
) -> None:
    context, _ = moved_in
    admin = context.new_page()
    admin.goto(legacy_stack.config.url("worker", "/_admin/"))
    section = admin.locator("#import")
    expect(section).to_be_visible(timeout=SLOW_MS)
    expect(admin.locator("#import-summary")).to_have_text(
        re.compile(r"^Imported \d+ files .* from moltworker-rclone on ")
    )
    expect(section).to_contain_text("verified")
    expect(section).to_contain_text("Doctor: done")
    confirm_box = admin.locator("#import-delete-confirm")
    button = admin.locator("#import-delete-button")
    expect(confirm_box).not_to_be_checked()
    expect(button).to_be_disabled()
    screenshot(admin, "move-in-03-admin-import")

    legacy = set(fixture_objects("rclone"))
    assert legacy <= set(bucket_objects(legacy_stack)), "kept by default"
    confirm_box.check()
    expect(button).to_be_enabled()
    admin.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(admin.locator("#import-progress")).to_have_text(
        f"Deleted {len(legacy)} object(s)", timeout=SLOW_MS
    )
    left = bucket_objects(legacy_stack)
    assert not legacy & set(left), "the plain-text legacy objects are gone"
    assert any(key.startswith("openclaw-edge/snapshots/") for key in left), "restic is untouched"
    expect(admin.locator("#import-delete")).to_be_hidden()
    screenshot(admin, "move-in-04-admin-deleted")
