"""The plan's phase tables (T-20260219-003): every item with its check, criterion and judge."""

from __future__ import annotations

from typing import Final

from infra.outputs import BUDGET_USD
from ops.phase_docs.evidence import CUSTOM_TOOLS, PARITY_THRESHOLD, Evidence, Finding, Item, Verdict
from ops.phase_docs.judges import (
    code,
    evidenced,
    judge_ai_gateway_migration,
    judge_ci,
    judge_cost,
    judge_deploy,
    judge_iac_coverage,
    judge_latency,
    judge_r2_persistence,
    judge_secrets,
    manual_or,
    outputs_judge,
    tool_parity,
    unverified,
)


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


# --- the plan's tables ----------------------------------------------------------------------------

PHASE_0: Final = (
    Item(
        "0-1",
        "Clone cloudflare/moltworker and analyse its layout",
        "`git clone https://github.com/cloudflare/moltworker`",
        "Dockerfile, wrangler.jsonc and src/ understood",
        manual_or("0-1", "a reviewed analysis of the moltworker layout (evidence file 0-1)"),
    ),
    Item(
        "0-2",
        "Diff against boxp/arch's custom OpenClaw Dockerfile",
        "diff `docker/openclaw/Dockerfile` against moltworker's `Dockerfile`",
        "ghq, gwq, mcp-grafana, Babashka, Codex CLI included in or addable to the image",
        manual_or("0-2", "the per-tool comparison (evidence file 0-2)"),
    ),
    Item(
        "0-3",
        "Docker (DinD) inside the Sandbox",
        "Cloudflare documentation and community forum",
        "whether `dockerd` starts in the Sandbox; otherwise what sandbox.exec() can replace",
        manual_or("0-3", "a documented dockerd attempt or Cloudflare statement (evidence 0-3)"),
    ),
    Item(
        "0-4",
        "CPU architecture compatibility",
        "current: ARM64 (Orange Pi); Containers: linux/amd64",
        "ghcr.io/openclaw/openclaw offers an amd64 build",
        manual_or("0-4", "the image manifest's platforms (evidence file 0-4)"),
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
        manual_or("0-7", "a recorded local chat round trip (`make dev`, evidence file 0-7)"),
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
        evidenced(
            "1-1",
            outputs_judge(
                ["bucketName"],
                lambda ev: [f"bucket {code(ev.output('bucketName'))}"],
                Verdict.POSSIBLE,
            ),
        ),
    ),
    Item(
        "1-2",
        "AI Gateway as code",
        "Pulumi `cloudflare.AiGateway` (plan: ai_gateway.tf)",
        "gateway declared; plan marked provider support unverified",
        outputs_judge(
            ["aiGatewayId", "aiGatewayBaseUrl"],
            lambda ev: [
                f"gateway {code(ev.output('aiGatewayId'))} at {ev.output('aiGatewayBaseUrl')}"
            ],
            Verdict.POSSIBLE,
        ),
    ),
    Item(
        "1-3",
        "Cloudflare Access for the new endpoint",
        "Access application + policy",
        "Access application covering the test hostname",
        evidenced(
            "1-3",
            outputs_judge(
                ["accessApplicationId", "accessAud", "accessTeamDomain"],
                lambda ev: [
                    f"application {code(ev.output('accessApplicationId'))}, AUD "
                    f"{code(ev.output('accessAud'))}, team domain "
                    f"{code(ev.output('accessTeamDomain'))}",
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
        evidenced(
            "1-4",
            outputs_judge(
                ["hostname", "workerUrl"],
                lambda ev: [f"hostname {code(ev.output('hostname'))} -> {ev.output('workerUrl')}"],
                Verdict.POSSIBLE,
            ),
        ),
    ),
    Item(
        "1-5",
        "Where the Wrangler project lives",
        "decision",
        "in-repo vs separate repository; integration with IaC decided",
        outputs_judge(
            ["workerName"],
            lambda ev: [
                "decided: `worker/` and `container/` live beside the Pulumi "
                "program; the stack renders wrangler.jsonc from its config and "
                f"deploys Worker {code(ev.output('workerName'))}"
            ],
            Verdict.POSSIBLE,
        ),
    ),
    Item(
        "1-6",
        "First deploy (wrangler deploy + secret bulk)",
        "`pulumi up` (runs wrangler)",
        "Worker, container and secrets deployed",
        evidenced("1-6", judge_deploy),
    ),
    Item(
        "1-7",
        "Existing secrets into Workers Secrets",
        "SSM stays; values copied",
        "ANTHROPIC_API_KEY, DISCORD_BOT_TOKEN, ... set as Worker secrets",
        evidenced("1-7", judge_secrets),
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
        manual_or("2-1", "per-tool results (evidence file 2-1 with details.tools)"),
    ),
    Item(
        "2-2",
        "Discord bot integration",
        "configure the Discord channel",
        "existing Discord bot features work",
        lambda ev: manual_or(
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
        manual_or("2-3", "a recorded mcp-grafana query (evidence file 2-3)"),
    ),
    Item(
        "2-4",
        "DinD alternative",
        "Sandbox SDK exec instead of docker build/run",
        "what exec() can replace is identified",
        manual_or("2-4", "the list of replaced Docker uses (evidence file 2-4)"),
    ),
    Item(
        "2-5",
        "Performance against the Kubernetes deployment",
        "latency probe (`python -m ops.latency_probe`) + 24 h run",
        "latency within 2x of Kubernetes; 24 h continuous operation (stop at 3x)",
        judge_latency,
    ),
    Item("2-6", "Measured cost", "one week of real use", f"<= ${BUDGET_USD:.0f}/month", judge_cost),
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
