"""The run's results as `ops.phase_docs` evidence entries (plan items) and the `--json` document."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ops.verify.base import VerifierBase
from ops.verify.model import PLAN_TOOLS, SCHEMA, CheckResult, mask


class PlanEvidence(VerifierBase):
    """Evidence entries for the plan items the checks prove."""

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
