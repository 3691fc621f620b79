"""Policy pack: each policy with violating and passing resources, called directly.

One file (about 550 lines), as the pack is one module (policy/openclaw_policies.py): a section per
policy, in the order the pack registers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _PolicyAnalyzerServicer  # the engine's entry point
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from infra import cost
from infra.components.cost_guard import CostGuard, CostGuardArgs
from infra.mock_run import RecordingMocks
from infra.values import NEVER
from policy import openclaw_policies as p
from tests.policy.policy_engine import Analyzer, Registration, preview

HOST = "moltworker.example.com"


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def _urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::openclaw-edge::{resource_type}::{name}"


def _resource_args(
    resource_type: str,
    props: dict[str, Any],
    *,
    name: str = "r",
    protect: bool = False,
    config: dict[str, Any] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type, props, _urn(resource_type, name), name, _opts(protect), None, config
    )


def _policy(name: str) -> Any:
    policies = {policy.name: policy for policy in p.build_policies()}
    return policies[name]


def _run(policy_name: str, args: ResourceValidationArgs | StackValidationArgs) -> list[str]:
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(f"{message} @ {urn}" if urn else message)

    _policy(policy_name).validate(args, report)
    return messages


def _stack(*resources: tuple[str, str, dict[str, Any]]) -> StackValidationArgs:
    return StackValidationArgs(
        [
            PolicyResource(t, props, _urn(t, name), name, _opts(), None, None, [], {})
            for t, name, props in resources
        ]
    )


def test_pack_registers_its_mandatory_policies() -> None:
    policies = p.build_policies()
    assert [x.name for x in policies] == [
        "cost-within-budget",
        "no-debug-routes-outside-dev",
        "access-covers-worker-hostname",
        "access-bypass-only-cdp",
        "access-cookie-lax-http-only",
        "r2-bucket-protected",
        "ssm-secure-string",
    ]
    assert all(x.enforcement_level is EnforcementLevel.MANDATORY for x in policies)
    assert isinstance(_policy("access-covers-worker-hostname"), StackValidationPolicy)
    assert isinstance(_policy("cost-within-budget"), ResourceValidationPolicy)


# --- cost ----------------------------------------------------------------------------------------


def _guard(monthly: float, budget: float = 50) -> dict[str, Any]:
    return {"monthlyUsd": monthly, "budgetUsd": budget, "instanceType": "standard-1",
            "sleepAfter": "never"}  # fmt: skip


def test_cost_over_budget_is_a_violation() -> None:
    messages = _run("cost-within-budget", _resource_args(p.COST_GUARD_TYPE, _guard(57.6)))
    assert len(messages) == 1
    assert "$57.60" in messages[0]
    assert "openclaw-edge:monthlyBudgetUsd" in messages[0]


def test_cost_within_budget_passes() -> None:
    assert _run("cost-within-budget", _resource_args(p.COST_GUARD_TYPE, _guard(34.65))) == []


def test_a_raised_stack_budget_still_meets_the_plan_ceiling() -> None:
    messages = _run("cost-within-budget", _resource_args(p.COST_GUARD_TYPE, _guard(80, 100)))
    assert len(messages) == 1
    assert "policy maxMonthlyUsd $50.00" in messages[0]
    relaxed = _resource_args(p.COST_GUARD_TYPE, _guard(80, 100), config={"maxMonthlyUsd": 100})
    assert _run("cost-within-budget", relaxed) == []


def test_a_lower_stack_budget_is_enforced() -> None:
    messages = _run("cost-within-budget", _resource_args(p.COST_GUARD_TYPE, _guard(34.65, 20)))
    assert len(messages) == 1
    assert "$20.00" in messages[0]


def test_missing_estimate_is_a_violation() -> None:
    assert p.cost_violation({"budgetUsd": 50}, 50) is not None


def test_cost_policy_ignores_other_resources() -> None:
    assert _run("cost-within-budget", _resource_args(p.R2_BUCKET_TYPE, {"monthlyUsd": 999})) == []


def test_pack_defaults_agree_with_the_cost_model() -> None:
    assert CostGuardArgs.budget_usd == p.DEFAULT_MAX_MONTHLY_USD
    assert p.COST_GUARD_TYPE == CostGuard.TYPE


@dataclass
class _CaptureMocks(RecordingMocks):
    """The offline plan's mocks, keeping each type's last inputs."""

    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        self.inputs[args.typ] = dict(args.inputs)
        return super().new_resource(args)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_cost_policy_reads_what_cost_guard_registers() -> Any:
    mocks = _CaptureMocks()
    pulumi.runtime.set_mocks(mocks, preview=True)
    big = cost.CostInputs("standard-2", NEVER, 24, 1, 200, 300)
    guard = CostGuard("cost", CostGuardArgs(inputs=big, budget_usd=50))

    def check(_: str) -> None:
        props = mocks.inputs[CostGuard.TYPE]
        assert props["monthlyUsd"] == round(guard.cost.monthly_usd, 2)
        messages = _run("cost-within-budget", _resource_args(CostGuard.TYPE, props))
        assert len(messages) == 1, messages  # standard-2 24/7 is about $59 a month
        assert "standard-2" in messages[0]

    return guard.urn.apply(check)


# --- debug routes --------------------------------------------------------------------------------


def _worker(debug: bool, environment: str) -> dict[str, Any]:
    return {"debugRoutes": debug, "environment": environment, "hostname": HOST,
            "workerName": "openclaw-edge"}  # fmt: skip


@pytest.mark.parametrize("environment", ["prod", "staging", ""])
def test_debug_routes_outside_dev_are_a_violation(environment: str) -> None:
    args = _resource_args(p.WORKER_DEPLOY_TYPE, _worker(True, environment))
    messages = _run("no-debug-routes-outside-dev", args)
    assert len(messages) == 1
    assert "openclaw-edge:debugRoutes" in messages[0]


@pytest.mark.parametrize(("debug", "environment"), [(True, "dev"), (False, "prod")])
def test_debug_routes_on_dev_or_off_pass(debug: bool, environment: str) -> None:
    args = _resource_args(p.WORKER_DEPLOY_TYPE, _worker(debug, environment))
    assert _run("no-debug-routes-outside-dev", args) == []


def test_dev_environments_are_configurable() -> None:
    args = _resource_args(
        p.WORKER_DEPLOY_TYPE, _worker(True, "sandbox"), config={"devEnvironments": ["sandbox"]}
    )
    assert _run("no-debug-routes-outside-dev", args) == []


# --- Access coverage -----------------------------------------------------------------------------


def _domain(hostname: str = HOST) -> tuple[str, str, dict[str, Any]]:
    return (p.CUSTOM_DOMAIN_TYPE, "domain", {"hostname": hostname, "service": "openclaw-edge"})


def _app(name: str = "app", **props: Any) -> tuple[str, str, dict[str, Any]]:
    return (p.ACCESS_APPLICATION_TYPE, name, {"type": "self_hosted", **props})


@pytest.mark.parametrize(
    "app_props",
    [
        {"domain": HOST},
        {"domain": f"https://{HOST}/"},
        {"domain": "*.example.com"},
        {"selfHostedDomains": ["other.example.com", HOST.upper()]},
        {"destinations": [{"type": "public", "uri": f"{HOST}/*"}]},
    ],
)
def test_access_application_covering_the_hostname_passes(app_props: dict[str, Any]) -> None:
    assert _run("access-covers-worker-hostname", _stack(_domain(), _app(**app_props))) == []


@pytest.mark.parametrize(
    ("app_props", "detail"),
    [
        ({"domain": "openclaw.example.com"}, "no Access application covers it"),
        ({"domain": f"{HOST}/_admin/*"}, "cover only the paths"),
        ({"destinations": [{"type": "private", "hostname": HOST}]}, "no Access application"),
        ({"domain": "*.other.com"}, "no Access application covers it"),
    ],
)
def test_access_application_not_covering_the_hostname_is_a_violation(
    app_props: dict[str, Any], detail: str
) -> None:
    messages = _run("access-covers-worker-hostname", _stack(_domain(), _app(**app_props)))
    assert len(messages) == 1
    assert detail in messages[0]
    assert p.CUSTOM_DOMAIN_TYPE in messages[0]  # reported against the custom domain's URN


def test_hostname_without_any_access_application_is_a_violation() -> None:
    messages = _run("access-covers-worker-hostname", _stack(_domain()))
    assert len(messages) == 1
    assert "declares no Access application" in messages[0]


def test_worker_deploy_hostname_is_checked_too() -> None:
    worker = (p.WORKER_DEPLOY_TYPE, "worker", _worker(False, "prod"))
    assert len(_run("access-covers-worker-hostname", _stack(worker))) == 1
    assert _run("access-covers-worker-hostname", _stack(worker, _app(domain=HOST))) == []


def test_stack_without_hostnames_has_nothing_to_check() -> None:
    assert _run("access-covers-worker-hostname", _stack(_app(domain=HOST))) == []


def test_unknown_optional_access_keys_count_as_absent() -> None:
    # What pulumi_policy hands a policy during a preview that creates the application: a proxy
    # that raises UnknownValueError on reading an unknown output (pulumi_policy/proxy.py).
    unknown = UNKNOWN_STRING_VALUE
    props = unknown_checking_proxy(
        {"domain": HOST, "selfHostedDomains": unknown, "aud": unknown,
         "destinations": [{"type": "public", "uri": unknown}, unknown]}
    )  # fmt: skip
    assert p.access_patterns(props) == [HOST]
    hidden = unknown_checking_proxy({"domain": unknown, "selfHostedDomains": [unknown]})
    assert p.access_patterns(hidden) == []


# --- Access cookie attributes --------------------------------------------------------------------

SAFE_COOKIE = {"sameSiteCookieAttribute": "lax", "httpOnlyCookieAttribute": True}


def _access_app(**props: Any) -> ResourceValidationArgs:
    return _resource_args(
        p.ACCESS_APPLICATION_TYPE, {"type": "self_hosted", "name": HOST, "domain": HOST, **props}
    )


@pytest.mark.parametrize(
    ("props", "detail"),
    [
        ({}, "sameSiteCookieAttribute is unset (Access default: none)"),
        ({"httpOnlyCookieAttribute": True}, "sameSiteCookieAttribute is unset"),
        ({**SAFE_COOKIE, "sameSiteCookieAttribute": "none"}, "sameSiteCookieAttribute is 'none'"),
        ({**SAFE_COOKIE, "httpOnlyCookieAttribute": False}, "httpOnlyCookieAttribute is not true"),
        ({"sameSiteCookieAttribute": "lax"}, "http_only_cookie_attribute=True"),
    ],
)
def test_access_cookie_without_lax_and_http_only_is_a_violation(
    props: dict[str, Any], detail: str
) -> None:
    messages = _run("access-cookie-lax-http-only", _access_app(**props))
    assert len(messages) == 1, messages
    assert detail in messages[0]
    assert HOST in messages[0]


@pytest.mark.parametrize("same_site", ["lax", "strict", "Lax"])
def test_access_cookie_lax_or_strict_and_http_only_passes(same_site: str) -> None:
    props = {**SAFE_COOKIE, "sameSiteCookieAttribute": same_site}
    assert _run("access-cookie-lax-http-only", _access_app(**props)) == []


def test_access_cookie_rule_reads_only_self_hosted_applications() -> None:
    saas = _resource_args(p.ACCESS_APPLICATION_TYPE, {"type": "saas", "name": "x"})
    assert _run("access-cookie-lax-http-only", saas) == []
    other = _resource_args(p.R2_BUCKET_TYPE, {"type": "self_hosted"}, protect=True)
    assert _run("access-cookie-lax-http-only", other) == []


# --- Access bypass -------------------------------------------------------------------------------

BYPASS = [{"name": "cdp", "decision": "bypass", "includes": [{"everyone": {}}], "precedence": 1}]


def _cdp_app(
    *uris: str, policies: list[dict[str, Any]] | None = None
) -> tuple[str, str, dict[str, Any]]:
    return _app(
        "cdp",
        domain=uris[0],
        destinations=[{"type": "public", "uri": uri} for uri in uris],
        policies=BYPASS if policies is None else policies,
    )


def test_the_cdp_bypass_of_the_worker_hostname_passes() -> None:
    stack = _stack(_domain(), _app(domain=HOST), _cdp_app(f"{HOST}/cdp", f"{HOST}/cdp/*"))
    assert _run("access-bypass-only-cdp", stack) == []
    assert _run("access-covers-worker-hostname", stack) == []


@pytest.mark.parametrize(
    "uris",
    [
        (f"{HOST}/cdp", f"{HOST}/cdp/*", f"{HOST}/_admin/*"),  # one path more
        (f"{HOST}/cdp*",),  # /cdpanything too
        (f"{HOST}/*",),  # the whole host
        (HOST,),
        ("other.example.com/cdp",),  # not a Worker hostname
        (f"{HOST}/cdp", "*.example.com/cdp"),
    ],
)
def test_any_wider_bypass_is_a_violation(uris: tuple[str, ...]) -> None:
    messages = _run("access-bypass-only-cdp", _stack(_domain(), _app(domain=HOST), _cdp_app(*uris)))
    assert len(messages) == 1, messages
    assert "bypasses the login" in messages[0]
    assert p.ACCESS_APPLICATION_TYPE in messages[0]  # reported against the application


def test_a_whole_host_bypass_does_not_count_as_coverage() -> None:
    messages = _run("access-covers-worker-hostname", _stack(_domain(), _cdp_app(HOST)))
    assert len(messages) == 1
    assert "declares no Access application" in messages[0]


def test_a_reusable_bypass_policy_is_a_violation() -> None:
    policy = (p.ACCESS_POLICY_TYPE, "open", {"name": "open", "decision": "bypass"})
    allow = (p.ACCESS_POLICY_TYPE, "allow", {"name": "allow", "decision": "allow"})
    messages = _run("access-bypass-only-cdp", _stack(_domain(), _app(domain=HOST), policy, allow))
    assert len(messages) == 1
    assert "reusable Access policy 'open'" in messages[0]


def test_an_application_without_a_bypass_is_not_this_policys_business() -> None:
    allow_only = _cdp_app(f"{HOST}/_admin/*", policies=[{"decision": "allow", "precedence": 1}])
    assert _run("access-bypass-only-cdp", _stack(_domain(), allow_only)) == []


def test_the_pack_and_the_program_agree_on_the_cdp_paths() -> None:
    from infra.components.access_gate import CDP_PATHS

    assert p.CDP_BYPASS_PATHS == CDP_PATHS


def test_engine_path_reads_proxied_policies_of_access_applications() -> None:
    wide = _cdp_app(f"{HOST}/*")
    diagnostics = _analyze_stack(_domain(), _app(domain=HOST), wide)
    assert [d.policyName for d in diagnostics] == ["access-bypass-only-cdp"]
    exact = _cdp_app(f"{HOST}/cdp", f"{HOST}/cdp/*")
    assert _analyze_stack(_domain(), _app(domain=HOST), exact) == []


# --- R2 protect ----------------------------------------------------------------------------------


def test_unprotected_r2_bucket_is_a_violation() -> None:
    args = _resource_args(p.R2_BUCKET_TYPE, {"name": "moltbot-data"}, protect=False)
    messages = _run("r2-bucket-protected", args)
    assert len(messages) == 1
    assert "moltbot-data" in messages[0]


def test_protected_r2_bucket_passes() -> None:
    args = _resource_args(p.R2_BUCKET_TYPE, {"name": "moltbot-data"}, protect=True)
    assert _run("r2-bucket-protected", args) == []


# --- SSM SecureString ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["String", "StringList", None])
def test_ssm_parameter_that_is_not_secure_string_is_a_violation(kind: str | None) -> None:
    props = {"name": "/lolice/openclaw/ANTHROPIC_API_KEY", "type": kind, "value": "x"}
    messages = _run("ssm-secure-string", _resource_args(p.SSM_PARAMETER_TYPE, props))
    assert len(messages) == 1
    assert "/lolice/openclaw/ANTHROPIC_API_KEY" in messages[0]


def test_secure_string_ssm_parameter_passes() -> None:
    props = {"name": "/lolice/openclaw/ANTHROPIC_API_KEY", "type": "SecureString"}
    assert _run("ssm-secure-string", _resource_args(p.SSM_PARAMETER_TYPE, props)) == []


def test_plain_ssm_parameter_can_be_allowed_by_name() -> None:
    props = {"name": "/lolice/openclaw/DISCORD_ALLOWED_USER_IDS", "type": "String"}
    config = {"allowedPlainNames": ["/lolice/openclaw/DISCORD_ALLOWED_USER_IDS"]}
    args = _resource_args(p.SSM_PARAMETER_TYPE, props, config=config)
    assert _run("ssm-secure-string", args) == []


def test_violation_messages_never_echo_parameter_values() -> None:
    props = {"name": "/p/X", "type": "String", "value": "sk-live-VERY-SECRET"}
    message = p.ssm_type_violation(props)
    assert message is not None
    assert "sk-live-VERY-SECRET" not in message


# --- through the pack's analyzer service (as the Pulumi engine calls it) ------------------------


def _servicer() -> Any:
    return _PolicyAnalyzerServicer(
        "openclaw-edge", "0.1.0", p.build_policies(), EnforcementLevel.ADVISORY
    )


def _struct(props: dict[str, Any]) -> Any:
    value = struct_pb2.Struct()
    value.update(props)
    return value


def _analyze(resource_type: str, props: dict[str, Any], protect: bool = False) -> list[Any]:
    request = proto.AnalyzeRequest(
        type=resource_type,
        properties=_struct(props),
        urn=_urn(resource_type, "r"),
        name="r",
        options=proto.AnalyzerResourceOptions(protect=protect),
    )
    return list(_servicer().Analyze(request, None).diagnostics)


def _analyze_stack(*resources: tuple[str, str, dict[str, Any]]) -> list[Any]:
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=t, properties=_struct(props), urn=_urn(t, name), name=name,
                options=proto.AnalyzerResourceOptions(),
            )
            for t, name, props in resources
        ]
    )  # fmt: skip
    return list(_servicer().AnalyzeStack(request, None).diagnostics)


def test_engine_path_reports_mandatory_violations() -> None:
    diagnostics = _analyze(p.COST_GUARD_TYPE, _guard(57.6))
    assert [d.policyName for d in diagnostics] == ["cost-within-budget"]
    assert diagnostics[0].enforcementLevel == 1  # proto EnforcementLevel.MANDATORY
    assert _analyze(p.COST_GUARD_TYPE, _guard(20)) == []
    assert [d.policyName for d in _analyze(p.R2_BUCKET_TYPE, {"name": "b"})] == [
        "r2-bucket-protected"
    ]
    assert _analyze(p.R2_BUCKET_TYPE, {"name": "b"}, protect=True) == []
    assert [
        d.policyName for d in _analyze(p.SSM_PARAMETER_TYPE, {"name": "/x", "type": "String"})
    ] == ["ssm-secure-string"]
    assert [d.policyName for d in _analyze(p.WORKER_DEPLOY_TYPE, _worker(True, "prod"))] == [
        "no-debug-routes-outside-dev"
    ]
    app = {"type": "self_hosted", "domain": HOST}
    assert [d.policyName for d in _analyze(p.ACCESS_APPLICATION_TYPE, app)] == [
        "access-cookie-lax-http-only"
    ]
    assert _analyze(p.ACCESS_APPLICATION_TYPE, {**app, **SAFE_COOKIE}) == []


def test_engine_path_reads_proxied_lists_in_access_applications() -> None:
    # The runtime wraps lists in a Sequence proxy: selfHostedDomains and destinations must count.
    covered_by_list = _app(selfHostedDomains=["other.example.com", HOST])
    assert _analyze_stack(_domain(), covered_by_list) == []
    covered_by_uri = _app(destinations=[{"type": "public", "uri": HOST}])
    assert _analyze_stack(_domain(), covered_by_uri) == []
    diagnostics = _analyze_stack(_domain(), _app(selfHostedDomains=["other.example.com"]))
    assert [d.policyName for d in diagnostics] == ["access-covers-worker-hostname"]
    assert diagnostics[0].urn == _urn(p.CUSTOM_DOMAIN_TYPE, "domain")


# --- the real program under mocks, checked by the pack ----------------------------------------
# As the engine feeds it (tests/policy/policy_engine.py): every registration's inputs to Analyze,
# then every resource's outputs to AnalyzeStack, unknowns included. The pack started as the CLI
# starts it, over gRPC: tests/policy/test_policy_engine.py.


def _pack_violations(registrations: list[Registration]) -> list[str]:
    """Every diagnostic of a preview of `registrations`, as "policy: message"."""
    diagnostics = Analyzer.in_process().preview(registrations)
    return [f"{d.policyName}: {d.message}" for d in diagnostics]


def test_the_dev_stack_passes_the_pack(tmp_path: Path) -> None:
    registrations = preview(tmp_path)
    types = {r.type for r in registrations}
    assert {
        p.COST_GUARD_TYPE,
        p.WORKER_DEPLOY_TYPE,
        p.R2_BUCKET_TYPE,
        p.SSM_PARAMETER_TYPE,
    } <= types
    assert p.ACCESS_APPLICATION_TYPE in types
    assert _pack_violations(registrations) == []


@pytest.mark.parametrize(
    ("overrides", "stack", "policy"),
    [
        ({"debugRoutes": "true"}, "prod", "no-debug-routes-outside-dev"),
        ({"protectBucket": "false"}, "dev", "r2-bucket-protected"),
        ({"monthlyBudgetUsd": "20"}, "dev", "cost-within-budget"),
        ({"instanceType": "standard-2"}, "dev", "cost-within-budget"),
    ],
)
def test_the_program_trips_the_pack_when_config_is_unsafe(
    tmp_path: Path, overrides: dict[str, object], stack: str, policy: str
) -> None:
    violations = _pack_violations(preview(tmp_path, overrides, stack=stack))
    assert [v.split(":")[0] for v in violations] == [policy], violations
