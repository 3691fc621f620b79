"""The whole system on one machine, in a real browser: Access login, Control UI through the Worker,
device pairing in /_admin/, a chat answered by the LLM stand-in, "backup now", and chat history
surviving a restart with the gateway's state wiped. Plus: no Access, no further than the login.

The journey's steps are module-scoped fixtures (signed in → paired → chatted), so each test can
also run alone (`pytest -k restores`) and still builds exactly the state it needs.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import websockets
from playwright.sync_api import Browser, BrowserContext, Page, expect
from websockets.sync.client import connect

from dev.access import LOGIN_PATH
from dev.stack import Stack, http_status
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUESTION = "847293 + 651824"
ANSWER = "1499117"
SLOW_MS = 180_000  # gateway work on 2 busy cores: cold start, first model call


def _control(stack: Stack, method: str, path: str) -> dict[str, object]:
    request = urllib.request.Request(
        stack.config.url("control", path),
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"Bearer {stack.secrets.gateway_token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


def _snapshot_ids(stack: Stack) -> list[str]:
    snapshots = _control(stack, "GET", "/snapshots")["snapshots"]
    assert isinstance(snapshots, list)
    return [str(item["id"]) for item in snapshots]


def _sign_in(context: BrowserContext, stack: Stack) -> Page:
    page = context.new_page()
    page.goto(stack.config.url("worker"))
    # The Worker sends the browser to the Access stand-in over plain HTTP (CF_ACCESS_LOGIN_ORIGIN),
    # so a person sees no certificate warning (these contexts do not ignore TLS errors).
    expect(page).to_have_url(re.compile(rf"^http://127\.0\.0\.1:\d+{re.escape(LOGIN_PATH)}/"))
    expect(page.locator("#sign-in")).to_be_visible()
    screenshot(page, "01-access-login")
    page.fill("#email", "e2e@example.com")
    page.click("#sign-in")
    page.wait_for_url(stack.config.url("worker") + "**")
    return page


@pytest.fixture(scope="module")
def signed_in(browser: Browser, stack: Stack) -> Iterator[tuple[BrowserContext, Page]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    try:
        yield context, _sign_in(context, stack)
    finally:
        context.close()


@dataclass(frozen=True)
class Paired:
    context: BrowserContext
    ui: Page
    admin: Page
    request_id: str
    pending_row_text: str


@pytest.fixture(scope="module")
def paired(signed_in: tuple[BrowserContext, Page], stack: Stack) -> Paired:
    context, ui = signed_in
    # A browser the gateway has never seen, arriving from the network: pairing is required.
    ui.get_by_text("Approve this browser").wait_for(timeout=SLOW_MS)
    screenshot(ui, "03-pairing-required")
    match = re.search(r"devices approve ([0-9a-f-]{8,})", ui.locator("body").inner_text())
    assert match, "the Control UI shows the pairing request id"
    request_id = match.group(1)

    admin = context.new_page()
    admin.goto(stack.config.url("worker", "/_admin/"))
    row = admin.locator("#pending tr", has_text=request_id)
    for _ in range(6):  # the page lists devices on load; refresh if the request came later
        if row.count():
            break
        admin.click("button[data-action=devices]")
        admin.wait_for_timeout(2_000)
    expect(row).to_be_visible(timeout=SLOW_MS)
    pending_row_text = row.inner_text()
    screenshot(admin, "04-admin-pending-device")
    row.get_by_role("button", name="Approve").click()
    expect(admin.locator("#devices-progress")).to_have_text(
        f"Approved {request_id}", timeout=SLOW_MS
    )
    # The Control UI connects on its own once approved.
    expect(ui.get_by_placeholder("Message Assistant")).to_be_visible(timeout=SLOW_MS)
    screenshot(ui, "05-control-ui-connected")
    screenshot(admin, "06-admin-approved")
    return Paired(context, ui, admin, request_id, pending_row_text)


@pytest.fixture(scope="module")
def chatted(paired: Paired, stack: Stack) -> str:
    """Sends the arithmetic question once; returns the text of the reply bubble."""
    box = paired.ui.get_by_placeholder("Message Assistant")
    box.fill(QUESTION)
    box.press("Enter")
    reply = paired.ui.get_by_text(ANSWER, exact=True).first
    expect(reply).to_be_visible(timeout=SLOW_MS)
    screenshot(paired.ui, "07-chat-answer")
    return reply.inner_text()


# --- tests ----------------------------------------------------------------------------------


def test_request_without_access_gets_no_further_than_the_login(
    browser: Browser, stack: Stack
) -> None:
    edge_log = stack.config.logs_dir / "edge.log"
    gateway_requests_before = edge_log.read_text().count("\n")
    context = browser.new_context()
    try:
        page = context.new_page()
        for path in ("/", "/_admin/", "/chat/main"):
            page.goto(stack.config.url("worker", path))
            expect(page).to_have_url(re.compile(rf"{re.escape(LOGIN_PATH)}/.*redirect_url="))
        screenshot(page, "00-no-access-login-only")
        api = context.request.get(stack.config.url("worker", "/api/admin/devices"))
        assert api.status == 401
    finally:
        context.close()
    assert http_status(stack.config.url("worker", "/api/status")) == 401
    forged = {"Cf-Access-Jwt-Assertion": stack.issuer.mint(aud="someone-else")}
    assert http_status(stack.config.url("worker", "/api/status"), forged) == 401

    # (Playwright's sync API owns this thread's event loop: use the sync WebSocket client.)
    with pytest.raises(websockets.InvalidStatus) as refused:
        connect(stack.config.url("worker").replace("http", "ws"), open_timeout=30).close()
    assert refused.value.response.status_code == 401
    # Nothing reached the gateway: the network stand-in in front of it saw no request.
    assert edge_log.read_text().count("\n") == gateway_requests_before


def test_control_ui_loads_through_the_worker(
    signed_in: tuple[BrowserContext, Page], stack: Stack
) -> None:
    _, page = signed_in
    assert page.url.startswith(stack.config.url("worker"))
    expect(page).to_have_title(re.compile("OpenClaw"))
    expect(page.locator("openclaw-app")).to_be_attached()
    cookies = {c["name"] for c in page.context.cookies(stack.config.url("worker"))}
    assert "CF_Authorization" in cookies
    screenshot(page, "02-control-ui-through-worker")


def test_pairing_request_appears_in_admin_and_approval_connects(paired: Paired) -> None:
    assert "openclaw-control-ui" in paired.pending_row_text
    assert "203.0.113.10" in paired.pending_row_text, "seen as a remote browser"
    expect(paired.ui.get_by_text("Approve this browser")).to_have_count(0)
    paired.admin.click("button[data-action=devices]")
    expect(paired.admin.locator("#pending tr", has_text=paired.request_id)).to_have_count(0)


def test_chat_answer_comes_from_the_llm_stand_in(chatted: str, stack: Stack) -> None:
    assert chatted == ANSWER
    calls = [
        json.loads(line)
        for line in (stack.config.logs_dir / "llm-requests.jsonl").read_text().splitlines()
    ]
    assert any(QUESTION in call["user"] and call["answer"] == ANSWER for call in calls)


def test_backup_now_creates_a_snapshot(paired: Paired, chatted: str, stack: Stack) -> None:
    before = _snapshot_ids(stack)
    admin = paired.admin
    admin.click("button[data-action=backup-now]")
    progress = admin.locator("#backup-progress")
    expect(progress).to_have_text(re.compile(r"^Snapshot [0-9a-f]+"), timeout=SLOW_MS)
    snapshot_id = progress.inner_text().split()[1]
    # The recovery point names the newest snapshot: what a stop can lose is what came after it.
    expect(admin.locator("#recovery-point")).to_contain_text(
        re.compile(r"^Recovery point: \S+ \(manual\)"), timeout=SLOW_MS
    )
    screenshot(admin, "08-admin-backup-now")
    after = _snapshot_ids(stack)
    assert len(after) == len(before) + 1
    assert any(full.startswith(snapshot_id) for full in after)


def test_restart_with_wiped_gateway_state_restores_chat_history(
    paired: Paired, chatted: str, stack: Stack
) -> None:
    stack.stop()  # the boot code takes its final snapshot on SIGTERM
    stack.wipe_gateway_state()
    assert not any(stack.config.home.iterdir()), "gateway state is gone"
    stack.start()
    restore = _control(stack, "GET", "/status")["restore"]
    assert isinstance(restore, dict)
    assert restore["state"] == "ok", restore

    ui = paired.ui
    ui.reload()
    # Same browser, same device: its pairing came back with the state, so no approval again.
    expect(ui.get_by_placeholder("Message Assistant")).to_be_visible(timeout=SLOW_MS)
    expect(ui.get_by_text(QUESTION).first).to_be_visible(timeout=SLOW_MS)
    expect(ui.get_by_text(ANSWER, exact=True).first).to_be_visible(timeout=SLOW_MS)
    screenshot(ui, "09-history-after-restore")


def test_no_secret_reaches_any_log(stack: Stack) -> None:
    """Whatever ran before (the whole journey in a full run), no piece logged a secret value."""
    secrets = {
        "gateway token": stack.secrets.gateway_token,
        "backup password": stack.secrets.backup_password,
    }
    logs = sorted(stack.config.logs_dir.glob("*"))
    assert logs
    for log in logs:
        text = log.read_text(errors="replace")
        for name, value in secrets.items():
            assert value not in text, f"the {name} appears in {log.name}"
