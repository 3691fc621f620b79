"""What a verdict rests on: the plan's constants, the evidence model and the input files
(stack outputs, evidence entries, a measured cost) read into it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final, TextIO

from infra.outputs import PROBE_ACCESS_CLIENT_SECRET, SECRET_OUTPUTS

PLAN: Final = "T-20260219-003"
OPTIONAL_OUTPUTS: Final = frozenset({PROBE_ACCESS_CLIENT_SECRET})
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
