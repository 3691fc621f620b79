"""`python -m ops.phase_docs`: read the inputs, render the documents into --out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from ops.phase_docs.evidence import (
    PLAN,
    Evidence,
    EvidenceError,
    load_json,
    parse_cost,
    parse_manual,
)
from ops.phase_docs.render import render_all


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
