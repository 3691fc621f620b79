"""`Verifier`: the checks in order, each timed and printed, then the document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ops.verify.container_checks import ContainerChecks
from ops.verify.edge_checks import EdgeChecks
from ops.verify.evidence import PlanEvidence
from ops.verify.model import CheckResult, Failed, Skipped
from ops.verify.secret_checks import SecretChecks


class Verifier(EdgeChecks, ContainerChecks, SecretChecks, PlanEvidence):
    """Runs the checks against one deployment, printing as it goes."""

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
