"""The policy pack started as the CLI starts it and fed what the engine sends for the program's
real registrations: unknown outputs of resources being created, component outputs as
register_outputs received them, and `pulumi up`'s per-registration checks
(tests/policy/policy_engine.py cites the engine code each step follows)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format  # type: ignore[import-untyped]

from infra.components.cost_guard import CostGuard
from policy import openclaw_policies as p
from tests.policy.policy_engine import (
    MANDATORY,
    UNKNOWN,
    Analyzer,
    Registration,
    policy_pack,
    preview,
    summary,
)

ACCESS = "access-covers-worker-hostname"


@pytest.fixture(scope="module")
def pack() -> Iterator[Analyzer]:
    with policy_pack(dry_run=True) as analyzer:
        yield analyzer


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> list[Registration]:
    return preview(tmp_path_factory.mktemp("preview"))


def only(registrations: list[Registration], type_: str, name: str | None = None) -> Registration:
    found = [r for r in registrations if r.type == type_ and name in (None, r.name)]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


# The login application (infra/components/access_gate.py); the stack also has the /cdp bypass
# application.
LOGIN_APP = "access-app"


def with_outputs(registration: Registration, **changes: object) -> Registration:
    changed = copy.deepcopy(registration)
    outputs = json_format.MessageToDict(changed.outputs)
    outputs.update(changes)
    changed.outputs.Clear()
    changed.outputs.update(outputs)
    return changed


def replaced(
    registrations: list[Registration], new: Registration | None, type_: str
) -> list[Registration]:
    kept = [r for r in registrations if r.type != type_]
    return [*kept, new] if new is not None else kept


def test_the_harness_sends_what_a_preview_of_a_new_stack_holds(dev: list[Registration]) -> None:
    # Not vacuous: the Access application's computed outputs are unknown, as in the real preview
    # that creates it, and the WorkerDeploy's outputs are what its register_outputs received.
    app = only(dev, p.ACCESS_APPLICATION_TYPE, LOGIN_APP)
    assert app.output("selfHostedDomains") == UNKNOWN
    assert app.output("aud") == UNKNOWN
    assert app.output("domain") == "moltworker.example.com"
    worker = only(dev, p.WORKER_DEPLOY_TYPE)
    assert set(json_format.MessageToDict(worker.outputs)) == {
        "configPath",
        "secretNames",
        "hostname",
    }
    assert "debugRoutes" in json_format.MessageToDict(worker.inputs)


def test_the_dev_stack_preview_passes_without_a_single_diagnostic(
    pack: Analyzer, dev: list[Registration]
) -> None:
    # No advisory either: a policy that reads an unknown value is reported "can't run" (advisory)
    # and enforces nothing; the Access policy did exactly that before.
    assert summary(pack.preview(dev)) == []


def test_an_uncovered_hostname_is_mandatory_in_the_preview_that_creates_the_app(
    pack: Analyzer, dev: list[Registration]
) -> None:
    app = only(dev, p.ACCESS_APPLICATION_TYPE, LOGIN_APP)
    elsewhere = with_outputs(
        app,
        domain="other.example.com",
        destinations=[{"type": "public", "uri": "other.example.com"}],
    )
    assert elsewhere.output("selfHostedDomains") == UNKNOWN
    diagnostics = pack.analyze_stack(replaced(dev, elsewhere, p.ACCESS_APPLICATION_TYPE))
    # One hostname, reported once, against the first resource that carries it.
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [(ACCESS, MANDATORY)]
    carriers = {only(dev, t).urn for t in (p.WORKER_DEPLOY_TYPE, p.CUSTOM_DOMAIN_TYPE)}
    assert diagnostics[0].urn in carriers
    assert "'moltworker.example.com' is not protected" in diagnostics[0].message


def test_an_unknown_domain_does_not_count_as_coverage(
    pack: Analyzer, dev: list[Registration]
) -> None:
    app = with_outputs(
        only(dev, p.ACCESS_APPLICATION_TYPE, LOGIN_APP), domain=UNKNOWN, destinations=[]
    )
    diagnostics = pack.analyze_stack(replaced(dev, app, p.ACCESS_APPLICATION_TYPE))
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [(ACCESS, MANDATORY)]


def test_the_stack_policy_sees_the_worker_deploy_hostname(
    pack: Analyzer, dev: list[Registration]
) -> None:
    # A stack without the custom domain and without Access: only the WorkerDeploy component
    # carries the hostname, in the outputs it registered.
    bare = replaced(replaced(dev, None, p.CUSTOM_DOMAIN_TYPE), None, p.ACCESS_APPLICATION_TYPE)
    diagnostics = pack.analyze_stack(bare)
    assert summary(diagnostics) == [(ACCESS, "mandatory", only(dev, p.WORKER_DEPLOY_TYPE).urn)]
    assert "declares no Access application" in diagnostics[0].message


def test_unsafe_config_fails_the_preview_with_one_mandatory_violation(
    pack: Analyzer, tmp_path: Path
) -> None:
    # Each policy's unsafe case runs in-process in test_policies.py; one through the process.
    diagnostics = pack.preview(preview(tmp_path, {"debugRoutes": "true"}, stack="prod"))
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
        ("no-debug-routes-outside-dev", MANDATORY)
    ]


def test_up_without_preview_fails_at_the_cost_guard_registration(tmp_path: Path) -> None:
    # pulumi/actions' `up` runs `pulumi up --yes --skip-preview` (sdk/nodejs/automation/stack.ts):
    # resource policies then run only as each resource registers, and a mandatory violation makes
    # that registration invalid and ends the update there (step_generator.go, "is invalid").
    registrations = preview(tmp_path, {"instanceType": "standard-2"})
    with policy_pack(dry_run=False) as analyzer:
        stopped = analyzer.up_stops_at(registrations)
    assert stopped is not None
    assert stopped.type == CostGuard.TYPE


def test_the_cost_guard_is_declared_before_every_other_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Declaration order, not arrival order: the SDK sends registrations from a thread pool, so
    # which top-level component reaches the engine first is not fixed (the deploy job's preview
    # is the gate). Declared first, the CostGuard is in the first wave of registrations, and
    # every cloud resource is a child of a component declared after it.
    import pulumi

    declared: list[str] = []
    original = pulumi.ComponentResource.__init__

    def record(self: pulumi.ComponentResource, t: str, *args: object, **kwargs: object) -> None:
        declared.append(t)
        original(self, t, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pulumi.ComponentResource, "__init__", record)
    registrations = preview(tmp_path)
    assert declared[0] == CostGuard.TYPE, declared
    assert all(r.parent for r in registrations if r.custom), "a cloud resource without a parent"
