"""Checks of the container behind the Worker: gateway running, versions, channels, backups,
the user's tools (self-test) and the CDP endpoint."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ops.verify.base import VerifierBase
from ops.verify.model import (
    CHANNEL_WAIT_SECONDS,
    PENDING_CHANNEL_STATES,
    POLL_SECONDS,
    Failed,
    Skipped,
    age_seconds,
    channel_states,
    duration,
)


class ContainerChecks(VerifierBase):
    """gateway, versions, channels, backups, tools, cdp."""

    def _status(self) -> Mapping[str, Any]:
        body = self.client.get_json("/api/status", "/api/status", "redeploy the Worker (pulumi up)")
        if not isinstance(body, Mapping):
            raise Failed("/api/status is not a JSON object", "redeploy the Worker (pulumi up)")
        self.status = body
        return body

    def _status_or_error(self) -> Mapping[str, Any]:
        """While a container starts, /api/status itself may time out or answer 5xx: a state too.

        A 4xx (Access or the Worker refusing us) does not heal by waiting.
        """
        try:
            return self._status()
        except Failed as failure:
            if failure.status is not None and failure.status < 500:
                raise
            return {"state": "unreachable", "detail": failure.what}

    def check_gateway(self) -> tuple[str, dict[str, Any]]:
        self._needs_token()
        started = self.clock()
        status = self._status_or_error()
        if status.get("state") == "running":
            return "running (already up: no cold start to measure)", {
                "state": "running",
                "coldStartSeconds": None,
                "backend": status.get("backend"),
            }
        # A proxied request starts a stopped gateway, as any visitor's would.
        trigger = threading.Thread(target=self._wake, name="verify-wake", daemon=True)
        trigger.start()
        deadline = started + self.start_timeout
        while True:
            state, detail = status.get("state"), status.get("detail")
            if state == "running":
                waited = round(self.clock() - started, 1)
                return f"running after {waited} s (cold start from the first request)", {
                    "state": "running",
                    "coldStartSeconds": waited,
                    "backend": status.get("backend"),
                }
            elapsed = self.clock() - started
            self.say(f"    ... {state} after {elapsed:.0f} s" + (f": {detail}" if detail else ""))
            if elapsed >= self.start_timeout:
                break
            self.sleep(min(POLL_SECONDS, max(0.0, deadline - self.clock())))
            status = self._status_or_error()
        raise Failed(
            f"gateway not running after {self.start_timeout:.0f} s (state {state}"
            + (f": {detail})" if detail else ")"),
            "restart it from /_admin/ or read its logs (/debug/logs with debugRoutes, "
            "`wrangler tail`); a first start can take minutes: --start-timeout 600",
        )

    def _wake(self) -> None:
        # What happened shows in the status poll.
        with contextlib.suppress(OSError, http.client.HTTPException):
            self.client.request("GET", "/readyz", timeout=self.start_timeout)

    def selftest(self) -> Mapping[str, Any]:
        """The container's self-test (GET /api/admin/selftest), fetched once for two checks."""
        self._needs_token()
        if self._selftest_error is not None:
            raise self._selftest_error
        if self._selftest is None:
            try:
                self._selftest = self.client.get_json(
                    "/api/admin/selftest",
                    "the self-test (/api/admin/selftest)",
                    "deploy this version of the Worker and image (pulumi up), then retry",
                    timeout=max(self.timeout, 120.0),
                )
            except Failed as failed:
                self._selftest_error = failed
                raise
        if not isinstance(self._selftest, Mapping):
            raise Failed("the self-test answer is not an object", "redeploy (pulumi up)")
        return self._selftest

    def check_versions(self) -> tuple[str, dict[str, Any]]:
        env = self.selftest().get("environment")
        env = env if isinstance(env, Mapping) else {}
        expected_openclaw = self.outputs.get("openclawVersion")
        running = env.get("openclaw_version")
        facts: dict[str, Any] = {"openclaw": {"running": running, "expected": expected_openclaw}}
        if running != expected_openclaw:
            raise Failed(
                f"OpenClaw {running or 'unknown'} runs, the outputs say {expected_openclaw}",
                "the container still runs an older image: restart the gateway from /_admin/ "
                "(a container start takes the deployed image), or `pulumi up` again",
            )
        lines = [f"OpenClaw {running} = openclawVersion"]
        expected_sdk = self.outputs.get("sandboxVersion")
        if self.backend == "sandbox":
            image = env.get("sandbox_version")
            facts["sandbox"] = {"running": image, "expected": expected_sdk}
            if image != expected_sdk:
                raise Failed(
                    f"the Sandbox base image is {image or 'unknown (no SANDBOX_VERSION)'}, the "
                    f"Worker's SDK (sandboxVersion) is {expected_sdk}",
                    "FROM docker.io/cloudflare/sandbox:<tag> in container/Dockerfile must equal "
                    "the @cloudflare/sandbox pin; redeploy",
                )
            lines.append(f"Sandbox image {image} = sandboxVersion")
        else:
            lines.append(f"no Sandbox container ({self.backend} backend): SDK/image not compared")
        return "; ".join(lines), facts

    def check_channels(self) -> tuple[str, dict[str, Any]]:
        self._needs_token()
        status = self.status if self.status is not None else self._status()
        if "channels" not in status and "channels_error" not in status:
            raise Skipped("this deployment's /api/status reports no channel state")
        started = self.clock()
        while True:
            # No `channels` but a `channels_error`: the Worker could not ask the boot code yet
            # (gateway starting); `connecting`/`unknown`: the boot code has not seen it settle.
            states = channel_states(status["channels"]) if "channels" in status else None
            configured = [s for s in states or [] if s["configured"]]
            if states is not None and not configured:
                raise Skipped("no chat channel is configured")
            pending = [s for s in configured if s["state"] in PENDING_CHANNEL_STATES]
            waiting = (
                str(status.get("channels_error") or "no channel state")
                if states is None
                else ", ".join(f"{s['name']} {s['state']}" for s in pending)
            )
            elapsed = self.clock() - started
            if not waiting or elapsed >= CHANNEL_WAIT_SECONDS:
                break
            self.say(f"    ... {waiting} after {elapsed:.0f} s")
            self.sleep(POLL_SECONDS)
            status = self._status()
        fix = (
            "check the channel's token (e.g. `pulumi config set --secret "
            "DISCORD_BOT_TOKEN`, `pulumi up`), then restart the gateway from /_admin/"
        )
        if states is None:
            raise Failed(f"no channel state after {CHANNEL_WAIT_SECONDS:.0f} s: {waiting}", fix)
        down = [s for s in configured if not s["connected"]]
        facts = {"channels": states}
        if down:
            what = "; ".join(f"{s['name']}: {s['detail'] or 'not connected'}" for s in down)
            raise Failed(f"not connected: {what}", fix)
        return ", ".join(f"{s['name']} connected" for s in configured), facts

    def check_backups(self) -> tuple[str, dict[str, Any]]:
        self._needs_token()
        fix_config = (
            "BACKUP_PASSWORD and the R2 keys must reach the container: `pulumi config set "
            "--secret BACKUP_PASSWORD`, `pulumi up`, then restart the gateway"
        )
        info = self.client.get_json("/api/admin/backup", "/api/admin/backup", fix_config)
        if info.get("control_error"):
            raise Failed(
                f"the boot code's control API did not answer: {info['control_error']}",
                "the gateway process is down: restart it from /_admin/",
            )
        backup = info.get("backup") if isinstance(info.get("backup"), Mapping) else {}
        restore = info.get("restore") if isinstance(info.get("restore"), Mapping) else {}
        if not backup.get("configured"):
            raise Failed("backups are not configured in the container", fix_config)
        if restore.get("state") == "failed" or backup.get("protected"):
            raise Failed(
                f"the restore at boot failed ({restore.get('error') or 'no reason given'}): new "
                "snapshots are tagged restore-failed and retention is off",
                "fix the cause (a wrong BACKUP_PASSWORD or R2 keys), then restore a snapshot "
                "from /_admin/",
            )
        if backup.get("last_error"):
            raise Failed(f"the last snapshot failed: {backup['last_error']}", fix_config)
        listed = self._snapshots(fix_config)
        facts: dict[str, Any] = {
            "configured": True,
            "restore": restore.get("state"),
            "snapshotCount": len(listed),
            "bucket": info.get("bucket"),
            "written": None,
        }
        if self.write:
            facts["written"] = self._take_snapshot(fix_config)
            listed = self._snapshots(fix_config)
            facts["snapshotCount"] = len(listed)
        newest = listed[0] if listed else None
        now = datetime.now(UTC)
        age = age_seconds(str(newest.get("time")) if newest else None, now)
        facts["newest"] = newest.get("time") if newest else None
        facts["newestAgeSeconds"] = None if age is None else round(age)
        if self.write and facts["written"] and newest is None:
            raise Failed("the new snapshot is not listed", fix_config)
        parts = [f"{len(listed)} snapshots"]
        parts.append(f"newest {duration(age)} old" if age is not None else "none yet")
        parts.append(f"restore at boot: {restore.get('state')}")
        if facts["written"]:
            parts.append(f"--write took {facts['written']} and it is listed")
        elif not self.write:
            parts.append("--write also takes one")
        return "; ".join(parts), facts

    def _snapshots(self, fix: str) -> list[Mapping[str, Any]]:
        body = self.client.get_json(
            "/api/admin/snapshots",
            "listing the snapshots (/api/admin/snapshots)",
            fix,
            timeout=max(self.timeout, 120.0),
        )
        items = body.get("snapshots") if isinstance(body, Mapping) else None
        return [s for s in items if isinstance(s, Mapping)] if isinstance(items, list) else []

    def _take_snapshot(self, fix: str) -> str:
        try:
            answer = self.client.request("POST", "/api/admin/backup", body=b"{}", timeout=600)
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"POST /api/admin/backup: {exc}", fix) from exc
        body = answer.json()
        if answer.status != 200 or not isinstance(body, Mapping) or not body.get("ok"):
            error = body.get("error") if isinstance(body, Mapping) else answer.text()
            raise Failed(f"the snapshot failed (HTTP {answer.status}): {error}", fix)
        snapshot_id = body.get("snapshot_id")
        listed = self._snapshots(fix)
        if snapshot_id:
            ids = {str(s.get("id")) for s in listed} | {str(s.get("short_id")) for s in listed}
            if not any(str(snapshot_id).startswith(i) or i == snapshot_id for i in ids if i):
                raise Failed(f"snapshot {snapshot_id} was taken but is not listed", fix)
            return str(snapshot_id)[:8]
        if not listed:
            raise Failed(f"no snapshot taken ({body.get('reason')}) and none listed", fix)
        return f"nothing ({body.get('reason')}: newest is {listed[0].get('short_id')})"

    def check_tools(self) -> tuple[str, dict[str, Any]]:
        result = self.selftest()
        tools = [t for t in result.get("tools", []) if isinstance(t, Mapping)]
        required = [t for t in tools if t.get("required")]
        broken = [t for t in required if not t.get("ok")]
        unknown = [str(name) for name in result.get("unknown_required") or []]
        facts = {
            "tools": [
                {k: t.get(k) for k in ("name", "ok", "required", "version", "output", "error")}
                for t in tools
            ],
            "backend": self.backend,
        }
        if broken or unknown:
            what = "; ".join(str(t.get("error") or t.get("name")) for t in broken)
            if unknown:
                what += ("; " if what else "") + f"no self-test for {', '.join(unknown)}"
            raise Failed(
                what,
                "the image lacks them or they do not run: fix container/Dockerfile and "
                "`pulumi up`; a host that is not the image names its tools in "
                "OPENCLAW_EDGE_SELFTEST_TOOLS",
                facts,
            )
        ran = ", ".join(f"{t.get('name')} {t.get('version') or 'ok'}" for t in required)
        absent = [str(t.get("name")) for t in tools if not t.get("required") and not t.get("ok")]
        note = f"; not required on this host: {', '.join(absent)}" if absent else ""
        return f"{len(required)}/{len(required)} ran: {ran}{note}", facts

    def check_cdp(self) -> tuple[str, dict[str, Any]]:
        names = self.outputs.get("workerSecretNames") or []
        if "CDP_SECRET" not in names:
            raise Skipped("CDP is not configured (no CDP_SECRET in workerSecretNames)")
        self._needs_token()
        secret = self.credentials.cdp_secret
        if not secret:
            raise Skipped("export CDP_SECRET (the value you set with pulumi config) to check it")
        fix = "CDP needs the CDP_SECRET secret and the BROWSER binding (Workers Paid): pulumi up"
        try:
            without = self.client.request("GET", "/cdp/json/version")
            with_secret = self.client.request(
                "GET", "/cdp/json/version", headers={"X-CDP-Secret": secret}
            )
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"/cdp/json/version: {exc}", fix) from exc
        if without.status not in (401, 403):
            raise Failed(f"/cdp/json/version without the secret answered {without.status}", fix)
        body = with_secret.json()
        if with_secret.status != 200 or not isinstance(body, Mapping):
            error = body.get("error") if isinstance(body, Mapping) else with_secret.text()
            raise Failed(f"with the secret it answered {with_secret.status}: {error}", fix)
        ws = str(body.get("webSocketDebuggerUrl") or "")
        if secret in with_secret.body.decode("utf-8", "replace") or "ticket=" not in ws:
            raise Failed("the discovery answer does not carry a ticket in place of the secret", fix)
        return f"without the secret {without.status}; with it 200 ({body.get('Browser')})", {
            "withoutSecret": without.status,
            "withSecret": with_secret.status,
        }
