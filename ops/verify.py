"""After `pulumi up`: check the live deployment end to end and write the evidence for the plan.

    pulumi stack output --json | python -m ops.verify --outputs - [--write] [--json verify.json]

Reads the stack outputs, then runs the checks in order, printing each as it runs with its
duration and `ok`, `FAILED: <what> — <what to do>` or `skipped: <why>`. Read-only unless
`--write` (which takes one snapshot); like any visitor it may wake a sleeping container. Exit
status 0 only when every check that ran passed; 1 when one failed; 2 for unusable input.

Credentials come from the environment only and are never printed or written:
`CF_ACCESS_CLIENT_SECRET` (and `CF_ACCESS_CLIENT_ID`, default: the `probeAccessClientId` output)
is the Access service token (`accessProbeServiceToken: true`; `export CF_ACCESS_CLIENT_SECRET=
"$(pulumi stack output --show-secrets probeAccessClientSecret)"`); `CDP_SECRET` for the CDP check;
`CLOUDFLARE_API_TOKEN` + `CLOUDFLARE_ACCOUNT_ID` for the Worker secret names (`wrangler secret
list`, names only). `--json FILE` writes the results in the evidence-file format that
`python -m ops.phase_docs --evidence FILE` reads (keys `$schema`, `$verify`, then plan items).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import urlsplit

SCHEMA: Final = "openclaw-edge/verify/1"
ROOT: Final = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER: Final = "[secret]"  # noqa: S105 - how `pulumi stack output` masks
USER_AGENT: Final = "openclaw-edge-verify/1"
POLL_SECONDS: Final = 3.0
PLAN_TOOLS: Final = {
    "ghq": "ghq",
    "gwq": "gwq",
    "mcp-grafana": "mcp-grafana",
    "Babashka": "bb",
    "Codex CLI": "codex",
}
"""Plan 2-1's custom tools (the names ops.phase_docs counts for parity) -> self-test tool name."""
CONNECTED: Final = frozenset({"connected", "running", "ok", "online", "ready"})
NOT_CONFIGURED: Final = frozenset({"not_configured", "not configured", "unconfigured", "disabled"})

Clock = Callable[[], float]


class Failed(Exception):
    """A check that did not pass: what is wrong and what to do."""

    def __init__(
        self, what: str, fix: str, facts: dict[str, Any] | None = None, status: int | None = None
    ) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix
        self.facts = facts or {}
        self.status = status
        """The HTTP status behind it; None when nothing answered."""


class Skipped(Exception):
    """A check that does not apply here, or cannot run; the message says why."""


class InputError(ValueError):
    """Outputs that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer (redirects are never followed)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self, limit: int = 200) -> str:
        return self.body[:limit].decode("utf-8", "replace").strip()


@dataclass(frozen=True)
class Credentials:
    """Secrets from the environment (and the outputs' client id); never printed."""

    client_id: str | None
    client_secret: str | None
    cdp_secret: str | None
    api_token: str | None
    account_id: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str], outputs: Mapping[str, Any]) -> Credentials:
        def pick(name: str) -> str | None:
            return env.get(name, "").strip() or None

        shown = outputs.get("probeAccessClientSecret")
        from_outputs = shown if isinstance(shown, str) and shown != SECRET_PLACEHOLDER else None
        output_id = outputs.get("probeAccessClientId")
        return cls(
            client_id=pick("CF_ACCESS_CLIENT_ID")
            or (output_id if isinstance(output_id, str) and output_id else None),
            client_secret=pick("CF_ACCESS_CLIENT_SECRET") or from_outputs,
            cdp_secret=pick("CDP_SECRET"),
            api_token=pick("CLOUDFLARE_API_TOKEN"),
            account_id=pick("CLOUDFLARE_ACCOUNT_ID"),
        )

    def secrets(self) -> list[str]:
        """Values to mask wherever text is printed or written."""
        values = (self.client_secret, self.cdp_secret, self.api_token)
        return [v for v in values if v and len(v) >= 4]

    def access_headers(self) -> dict[str, str]:
        if not (self.client_id and self.client_secret):
            return {}
        return {
            "CF-Access-Client-Id": self.client_id,
            "CF-Access-Client-Secret": self.client_secret,
        }


@dataclass
class CheckResult:
    """The outcome of one check, as printed and written."""

    id: str
    title: str
    status: str = "skipped"
    detail: str = ""
    fix: str | None = None
    seconds: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "seconds": self.seconds,
            "facts": self.facts,
        }


def mask(text: str, secrets: Sequence[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _age(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (now - when).total_seconds())


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def channel_states(value: Any) -> list[dict[str, Any]]:
    """Per-channel state from `/api/status` `channels`, in any of the shapes a status may take.

    A mapping name -> entry or a list of entries with `name`/`channel`/`id`; an entry is a bool
    (connected), a state string, or an object with `connected`, `configured`, `state`/`status`
    and `error`/`detail`/`reason`. Returns [{name, configured, connected, detail}].
    """
    items: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, Mapping):
                name = entry.get("name") or entry.get("channel") or entry.get("id")
                items.append((str(name or "?"), entry))
    states = []
    for name, entry in items:
        configured, connected, detail = True, False, ""
        if isinstance(entry, bool):
            connected = entry
        elif isinstance(entry, str):
            state = entry.strip().lower()
            configured = state not in NOT_CONFIGURED
            connected = state in CONNECTED
            detail = entry
        elif isinstance(entry, Mapping):
            state = str(entry.get("state") or entry.get("status") or "").strip().lower()
            if isinstance(entry.get("configured"), bool):
                configured = bool(entry["configured"])
            elif state in NOT_CONFIGURED or entry.get("enabled") is False:
                configured = False
            if isinstance(entry.get("connected"), bool):
                connected = bool(entry["connected"])
            else:
                connected = state in CONNECTED
            reason = entry.get("error") or entry.get("detail") or entry.get("reason")
            detail = ": ".join(p for p in (state, str(reason) if reason else "") if p)
        states.append(
            {"name": name, "configured": configured, "connected": connected, "detail": detail}
        )
    return states


class Client:
    """HTTP(S) to the deployment, redirects not followed, the service token added on request."""

    def __init__(self, base_url: str, credentials: Credentials, timeout: float) -> None:
        self.base = urlsplit(base_url)
        self.credentials = credentials
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
    ) -> Answer:
        conn_type = (
            http.client.HTTPSConnection
            if self.base.scheme == "https"
            else http.client.HTTPConnection
        )
        conn = conn_type(self.base.netloc, timeout=timeout or self.timeout)
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        if auth:
            sent.update(self.credentials.access_headers())
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, self.base.path.rstrip("/") + path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get_json(self, path: str, what: str, fix: str, timeout: float | None = None) -> Any:
        """GET with the service token; a 2xx JSON body, else Failed naming `what`."""
        try:
            answer = self.request("GET", path, timeout=timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"{what}: {type(exc).__name__}: {exc}", fix) from exc
        body = answer.json()
        if not 200 <= answer.status < 300 or body is None:
            error = body.get("error") if isinstance(body, Mapping) else answer.text()
            raise Failed(
                f"{what} answered HTTP {answer.status}: {error}", fix, status=answer.status
            )
        return body


class Verifier:
    """Runs the checks against one deployment, printing as it goes."""

    def __init__(
        self,
        outputs: Mapping[str, Any],
        credentials: Credentials,
        *,
        write: bool = False,
        start_timeout: float = 300.0,
        timeout: float = 30.0,
        out: TextIO = sys.stdout,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wrangler: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.outputs = outputs
        self.credentials = credentials
        self.write = write
        self.start_timeout = start_timeout
        self.timeout = timeout
        self.out = out
        self.clock = clock
        self.sleep = sleep
        self.env = dict(os.environ if env is None else env)
        self.wrangler = (
            wrangler
            or self.env.get("WRANGLER_BIN")
            or str(ROOT / "worker" / "node_modules" / ".bin" / "wrangler")
        )
        url = outputs.get("workerUrl")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise InputError(
                "the outputs have no workerUrl (expected `pulumi stack output --json`)"
            )
        self.url = url.rstrip("/")
        self.host = urlsplit(self.url).hostname or ""
        self.local = _is_loopback(self.host)
        self.client = Client(self.url, credentials, timeout)
        self.results: list[CheckResult] = []
        self.authorized = False
        self.backend: str | None = None
        self.status: Mapping[str, Any] | None = None
        self._selftest: Any = None
        self._selftest_error: Failed | None = None

    # -- output ------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        self.out.write(mask(line, self.credentials.secrets()) + "\n")
        self.out.flush()

    def checks(self) -> list[tuple[str, str, Callable[[], tuple[str, dict[str, Any]]]]]:
        return [
            ("dns_tls", f"DNS and TLS for {self.host}", self.check_dns_tls),
            ("access", "Access in front (request without credentials)", self.check_access),
            (
                "service_token",
                "service token reaches the Worker (/sandbox-health)",
                self.check_token,
            ),
            ("gateway", "gateway running (/api/status)", self.check_gateway),
            ("versions", "versions in the container = stack outputs", self.check_versions),
            ("channels", "chat channels connected", self.check_channels),
            (
                "backups",
                "backups" + (" (--write: one snapshot)" if self.write else ""),
                self.check_backups,
            ),
            ("tools", "the user's tools (container self-test)", self.check_tools),
            ("cdp", "CDP endpoint (/cdp)", self.check_cdp),
            ("worker_secrets", "Worker secrets by name = workerSecretNames", self.check_secrets),
        ]

    def run(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        began = self.clock()
        self.say(f"verify {self.url} ({'local stack' if self.local else 'deployment'})")
        plan = self.checks()
        for number, (check_id, title, check) in enumerate(plan, 1):
            result = CheckResult(check_id, title)
            self.say(f"[{number}/{len(plan)}] {title} ...")
            t0 = self.clock()
            try:
                result.detail, result.facts = check()
                result.status = "ok"
            except Failed as failure:
                result.status, result.detail, result.fix = "failed", failure.what, failure.fix
                result.facts = failure.facts
            except Skipped as skipped:
                result.status, result.detail = "skipped", str(skipped)
            result.seconds = round(self.clock() - t0, 2)
            self.results.append(result)
            self.say(f"    {self._line(result)}")
        failed = [r.id for r in self.results if r.status == "failed"]
        ran = [r for r in self.results if r.status != "skipped"]
        self.say(
            f"{len(ran) - len(failed)} of {len(ran)} checks passed, "
            f"{len(self.results) - len(ran)} skipped, in {self.clock() - began:.1f} s"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
        return self.document(started, round(self.clock() - began, 2))

    @staticmethod
    def _line(result: CheckResult) -> str:
        took = f"({result.seconds:.1f} s)"
        if result.status == "ok":
            return f"ok {took}: {result.detail}"
        if result.status == "failed":
            return f"FAILED {took}: {result.detail} — {result.fix}"
        return f"skipped: {result.detail}"

    # -- checks ------------------------------------------------------------------------------

    def _needs_token(self) -> None:
        if not self.authorized:
            raise Skipped("needs the service token check to pass")

    def check_dns_tls(self) -> tuple[str, dict[str, Any]]:
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme == "http":
            if self.local:
                raise Skipped(f"{self.url} is on this machine: no DNS name or certificate")
            raise Failed(f"workerUrl {self.url} is plain HTTP", "serve it over HTTPS")
        try:
            infos = socket.getaddrinfo(self.host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise Failed(
                f"{self.host} does not resolve ({exc.strerror})",
                "a new Workers custom domain takes a few minutes; check the zone's DNS and "
                "that `pulumi up` created the custom domain",
            ) from exc
        addresses = sorted({str(info[4][0]) for info in infos})
        context = ssl.create_default_context()
        try:
            with (
                socket.create_connection((self.host, port), timeout=self.timeout) as raw,
                context.wrap_socket(raw, server_hostname=self.host) as tls,
            ):
                cert = tls.getpeercert() or {}
                version = tls.version()
        except ssl.SSLCertVerificationError as exc:
            raise Failed(
                f"TLS certificate of {self.host} not trusted: {exc.verify_message}",
                "a new custom domain's certificate is issued within minutes; retry, or check "
                "SSL/TLS → Edge Certificates for the zone",
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise Failed(
                f"no TLS connection to {self.host}:{port}: {exc}",
                "check that the hostname is proxied by Cloudflare",
            ) from exc
        issuer: dict[str, str] = {}
        for rdn in cert.get("issuer", ()):
            for pair in rdn:
                if isinstance(pair, tuple) and len(pair) == 2:
                    issuer[str(pair[0])] = str(pair[1])
        not_after = str(cert.get("notAfter", ""))
        days = None
        if not_after:
            days = round((ssl.cert_time_to_seconds(not_after) - time.time()) / 86400, 1)
        by = issuer.get("organizationName") or issuer.get("commonName")
        facts = {
            "host": self.host,
            "addresses": addresses,
            "tls": {"version": version, "issuer": by, "notAfter": not_after, "daysLeft": days},
        }
        return (
            f"{self.host} -> {', '.join(addresses)}; {version}, certificate by {by} valid "
            f"{days} more days",
            facts,
        )

    def check_access(self) -> tuple[str, dict[str, Any]]:
        team = str(self.outputs.get("accessTeamDomain") or "")
        try:
            answer = self.client.request("GET", "/", auth=False)
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"{self.url} unreachable: {exc}", "check DNS/TLS above") from exc
        location = answer.headers.get("location", "")
        facts = {"status": answer.status, "location": location or None, "enforced": False}
        if answer.status in (301, 302, 303, 307, 308):
            target = urlsplit(location)
            if target.netloc == team and target.path.startswith("/cdn-cgi/access/login/"):
                facts["enforced"] = True
                return f"HTTP {answer.status} to the Access login at {team}", facts
            raise Failed(
                f"HTTP {answer.status} to {location}, not to the Access login of {team or '?'}",
                "the Access application must cover this hostname (accessTeamDomain output)",
            )
        body = answer.json()
        if (
            answer.status == 401
            and isinstance(body, Mapping)
            and body.get("error") == ("unauthorized")
        ):
            raise Failed(
                "the Worker's own JWT check answered (HTTP 401): Cloudflare Access is not in "
                f"front of {self.host}",
                "the Access application must cover this hostname on all paths (policy "
                "access-covers-worker-hostname); check Zero Trust → Access → Applications",
            )
        if answer.status in (401, 403):
            facts["enforced"] = True
            return f"refused with HTTP {answer.status} before the Worker", facts
        raise Failed(
            f"answered HTTP {answer.status} without credentials",
            "nothing protects this hostname: add it to the Access application (pulumi up)",
        )

    def check_token(self) -> tuple[str, dict[str, Any]]:
        creds = self.credentials
        if not (creds.client_id and creds.client_secret):
            raise Failed(
                "no Access service token",
                "set accessProbeServiceToken: true and `pulumi up`, then export "
                'CF_ACCESS_CLIENT_SECRET="$(pulumi stack output --show-secrets '
                'probeAccessClientSecret)"',
            )
        try:
            answer = self.client.request("GET", "/sandbox-health")
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"{self.url} unreachable: {exc}", "check DNS/TLS above") from exc
        body = answer.json()
        if answer.status in (301, 302, 303, 307, 308):
            raise Failed(
                "Access sent the service token to the login page: no policy admits it",
                "the Access application needs the non_identity policy of this token "
                "(accessProbeServiceToken: true); an expired or revoked token does this too",
            )
        if (
            answer.status == 401
            and isinstance(body, Mapping)
            and body.get("error") == ("unauthorized")
        ):
            raise Failed(
                f"Access admitted the token but the Worker refused its JWT ({body.get('reason')})",
                "the Worker's CF_ACCESS_AUD / CF_ACCESS_TEAM_DOMAIN must be this Access "
                "application's (accessAud, accessTeamDomain outputs): pulumi up",
            )
        if answer.status in (401, 403):
            raise Failed(
                f"Access refused the service token (HTTP {answer.status})",
                "check CF_ACCESS_CLIENT_ID/CF_ACCESS_CLIENT_SECRET against the stack outputs; "
                "`pulumi up --replace <URN of access-probe-token>` issues a new one",
            )
        if answer.status != 200 or not isinstance(body, Mapping):
            raise Failed(
                f"/sandbox-health answered HTTP {answer.status}: {answer.text()}",
                "the Worker is not deployed at this hostname: run `pulumi up`",
            )
        if body.get("service") != "openclaw-edge":
            raise Failed(
                "/sandbox-health is not this project's Worker",
                "the hostname routes to another Worker: check the custom domain",
            )
        expected = self.outputs.get("environment")
        if expected is not None and body.get("environment") != expected:
            raise Failed(
                f"the Worker serves environment {body.get('environment')!r}, outputs say "
                f"{expected!r}",
                "these outputs belong to another stack (pulumi stack select)",
            )
        self.authorized = True
        self.backend = str(body.get("backend") or "") or None
        return (
            f"Worker {body.get('environment')!r} answered, backend {self.backend}",
            {"environment": body.get("environment"), "backend": self.backend},
        )

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
        if "channels" not in status:
            raise Skipped("this deployment's /api/status reports no channel state")
        states = channel_states(status.get("channels"))
        configured = [s for s in states if s["configured"]]
        if not configured:
            raise Skipped("no chat channel is configured")
        down = [s for s in configured if not s["connected"]]
        facts = {"channels": states}
        if down:
            what = "; ".join(f"{s['name']}: {s['detail'] or 'not connected'}" for s in down)
            raise Failed(
                f"not connected: {what}",
                "check the channel's token (e.g. `pulumi config set --secret "
                "DISCORD_BOT_TOKEN`, `pulumi up`), then restart the gateway from /_admin/",
            )
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
        age = _age(str(newest.get("time")) if newest else None, now)
        facts["newest"] = newest.get("time") if newest else None
        facts["newestAgeSeconds"] = None if age is None else round(age)
        if self.write and facts["written"] and newest is None:
            raise Failed("the new snapshot is not listed", fix_config)
        parts = [f"{len(listed)} snapshots"]
        parts.append(f"newest {_duration(age)} old" if age is not None else "none yet")
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

    def check_secrets(self) -> tuple[str, dict[str, Any]]:
        creds = self.credentials
        if not (creds.api_token and creds.account_id):
            raise Skipped(
                "export CLOUDFLARE_API_TOKEN (`pulumi config get cloudflare:apiToken`) and "
                "CLOUDFLARE_ACCOUNT_ID to compare them"
            )
        worker = self.outputs.get("workerName")
        expected = self.outputs.get("workerSecretNames")
        if not isinstance(worker, str) or not isinstance(expected, list):
            raise Failed("the outputs lack workerName or workerSecretNames", "pulumi up")
        actual = self._wrangler_secret_names(worker)
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        facts = {"expected": sorted(expected), "actual": sorted(actual)}
        if missing or extra:
            what = []
            if missing:
                what.append(f"missing on the Worker: {', '.join(missing)}")
            if extra:
                what.append(f"on the Worker but not declared by the stack: {', '.join(extra)}")
            raise Failed(
                "; ".join(what),
                "`pulumi up` puts every declared secret (its secret step re-runs per secret); "
                f"`wrangler secret delete NAME --name {worker}` removes an undeclared one",
            )
        return f"{len(actual)} secrets, the same names as workerSecretNames", facts

    def _wrangler_secret_names(self, worker: str) -> list[str]:
        creds = self.credentials
        env: dict[str, str] = {
            name: self.env[name]
            for name in (
                "PATH",
                "HOME",
                "LANG",
                "TMPDIR",
                "SSL_CERT_FILE",
                "CLOUDFLARE_API_BASE_URL",
            )
            if name in self.env
        }
        env.update(
            {
                "CLOUDFLARE_API_TOKEN": creds.api_token or "",
                "CLOUDFLARE_ACCOUNT_ID": creds.account_id or "",
                "WRANGLER_SEND_METRICS": "false",
                "CI": "true",
                "NO_COLOR": "1",
            }
        )
        fix = "check the API token (Workers Scripts: Read) and CLOUDFLARE_ACCOUNT_ID"
        # An empty directory: no wrangler config of this checkout is picked up; its log stays there.
        with tempfile.TemporaryDirectory() as cwd:
            env["WRANGLER_LOG_PATH"] = cwd
            try:
                done = subprocess.run(
                    [self.wrangler, "secret", "list", "--name", worker, "--format", "json"],
                    cwd=cwd,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=max(self.timeout, 120.0),
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise Failed(f"wrangler secret list did not run: {exc}", fix) from exc
        if done.returncode != 0:
            raise Failed(f"wrangler secret list failed: {wrangler_error(done.stderr)}", fix)
        start = done.stdout.find("[")
        try:
            listed, _ = (
                json.JSONDecoder().raw_decode(done.stdout[start:]) if start >= 0 else (None, 0)
            )
        except ValueError:
            listed = None
        if not isinstance(listed, list):
            raise Failed("wrangler secret list printed no JSON list", fix)
        return [
            str(item["name"]) for item in listed if isinstance(item, Mapping) and "name" in item
        ]

    # -- evidence ----------------------------------------------------------------------------

    def result(self, check_id: str) -> CheckResult | None:
        return next((r for r in self.results if r.id == check_id), None)

    def evidence(self, started: str) -> dict[str, Any]:
        """Entries in ops.phase_docs' evidence format for the items the checks prove."""
        source = f"ops.verify against {self.url} at {started}"
        entries: dict[str, Any] = {}

        def entry(item: str, verdict: str, lines: list[str], **details: Any) -> None:
            entries[item] = {
                "verdict": verdict,
                "evidence": [mask(x, self.credentials.secrets()) for x in lines],
                "source": source,
                "details": {"verifiedBy": "ops.verify", **details},
            }

        def proven(item: str, ids: Sequence[str], lines: Callable[[], list[str]]) -> None:
            results = [self.result(i) for i in ids]
            bad = [r for r in results if r is not None and r.status == "failed"]
            if bad:
                entry(item, "unverified", [f"live check failed: {r.detail}" for r in bad])
            elif all(r is not None and r.status == "ok" for r in results):
                entry(item, "possible", lines())

        def fact(check_id: str, key: str) -> Any:
            found = self.result(check_id)
            return found.facts.get(key) if found is not None else None

        gateway = self.result("gateway")
        cold = fact("gateway", "coldStartSeconds")
        if self.local:
            if gateway is not None and gateway.status == "ok":
                ran = [r for r in self.results if r.status != "skipped"]
                passed = sum(1 for r in ran if r.status == "ok")
                entry(
                    "0-7",
                    "unverified",
                    [
                        "local stack (`make dev`: the Worker under wrangler dev, the boot code, a "
                        f"real OpenClaw gateway): {gateway.detail}; {passed} of {len(ran)} "
                        "verify checks passed",
                        "not checked by ops.verify: a chat reply (tests/e2e/test_local_stack.py "
                        "checks it)",
                    ],
                )
            return entries
        tls = fact("dns_tls", "tls") or {}
        proven(
            "1-4",
            ["dns_tls", "service_token"],
            lambda: [
                f"{self.host} resolves ({', '.join(fact('dns_tls', 'addresses') or [])}) and "
                f"serves {tls.get('version')} with a certificate by {tls.get('issuer')} (valid "
                f"until {tls.get('notAfter')})",
                f"the Worker answers there (environment {fact('service_token', 'environment')!r})",
            ],
        )
        proven(
            "1-3",
            ["access", "service_token"],
            lambda: [
                f"without credentials: HTTP {fact('access', 'status')} "
                f"{'to the Access login' if fact('access', 'location') else 'from Access'}",
                "with the stack's service token: /sandbox-health answered 200",
            ],
        )
        proven(
            "1-6",
            ["gateway", "versions"],
            lambda: [
                f"gateway {gateway.detail if gateway else ''}",
                str(getattr(self.result("versions"), "detail", "")),
            ],
        )
        proven(
            "1-7",
            ["worker_secrets"],
            lambda: [f"Worker secrets by name: {', '.join(fact('worker_secrets', 'actual'))}"],
        )
        backups = self.result("backups")
        if backups is not None and backups.status in ("ok", "failed"):
            proven(
                "1-1",
                ["backups"],
                lambda: [
                    f"backup bucket {self.outputs.get('bucketName')} in use: {backups.detail}"
                ],
            )
            if backups.status == "ok" and fact("backups", "written"):
                entry(
                    "0-6",
                    "unverified",
                    [
                        f"snapshot written to R2 and listed (ops.verify --write): {backups.detail}",
                        "not checked by ops.verify: a restore",
                    ],
                )
        tools = self.result("tools")
        if tools is not None and tools.status != "skipped" and self.backend == "sandbox":
            self._tool_evidence(entry, tools)
        channels = fact("channels", "channels") or []
        discord = [c for c in channels if c["name"] == "discord" and c["connected"]]
        if discord:
            entry(
                "2-2",
                "unverified",
                [
                    "Discord channel reports connected (ops.verify, /api/status)",
                    "not checked by ops.verify: a message exchange",
                ],
            )
        if cold is not None:
            entry(
                "2-5",
                "unverified",
                [f"gateway cold start measured by ops.verify: {cold} s until running"],
            )
        return entries

    def _tool_evidence(self, entry: Callable[..., None], tools: CheckResult) -> None:
        by_name = {t["name"]: t for t in tools.facts.get("tools", [])}
        working = {plan: bool(by_name.get(tool, {}).get("ok")) for plan, tool in PLAN_TOOLS.items()}
        lines = []
        for plan, tool in PLAN_TOOLS.items():
            found = by_name.get(tool, {})
            if found.get("ok"):
                lines.append(f"{plan}: `{tool}` ran in the Sandbox: {found.get('output')}")
            else:
                lines.append(f"{plan}: `{tool}` failed in the Sandbox: {found.get('error')}")
        lines.append("checked: the version command runs (installed, executes on the platform)")
        passed = tools.status == "ok" and all(working.values())
        entry("2-1", "possible" if passed else "unverified", lines, tools=working)

    def document(self, started: datetime, seconds: float) -> dict[str, Any]:
        stamp = started.isoformat(timespec="seconds")
        failed = [r.id for r in self.results if r.status == "failed"]
        doc: dict[str, Any] = {
            "$schema": SCHEMA,
            "$verify": {
                "startedAt": stamp,
                "seconds": seconds,
                "target": {
                    "workerUrl": self.url,
                    "environment": self.outputs.get("environment"),
                    "backend": self.backend,
                    "local": self.local,
                },
                "write": self.write,
                "passed": not failed,
                "failed": failed,
                "checks": [r.to_json() for r in self.results],
            },
            **self.evidence(stamp),
        }
        # A last guard: nothing secret leaves through the document either.
        masked: dict[str, Any] = json.loads(mask(json.dumps(doc), self.credentials.secrets()))
        return masked


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wrangler_error(stderr: str) -> str:
    """The `✘ [ERROR] ...` line wrangler prints (colours removed), else its last line."""
    lines = [ANSI.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line and not line.startswith("🪵")]
    for line in lines:
        if "[ERROR]" in line:
            return line.split("[ERROR]", 1)[1].strip()[:300]
    return (lines[-1] if lines else "no output")[:300]


def load_outputs(path: str, stdin: TextIO) -> Mapping[str, Any]:
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InputError(f"{path}: expected the JSON object of `pulumi stack output --json`")
    return data


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    env: Mapping[str, str] | None = None,
) -> int:
    """CLI entry point: 0 all checks that ran passed, 1 one failed, 2 unusable input."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.verify",
        description="Check the deployment of these stack outputs end to end (read-only).",
    )
    parser.add_argument("--outputs", default="-", help="`pulumi stack output --json` file, - stdin")
    parser.add_argument("--write", action="store_true", help="also take one snapshot")
    parser.add_argument("--json", type=Path, help="write the results (evidence format) here")
    parser.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds to wait for a cold start"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    args = parser.parse_args(argv)
    environ = dict(os.environ if env is None else env)
    try:
        outputs = load_outputs(args.outputs, stdin)
        credentials = Credentials.from_env(environ, outputs)
        verifier = Verifier(
            outputs,
            credentials,
            write=args.write,
            start_timeout=args.start_timeout,
            timeout=args.timeout,
            out=out,
            env=environ,
        )
    except InputError as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    doc = verifier.run()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        verifier.say(f"wrote {args.json} (python -m ops.phase_docs --evidence {args.json} ...)")
    return 0 if doc["$verify"]["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
