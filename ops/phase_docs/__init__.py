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

The package, in the order a verdict is made:
- `evidence`: the plan's constants, the evidence model (`Evidence`, `Verdict`, `Finding`, `Item`)
  and the readers of the input files;
- `judges`: judge factories and the judges of items that combine sources;
- `plan`: the phase tables (one `Item` per plan row, with its judge) and the go/no-go judge;
- `criteria`: each phase's done and stop criteria;
- `render`: the Markdown documents and summary.json;
- `cli`: `main`, what `python -m ops.phase_docs` runs.
A new plan item is one `Item(...)` row in `plan`, with a judge from `judges` (or `manual_or`).
"""

from infra.outputs import BUDGET_USD, SECRET_OUTPUTS
from ops.phase_docs.cli import main
from ops.phase_docs.criteria import Criterion, criteria
from ops.phase_docs.evidence import (
    CUSTOM_TOOLS,
    GENERATED_FILES,
    OPTIONAL_OUTPUTS,
    PARITY_THRESHOLD,
    PLAN,
    SECRET_PLACEHOLDER,
    Evidence,
    EvidenceError,
    Finding,
    Item,
    ManualEntry,
    Verdict,
    load_json,
    parse_cost,
    parse_manual,
)
from ops.phase_docs.judges import tool_parity, unverified
from ops.phase_docs.plan import PHASE_0, PHASE_1, PHASE_2, PHASE_TITLES, PHASES
from ops.phase_docs.render import render_all, render_phase, summary

__all__ = [
    "BUDGET_USD",
    "CUSTOM_TOOLS",
    "GENERATED_FILES",
    "OPTIONAL_OUTPUTS",
    "PARITY_THRESHOLD",
    "PHASES",
    "PHASE_0",
    "PHASE_1",
    "PHASE_2",
    "PHASE_TITLES",
    "PLAN",
    "SECRET_OUTPUTS",
    "SECRET_PLACEHOLDER",
    "Criterion",
    "Evidence",
    "EvidenceError",
    "Finding",
    "Item",
    "ManualEntry",
    "Verdict",
    "criteria",
    "load_json",
    "main",
    "parse_cost",
    "parse_manual",
    "render_all",
    "render_phase",
    "summary",
    "tool_parity",
    "unverified",
]
