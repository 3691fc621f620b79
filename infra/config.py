"""Typed, validated stack configuration: every key a user sets, read once, checked before any
resource is declared. Errors name the key and the fix; all problems are reported together."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from infra.catalog import Catalog
from infra.instance_types import memory_problem

NAMESPACE = "openclaw-edge"
REPO_ROOT = Path(__file__).resolve().parent.parent

INSTANCE_TYPES = ("lite", "basic", "standard-1", "standard-2", "standard-3", "standard-4")
R2_LOCATIONS = ("apac", "eeur", "enam", "weur", "wnam", "oc")
LLM_PROVIDERS = ("anthropic", "openai")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
WORKER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SLEEP_AFTER = re.compile(r"^(never|[1-9][0-9]*[smh])$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEMVERISH = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([.-][0-9A-Za-z.-]+)?$")
DATE = re.compile(r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$")
# One element of a Go duration (time.ParseDuration), the format Access takes for
# session_duration ("300ms", "2h45m"; units ns, us/µs, ms, s, m, h).
GO_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
GO_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}

# Names the stack sets on the Worker itself; users may not override them through workerVars.
STACK_MANAGED_VARS = frozenset(
    {
        "CF_ACCESS_TEAM_DOMAIN",
        "CF_ACCESS_AUD",
        "CF_ACCOUNT_ID",
        "R2_BUCKET_NAME",
        "AI_GATEWAY_BASE_URL",
        "LLM_PROVIDER",
        "SANDBOX_SLEEP_AFTER",
        "DEBUG_ROUTES",
        "ENVIRONMENT",
        "WORKER_URL",
        "OPENCLAW_VERSION",
        "GATEWAY_ORIGIN",
    }
)

# Local runs and tests only: on a deployed Worker they would move Access verification (JWKS) or
# the login redirect away from the team domain, so a stack refuses them.
LOCAL_ONLY_VARS = frozenset({"CF_ACCESS_JWKS_URL", "CF_ACCESS_LOGIN_ORIGIN"})


class ConfigSource(Protocol):
    """Where raw values come from: `pulumi.Config` in a real run, a dict in tests."""

    def get(self, key: str) -> str | None: ...

    def keys(self) -> Iterable[str]:
        """Every key set in the `openclaw-edge` namespace (without the prefix), so a misspelled
        one is reported instead of silently ignored."""
        ...


class ConfigError(ValueError):
    """One or more configuration values are missing or malformed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class AccessSettings:
    """Zero Trust Access: who may log in to the Worker hostname."""

    team_domain: str
    """`<team>.cloudflareaccess.com`; required (`accessTeamDomain`)."""
    github_idp_id: str
    """Id (UUID) of the GitHub login method in Zero Trust; required (`accessGithubIdpId`)."""
    allowed_emails: tuple[str, ...] = ()
    """Emails allowed in (`accessAllowedEmails`); default none."""
    github_organization: str | None = None
    """GitHub organisation whose members are allowed (`accessGithubOrganization`)."""
    session_duration: str = "24h"
    """Access session length (`accessSessionDuration`); default 24h."""
    probe_service_token: bool = False
    """Create a service token the latency probe logs in with (`accessProbeServiceToken`)."""


@dataclass(frozen=True)
class AiGatewaySettings:
    """The AI Gateway that LLM traffic goes through."""

    gateway_id: str
    """Gateway id (`aiGatewayId`); default `openclaw-edge-<stack>`."""
    collect_logs: bool = True
    """Keep request logs (`aiGatewayCollectLogs`); default true."""
    cache_ttl: int = 0
    """Seconds responses are cached (`aiGatewayCacheTtl`); default 0 (off)."""
    rate_limit: int = 0
    """Requests allowed per interval (`aiGatewayRateLimit`); default 0 (off)."""
    rate_limit_interval: int = 60
    """Seconds of the rate-limit window (`aiGatewayRateLimitInterval`); default 60."""
    authentication: bool = False
    """Require `cf-aig-authorization` (`aiGatewayAuthentication`); default false. When true,
    the optional secret AI_GATEWAY_API_KEY becomes required."""


@dataclass(frozen=True)
class Adoption:
    """Existing resources to adopt (Pulumi import) instead of creating new ones."""

    bucket: bool = False
    """Import the R2 bucket named `bucketName` (`adoptBucket`)."""
    access_application_id: str | None = None
    """Id of an existing Access application (`adoptAccessApplicationId`)."""
    access_policy_id: str | None = None
    """Id of an existing reusable Access policy (`adoptAccessPolicyId`)."""
    ssm_parameters: bool = False
    """Import every SSM parameter under `ssmPrefix` (`adoptSsmParameters`)."""
    ai_gateway: bool = False
    """Import the AI Gateway `aiGatewayId` (`adoptAiGateway`)."""


@dataclass(frozen=True)
class CostSettings:
    """Inputs of the cost estimate and its budget gate."""

    monthly_budget_usd: float = 50.0
    """Stop criterion of the plan (`monthlyBudgetUsd`); default 50."""
    active_hours_per_day: float = 24.0
    """Expected hours a day the container is awake (`expectedActiveHoursPerDay`); default 24."""
    state_size_mb: float = 200.0
    """Expected size of the backed-up state (`expectedStateSizeMb`); default 200."""


@dataclass(frozen=True)
class StackConfig:
    """Everything the program needs, validated. Built only by `load_config`."""

    stack: str
    account_id: str
    zone_id: str
    zone_name: str
    hostname: str
    worker_name: str
    bucket_name: str
    bucket_location: str | None
    protect_bucket: bool
    instance_type: str
    max_instances: int
    sleep_after: str
    cron: str
    compatibility_date: str
    openclaw_version: str
    llm_provider: str
    ssm_prefix: str
    optional_secrets: tuple[str, ...]
    debug_routes: bool
    gateway_origin: str | None
    backup_interval_seconds: int
    worker_vars: Mapping[str, str]
    access: AccessSettings
    ai_gateway: AiGatewaySettings
    adopt: Adoption = field(default_factory=Adoption)
    cost: CostSettings = field(default_factory=CostSettings)

    @property
    def worker_url(self) -> str:
        return f"https://{self.hostname}"


def dockerfile_openclaw_version(root: Path = REPO_ROOT) -> str | None:
    """The OpenClaw version the image pins (`ARG OPENCLAW_VERSION=...`), the default of
    `openclawVersion`, so the version is written in one place."""
    dockerfile = root / "container" / "Dockerfile"
    if not dockerfile.is_file():
        return None
    match = re.search(r"^ARG OPENCLAW_VERSION=(\S+)$", dockerfile.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def local_compatibility_date(root: Path = REPO_ROOT) -> str | None:
    """The Worker's compatibility date from its checked-in worker/wrangler.jsonc, the default of
    `compatibilityDate`, so the local runtime and the deploy agree and the date lives once."""
    path = root / "worker" / "wrangler.jsonc"
    if not path.is_file():
        return None
    match = re.search(r'"compatibility_date"\s*:\s*"([0-9-]+)"', path.read_text())
    return match.group(1) if match else None


class _Reader:
    """Reads raw strings, converts them and collects problems instead of stopping at the first."""

    def __init__(self, source: ConfigSource) -> None:
        self.source = source
        self.problems: list[str] = []
        self.read: set[str] = set()
        """Every key asked for: what the program knows (unknown keys are the rest)."""

    def key(self, name: str) -> str:
        return f"{NAMESPACE}:{name}"

    def fail(self, name: str, message: str) -> None:
        self.problems.append(f"{self.key(name)} {message}")

    def text(self, name: str, default: str | None = None) -> str | None:
        self.read.add(name)
        raw = self.source.get(name)
        if raw is None or raw.strip() == "":
            return default
        return raw.strip()

    def required(self, name: str, how: str) -> str:
        value = self.text(name)
        if value is None:
            self.fail(name, f"is required: {how} (pulumi config set {name} <value>)")
            return ""
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(name, f"must be true or false, got {value!r}")
        return default

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(name, f"must be a whole number, got {value!r}")
            return default
        if not minimum <= number <= maximum:
            self.fail(name, f"must be between {minimum} and {maximum}, got {number}")
            return default
        return number

    def number(self, name: str, default: float, minimum: float, maximum: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            self.fail(name, f"must be a number, got {value!r}")
            return default
        if not minimum <= number <= maximum:
            self.fail(name, f"must be between {minimum:g} and {maximum:g}, got {number:g}")
            return default
        return number

    def string_list(self, name: str) -> tuple[str, ...]:
        value = self.text(name)
        if value is None:
            return ()
        if value.startswith("["):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                self.fail(name, "must be a list (YAML list or JSON array of strings)")
                return ()
            if not isinstance(parsed, list) or not all(isinstance(i, str) for i in parsed):
                self.fail(name, "must be a list of strings")
                return ()
            return tuple(i.strip() for i in parsed if i.strip())
        return tuple(i.strip() for i in value.split(",") if i.strip())

    def string_map(self, name: str) -> dict[str, str]:
        value = self.text(name)
        if value is None:
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float | bool)
            for k, v in parsed.items()
        ):
            self.fail(name, "must be a map of NAME: value (YAML mapping or JSON object)")
            return {}
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in parsed.items()}

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default) or default
        if value not in choices:
            self.fail(name, f"must be one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def matching(
        self, name: str, value: str | None, pattern: re.Pattern[str], expected: str
    ) -> None:
        if value is not None and value != "" and not pattern.match(value):
            self.fail(name, f"must be {expected}, got {value!r}")


_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i + 1
            for i, m in enumerate(
                ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            )
        },
    ),
    (
        "day of week",
        0,
        7,
        {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
    ),
)


def go_duration_seconds(text: str) -> float | None:
    """Seconds of a Go duration without sign ("24h", "1h30m", "90s"), or None when it is not one
    (e.g. "never", "1d", "24")."""
    position, total = 0, 0.0
    while position < len(text):
        match = GO_DURATION_PART.match(text, position)
        if match is None:
            return None
        total += float(match.group(1)) * GO_DURATION_UNITS[match.group(2)]
        position = match.end()
    return total if text else None


def cron_problem(expression: str) -> str | None:
    """Why a 5-field cron expression (as Cloudflare Cron Triggers take it) is invalid, or None."""
    fields = expression.split()
    if len(fields) != 5:
        return f"needs 5 fields (minute hour day month weekday), got {len(fields)}"
    for text, (label, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"{label} field {text!r} has a bad step {step!r}"
            if base in ("*", "?") or (base == "L" and label == "day of month"):
                continue
            bounds = base.split("-")
            if len(bounds) > 2:
                return f"{label} field {text!r} is not a value, range or list"
            for bound in bounds:
                value = names.get(bound.upper()) if not bound.isdigit() else int(bound)
                if value is None or not low <= value <= high:
                    return f"{label} field {text!r}: {bound!r} is outside {low}-{high}"
    return None


def load_config(  # noqa: PLR0912, PLR0915 (one flat pass over every key reads best)
    source: ConfigSource, stack: str, catalog: Catalog
) -> StackConfig:
    """Read and validate every key; raise ConfigError naming each bad key and its fix."""
    r = _Reader(source)

    account_id = r.required("accountId", "the 32-hex-character Cloudflare account id")
    r.matching("accountId", account_id, HEX32, "32 hex characters (lower case)")
    zone_id = r.required("zoneId", "the 32-hex-character id of the DNS zone of the hostname")
    r.matching("zoneId", zone_id, HEX32, "32 hex characters (lower case)")
    zone_name = (r.required("zoneName", "the zone's domain, e.g. example.com") or "").lower()
    hostname = (r.text("hostname") or (f"moltworker.{zone_name}" if zone_name else "")).lower()
    labels = hostname.split(".")
    if hostname and not all(HOST_LABEL.match(label) for label in labels):
        r.fail("hostname", f"must be a DNS name like moltworker.{zone_name}, got {hostname!r}")
    elif zone_name and hostname and not hostname.endswith("." + zone_name):
        r.fail(
            "hostname",
            f"must be inside the zone {zone_name!r} (zoneName), e.g. moltworker.{zone_name}; "
            f"got {hostname!r}",
        )

    worker_name = r.text("workerName", f"openclaw-edge-{stack}") or ""
    r.matching("workerName", worker_name, WORKER_NAME, "lower-case letters, digits and '-'")
    bucket_name = r.text("bucketName", f"openclaw-edge-{stack}-data") or ""
    r.matching("bucketName", bucket_name, BUCKET_NAME, "3-63 of a-z, 0-9 and '-'")
    bucket_location = r.text("bucketLocation")
    if bucket_location is not None and bucket_location.lower() not in R2_LOCATIONS:
        r.fail("bucketLocation", f"must be one of {', '.join(R2_LOCATIONS)}")
    protect_bucket = r.boolean("protectBucket", True)

    instance_type = r.choice("instanceType", "standard-1", INSTANCE_TYPES)
    if (too_small := memory_problem(instance_type)) is not None:
        r.fail("instanceType", too_small)
    max_instances = r.integer("maxInstances", 1, 1, 100)
    sleep_after = r.text("sleepAfter", "never") or "never"
    r.matching("sleepAfter", sleep_after, SLEEP_AFTER, "never or a duration like 10m, 2h, 90s")
    cron = r.text("cron", "*/5 * * * *") or ""
    if (why := cron_problem(cron)) is not None:
        r.fail("cron", f"is not a valid cron expression: {why}")
    compatibility_date = r.text("compatibilityDate", local_compatibility_date()) or ""
    if not compatibility_date:
        r.fail("compatibilityDate", "is required (worker/wrangler.jsonc has no compatibility_date)")
    r.matching("compatibilityDate", compatibility_date, DATE, "a date like 2026-11-01")
    pinned = dockerfile_openclaw_version()
    openclaw_version = r.text("openclawVersion", pinned) or ""
    if not openclaw_version:
        r.fail("openclawVersion", "is required (no ARG OPENCLAW_VERSION default found)")
    r.matching("openclawVersion", openclaw_version, SEMVERISH, "a version like 2026.9.6")
    llm_provider = r.choice("llmProvider", "anthropic", LLM_PROVIDERS)

    ssm_prefix = r.text("ssmPrefix", "/lolice/openclaw/") or ""
    if not ssm_prefix.startswith("/"):
        r.fail("ssmPrefix", f"must start with '/', e.g. /lolice/openclaw/; got {ssm_prefix!r}")
    elif not ssm_prefix.endswith("/"):
        ssm_prefix += "/"

    optional_secrets = r.string_list("optionalSecrets")
    known_optional = {s.name for s in catalog.secrets if s.required == "optional"}
    for name in optional_secrets:
        if name not in known_optional:
            r.fail(
                "optionalSecrets",
                f"lists {name!r}, which is not an optional secret; choose from "
                f"{', '.join(sorted(known_optional))}",
            )

    debug_routes = r.boolean("debugRoutes", False)
    gateway_origin = r.text("gatewayOrigin")
    if gateway_origin is not None and not re.match(r"^https?://[^\s/]+", gateway_origin):
        r.fail("gatewayOrigin", f"must be an http(s) URL, got {gateway_origin!r}")
    backup_interval = r.integer("backupIntervalSeconds", 60, 10, 86400)

    worker_vars = r.string_map("workerVars")
    var_names = {v.name for v in catalog.vars}
    for name in worker_vars:
        if name in STACK_MANAGED_VARS:
            r.fail("workerVars", f"sets {name}, which the stack manages itself; remove it")
        elif name in LOCAL_ONLY_VARS:
            r.fail(
                "workerVars",
                f"sets {name}, which is for local runs and tests only (a deployed Worker checks "
                "Access against https://<accessTeamDomain>); remove it",
            )
        elif name not in var_names:
            r.fail(
                "workerVars",
                f"sets {name!r}, which the Worker does not read (see worker/src/env-catalog.json)",
            )
        elif any(word in name for word in ("TOKEN", "SECRET", "KEY", "PASSWORD")):
            r.fail("workerVars", f"sets {name}; secrets go in secret config, not vars")

    team_domain = r.required("accessTeamDomain", "your Zero Trust team domain")
    r.matching(
        "accessTeamDomain",
        team_domain,
        re.compile(r"^[a-z0-9-]+\.cloudflareaccess\.com$"),
        "<team>.cloudflareaccess.com",
    )
    idp = r.required("accessGithubIdpId", "the id of the GitHub login method in Zero Trust")
    r.matching("accessGithubIdpId", idp, UUID, "a UUID like 0a1b2c3d-...")
    emails = r.string_list("accessAllowedEmails")
    for email in emails:
        if not EMAIL.match(email):
            r.fail("accessAllowedEmails", f"has {email!r}, which is not an email address")
    org = r.text("accessGithubOrganization")
    if not emails and org is None:
        r.fail(
            "accessAllowedEmails",
            "or accessGithubOrganization must be set, or nobody can log in "
            "(pulumi config set --path 'accessAllowedEmails[0]' you@example.com)",
        )
    access = AccessSettings(
        team_domain=team_domain,
        github_idp_id=idp,
        allowed_emails=emails,
        github_organization=org,
        session_duration=r.text("accessSessionDuration", "24h") or "24h",
        probe_service_token=r.boolean("accessProbeServiceToken", False),
    )
    if not go_duration_seconds(access.session_duration):
        r.fail(
            "accessSessionDuration",
            "must be a positive Go duration like 24h, 30m or 1h30m (units h, m, s, ms; Access "
            f"takes no 'never' or days), got {access.session_duration!r}",
        )

    ai_gateway = AiGatewaySettings(
        gateway_id=r.text("aiGatewayId", f"openclaw-edge-{stack}") or "",
        collect_logs=r.boolean("aiGatewayCollectLogs", True),
        cache_ttl=r.integer("aiGatewayCacheTtl", 0, 0, 2_592_000),
        rate_limit=r.integer("aiGatewayRateLimit", 0, 0, 1_000_000),
        rate_limit_interval=r.integer("aiGatewayRateLimitInterval", 60, 1, 86400),
        authentication=r.boolean("aiGatewayAuthentication", False),
    )
    r.matching("aiGatewayId", ai_gateway.gateway_id, WORKER_NAME, "lower-case letters, digits, -")

    adopt = Adoption(
        bucket=r.boolean("adoptBucket", False),
        access_application_id=r.text("adoptAccessApplicationId"),
        access_policy_id=r.text("adoptAccessPolicyId"),
        ssm_parameters=r.boolean("adoptSsmParameters", False),
        ai_gateway=r.boolean("adoptAiGateway", False),
    )
    r.matching("adoptAccessApplicationId", adopt.access_application_id, UUID, "a UUID")
    r.matching("adoptAccessPolicyId", adopt.access_policy_id, UUID, "a UUID")

    cost = CostSettings(
        monthly_budget_usd=r.number("monthlyBudgetUsd", 50.0, 1.0, 100_000.0),
        active_hours_per_day=r.number("expectedActiveHoursPerDay", 24.0, 0.0, 24.0),
        state_size_mb=r.number("expectedStateSizeMb", 200.0, 0.0, 10_000_000.0),
    )

    r.problems += unknown_key_problems(source.keys(), r.read, catalog)
    if r.problems:
        raise ConfigError(r.problems)
    return StackConfig(
        stack=stack,
        account_id=account_id,
        zone_id=zone_id,
        zone_name=zone_name,
        hostname=hostname,
        worker_name=worker_name,
        bucket_name=bucket_name,
        bucket_location=bucket_location.lower() if bucket_location else None,
        protect_bucket=protect_bucket,
        instance_type=instance_type,
        max_instances=max_instances,
        sleep_after=sleep_after,
        cron=cron,
        compatibility_date=compatibility_date,
        openclaw_version=openclaw_version,
        llm_provider=llm_provider,
        ssm_prefix=ssm_prefix,
        optional_secrets=optional_secrets,
        debug_routes=debug_routes,
        gateway_origin=gateway_origin,
        backup_interval_seconds=backup_interval,
        worker_vars=worker_vars,
        access=access,
        ai_gateway=ai_gateway,
        adopt=adopt,
        cost=cost,
    )


def unknown_key_problems(keys: Iterable[str], read: set[str], catalog: Catalog) -> list[str]:
    """One problem per key set in the namespace that nothing reads, with the closest known key.

    Known: every key `load_config` asked for and the secrets the stack takes from config (the
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


def runtime_config_keys() -> list[str]:
    """Keys set in the namespace in a real `pulumi preview/up`.

    The engine hands the program its config as JSON of `"<namespace>:<key>": value` in the
    `PULUMI_CONFIG` environment variable; `pulumi-language-python-exec` loads it with
    `pulumi.runtime.set_all_config(get_config_env(), ...)` (pulumi/pulumi
    sdk/python/cmd/pulumi-language-python-exec, lines 102-110),
    as the Automation API's inline programs do with the request's config. `pulumi.Config.get`
    reads the same two places (pulumi/runtime/config.py `get_config`), so both are listed here."""
    from pulumi.runtime import config as runtime_config

    names = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{NAMESPACE}:"
    return sorted(name[len(prefix) :] for name in names if name.startswith(prefix))


class DictSource:
    """A ConfigSource over a plain mapping (tests, the offline plan). `secret_keys`: names set as
    secrets (`secure:` in a stack file), which are set keys too but not plain values."""

    def __init__(self, values: Mapping[str, object], secret_keys: Iterable[str] = ()) -> None:
        self.values = values
        self.secret_keys = tuple(secret_keys)

    def keys(self) -> list[str]:
        return [k for k, v in self.values.items() if v is not None] + list(self.secret_keys)

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value).lower()
        return json.dumps(value) if isinstance(value, list | dict) else str(value)


class PulumiSource:
    """A ConfigSource over `pulumi.Config(NAMESPACE)`; never reads secret keys as plain text."""

    def __init__(
        self,
        getter: Callable[[str], str | None],
        lister: Callable[[], Iterable[str]] = runtime_config_keys,
    ) -> None:
        self.getter = getter
        self.lister = lister

    def get(self, key: str) -> str | None:
        return self.getter(key)

    def keys(self) -> list[str]:
        return list(self.lister())
