"""Render the T-20260219-003 phase 0/1/2 checklists from stack outputs and measured evidence.

    pulumi stack output --json > outputs.json
    scripts/with-toolchain python -m ops.phase_docs --outputs outputs.json [--probe probe.json] \
        [--cost cost.json] [--evidence evidence.json] --out docs/project_docs/T-20260219-003/dev/

`--outputs -` reads the JSON from stdin. Each plan item gets one verdict — possible / not
possible / possible with constraints / unverified — and the evidence it rests on. A verdict comes
only from evidence: stack outputs (proof that `pulumi up` declared the resource), the latency
probe's JSON (`python -m ops.latency_probe`), a measured cost file, or an entry in the
evidence file (a verdict with at least one evidence line and its source: reviewed by a person, or
written by the live checks of `python -m ops.verify --json`). Anything else is
"unverified", with what is missing listed. Secret outputs are never rendered.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final, TextIO

from infra.outputs import BUDGET_USD, SECRET_OUTPUTS

PLAN: Final = "T-20260219-003"
OPTIONAL_OUTPUTS: Final = frozenset({"probeAccessClientSecret"})
"""Outputs only some stacks have (`accessProbeServiceToken`): listed when present, never missed."""
SECRET_PLACEHOLDER: Final = "[secret]"  # noqa: S105 - how `pulumi stack output` masks
PARITY_THRESHOLD: Final = 0.8
"""Plan 2-7 / phase 2 done criterion: at least 80% of the custom tools work."""
CUSTOM_TOOLS: Final = ("ghq", "gwq", "mcp-grafana", "Babashka", "Codex CLI")
GENERATED_FILES: Final = ("phase-0.md", "phase-1.md", "phase-2.md", "summary.json")


class Verdict(Enum):
    """The plan's four verdicts (可 / 不可 / 制約付き可 / 未検証)."""

    POSSIBLE = "possible"
    NOT_POSSIBLE = "not possible"
    CONSTRAINED = "possible with constraints"
    UNVERIFIED = "unverified"


class EvidenceError(ValueError):
    """An input file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ManualEntry:
    """A reviewed verdict for one item, from the evidence file."""

    verdict: Verdict
    evidence: tuple[str, ...]
    source: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """Everything a verdict may rest on."""

    outputs: Mapping[str, Any]
    probe: Mapping[str, Any] | None = None
    measured_cost: Mapping[str, Any] | None = None
    manual: Mapping[str, ManualEntry] = field(default_factory=dict)
    repo_root: Path | None = None

    def output(self, name: str) -> Any:
        """A stack output, None when absent or empty; secret outputs are never returned."""
        if name in SECRET_OUTPUTS:
            raise KeyError(f"{name} is a secret output and is never rendered")
        value = self.outputs.get(name)
        if value in (None, "", [], {}):
            return None
        return value

    def secret_present(self, name: str) -> bool:
        """Whether a secret output exists (shown as [secret] by `pulumi stack output --json`)."""
        return self.outputs.get(name) not in (None, "")


@dataclass(frozen=True)
class Finding:
    """A verdict with its evidence, and what would be needed where evidence is missing."""

    verdict: Verdict
    evidence: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """One row of a phase task table in the plan."""

    id: str
    task: str
    method: str
    criterion: str
    judge: Callable[[Evidence], Finding]


def _code(value: Any) -> str:
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def unverified(*missing: str, evidence: Sequence[str] = ()) -> Finding:
    """No verdict: list what is missing (and any partial facts)."""
    return Finding(Verdict.UNVERIFIED, tuple(evidence), tuple(missing))


def _manual_or(
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


def _outputs_judge(
    names: Sequence[str], describe: Callable[[Evidence], list[str]], verdict: Verdict
) -> Callable[[Evidence], Finding]:
    """Judge for items a stack output proves: all `names` present -> `verdict`."""

    def judge(ev: Evidence) -> Finding:
        absent = [n for n in names if ev.output(n) is None]
        if absent:
            return unverified(f"stack outputs {', '.join(absent)}")
        return Finding(verdict, tuple(describe(ev)))

    return judge


def _evidenced(item_id: str, judge: Callable[[Evidence], Finding]) -> Callable[[Evidence], Finding]:
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


def _cost_lines(ev: Evidence) -> list[str]:
    estimate = ev.output("costEstimate")
    if not isinstance(estimate, Mapping):
        return []
    monthly = estimate.get("monthlyUsd")
    always_on = estimate.get("alwaysOnMonthlyUsd")
    worst = estimate.get("worstCaseMonthlyUsd")
    sleep_after = _code(ev.output("sleepAfter"))
    lines = [
        f"cost estimate (model, not a measurement): ${monthly}/month with sleepAfter "
        f"{sleep_after}; always on ${always_on}; worst case (maxInstances 24/7) ${worst}"
    ]
    rates = estimate.get("ratesReadOn")
    if rates:
        lines.append(f"rates read on {rates} from Cloudflare's published pricing (infra/cost.py)")
    return lines


def _estimate_usd(ev: Evidence, key: str = "monthlyUsd") -> float | None:
    estimate = ev.output("costEstimate")
    if not isinstance(estimate, Mapping):
        return None
    value = estimate.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _measured_monthly_usd(ev: Evidence) -> tuple[float, str] | None:
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


def _probe_endpoint(ev: Evidence, key: str) -> Mapping[str, Any] | None:
    if not ev.probe:
        return None
    endpoint = ev.probe.get("endpoints", {}).get(key)
    return endpoint if isinstance(endpoint, Mapping) else None


def _latency_lines(ev: Evidence) -> list[str]:
    lines: list[str] = []
    for key in ("a", "b"):
        endpoint = _probe_endpoint(ev, key)
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
            evidence=[f"{k}: {_code(v)}" for k, v in managed.items() if v is not None],
        )
    lines = [f"{k} declared as a provider resource: {_code(v)}" for k, v in managed.items()]
    lines.append(
        f"Worker {_code(ev.output('workerName'))} with its container and Durable Object is "
        "shipped by `wrangler deploy` through pulumi-command: pulumi-cloudflare has no "
        "Containers/Sandbox resource (6.23: no container application, image or binding)"
    )
    return Finding(Verdict.CONSTRAINED, tuple(lines))


def judge_r2_persistence(ev: Evidence) -> Finding:
    """0-6: a bucket exists (output) and a snapshot/restore was observed (evidence file)."""
    bucket = ev.output("bucketName")
    partial = [f"backup bucket {_code(bucket)} declared by the stack"] if bucket else []
    entry = ev.manual.get("0-6")
    if entry is None:
        return unverified(
            "a restic snapshot and restore observed on the deployment (evidence file entry 0-6, "
            "e.g. GET /_admin/api/backup status or `boot.py snapshots` output)",
            evidence=partial,
        )
    return Finding(entry.verdict, (*partial, *entry.evidence, f"source: {entry.source}"))


def judge_ai_gateway_migration(ev: Evidence) -> Finding:
    """0-5: the gateway and its provider URLs exist; routing parity needs a reviewed comparison."""
    urls = [ev.output(n) for n in ("aiGatewayAnthropicUrl", "aiGatewayOpenaiUrl")]
    partial = [
        f"AI Gateway {_code(ev.output('aiGatewayId'))} provider URL {_code(u)}" for u in urls if u
    ]
    entry = ev.manual.get("0-5")
    if entry is None:
        return unverified(
            "a reviewed comparison of the LiteLLM model routing and key management with AI "
            "Gateway (evidence file entry 0-5)",
            evidence=partial,
        )
    return Finding(entry.verdict, (*partial, *entry.evidence, f"source: {entry.source}"))


def judge_ci(ev: Evidence) -> Finding:
    """1-8: workflows exist in the repository; a successful run is the evidence."""
    partial: list[str] = []
    if ev.repo_root is not None:
        for name in ("pr.yml", "deploy.yml"):
            if (ev.repo_root / ".github" / "workflows" / name).is_file():
                partial.append(f"workflow `.github/workflows/{name}` is defined")
    entry = ev.manual.get("1-8")
    if entry is None:
        return unverified(
            "a successful run of the deploy workflow (evidence file entry 1-8 with the run URL)",
            evidence=partial,
        )
    return Finding(entry.verdict, (*partial, *entry.evidence, f"source: {entry.source}"))


def judge_secrets(ev: Evidence) -> Finding:
    """1-7: SSM stays the source; the Worker secrets set by the stack (names only)."""
    params = ev.output("ssmParameterNames")
    secrets = ev.output("workerSecretNames")
    if not isinstance(params, Mapping) or not isinstance(secrets, list):
        return unverified("stack outputs ssmParameterNames and workerSecretNames")
    lines = [
        f"{len(params)} SSM parameters kept as the source of truth: "
        + ", ".join(_code(v) for _, v in sorted(params.items())),
        f"{len(secrets)} Worker secrets set by `wrangler secret put` (values on stdin): "
        + ", ".join(_code(s) for s in secrets),
    ]
    return Finding(Verdict.POSSIBLE, tuple(lines))


def judge_deploy(ev: Evidence) -> Finding:
    """1-6: outputs exist only after `pulumi up` ran the deploy and secret commands."""
    worker, url = ev.output("workerName"), ev.output("workerUrl")
    secrets = ev.output("workerSecretNames")
    if worker is None or url is None or not isinstance(secrets, list):
        return unverified("stack outputs workerName, workerUrl and workerSecretNames")
    lines = [
        f"Worker {_code(worker)} deployed at {url} by the stack's `wrangler deploy` step",
        f"{len(secrets)} secrets put after the deploy",
        f"OpenClaw {_code(ev.output('openclawVersion'))}, @cloudflare/sandbox "
        f"{_code(ev.output('sandboxVersion'))}, instance type {_code(ev.output('instanceType'))}"
        f" (maxInstances {ev.output('maxInstances')}, sleepAfter {_code(ev.output('sleepAfter'))})",
    ]
    return Finding(Verdict.POSSIBLE, tuple(lines))


def judge_latency(ev: Evidence) -> Finding:
    """2-5: probe ratio against the thresholds; 24 h stability from the evidence file."""
    if not ev.probe:
        return unverified("latency probe JSON (`python -m ops.latency_probe ... --out`, --probe)")
    status = ev.probe.get("verdict", {}).get("status")
    lines = [*_latency_lines(ev), f"probe verdict: {ev.probe.get('verdict', {}).get('detail')}"]
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
    measured = _measured_monthly_usd(ev)
    if measured is None:
        return unverified(
            'a measured cost file (--cost: {"usd": N, "periodDays": 7, "source": ...})',
            evidence=_cost_lines(ev),
        )
    monthly, line = measured
    verdict = Verdict.POSSIBLE if monthly <= BUDGET_USD else Verdict.NOT_POSSIBLE
    return Finding(verdict, (line, *_cost_lines(ev)))


def judge_go_no_go(ev: Evidence) -> Finding:
    """2-7: No-Go on any stop criterion; Go needs parity >= 80%, cost and stability evidence."""
    results = {i.id: i.judge(ev) for i in PHASE_2 if i.id != "2-7"}
    blocking = [k for k, f in results.items() if f.verdict is Verdict.NOT_POSSIBLE]
    lines = [f"{k}: {f.verdict.value}" for k, f in results.items()]
    parity = tool_parity(ev)
    if parity is not None:
        lines.append(f"custom tool parity {parity:.0%} (threshold {PARITY_THRESHOLD:.0%})")
    if blocking:
        return Finding(Verdict.NOT_POSSIBLE, (*lines, f"No-Go: stop criteria hit by {blocking}"))
    pending = [k for k, f in results.items() if f.verdict is Verdict.UNVERIFIED]
    if pending or parity is None:
        return unverified(
            "verdicts for " + ", ".join(pending or ["tool parity (2-1 details.tools)"]),
            evidence=lines,
        )
    if parity < PARITY_THRESHOLD:
        return Finding(Verdict.NOT_POSSIBLE, (*lines, "No-Go: tool parity below 80%"))
    constrained = [k for k, f in results.items() if f.verdict is Verdict.CONSTRAINED]
    if constrained:
        return Finding(Verdict.CONSTRAINED, (*lines, f"Go with constraints from {constrained}"))
    return Finding(Verdict.POSSIBLE, (*lines, "Go"))


def tool_parity(ev: Evidence) -> float | None:
    """Share of custom tools marked working in evidence entry 2-1 (`details.tools`)."""
    entry = ev.manual.get("2-1")
    tools = entry.details.get("tools") if entry else None
    if not isinstance(tools, Mapping) or not tools:
        return None
    working = sum(1 for v in tools.values() if v is True)
    return working / len(tools)


# --- the plan's tables ----------------------------------------------------------------------------

PHASE_0: Final = (
    Item(
        "0-1",
        "Clone cloudflare/moltworker and analyse its layout",
        "`git clone https://github.com/cloudflare/moltworker`",
        "Dockerfile, wrangler.jsonc and src/ understood",
        _manual_or("0-1", "a reviewed analysis of the moltworker layout (evidence file 0-1)"),
    ),
    Item(
        "0-2",
        "Diff against boxp/arch's custom OpenClaw Dockerfile",
        "diff `docker/openclaw/Dockerfile` against moltworker's `Dockerfile`",
        "ghq, gwq, mcp-grafana, Babashka, Codex CLI included in or addable to the image",
        _manual_or("0-2", "the per-tool comparison (evidence file 0-2)"),
    ),
    Item(
        "0-3",
        "Docker (DinD) inside the Sandbox",
        "Cloudflare documentation and community forum",
        "whether `dockerd` starts in the Sandbox; otherwise what sandbox.exec() can replace",
        _manual_or("0-3", "a documented dockerd attempt or Cloudflare statement (evidence 0-3)"),
    ),
    Item(
        "0-4",
        "CPU architecture compatibility",
        "current: ARM64 (Orange Pi); Containers: linux/amd64",
        "ghcr.io/openclaw/openclaw offers an amd64 build",
        _manual_or("0-4", "the image manifest's platforms (evidence file 0-4)"),
    ),
    Item(
        "0-5",
        "LiteLLM -> AI Gateway migration impact",
        "moltworker routes through AI Gateway; today a LiteLLM pod",
        "LiteLLM model routing and key management reproducible in AI Gateway",
        judge_ai_gateway_migration,
    ),
    Item(
        "0-6",
        "Persistence of state in R2",
        "the persistence implementation (here: restic snapshots to R2)",
        "repository caches, .claude/ settings etc. survive a restart via R2",
        judge_r2_persistence,
    ),
    Item(
        "0-7",
        "Local run with `wrangler dev`",
        "start locally and check a basic chat reply",
        "container cold start -> OpenClaw start -> chat reply works end to end",
        _manual_or("0-7", "a recorded local chat round trip (`make dev`, evidence file 0-7)"),
    ),
    Item(
        "0-8",
        "What the IaC provider can manage",
        "provider documentation (here: pulumi-cloudflare 6.23)",
        "DNS, Access, R2, AI Gateway as code; Worker script yes; container binding unverified",
        judge_iac_coverage,
    ),
)

PHASE_1: Final = (
    Item(
        "1-1",
        "R2 bucket as code",
        "Pulumi `cloudflare.R2Bucket` (plan: r2.tf)",
        "bucket declared and deployed",
        _evidenced(
            "1-1",
            _outputs_judge(
                ["bucketName"],
                lambda ev: [f"bucket {_code(ev.output('bucketName'))}"],
                Verdict.POSSIBLE,
            ),
        ),
    ),
    Item(
        "1-2",
        "AI Gateway as code",
        "Pulumi `cloudflare.AiGateway` (plan: ai_gateway.tf)",
        "gateway declared; plan marked provider support unverified",
        _outputs_judge(
            ["aiGatewayId", "aiGatewayBaseUrl"],
            lambda ev: [
                f"gateway {_code(ev.output('aiGatewayId'))} at {ev.output('aiGatewayBaseUrl')}"
            ],
            Verdict.POSSIBLE,
        ),
    ),
    Item(
        "1-3",
        "Cloudflare Access for the new endpoint",
        "Access application + policy",
        "Access application covering the test hostname",
        _evidenced(
            "1-3",
            _outputs_judge(
                ["accessApplicationId", "accessAud", "accessTeamDomain"],
                lambda ev: [
                    f"application {_code(ev.output('accessApplicationId'))}, AUD "
                    f"{_code(ev.output('accessAud'))}, team domain "
                    f"{_code(ev.output('accessTeamDomain'))}",
                    "coverage of the Worker hostname is enforced by the policy "
                    "`access-covers-worker-hostname` at preview",
                ],
                Verdict.POSSIBLE,
            ),
        ),
    ),
    Item(
        "1-4",
        "Test subdomain",
        "Workers custom domain (plan: dns.tf)",
        "e.g. moltworker.<zone>; the existing openclaw.<zone> unchanged",
        _evidenced(
            "1-4",
            _outputs_judge(
                ["hostname", "workerUrl"],
                lambda ev: [f"hostname {_code(ev.output('hostname'))} -> {ev.output('workerUrl')}"],
                Verdict.POSSIBLE,
            ),
        ),
    ),
    Item(
        "1-5",
        "Where the Wrangler project lives",
        "decision",
        "in-repo vs separate repository; integration with IaC decided",
        _outputs_judge(
            ["workerName"],
            lambda ev: [
                "decided: `worker/` and `container/` live beside the Pulumi "
                "program; the stack renders wrangler.jsonc from its config and "
                f"deploys Worker {_code(ev.output('workerName'))}"
            ],
            Verdict.POSSIBLE,
        ),
    ),
    Item(
        "1-6",
        "First deploy (wrangler deploy + secret put)",
        "`pulumi up` (runs wrangler)",
        "Worker, container and secrets deployed",
        _evidenced("1-6", judge_deploy),
    ),
    Item(
        "1-7",
        "Existing secrets into Workers Secrets",
        "SSM stays; values copied",
        "ANTHROPIC_API_KEY, DISCORD_BOT_TOKEN, ... set as Worker secrets",
        _evidenced("1-7", judge_secrets),
    ),
    Item(
        "1-8",
        "CI/CD pipeline",
        "GitHub Actions running the deploy",
        "deploy runs from GitHub Actions",
        judge_ci,
    ),
)

PHASE_2: Final = (
    Item(
        "2-1",
        "Custom tools in the Sandbox",
        "add " + ", ".join(CUSTOM_TOOLS) + " to the image",
        "each tool works inside the Sandbox",
        _manual_or("2-1", "per-tool results (evidence file 2-1 with details.tools)"),
    ),
    Item(
        "2-2",
        "Discord bot integration",
        "configure the Discord channel",
        "existing Discord bot features work",
        lambda ev: _manual_or(
            "2-2",
            "a recorded Discord exchange (evidence file 2-2)",
            ["DISCORD_BOT_TOKEN is set as a Worker secret"]
            if "DISCORD_BOT_TOKEN" in (ev.output("workerSecretNames") or [])
            else [],
        )(ev),
    ),
    Item(
        "2-3",
        "mcp-grafana integration",
        "reach the Grafana API from the Sandbox",
        "dashboards and metrics readable",
        _manual_or("2-3", "a recorded mcp-grafana query (evidence file 2-3)"),
    ),
    Item(
        "2-4",
        "DinD alternative",
        "Sandbox SDK exec instead of docker build/run",
        "what exec() can replace is identified",
        _manual_or("2-4", "the list of replaced Docker uses (evidence file 2-4)"),
    ),
    Item(
        "2-5",
        "Performance against the Kubernetes deployment",
        "latency probe (`python -m ops.latency_probe`) + 24 h run",
        "latency within 2x of Kubernetes; 24 h continuous operation (stop at 3x)",
        judge_latency,
    ),
    Item("2-6", "Measured cost", "one week of real use", "<= $50/month", judge_cost),
    Item(
        "2-7",
        "Production go/no-go",
        "overall phase 2 results",
        "tool parity >= 80% + cost acceptable + stability confirmed",
        judge_go_no_go,
    ),
)

PHASES: Final = {0: PHASE_0, 1: PHASE_1, 2: PHASE_2}
PHASE_TITLES: Final = {
    0: "Phase 0 - evaluate moltworker and verify locally",
    1: "Phase 1 - peripheral infrastructure as code and first deploy",
    2: "Phase 2 - customise and decide production migration",
}


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
        estimate = _estimate_usd(ev)
        if estimate is None:
            cost_stop = Criterion(
                "Workers Paid + usage above $50/month expected",
                "unverified",
                "no costEstimate output",
            )
        else:
            cost_stop = Criterion(
                "Workers Paid + usage above $50/month expected",
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
    measured = _measured_monthly_usd(ev)
    cost_stop = Criterion(
        "monthly cost above $50",
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
    edge = _probe_endpoint(ev, "b")
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
    edge = _probe_endpoint(ev, "b")
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


# --- rendering ------------------------------------------------------------------------------------


def _facts(ev: Evidence) -> list[tuple[str, str]]:
    names = (
        "environment",
        "workerUrl",
        "hostname",
        "workerName",
        "accessAud",
        "accessTeamDomain",
        "accessApplicationId",
        "bucketName",
        "aiGatewayId",
        "aiGatewayBaseUrl",
        "instanceType",
        "maxInstances",
        "sleepAfter",
        "openclawVersion",
        "sandboxVersion",
        "debugRoutes",
    )
    rows = [
        (n, "unverified (not in outputs)" if ev.output(n) is None else _code(ev.output(n)))
        for n in names
    ]
    for secret in sorted(SECRET_OUTPUTS):
        if secret in OPTIONAL_OUTPUTS and not ev.secret_present(secret):
            continue
        rows.append(
            (
                secret,
                SECRET_PLACEHOLDER if ev.secret_present(secret) else "unverified (not in outputs)",
            )
        )
    estimate = _estimate_usd(ev)
    rows.append(
        (
            "costEstimate.monthlyUsd",
            "unverified (not in outputs)" if estimate is None else f"${estimate:.2f}",
        )
    )
    return rows


def render_phase(phase: int, ev: Evidence, sources: Mapping[str, str], sample: bool) -> str:
    """Markdown of one phase document."""
    findings = {item.id: item.judge(ev) for items in PHASES.values() for item in items}
    lines = [f"# {PLAN} {PHASE_TITLES[phase]}", ""]
    lines.append(
        "Generated by `python -m ops.phase_docs`; do not edit by hand (see README.md here). "
        "Verdicts come only from the sources below; an item without evidence is `unverified`."
    )
    lines.append("")
    if sample:
        lines += [
            "> **SAMPLE**: rendered from example outputs (`sample-outputs.json`), not from a real "
            "stack. Its verdicts show the format only and are not evidence.",
            "",
        ]
    lines += ["Sources:", ""]
    lines += [f"- {kind}: {value}" for kind, value in sources.items()]
    lines += ["", "## Summary", "", "| # | task | verdict |", "|---|---|---|"]
    for item in PHASES[phase]:
        lines.append(f"| {item.id} | {item.task} | **{findings[item.id].verdict.value}** |")
    own = [findings[item.id] for item in PHASES[phase]]
    counts = {v: sum(1 for f in own if f.verdict is v) for v in Verdict}
    lines += ["", "Totals: " + ", ".join(f"{v.value} {n}" for v, n in counts.items()), ""]
    if phase in {0, 1}:
        lines += ["## Stack facts", "", "| output | value |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in _facts(ev)]
        lines.append("")
    if phase in (1, 2):
        cost = _cost_lines(ev)
        lines += ["## Cost", ""]
        lines += [f"- {c}" for c in cost] if cost else ["- unverified: no costEstimate output"]
        measured = _measured_monthly_usd(ev)
        lines.append(
            f"- {measured[1]}" if measured else "- measured cost: unverified (no --cost file)"
        )
        lines.append("")
    if phase == 2:
        lines += ["## Latency (plan 2-5)", ""]
        latency = _latency_lines(ev)
        lines += (
            [f"- {x}" for x in latency] if latency else ["- unverified: no probe results (--probe)"]
        )
        lines.append("")
    lines += ["## Items", ""]
    for item in PHASES[phase]:
        finding = findings[item.id]
        lines += [
            f"### {item.id} {item.task}",
            "",
            f"- Check: {item.method}",
            f"- Criterion: {item.criterion}",
            f"- Verdict: **{finding.verdict.value}**",
        ]
        if finding.evidence:
            lines.append("- Evidence:")
            lines += [f"  - {e}" for e in finding.evidence]
        else:
            lines.append("- Evidence: none")
        if finding.missing:
            lines.append("- Missing: " + "; ".join(finding.missing))
        lines.append("")
    done, stop = criteria(phase, ev, findings)
    for title, rows in (("Done criteria", done), ("Stop criteria", stop)):
        lines += [f"## {title}", "", "| criterion | state | evidence |", "|---|---|---|"]
        lines += [f"| {c.text} | {c.state} | {c.evidence} |" for c in rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def summary(ev: Evidence) -> dict[str, Any]:
    """Machine-readable verdicts of every item."""
    return {
        "plan": PLAN,
        "items": {
            item.id: {
                "verdict": (f := item.judge(ev)).verdict.value,
                "evidence": list(f.evidence),
                "missing": list(f.missing),
            }
            for phase in PHASES.values()
            for item in phase
        },
    }


# --- inputs ---------------------------------------------------------------------------------------


def load_json(path: str, stdin: TextIO = sys.stdin) -> Any:
    """JSON from a file, or stdin for `-`."""
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise EvidenceError(f"{path}: {exc}") from exc


def parse_manual(data: Any, origin: str) -> dict[str, ManualEntry]:
    """Evidence file: {"0-1": {"verdict": "...", "evidence": ["..."], "source": "..."}}."""
    if not isinstance(data, Mapping):
        raise EvidenceError(f"{origin}: expected an object keyed by item id")
    by_value = {v.value: v for v in Verdict}
    entries: dict[str, ManualEntry] = {}
    for key, raw in data.items():
        if str(key).startswith("$"):
            continue
        if not isinstance(raw, Mapping):
            raise EvidenceError(f"{origin}: entry {key} must be an object")
        verdict = by_value.get(str(raw.get("verdict")))
        evidence = raw.get("evidence")
        source = raw.get("source")
        if verdict is None:
            raise EvidenceError(f"{origin}: entry {key} verdict must be one of {sorted(by_value)}")
        if (
            not isinstance(evidence, list)
            or not evidence
            or not all(isinstance(e, str) and e.strip() for e in evidence)
        ):
            raise EvidenceError(f"{origin}: entry {key} needs a non-empty evidence list of strings")
        if not isinstance(source, str) or not source.strip():
            raise EvidenceError(f"{origin}: entry {key} needs a source (who checked, where, when)")
        details = raw.get("details")
        entries[str(key)] = ManualEntry(
            verdict, tuple(evidence), source, details if isinstance(details, Mapping) else {}
        )
    return entries


def parse_cost(data: Any, origin: str) -> Mapping[str, Any]:
    """Measured cost file: {"usd": 7.40, "periodDays": 7, "source": "..."}; a bad one is an
    error, never a silently "missing" measurement."""
    expected = 'expected {"usd": N, "periodDays": N, "source": "..."}'
    if not isinstance(data, Mapping):
        raise EvidenceError(f"{origin}: {expected}")
    for key, minimum in (("usd", 0.0), ("periodDays", None)):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EvidenceError(f"{origin}: {key} must be a number, got {value!r}; {expected}")
        if (minimum is not None and value < minimum) or (minimum is None and value <= 0):
            limit = "0 or more" if minimum is not None else "more than 0"
            raise EvidenceError(f"{origin}: {key} must be {limit}, got {value!r}")
    if not isinstance(data.get("source", ""), str):
        raise EvidenceError(f"{origin}: source must be a string (where the figure comes from)")
    return data


def render_all(
    ev: Evidence, out: Path, sources: Mapping[str, str], sample: bool = False
) -> list[Path]:
    """Write phase-0/1/2.md and summary.json into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for phase in PHASES:
        path = out / f"phase-{phase}.md"
        path.write_text(render_phase(phase, ev, sources, sample), encoding="utf-8")
        written.append(path)
    path = out / "summary.json"
    path.write_text(json.dumps(summary(ev), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    return written


def main(argv: Sequence[str] | None = None, stdin: TextIO = sys.stdin) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.phase_docs",
        description=f"Render the {PLAN} phase documents from `pulumi stack output --json`.",
    )
    parser.add_argument("--outputs", required=True, help="stack outputs JSON file, or - for stdin")
    parser.add_argument("--probe", help="latency probe JSON (python -m ops.latency_probe --out)")
    parser.add_argument(
        "--cost", help='measured cost JSON: {"usd": N, "periodDays": 7, "source": ...}'
    )
    parser.add_argument("--evidence", help="reviewed evidence JSON keyed by item id")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--sample", action="store_true", help="mark the documents as a sample")
    parser.add_argument("--repo-root", type=Path, default=Path.cwd(), help="repository root")
    args = parser.parse_args(argv)
    if (args.out / "sample-outputs.json").is_file() and not args.sample:
        print(
            f"phase_docs: {args.out} holds the committed SAMPLE documents (sample-outputs.json); "
            "render a real stack into a folder of its own, e.g. "
            f"--out {args.out / '<stack>'}/ (or pass --sample to regenerate the sample)",
            file=sys.stderr,
        )
        return 2
    from ops.writable import output_problem

    if problem := output_problem(args.out, directory=True):
        print(f"phase_docs: --out {problem}", file=sys.stderr)
        return 2
    try:
        outputs = load_json(args.outputs, stdin)
        if not isinstance(outputs, Mapping):
            raise EvidenceError(
                f"{args.outputs}: expected the JSON object of `pulumi stack output --json`"
            )
        probe = load_json(args.probe) if args.probe else None
        cost = parse_cost(load_json(args.cost), args.cost) if args.cost else None
        manual = parse_manual(load_json(args.evidence), args.evidence) if args.evidence else {}
    except EvidenceError as exc:
        print(f"phase_docs: {exc}", file=sys.stderr)
        return 2
    if probe is not None and (
        not isinstance(probe, Mapping) or probe.get("schema") != "openclaw-edge/latency-probe/1"
    ):
        print(f"phase_docs: {args.probe}: not a latency probe document", file=sys.stderr)
        return 2
    sources = {
        "stack outputs": "stdin" if args.outputs == "-" else f"`{Path(args.outputs).name}`",
        "latency probe": f"`{Path(args.probe).name}`" if args.probe else "none",
        "measured cost": f"`{Path(args.cost).name}`" if args.cost else "none",
        "reviewed evidence": f"`{Path(args.evidence).name}`" if args.evidence else "none",
    }
    ev = Evidence(outputs, probe, cost, manual, args.repo_root)
    for path in render_all(ev, args.out, sources, args.sample):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
