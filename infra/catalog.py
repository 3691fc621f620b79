"""The Worker's environment catalogue (worker/src/env-catalog.json), read as typed records so the
stack renders vars and secrets from the same names the Worker uses. Names live only there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

CATALOG_PATH = Path(__file__).resolve().parent.parent / "worker" / "src" / "env-catalog.json"

Requirement = Literal["always", "llm", "optional"]
Source = Literal["ssm", "stack"]
VarSource = Literal["stack", "user", "local"]
"""Who sets a var: the stack itself, the user through `workerVars`, or only local runs/tests."""


@dataclass(frozen=True)
class SecretSpec:
    """A Worker secret: set with `wrangler secret bulk` (infra/wrangler_step.py), never a var."""

    name: str
    required: Requirement
    source: Source
    description: str


@dataclass(frozen=True)
class VarSpec:
    """A non-secret Worker var."""

    name: str
    required: bool
    source: VarSource
    description: str


@dataclass(frozen=True)
class Catalog:
    secrets: tuple[SecretSpec, ...]
    vars: tuple[VarSpec, ...]

    def secret(self, name: str) -> SecretSpec:
        for spec in self.secrets:
            if spec.name == name:
                return spec
        raise KeyError(f"{name} is not a secret in {CATALOG_PATH.name}")


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    data = json.loads(path.read_text())
    secrets = tuple(
        SecretSpec(
            name=str(s["name"]),
            required=cast(Requirement, s["required"]),
            source=cast(Source, s["source"]),
            description=str(s["description"]),
        )
        for s in data["secrets"]
    )
    variables = tuple(
        VarSpec(
            name=str(v["name"]),
            required=bool(v["required"]),
            source=cast(VarSource, v.get("source")),
            description=str(v["description"]),
        )
        for v in data["vars"]
    )
    for var in variables:
        if var.source not in ("stack", "user", "local"):
            raise ValueError(f"{path.name}: var {var.name} needs a source: stack, user or local")
    for spec in secrets:
        if spec.required not in ("always", "llm", "optional") or spec.source not in (
            "ssm",
            "stack",
        ):
            raise ValueError(f"{path.name}: {spec.name} has a bad 'required' or 'source' value")
    return Catalog(secrets=secrets, vars=variables)
