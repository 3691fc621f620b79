"""How each plan item is judged from the evidence: judge factories, fact lines rendered from
outputs and the probe, and the judges of items that combine sources."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from infra.outputs import BUDGET_USD
from ops.phase_docs.evidence import Evidence, Finding, Verdict


def code(value: Any) -> str:
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def unverified(*missing: str, evidence: Sequence[str] = ()) -> Finding:
    """No verdict: list what is missing (and any partial facts)."""
    return Finding(Verdict.UNVERIFIED, tuple(evidence), tuple(missing))


def manual_or(
    item_id: str, missing: str, partial: Sequence[str] = ()
) -> Callable[[Evidence], Finding]:
    """Judge for items only a person can establish: the evidence file's entry, or unverified."""

    def judge(ev: Evidence) -> Finding:
        entry = ev.manual.get(item_id)
        facts = [line for line in partial if line]
        if entry is None:
            return unverified(missing, evidence=facts)
        return Finding(entry.verdict, (*facts, *entry.evidence, f"source: {entry.source}"))

    return judge


def outputs_judge(
    names: Sequence[str], describe: Callable[[Evidence], list[str]], verdict: Verdict
) -> Callable[[Evidence], Finding]:
    """Judge for items a stack output proves: all `names` present -> `verdict`."""

    def judge(ev: Evidence) -> Finding:
        absent = [n for n in names if ev.output(n) is None]
        if absent:
            return unverified(f"stack outputs {', '.join(absent)}")
        return Finding(verdict, tuple(describe(ev)))

    return judge


def evidenced(item_id: str, judge: Callable[[Evidence], Finding]) -> Callable[[Evidence], Finding]:
    """An outputs-based judge that an evidence entry (e.g. a live `ops.verify` check) decides.

    The declaration stays as evidence; the entry's verdict wins, so a failed live check turns a
    declared-only "possible" into "unverified" with the failure listed.
    """

    def judged(ev: Evidence) -> Finding:
        finding = judge(ev)
        entry = ev.manual.get(item_id)
        if entry is None:
            return finding
        lines = (*finding.evidence, *entry.evidence, f"source: {entry.source}")
        if entry.verdict is Verdict.UNVERIFIED:
            return Finding(
                Verdict.UNVERIFIED, lines, (*finding.missing, f"a passing check ({item_id})")
            )
        return Finding(entry.verdict, lines)

    return judged


# --- facts rendered from outputs ------------------------------------------------------------------


def cost_lines(ev: Evidence) -> list[str]:
    estimate = ev.output("costEstimate")
    if not isinstance(estimate, Mapping):
        return []
    monthly = estimate.get("monthlyUsd")
    always_on = estimate.get("alwaysOnMonthlyUsd")
    worst = estimate.get("worstCaseMonthlyUsd")
    sleep_after = code(ev.output("sleepAfter"))
    lines = [
        f"cost estimate (model, not a measurement): ${monthly}/month with sleepAfter "
        f"{sleep_after}; always on ${always_on}; worst case (maxInstances 24/7) ${worst}"
    ]
    rates = estimate.get("ratesReadOn")
    if rates:
        lines.append(f"rates read on {rates} from Cloudflare's published pricing (infra/cost.py)")
    return lines


def estimate_usd(ev: Evidence, key: str = "monthlyUsd") -> float | None:
    estimate = ev.output("costEstimate")
    if not isinstance(estimate, Mapping):
        return None
    value = estimate.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def measured_monthly_usd(ev: Evidence) -> tuple[float, str] | None:
    cost = ev.measured_cost
    if not cost:
        return None
    usd, days = cost.get("usd"), cost.get("periodDays")
    if not isinstance(usd, int | float) or not isinstance(days, int | float) or days <= 0:
        return None
    monthly = float(usd) * 30 / float(days)
    return monthly, (
        f"measured ${float(usd):.2f} over {days:g} days (= ${monthly:.2f}/month), "
        f"source: {cost.get('source', 'unspecified')}"
    )


def probe_endpoint(ev: Evidence, key: str) -> Mapping[str, Any] | None:
    if not ev.probe:
        return None
    endpoint = ev.probe.get("endpoints", {}).get(key)
    return endpoint if isinstance(endpoint, Mapping) else None


def latency_lines(ev: Evidence) -> list[str]:
    lines: list[str] = []
    for key in ("a", "b"):
        endpoint = probe_endpoint(ev, key)
        if endpoint is None:
            continue
        http = endpoint.get("http", {})
        health = endpoint.get("ws", {}).get("health", {})
        label = f"{endpoint.get('label', key)} ({endpoint.get('url', '?')})"
        lines.append(
            f"{label}: HTTP status p50/p95/p99 {http.get('p50')}/{http.get('p95')}/"
            f"{http.get('p99')} ms (n={http.get('samples')}); WebSocket health RPC p50/p95/p99 "
            f"{health.get('p50')}/{health.get('p95')}/{health.get('p99')} ms "
            f"(n={health.get('samples')})"
        )
        cold = endpoint.get("coldStart")
        if isinstance(cold, Mapping):
            label_text = endpoint.get("label", key)
            waited, ms, attempts = cold.get("waitedSeconds"), cold.get("ms"), cold.get("attempts")
            lines.append(
                f"{label_text} cold start after {waited} s idle: {ms} ms ({attempts} attempts)"
            )
    if ev.probe:
        ratios = ev.probe.get("ratios", {})
        ratio_text = ", ".join(f"{k} {v}" for k, v in ratios.items())
        lines.append(f"ratio B/A: {ratio_text}; probe started {ev.probe.get('startedAt')}")
    return lines


# --- item judges that combine sources -------------------------------------------------------------


def judge_iac_coverage(ev: Evidence) -> Finding:
    """0-8: what the stack manages as provider resources vs. through wrangler."""
    managed = {
        "R2 bucket": ev.output("bucketName"),
        "Access application": ev.output("accessApplicationId"),
        "hostname (Workers custom domain)": ev.output("hostname"),
        "AI Gateway": ev.output("aiGatewayId"),
    }
    absent = [k for k, v in managed.items() if v is None]
    if absent or ev.output("workerName") is None:
        return unverified(
            "stack outputs for " + ", ".join(absent or ["workerName"]),
            evidence=[f"{k}: {code(v)}" for k, v in managed.items() if v is not None],
        )
    lines = [f"{k} declared as a provider resource: {code(v)}" for k, v in managed.items()]
    lines.append(
        f"Worker {code(ev.output('workerName'))} with its container and Durable Object is "
        "shipped by `wrangler deploy` through pulumi-command: pulumi-cloudflare has no "
        "Containers/Sandbox resource (6.23: no container application, image or binding)"
    )
    return Finding(Verdict.CONSTRAINED, tuple(lines))


def judge_r2_persistence(ev: Evidence) -> Finding:
    """0-6: a bucket exists (output) and a snapshot/restore was observed (evidence file)."""
    bucket = ev.output("bucketName")
    return manual_or(
        "0-6",
        "a restic snapshot and restore observed on the deployment (evidence file entry 0-6, "
        "e.g. GET /_admin/api/backup status or `boot.py snapshots` output)",
        [f"backup bucket {code(bucket)} declared by the stack"] if bucket else [],
    )(ev)


def judge_ai_gateway_migration(ev: Evidence) -> Finding:
    """0-5: the gateway and its provider URLs exist; routing parity needs a reviewed comparison."""
    urls = [ev.output(n) for n in ("aiGatewayAnthropicUrl", "aiGatewayOpenaiUrl")]
    return manual_or(
        "0-5",
        "a reviewed comparison of the LiteLLM model routing and key management with AI "
        "Gateway (evidence file entry 0-5)",
        [f"AI Gateway {code(ev.output('aiGatewayId'))} provider URL {code(u)}" for u in urls if u],
    )(ev)


def judge_ci(ev: Evidence) -> Finding:
    """1-8: workflows exist in the repository; a successful run is the evidence."""
    partial: list[str] = []
    if ev.repo_root is not None:
        for name in ("pr.yml", "deploy.yml"):
            if (ev.repo_root / ".github" / "workflows" / name).is_file():
                partial.append(f"workflow `.github/workflows/{name}` is defined")
    return manual_or(
        "1-8",
        "a successful run of the deploy workflow (evidence file entry 1-8 with the run URL)",
        partial,
    )(ev)


def judge_secrets(ev: Evidence) -> Finding:
    """1-7: SSM stays the source; the Worker secrets set by the stack (names only)."""
    params = ev.output("ssmParameterNames")
    secrets = ev.output("workerSecretNames")
    if not isinstance(params, Mapping) or not isinstance(secrets, list):
        return unverified("stack outputs ssmParameterNames and workerSecretNames")
    lines = [
        f"{len(params)} SSM parameters kept as the source of truth: "
        + ", ".join(code(v) for _, v in sorted(params.items())),
        f"{len(secrets)} Worker secrets set by one `wrangler secret bulk` (values on stdin): "
        + ", ".join(code(s) for s in secrets),
    ]
    return Finding(Verdict.POSSIBLE, tuple(lines))


def judge_deploy(ev: Evidence) -> Finding:
    """1-6: outputs exist only after `pulumi up` ran the deploy and secret commands."""
    worker, url = ev.output("workerName"), ev.output("workerUrl")
    secrets = ev.output("workerSecretNames")
    if worker is None or url is None or not isinstance(secrets, list):
        return unverified("stack outputs workerName, workerUrl and workerSecretNames")
    lines = [
        f"Worker {code(worker)} deployed at {url} by the stack's `wrangler deploy` step",
        f"{len(secrets)} secrets put after the deploy",
        f"OpenClaw {code(ev.output('openclawVersion'))}, @cloudflare/sandbox "
        f"{code(ev.output('sandboxVersion'))}, instance type {code(ev.output('instanceType'))}"
        f" (maxInstances {ev.output('maxInstances')}, sleepAfter {code(ev.output('sleepAfter'))})",
    ]
    return Finding(Verdict.POSSIBLE, tuple(lines))


def judge_latency(ev: Evidence) -> Finding:
    """2-5: probe ratio against the thresholds; 24 h stability from the evidence file."""
    if not ev.probe:
        return unverified("latency probe JSON (`python -m ops.latency_probe ... --out`, --probe)")
    status = ev.probe.get("verdict", {}).get("status")
    lines = [*latency_lines(ev), f"probe verdict: {ev.probe.get('verdict', {}).get('detail')}"]
    stability = ev.manual.get("2-5")
    if stability is not None:
        lines.extend([*stability.evidence, f"source: {stability.source}"])
    if status == "stop":
        return Finding(Verdict.NOT_POSSIBLE, tuple(lines))
    if status == "over":
        return Finding(Verdict.CONSTRAINED, (*lines, "latency above 2x (criterion not met)"))
    if status != "within":
        return unverified("latency measured on both endpoints", evidence=lines)
    if stability is not None and stability.verdict is Verdict.POSSIBLE:
        return Finding(Verdict.POSSIBLE, tuple(lines))
    return Finding(
        Verdict.CONSTRAINED,
        (*lines, "24 h continuous operation not evidenced (evidence file entry 2-5)"),
    )


def judge_cost(ev: Evidence) -> Finding:
    """2-6: one week of measured cost scaled to a month, against $50."""
    measured = measured_monthly_usd(ev)
    if measured is None:
        return unverified(
            'a measured cost file (--cost: {"usd": N, "periodDays": 7, "source": ...})',
            evidence=cost_lines(ev),
        )
    monthly, line = measured
    verdict = Verdict.POSSIBLE if monthly <= BUDGET_USD else Verdict.NOT_POSSIBLE
    return Finding(verdict, (line, *cost_lines(ev)))


def tool_parity(ev: Evidence) -> float | None:
    """Share of custom tools marked working in evidence entry 2-1 (`details.tools`)."""
    entry = ev.manual.get("2-1")
    tools = entry.details.get("tools") if entry else None
    if not isinstance(tools, Mapping) or not tools:
        return None
    working = sum(1 for v in tools.values() if v is True)
    return working / len(tools)
