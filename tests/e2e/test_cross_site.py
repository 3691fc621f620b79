"""No other site can drive the admin API, in a real Chromium against the whole local stack.

While the user is signed in, pages of other sites auto-submit forms (url-encoded, multipart and
`text/plain` bodies spelling JSON) and open a WebSocket to the Worker:
- from another origin of the same site (127.0.0.1, another port): Chromium sends the Access
  cookie even with SameSite=Lax, as it would from a sibling subdomain of a deployment;
- from a different site (localhost): the Lax cookie stays home;
- from a different site with the cookie as Access issues it by default (SameSite=None): sent on
  top-level posts.
The boot code's own counters show that nothing happened (no restart, restore, snapshot or device
approval); the Worker's log shows its refusals. Then the admin page's buttons still work, and it
shows an unknown snapshot as 404 and a malformed id as 400.
"""

from __future__ import annotations

import html
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dev.stack import Stack
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SLOW_MS = 180_000  # gateway work on 2 busy cores (cold Control UI, restore, restart)
REFUSED = "cross-site request refused"


@dataclass(frozen=True)
class Attack:
    path: str
    enctype: str
    field: str
    value: str


def attacks(request_id: str) -> list[Attack]:
    """One forged post per state-changing route; text/plain bodies read as JSON objects."""
    json_field, json_value = '{"snapshot_id":"latest","x":"', '"}'
    return [
        Attack("/api/admin/gateway/restart", "application/x-www-form-urlencoded", "x", "1"),
        Attack("/api/admin/restore", "text/plain", json_field, json_value),
        Attack("/api/admin/backup", "application/x-www-form-urlencoded", "x", "1"),
        Attack("/api/admin/devices/approve-all", "multipart/form-data", "x", "1"),
        Attack(f"/api/admin/devices/{request_id}/approve", "text/plain", "x", "1"),
        # The gateway's own HTTP API: the Worker adds the gateway token to whatever it proxies.
        Attack("/tools/invoke", "text/plain", '{"tool":"sessions_list","args":{},"x":"', '"}'),
    ]


def _form(worker: str, index: int, attack: Attack, target: str) -> str:
    return (
        f'<form id="f{index}" method="post" action="{html.escape(worker + attack.path)}" '
        f'enctype="{attack.enctype}" target="{target}">'
        f'<input name="{html.escape(attack.field)}" value="{html.escape(attack.value)}"></form>'
    )


def framed_page(worker: str, request_id: str) -> str:
    """Every form at once, each into its own iframe, plus a WebSocket; counts what finished."""
    items = attacks(request_id)
    forms = "".join(_form(worker, i, a, f"t{i}") for i, a in enumerate(items))
    frames = "".join(f'<iframe name="t{i}"></iframe>' for i in range(len(items)))
    socket_url = json.dumps(worker.replace("http://", "ws://") + "/")
    return f"""<!doctype html><title>totally unrelated page</title>{forms}{frames}
<script>
window.loaded = 0; window.socket = null;
const count = () => window.loaded++;
document.querySelectorAll("iframe").forEach((f) => f.addEventListener("load", count));
document.querySelectorAll("form").forEach((f) => f.submit());
const ws = new WebSocket({socket_url});
ws.onopen = () => {{ window.socket = "open"; ws.close(); }};
ws.onclose = (e) => {{ window.socket = window.socket || ("closed " + e.code); }};
</script>"""


def top_level_page(worker: str, request_id: str, index: int) -> str:
    """One form, submitted by the top-level window (the page navigates to the Worker)."""
    form = _form(worker, 0, attacks(request_id)[index], "_self")
    return f"<!doctype html><title>win a prize</title>{form}<script>f0.submit()</script>"


class EvilSite:
    """Serves the attacking pages on 127.0.0.1; reached as 127.0.0.1 or as localhost."""

    def __init__(self, worker: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                request_id = query.get("rid", "req-unknown")
                if parts.path == "/framed":
                    page = framed_page(worker, request_id)
                else:
                    page = top_level_page(worker, request_id, int(query.get("i", "0")))
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _control(stack: Stack, path: str) -> dict[str, Any]:
    request = urllib.request.Request(
        stack.config.url("control", path),
        headers={"Authorization": f"Bearer {stack.secrets.gateway_token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def boot_counters(stack: Stack) -> dict[str, Any]:
    """What a restart, restore or snapshot would change, as the boot code itself reports it."""
    snapshots = [item["id"] for item in _control(stack, "/snapshots")["snapshots"]]
    status = _control(stack, "/status")  # snapshot_count was just refreshed by /snapshots
    return {
        "snapshots": snapshots,
        "snapshot_count": status["backup"]["snapshot_count"],
        "last_snapshot": status["backup"]["last_snapshot"],
        "restore": status["restore"],
        "gateway_pid": status["gateway"]["pid"],
        "gateway_restarts": status["gateway"]["restarts"],
    }


def worker_log_lines(stack: Stack, since: int = 0) -> list[dict[str, Any]]:
    """The Worker's JSON log lines (wrangler dev prints them as they are), from line `since`."""
    found = []
    text = (stack.config.logs_dir / "worker.log").read_text(errors="replace")
    for line in text.splitlines()[since:]:
        start = line.find('{"level"')
        if start < 0:
            continue
        try:
            found.append(json.loads(line[start:]))
        except ValueError:
            continue
    return found


def worker_log_length(stack: Stack) -> int:
    return len((stack.config.logs_dir / "worker.log").read_text(errors="replace").splitlines())


def wait_for_log(stack: Stack, since: int, wanted: int, match: Any, page: Page) -> list[Any]:
    """Waits (without a time assertion) until `wanted` matching lines are in the Worker log."""
    for _ in range(120):
        lines = [line for line in worker_log_lines(stack, since) if match(line)]
        if len(lines) >= wanted:
            return lines
        page.wait_for_timeout(500)
    return [line for line in worker_log_lines(stack, since) if match(line)]


def pending_requests(context: BrowserContext, stack: Stack) -> list[str]:
    answer = context.request.get(stack.config.url("worker", "/api/admin/devices"), timeout=SLOW_MS)
    assert answer.status == 200, answer.text()
    return [item["requestId"] for item in answer.json()["pending"]]


@dataclass(frozen=True)
class Victim:
    context: BrowserContext
    ui: Page
    request_id: str


@pytest.fixture(scope="module")
def evil(stack: Stack) -> Iterator[EvilSite]:
    site = EvilSite(stack.config.url("worker").rstrip("/"))
    try:
        yield site
    finally:
        site.close()


@pytest.fixture(scope="module")
def victim(browser: Browser, stack: Stack) -> Iterator[Victim]:
    """Signed in through the Access stand-in (SameSite=Lax, HttpOnly, as the stack configures
    Access), with the Control UI open and waiting for its device approval."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    try:
        ui = context.new_page()
        ui.goto(stack.config.url("worker"))
        ui.fill("#email", "victim@example.com")
        ui.click("#sign-in")
        ui.wait_for_url(stack.config.url("worker") + "**")
        cookie = next(c for c in context.cookies() if c["name"] == "CF_Authorization")
        assert (cookie["sameSite"], cookie["httpOnly"]) == ("Lax", True)
        ui.get_by_text("Approve this browser").wait_for(timeout=SLOW_MS)
        match = re.search(r"devices approve ([0-9a-f-]{8,})", ui.locator("body").inner_text())
        assert match, "the Control UI shows its pairing request id"
        yield Victim(context, ui, match.group(1))
    finally:
        context.close()


def test_other_sites_cannot_restart_restore_snapshot_or_approve(
    browser: Browser, stack: Stack, evil: EvilSite, victim: Victim
) -> None:
    before = boot_counters(stack)
    assert victim.request_id in pending_requests(victim.context, stack)
    worker = stack.config.url("worker").rstrip("/")
    forged = attacks(victim.request_id)
    paths = {attack.path for attack in forged}

    # 1. Same site, another origin: the Lax cookie goes along, so only the Worker stands in the way.
    mark = worker_log_length(stack)
    page = victim.context.new_page()
    page.goto(evil.url("127.0.0.1", f"/framed?rid={victim.request_id}"))
    page.wait_for_function(f"window.loaded >= {len(forged)} && window.socket !== null")
    assert page.evaluate("window.socket") != "open", "the cross-origin WebSocket was accepted"
    refusals = wait_for_log(
        stack, mark, len(forged) + 1, lambda line: line.get("message") == REFUSED, page
    )
    assert {line["path"] for line in refusals if not line["websocket"]} == paths, refusals
    assert any(line["websocket"] for line in refusals), "no WebSocket refusal logged"
    assert all("same-site" in line["reason"] or "Origin" in line["reason"] for line in refusals)
    page.close()

    # 2. A different site: the Lax cookie stays home, Access-less requests get 401.
    mark = worker_log_length(stack)
    page = victim.context.new_page()
    page.goto(evil.url("localhost", f"/framed?rid={victim.request_id}"))
    page.wait_for_function(f"window.loaded >= {len(forged)} && window.socket !== null")
    unauthorized = wait_for_log(
        stack,
        mark,
        len(forged) + 1,  # and the WebSocket
        lambda line: line.get("message") == "request" and line.get("status") == 401,
        page,
    )
    assert {urlsplit(line["url"]).path for line in unauthorized} >= paths, unauthorized
    page.close()

    # 3. A different site, with the cookie as Access issues it unless told otherwise
    #    (SameSite=None): Chromium sends it with a top-level post, and the Worker refuses.
    default_cookie = browser.new_context()
    try:
        default_cookie.add_cookies(
            [
                {
                    "name": "CF_Authorization",
                    "value": stack.access_token("victim@example.com"),
                    "domain": "127.0.0.1",
                    "path": "/",
                    "httpOnly": False,
                    "secure": True,
                    "sameSite": "None",
                }
            ]
        )
        page = default_cookie.new_page()
        for index, attack in enumerate(forged):
            page.goto(evil.url("localhost", f"/top?i={index}&rid={victim.request_id}"))
            page.wait_for_url(f"{worker}{attack.path}")
            answer = json.loads(page.locator("body").inner_text())
            assert answer["error"] == REFUSED, (attack.path, answer)
            assert "Sec-Fetch-Site is cross-site" in answer["reason"]
        screenshot(page, "x1-cross-site-post-refused")
    finally:
        default_cookie.close()

    # Nothing happened, by the boot code's own account and the gateway's pairing list.
    assert boot_counters(stack) == before
    assert victim.request_id in pending_requests(victim.context, stack)


def test_the_admin_page_buttons_still_work(stack: Stack, victim: Victim) -> None:
    before = boot_counters(stack)
    admin = victim.context.new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto(stack.config.url("worker", "/_admin/"))

    admin.click("button[data-action=approve-all]")
    expect(admin.locator("#devices-progress")).to_have_text(
        re.compile(r"^Approved [1-9]\d* device"), timeout=SLOW_MS
    )
    assert victim.request_id not in pending_requests(victim.context, stack)
    expect(victim.ui.get_by_placeholder("Message Assistant")).to_be_visible(timeout=SLOW_MS)

    admin.click("button[data-action=backup-now]")
    progress = admin.locator("#backup-progress")
    expect(progress).to_have_text(re.compile(r"^Snapshot [0-9a-f]+"), timeout=SLOW_MS)
    taken = boot_counters(stack)
    assert len(taken["snapshots"]) == len(before["snapshots"]) + 1

    # Bad input is the caller's fault and says what to do; nothing restarts for it.
    restore_line = admin.locator("#restore-progress")
    admin.fill("#restore-id", "0badc0de")
    admin.click("button[data-action=restore-id]")
    expect(restore_line).to_have_text(
        re.compile(r"failed: HTTP 404 not found: no snapshot '0badc0de'.*List the snapshots"),
        timeout=SLOW_MS,
    )
    admin.fill("#restore-id", "../../etc")
    admin.click("button[data-action=restore-id]")
    expect(restore_line).to_have_text(
        re.compile(r"failed: HTTP 400 bad request: snapshot_id is neither"), timeout=SLOW_MS
    )
    screenshot(admin, "x2-admin-restore-statuses")
    assert boot_counters(stack)["gateway_pid"] == taken["gateway_pid"]

    admin.click("button[data-action=snapshots]")
    newest = admin.locator("#snapshots tr").first
    expect(newest).to_contain_text(taken["snapshots"][0][:8], timeout=SLOW_MS)
    newest.get_by_role("button", name="Restore").click()
    expect(admin.locator("#snapshots-progress")).to_have_text(
        f"Restored {taken['snapshots'][0]}", timeout=SLOW_MS
    )
    restored = boot_counters(stack)
    assert restored["restore"]["snapshot_id"] == taken["snapshots"][0]
    assert restored["restore"]["at"] != before["restore"]["at"]

    admin.click("button[data-action=restart]")
    expect(admin.locator("#restart-progress")).to_have_text("Restart requested", timeout=SLOW_MS)
    assert boot_counters(stack)["gateway_restarts"] == restored["gateway_restarts"] + 1
    # Leave a ready gateway to the tests that follow.
    for _ in range(360):
        if _control(stack, "/gateway/ready").get("ready") is True:
            break
        admin.wait_for_timeout(500)
    admin.close()
