"""The dev stack's resource URNs do not change: a changed URN is a delete + create in state (the
bucket and its snapshots, the Access application, the Worker). The fixture was recorded from the
mock run before the infra/ reshape (components moved to infra/components/, type tokens kept);
a rename of a type token or a resource name needs `aliases` and a new, reviewed fixture."""

from __future__ import annotations

import json
from pathlib import Path

from infra.config import REPO_ROOT
from infra.offline_plan import run_plan, stack_file_values

FIXTURE = Path(__file__).with_name("fixtures") / "dev_stack_urns.json"


def test_the_dev_stacks_urns_are_unchanged(tmp_path: Path) -> None:
    values, secrets = stack_file_values(REPO_ROOT / "Pulumi.dev.yaml")
    _, result = run_plan("dev", values, secrets, tmp_path / "build")
    urns = sorted(record.urn for record in result.mocks.records)
    assert urns == json.loads(FIXTURE.read_text())
    assert len(urns) == 25
