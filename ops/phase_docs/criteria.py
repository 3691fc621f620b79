"""The done and stop criteria of each phase, evaluated from the item findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infra.outputs import BUDGET_USD
from ops.phase_docs.evidence import PARITY_THRESHOLD, Evidence, Finding, Verdict
from ops.phase_docs.judges import (
    estimate_usd,
    measured_monthly_usd,
    probe_endpoint,
    tool_parity,
)
from ops.phase_docs.plan import PHASE_0

# --- done / stop criteria -------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """A done or stop criterion with its state: met / not met / unverified."""

    text: str
    state: str
    evidence: str


def _from_items(
    text: str, findings: Mapping[str, Finding], ids: Sequence[str], *, stop: bool
) -> Criterion:
    verdicts = {i: findings[i].verdict for i in ids}
    listed = ", ".join(f"{i} {v.value}" for i, v in verdicts.items())
    if stop:
        if any(v is Verdict.NOT_POSSIBLE for v in verdicts.values()):
            return Criterion(text, "met (stop)", listed)
        if all(v in (Verdict.POSSIBLE, Verdict.CONSTRAINED) for v in verdicts.values()):
            return Criterion(text, "not met", listed)
        return Criterion(text, "unverified", listed)
    if all(v in (Verdict.POSSIBLE, Verdict.CONSTRAINED) for v in verdicts.values()):
        return Criterion(text, "met", listed)
    if any(v is Verdict.NOT_POSSIBLE for v in verdicts.values()):
        return Criterion(text, "not met", listed)
    return Criterion(text, "unverified", listed)


def criteria(
    phase: int, ev: Evidence, findings: Mapping[str, Finding]
) -> tuple[list[Criterion], list[Criterion]]:
    """(done criteria, stop criteria) of a phase, each evaluated from the findings."""
    if phase == 0:
        judged = [i.id for i in PHASE_0 if findings[i.id].verdict is not Verdict.UNVERIFIED]
        done = [
            Criterion(
                "all 8 items have a verdict",
                "met" if len(judged) == len(PHASE_0) else "not met",
                f"{len(judged)} of {len(PHASE_0)} judged",
            ),
            _from_items(
                "local `wrangler dev` run confirmed (gate to phase 1)",
                findings,
                ["0-7"],
                stop=False,
            ),
            _from_items(
                "custom tools (ghq, gwq, mcp-grafana, Babashka, Codex CLI) assessed",
                findings,
                ["0-2"],
                stop=False,
            ),
        ]
        stop = [
            _from_items(
                "basic OpenClaw operation (chat + tool run) fails in the Sandbox",
                findings,
                ["0-7"],
                stop=True,
            ),
            _from_items(
                "no amd64 build and multi-arch support too costly", findings, ["0-4"], stop=True
            ),
            _from_items(
                "most custom tools cannot move to the Sandbox", findings, ["0-2"], stop=True
            ),
        ]
        return done, stop
    if phase == 1:
        done = [
            Criterion("reachable at the test hostname", *_reachable_state(ev)),
            Criterion("Cloudflare Access authentication works", *_access_state(ev)),
            Criterion("basic chat reply through Claude", *_manual_state(ev, "1-chat")),
            _from_items("persistence in R2 works", findings, ["0-6"], stop=False),
            Criterion(
                "existing openclaw.<zone> (Kubernetes) unaffected", *_manual_state(ev, "1-k8s")
            ),
        ]
        estimate = estimate_usd(ev)
        if estimate is None:
            cost_stop = Criterion(
                f"Workers Paid + usage above ${BUDGET_USD:.0f}/month expected",
                "unverified",
                "no costEstimate output",
            )
        else:
            cost_stop = Criterion(
                f"Workers Paid + usage above ${BUDGET_USD:.0f}/month expected",
                "met (stop)" if estimate > BUDGET_USD else "not met",
                f"estimate ${estimate:.2f}/month "
                "(enforced at preview by policy `cost-within-budget`)",
            )
        stop = [
            _from_items("deploy fails without a fix", findings, ["1-6"], stop=True),
            cost_stop,
            _from_items("Access and the Worker incompatible", findings, ["1-3"], stop=True),
        ]
        return done, stop
    parity = tool_parity(ev)
    parity_done = Criterion(
        "80% or more of the custom tools work in the Sandbox",
        "unverified" if parity is None else ("met" if parity >= PARITY_THRESHOLD else "not met"),
        "no per-tool results" if parity is None else f"{parity:.0%}",
    )
    measured = measured_monthly_usd(ev)
    cost_stop = Criterion(
        f"monthly cost above ${BUDGET_USD:.0f}",
        "unverified"
        if measured is None
        else ("met (stop)" if measured[0] > BUDGET_USD else "not met"),
        "no measured cost" if measured is None else measured[1],
    )
    done = [
        parity_done,
        Criterion("one week of stable operation", *_manual_state(ev, "2-week")),
        _from_items("go/no-go decision documented", findings, ["2-7"], stop=False),
    ]
    stop = [
        _from_items(
            "main tools (ghq/gwq repository work, mcp-grafana) do not work",
            findings,
            ["2-1", "2-3"],
            stop=True,
        ),
        _from_items("latency 3x the Kubernetes deployment or worse", findings, ["2-5"], stop=True),
        cost_stop,
        _from_items(
            "no DinD alternative; code sandbox severely limited", findings, ["2-4"], stop=True
        ),
    ]
    return done, stop


def _checked_state(ev: Evidence, item_id: str) -> tuple[str, str] | None:
    """A done criterion from a passing evidence entry (e.g. `ops.verify`) when there is no probe."""
    entry = ev.manual.get(item_id)
    if entry is None or entry.verdict is not Verdict.POSSIBLE:
        return None
    return "met", "; ".join((*entry.evidence, entry.source))


def _reachable_state(ev: Evidence) -> tuple[str, str]:
    edge = probe_endpoint(ev, "b")
    if edge is None and (checked := _checked_state(ev, "1-4")) is not None:
        return checked
    if edge is None:
        declared = ev.output("workerUrl")
        note = f"{declared} declared, " if declared else ""
        return "unverified", f"{note}no probe results for endpoint B (--probe)"
    http = edge.get("http", {})
    samples = http.get("samples") or 0
    state = "met" if samples > 0 else "not met"
    return (
        state,
        f"probe: {samples} successful requests to {edge.get('url')} ({http.get('statuses')})",
    )


def _access_state(ev: Evidence) -> tuple[str, str]:
    edge = probe_endpoint(ev, "b")
    check = edge.get("accessCheck") if edge else None
    if edge is None and (checked := _checked_state(ev, "1-3")) is not None:
        return checked
    if not isinstance(check, Mapping) or check.get("enforced") is None:
        return "unverified", "no probe access check for endpoint B (--probe)"
    samples = edge.get("http", {}).get("samples") or 0 if edge else 0
    if not check["enforced"]:
        return "not met", f"request without credentials answered HTTP {check.get('status')}"
    if samples == 0:
        return "unverified", "unauthenticated request refused, but no authenticated request passed"
    return "met", (
        f"without credentials HTTP {check.get('status')}; with the service token "
        f"{samples} requests passed"
    )


def _manual_state(ev: Evidence, key: str) -> tuple[str, str]:
    entry = ev.manual.get(key)
    if entry is None:
        return "unverified", f"no evidence (evidence file entry {key})"
    state = {Verdict.POSSIBLE: "met", Verdict.CONSTRAINED: "met", Verdict.NOT_POSSIBLE: "not met"}
    return state.get(entry.verdict, "unverified"), "; ".join((*entry.evidence, entry.source))
