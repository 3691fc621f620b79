"""Config problems as the user reads them: each names the key (`openclaw-edge:<key>`), what is
wrong and the fix. Pydantic's errors of `infra.config.ConfigModel` are mapped here to those
messages, and keys nobody reads get the closest known key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import get_args

from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from infra.catalog import Catalog
from infra.config_source import NAMESPACE


class ConfigError(ValueError):
    """One or more configuration values are missing or malformed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


class Problems(ValueError):
    """Several problems with one key (e.g. two bad workerVars), reported one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def problems_of(detail: ErrorDetails, fields: Mapping[str, FieldInfo]) -> list[str]:
    """Today's message(s) for one pydantic error: the key, what is wrong, the fix."""
    # The location is the alias, or the field's name when a default was validated.
    where = str(detail["loc"][0])
    field = (
        fields[where] if where in fields else next(f for f in fields.values() if f.alias == where)
    )
    alias = str(field.alias)
    key = f"{NAMESPACE}:{alias}"
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, Problems):
        return [f"{key} {p}" for p in cause.problems]
    if detail["type"] == "value_error":
        return [f"{key} {cause}"]
    return [f"{key} {_constraint_problem(alias, field, detail)}"]


def _constraint_problem(alias: str, field: FieldInfo, detail: ErrorDetails) -> str:
    """What a failed field constraint (required, pattern, choice, range) means for `alias`."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    kind, value = detail["type"], detail.get("input")
    if kind == "missing":
        how = f"is required: {extra.get('how')} (pulumi config set {alias} <value>)"
        return str(extra.get("missing", how))
    if kind == "string_pattern_mismatch":
        return f"must be {extra.get('expected')}, got {value!r}"
    if kind == "literal_error":
        choices = [a for a in get_args(field.annotation) if isinstance(a, str)] or [
            a for arg in get_args(field.annotation) for a in get_args(arg)
        ]
        return f"must be one of {', '.join(choices)}, got {value!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = (
            next(getattr(m, attr) for m in field.metadata if hasattr(m, attr))
            for attr in ("ge", "le")
        )
        if isinstance(value, int):
            return f"must be between {low} and {high}, got {value}"
        return f"must be between {low:g} and {high:g}, got {value:g}"
    return str(detail["msg"])


def unknown_key_problems(keys: Iterable[str], read: set[str], catalog: Catalog) -> list[str]:
    """One problem per key set in the namespace that nothing reads, with the closest known key.

    Known: every key of `infra.config.ConfigModel` and the secrets the stack takes from config (the
    catalogue's `source: ssm` names, read by `pulumi_secret_reader`)."""
    secrets = {s.name for s in catalog.secrets if s.source == "ssm"}
    made_by_stack = {s.name for s in catalog.secrets if s.source == "stack"}
    known = read | secrets
    by_lower = {k.lower(): k for k in known}
    problems = []
    for key in sorted(set(keys) - known):
        if key in made_by_stack:
            problems.append(
                f"{NAMESPACE}:{key} is set, but the stack creates {key} itself (the bucket-scoped "
                f"R2 token); remove it (pulumi config rm {key})"
            )
            continue
        close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
        match = by_lower.get(key.lower()) or (by_lower[close[0]] if close else None)
        hint = "see the configuration table in README.md"
        if match is not None:
            set_it = "--secret " + match if match in secrets else f"{match} <value>"
            hint = f"did you mean {NAMESPACE}:{match}? (pulumi config rm {key}, then "
            hint += f"pulumi config set {set_it})"
        problems.append(f"{NAMESPACE}:{key} is not a key this program reads; {hint}")
    return problems
