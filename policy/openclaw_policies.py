"""Policies of the openclaw-edge pack: the plan's stop criteria and safe defaults.

Every check is a plain function over plain values (tests call them directly); the
`*_validate` wrappers adapt them to pulumi_policy, and `build_policies()` is what
`__main__.py` registers. This module runs inside the policy pack process, so from the Pulumi program
it imports only infra/outputs.py (no pulumi import): the component type tokens and the budget;
the prop names it reads are the program's documented contract (docs/interfaces.md).

One module on purpose (about 470 lines, one concern: the pack's policies, each a plain check
plus its adapter): a policy reads best next to its adapter and its registration below.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from infra import outputs

COST_GUARD_TYPE: Final = outputs.COST_GUARD_TYPE
WORKER_DEPLOY_TYPE: Final = outputs.WORKER_DEPLOY_TYPE
CUSTOM_DOMAIN_TYPE: Final = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"
ACCESS_APPLICATION_TYPE: Final = (
    "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication"
)
ACCESS_POLICY_TYPE: Final = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy"
R2_BUCKET_TYPE: Final = "cloudflare:index/r2Bucket:R2Bucket"
SSM_PARAMETER_TYPE: Final = "aws:ssm/parameter:Parameter"

DEFAULT_MAX_MONTHLY_USD: Final = outputs.BUDGET_USD
DEFAULT_DEV_ENVIRONMENTS: Final = ("dev",)
"""Environments where debug routes may be on."""
CDP_BYPASS_PATHS: Final = ("/cdp", "/cdp/*")
"""The only paths of a Worker hostname that may skip Access (the CDP shim, which checks
CDP_SECRET itself); infra/components/access_gate.py CDP_PATHS, kept equal by a test."""

# --- Plain checks: values in, violation message (or None) out ----------------------------------


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def cost_violation(props: Mapping[str, Any], max_monthly_usd: float) -> str | None:
    """Message when the CostGuard estimate exceeds the stack budget or the pack's ceiling."""
    monthly = _as_float(props.get("monthlyUsd"))
    if monthly is None:
        return (
            "CostGuard has no numeric monthlyUsd; the cost estimate is missing, so the budget "
            "cannot be checked"
        )
    budget = _as_float(props.get("budgetUsd"))
    limits = [("policy maxMonthlyUsd", max_monthly_usd)]
    if budget is not None:
        limits.insert(0, ("stack budget openclaw-edge:monthlyBudgetUsd", budget))
    for label, limit in limits:
        if monthly > limit:
            return (
                f"estimated monthly cost ${monthly:.2f} exceeds the {label} ${limit:.2f} "
                f"(instance type {props.get('instanceType')!s}, sleepAfter "
                f"{props.get('sleepAfter')!s}); choose a smaller instanceType, set sleepAfter, "
                "or raise the budget deliberately"
            )
    return None


def debug_routes_violation(
    props: Mapping[str, Any], dev_environments: Iterable[str] = DEFAULT_DEV_ENVIRONMENTS
) -> str | None:
    """Message when debug routes are on outside a dev environment."""
    if props.get("debugRoutes") is not True:
        return None
    environment = str(props.get("environment", ""))
    if environment in set(dev_environments):
        return None
    return (
        f"debug routes are enabled on environment {environment or '(unset)'!r} "
        f"(worker {props.get('workerName')!s}, hostname {props.get('hostname')!s}); set "
        "openclaw-edge:debugRoutes to false outside dev"
    )


def _items(value: Any) -> list[Any]:
    """Elements of a list-like value; the policy runtime wraps lists in a Sequence proxy."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return []
    return list(value)


def _known(props: Any, key: str) -> Any:
    """`props[key]`, or None when absent or unknown.

    During a preview that creates or changes a resource its unknown outputs arrive as sentinel
    strings, and pulumi_policy's proxy raises UnknownValueError on reading one; the analyzer turns
    that into an advisory "can't run" for the whole policy (pulumi_policy/policy.py,
    AnalyzeStack's `except UnknownValueError`). Reading optional keys through this keeps the
    policy running on what is known, so its violations stay mandatory in exactly that preview."""
    try:
        return props.get(key) if isinstance(props, Mapping) else None
    except UnknownValueError:
        return None


def _known_items(value: Any) -> list[Any]:
    """Known elements of a list-like value (unknown ones are skipped, see `_known`)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return []
    found = []
    for index in range(len(value)):
        try:
            found.append(value[index])
        except UnknownValueError:
            continue
    return found


def _split_pattern(pattern: str) -> tuple[str, str]:
    text = pattern.strip().lower()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    host, slash, path = text.partition("/")
    return host.rstrip("."), (slash + path)


def access_patterns(props: Mapping[str, Any]) -> list[str]:
    """Domains an Access application protects: `domain`, `selfHostedDomains`, public URIs.

    Only known values count: an application whose covering domain is unknown at preview does not
    cover the hostname (the safe side of a mandatory check); its other keys still do."""
    patterns: list[str] = []
    domain = _known(props, "domain")
    if isinstance(domain, str) and domain:
        patterns.append(domain)
    patterns.extend(
        d for d in _known_items(_known(props, "selfHostedDomains")) if isinstance(d, str) and d
    )
    for destination in _known_items(_known(props, "destinations")):
        if not isinstance(destination, Mapping):
            continue
        if (_known(destination, "type") or "public") != "public":
            continue
        uri = _known(destination, "uri")
        if isinstance(uri, str) and uri:
            patterns.append(uri)
    return patterns


def covers(pattern: str, hostname: str) -> bool:
    """Whether one Access domain pattern protects every path of `hostname`."""
    host, path = _split_pattern(pattern)
    if path not in ("", "/", "/*"):
        return False
    return fnmatch.fnmatchcase(hostname.strip().lower().rstrip("."), host)


def access_coverage_violations(
    hostnames: Iterable[str], applications: Sequence[Sequence[str]]
) -> list[tuple[str, str]]:
    """(hostname, message) for each hostname no Access application covers on all paths."""
    found: list[tuple[str, str]] = []
    all_patterns = [p for app in applications for p in app]
    for hostname in sorted(set(hostnames)):
        if any(covers(p, hostname) for p in all_patterns):
            continue
        partial = [p for p in all_patterns if _split_pattern(p)[0] == _split_pattern(hostname)[0]]
        if partial:
            detail = f"Access applications cover only the paths {sorted(partial)}"
        elif all_patterns:
            detail = f"no Access application covers it (domains: {sorted(all_patterns)})"
        else:
            detail = "the stack declares no Access application"
        found.append(
            (
                hostname,
                f"Worker hostname {hostname!r} is not protected by Cloudflare Access: {detail}; "
                "add it to the Access application's domain or selfHostedDomains",
            )
        )
    return found


ACCEPTED_SAME_SITE: Final = ("lax", "strict")
"""SameSite values that keep another site's form post from carrying the Access login."""


def access_cookie_violation(props: Mapping[str, Any]) -> str | None:
    """Message when a self-hosted Access application leaves its cookie SameSite=None or scriptable.

    Access's defaults are SameSite None and HttpOnly off: a browser then sends CF_Authorization
    along with any site's cross-site POST, and page scripts can read it.
    """
    if props.get("type") != "self_hosted":
        return None
    problems: list[str] = []
    same_site = props.get("sameSiteCookieAttribute")
    if not isinstance(same_site, str) or same_site.lower() not in ACCEPTED_SAME_SITE:
        shown = "unset (Access default: none)" if same_site is None else repr(same_site)
        problems.append(f"sameSiteCookieAttribute is {shown}; set same_site_cookie_attribute='lax'")
    if props.get("httpOnlyCookieAttribute") is not True:
        problems.append("httpOnlyCookieAttribute is not true; set http_only_cookie_attribute=True")
    if not problems:
        return None
    return (
        f"Access application {props.get('name') or props.get('domain') or '(unnamed)'!s}: "
        + "; ".join(problems)
        + " (Lax, not Strict: Strict breaks the Access login redirect)"
    )


def bypass_decisions(props: Mapping[str, Any]) -> bool:
    """Whether an Access application carries an app-scoped `bypass` policy (known values only)."""
    return any(
        isinstance(policy, Mapping) and _known(policy, "decision") == "bypass"
        for policy in _known_items(_known(props, "policies"))
    )


def access_bypass_violations(
    hostnames: Iterable[str],
    applications: Sequence[tuple[str, Mapping[str, Any]]],
    policies: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[tuple[str, str]]:
    """(urn, message) for each Access bypass wider than `<worker host>/cdp` + `/cdp/*`.

    A bypass lets anyone through without a login; the pack allows exactly one shape of it: an
    application whose every domain/destination is one of those two paths of a Worker hostname,
    with the bypass as its own (app-scoped) policy. Reusable bypass policies are refused: they
    can be attached to any application, which the pack cannot see in a preview.
    """
    allowed = {
        f"{host.strip().lower().rstrip('.')}{path}"
        for host in hostnames
        for path in CDP_BYPASS_PATHS
    }
    found: list[tuple[str, str]] = []
    for urn, props in policies:
        if _known(props, "decision") == "bypass":
            found.append(
                (
                    urn,
                    f"reusable Access policy {_known(props, 'name')!r} has decision 'bypass'; the "
                    "only bypass allowed is app-scoped, on the Worker's /cdp paths "
                    "(infra/components/access_gate.py)",
                )
            )
    for urn, props in applications:
        if not bypass_decisions(props):
            continue
        patterns = access_patterns(props)
        normalised = {"".join(_split_pattern(pattern)) for pattern in patterns}
        wider = sorted(pattern for pattern in normalised if pattern not in allowed)
        if wider or not normalised:
            found.append(
                (
                    urn,
                    f"Access application {_known(props, 'name')!r} bypasses the login on "
                    f"{wider or ['(no domain)']}; only {sorted(allowed) or ['<host>/cdp']} may "
                    "skip Access (the CDP shim checks CDP_SECRET itself)",
                )
            )
    return found


def r2_protect_violation(name: str, protect: bool) -> str | None:
    """Message when an R2 bucket can be deleted by `pulumi destroy` or a rename."""
    if protect:
        return None
    return (
        f"R2 bucket {name!r} is not protected: a destroy or replace would delete the backups; "
        "declare it with ResourceOptions(protect=True) (openclaw-edge:protectBucket true)"
    )


def ssm_type_violation(
    props: Mapping[str, Any], allowed_plain_names: Iterable[str] = ()
) -> str | None:
    """Message when an SSM parameter holding a secret is not a SecureString."""
    kind = props.get("type")
    name = str(props.get("name", ""))
    if kind == "SecureString" or name in set(allowed_plain_names):
        return None
    return (
        f"SSM parameter {name or '(unnamed)'!r} has type {kind!r}; secrets must be SecureString "
        "(KMS-encrypted at rest)"
    )


# --- pulumi_policy adapters ----------------------------------------------------------------------


def _config(args: ResourceValidationArgs | StackValidationArgs) -> Mapping[str, Any]:
    config = args.get_config()
    return config if isinstance(config, Mapping) else {}


def cost_validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """cost-within-budget: reads the CostGuard component's props."""
    if args.resource_type != COST_GUARD_TYPE:
        return
    ceiling = _as_float(_config(args).get("maxMonthlyUsd"))
    message = cost_violation(args.props, DEFAULT_MAX_MONTHLY_USD if ceiling is None else ceiling)
    if message:
        report_violation(message, None)


def debug_routes_validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """no-debug-routes-outside-dev: reads the WorkerDeploy component's props."""
    if args.resource_type != WORKER_DEPLOY_TYPE:
        return
    configured = _config(args).get("devEnvironments")
    environments = (
        [str(e) for e in _items(configured)] if configured is not None else DEFAULT_DEV_ENVIRONMENTS
    )
    message = debug_routes_violation(args.props, environments)
    if message:
        report_violation(message, None)


def access_validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """access-covers-worker-hostname: every Worker hostname sits behind an Access application."""
    hostnames: dict[str, str] = {}
    applications: list[list[str]] = []
    for resource in args.resources:
        if resource.resource_type in (CUSTOM_DOMAIN_TYPE, WORKER_DEPLOY_TYPE):
            # A WorkerDeploy's props here are its outputs (what register_outputs received); a
            # hostname unknown at preview cannot be checked until it is known.
            hostname = _known(resource.props, "hostname")
            if isinstance(hostname, str) and hostname:
                hostnames.setdefault(hostname.lower(), resource.urn)
        elif resource.resource_type == ACCESS_APPLICATION_TYPE:
            if bypass_decisions(resource.props):
                continue  # a bypass lets everyone in: it protects nothing
            applications.append(access_patterns(resource.props))
    for hostname, message in access_coverage_violations(hostnames, applications):
        report_violation(message, hostnames[hostname])


def access_cookie_validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """access-cookie-lax-http-only: the Access login cookie is SameSite Lax/Strict and HttpOnly."""
    if args.resource_type != ACCESS_APPLICATION_TYPE:
        return
    message = access_cookie_violation(args.props)
    if message:
        report_violation(message, None)


def access_bypass_validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """access-bypass-only-cdp: nothing but the Worker's /cdp paths skips the Access login."""
    hostnames: set[str] = set()
    applications: list[tuple[str, Mapping[str, Any]]] = []
    policies: list[tuple[str, Mapping[str, Any]]] = []
    for resource in args.resources:
        if resource.resource_type in (CUSTOM_DOMAIN_TYPE, WORKER_DEPLOY_TYPE):
            hostname = _known(resource.props, "hostname")
            if isinstance(hostname, str) and hostname:
                hostnames.add(hostname.lower())
        elif resource.resource_type == ACCESS_APPLICATION_TYPE:
            applications.append((resource.urn, resource.props))
        elif resource.resource_type == ACCESS_POLICY_TYPE:
            policies.append((resource.urn, resource.props))
    for urn, message in access_bypass_violations(hostnames, applications, policies):
        report_violation(message, urn)


def r2_protect_validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """r2-bucket-protected: the backup bucket carries `protect`."""
    if args.resource_type != R2_BUCKET_TYPE:
        return
    message = r2_protect_violation(str(args.props.get("name", args.name)), args.opts.protect)
    if message:
        report_violation(message, None)


def ssm_secure_string_validate(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """ssm-secure-string: every SSM parameter the stack declares is a SecureString."""
    if args.resource_type != SSM_PARAMETER_TYPE:
        return
    names = [str(n) for n in _items(_config(args).get("allowedPlainNames"))]
    message = ssm_type_violation(args.props, names)
    if message:
        report_violation(message, None)


def _string_list_schema(name: str, default: list[str]) -> PolicyConfigSchema:
    """A policy config of one property: a list of strings with its default."""
    return PolicyConfigSchema(
        properties={name: {"type": "array", "items": {"type": "string"}, "default": default}}
    )


def build_policies() -> list[Policy]:
    """The pack's policies, all mandatory: plan stop criteria, data-safety and login rules."""
    mandatory = EnforcementLevel.MANDATORY
    return [
        ResourceValidationPolicy(
            name="cost-within-budget",
            description="Estimated monthly cost (CostGuard) stays within the stack budget and "
            f"the plan's ${outputs.BUDGET_USD:.0f} ceiling.",
            validate=cost_validate,
            enforcement_level=mandatory,
            config_schema=PolicyConfigSchema(
                properties={"maxMonthlyUsd": {"type": "number", "default": DEFAULT_MAX_MONTHLY_USD}}
            ),
        ),
        ResourceValidationPolicy(
            name="no-debug-routes-outside-dev",
            description="Debug routes (/debug/*) are enabled only on dev stacks.",
            validate=debug_routes_validate,
            enforcement_level=mandatory,
            config_schema=_string_list_schema("devEnvironments", list(DEFAULT_DEV_ENVIRONMENTS)),
        ),
        StackValidationPolicy(
            name="access-covers-worker-hostname",
            description="Every Worker hostname is covered, on all paths, by a Cloudflare Access "
            "application.",
            validate=access_validate,
            enforcement_level=mandatory,
        ),
        StackValidationPolicy(
            name="access-bypass-only-cdp",
            description="No Access bypass except the path-scoped one for the Worker's /cdp "
            "paths (guarded by CDP_SECRET).",
            validate=access_bypass_validate,
            enforcement_level=mandatory,
        ),
        ResourceValidationPolicy(
            name="access-cookie-lax-http-only",
            description="Self-hosted Access applications set the CF_Authorization cookie "
            "SameSite=Lax (or Strict) and HttpOnly, not Access's defaults (None, scriptable).",
            validate=access_cookie_validate,
            enforcement_level=mandatory,
        ),
        ResourceValidationPolicy(
            name="r2-bucket-protected",
            description="R2 buckets are protected from deletion (they hold the backups).",
            validate=r2_protect_validate,
            enforcement_level=mandatory,
        ),
        ResourceValidationPolicy(
            name="ssm-secure-string",
            description="SSM parameters holding secrets are SecureString.",
            validate=ssm_secure_string_validate,
            enforcement_level=mandatory,
            config_schema=_string_list_schema("allowedPlainNames", []),
        ),
    ]
