"""Typed, validated stack configuration: every key a user sets, read once, checked before any
resource is declared. Errors name the key and the fix; all problems are reported together.

The keys, their defaults and their rules are the fields of `ConfigModel` (pydantic, camelCase
aliases = the config keys); `load_config` validates the raw strings against it and maps each
pydantic error to a message that names the key (`_problems`). Durations and the cron schedule
come out parsed (infra/values.py), so nothing after this module parses them again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from infra.catalog import Catalog
from infra.config_errors import ConfigError, Problems, problems_of, unknown_key_problems
from infra.config_fields import Bool, Lower, Number, StringList, StringMap, Whole, parsed
from infra.config_source import NAMESPACE, ConfigSource, DictSource, PulumiSource
from infra.instance_types import memory_problem
from infra.outputs import BUDGET_USD
from infra.stack_config import (
    AccessSettings,
    Adoption,
    AiGatewaySettings,
    CostSettings,
    StackConfig,
)
from infra.values import NEVER, CronSchedule, GoDuration, SleepAfter

__all__ = [
    "NAMESPACE",
    "REPO_ROOT",
    "AccessSettings",
    "Adoption",
    "AiGatewaySettings",
    "ConfigError",
    "ConfigSource",
    "CostSettings",
    "DictSource",
    "PulumiSource",
    "StackConfig",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

InstanceTypeName = Literal["lite", "basic", "standard-1", "standard-2", "standard-3", "standard-4"]
R2Location = Literal["apac", "eeur", "enam", "weur", "wnam", "oc"]
LlmProvider = Literal["anthropic", "openai"]
HEX32 = r"^[0-9a-f]{32}$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
BUCKET_NAME = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
WORKER_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEMVERISH = r"^[0-9]+\.[0-9]+\.[0-9]+([.-][0-9A-Za-z.-]+)?$"
DATE = r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$"
SECRET_WORDS: Final = ("TOKEN", "SECRET", "KEY", "PASSWORD")


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


def _required(how: str) -> JsonDict:
    return {"how": how}


def _shape(expected: str) -> JsonDict:
    return {"expected": expected}


class ConfigModel(BaseModel):
    """Every key of the `openclaw-edge` namespace: alias = key, default = what an unset key
    means. Defaults that depend on the stack, the zone or the checked-in files are filled by
    `_derived_defaults` (context: `stack`, `catalog`)."""

    model_config = ConfigDict(frozen=True, extra="ignore", arbitrary_types_allowed=True)

    account_id: str = Field(
        alias="accountId",
        pattern=HEX32,
        json_schema_extra={
            **_required("the 32-hex-character Cloudflare account id"),
            **_shape("32 hex characters (lower case)"),
        },
    )
    zone_id: str = Field(
        alias="zoneId",
        pattern=HEX32,
        json_schema_extra={
            **_required("the 32-hex-character id of the DNS zone of the hostname"),
            **_shape("32 hex characters (lower case)"),
        },
    )
    zone_name: Annotated[str, Lower] = Field(
        alias="zoneName", json_schema_extra=_required("the zone's domain, e.g. example.com")
    )
    hostname: Annotated[str, Lower] = Field(
        "", alias="hostname", description="moltworker.<zoneName>"
    )
    """Empty only when zoneName is missing too (that key's problem is reported)."""
    worker_name: str = Field(
        alias="workerName",
        pattern=WORKER_NAME,
        description="openclaw-edge-<stack>",
        json_schema_extra=_shape("lower-case letters, digits and '-'"),
    )
    bucket_name: str = Field(
        alias="bucketName",
        pattern=BUCKET_NAME,
        description="openclaw-edge-<stack>-data",
        json_schema_extra=_shape("3-63 of a-z, 0-9 and '-'"),
    )
    bucket_location: Annotated[R2Location | None, Lower] = Field(None, alias="bucketLocation")
    protect_bucket: Bool = Field(True, alias="protectBucket")
    instance_type: InstanceTypeName = Field("standard-1", alias="instanceType")
    max_instances: Whole = Field(1, alias="maxInstances", ge=1, le=100)
    sleep_after: Annotated[SleepAfter, parsed(SleepAfter)] = Field(NEVER, alias="sleepAfter")
    cron: Annotated[CronSchedule, parsed(CronSchedule)] = Field(
        CronSchedule("*/5 * * * *"), alias="cron"
    )
    compatibility_date: str = Field(
        alias="compatibilityDate",
        pattern=DATE,
        description="compatibility_date of worker/wrangler.jsonc",
        json_schema_extra={
            "missing": "is required (worker/wrangler.jsonc has no compatibility_date)",
            **_shape("a date like 2026-11-01"),
        },
    )
    openclaw_version: str = Field(
        alias="openclawVersion",
        pattern=SEMVERISH,
        description="ARG OPENCLAW_VERSION of container/Dockerfile",
        json_schema_extra={
            "missing": "is required (no ARG OPENCLAW_VERSION default found)",
            **_shape("a version like 2026.9.6"),
        },
    )
    llm_provider: LlmProvider = Field("anthropic", alias="llmProvider")
    ssm_prefix: str = Field("/lolice/openclaw/", alias="ssmPrefix")
    optional_secrets: StringList = Field((), alias="optionalSecrets")
    debug_routes: Bool = Field(False, alias="debugRoutes")
    gateway_origin: str | None = Field(None, alias="gatewayOrigin")
    backup_interval_seconds: Whole = Field(60, alias="backupIntervalSeconds", ge=10, le=86400)
    worker_vars: StringMap = Field({}, alias="workerVars")
    access_team_domain: str = Field(
        alias="accessTeamDomain",
        pattern=r"^[a-z0-9-]+\.cloudflareaccess\.com$",
        json_schema_extra={
            **_required("your Zero Trust team domain"),
            **_shape("<team>.cloudflareaccess.com"),
        },
    )
    access_github_idp_id: str = Field(
        alias="accessGithubIdpId",
        pattern=UUID,
        json_schema_extra={
            **_required("the id of the GitHub login method in Zero Trust"),
            **_shape("a UUID like 0a1b2c3d-..."),
        },
    )
    access_github_organization: str | None = Field(None, alias="accessGithubOrganization")
    access_allowed_emails: StringList = Field(
        (), alias="accessAllowedEmails", validate_default=True
    )
    access_session_duration: Annotated[GoDuration, parsed(GoDuration)] = Field(
        GoDuration("24h", 86400.0), alias="accessSessionDuration"
    )
    access_probe_service_token: Bool = Field(False, alias="accessProbeServiceToken")
    ai_gateway_id: str = Field(
        alias="aiGatewayId",
        pattern=WORKER_NAME,
        description="openclaw-edge-<stack>",
        json_schema_extra=_shape("lower-case letters, digits, -"),
    )
    ai_gateway_collect_logs: Bool = Field(True, alias="aiGatewayCollectLogs")
    ai_gateway_cache_ttl: Whole = Field(0, alias="aiGatewayCacheTtl", ge=0, le=2_592_000)
    ai_gateway_rate_limit: Whole = Field(0, alias="aiGatewayRateLimit", ge=0, le=1_000_000)
    ai_gateway_rate_limit_interval: Whole = Field(
        60, alias="aiGatewayRateLimitInterval", ge=1, le=86400
    )
    ai_gateway_authentication: Bool = Field(False, alias="aiGatewayAuthentication")
    adopt_bucket: Bool = Field(False, alias="adoptBucket")
    adopt_access_application_id: str | None = Field(
        None, alias="adoptAccessApplicationId", pattern=UUID, json_schema_extra=_shape("a UUID")
    )
    adopt_access_policy_id: str | None = Field(
        None, alias="adoptAccessPolicyId", pattern=UUID, json_schema_extra=_shape("a UUID")
    )
    adopt_ssm_parameters: Bool = Field(False, alias="adoptSsmParameters")
    adopt_ai_gateway: Bool = Field(False, alias="adoptAiGateway")
    monthly_budget_usd: Number = Field(BUDGET_USD, alias="monthlyBudgetUsd", ge=1.0, le=100_000.0)
    expected_active_hours_per_day: Number = Field(
        24.0, alias="expectedActiveHoursPerDay", ge=0.0, le=24.0
    )
    expected_state_size_mb: Number = Field(
        200.0, alias="expectedStateSizeMb", ge=0.0, le=10_000_000.0
    )

    @model_validator(mode="before")
    @classmethod
    def _derived_defaults(cls, raw: Any, info: ValidationInfo) -> Any:
        stack = (info.context or {})["stack"]
        values = dict(raw)
        zone = str(values.get("zoneName", "")).lower()
        defaults = {
            "hostname": f"moltworker.{zone}" if zone else None,
            "workerName": f"openclaw-edge-{stack}",
            "bucketName": f"openclaw-edge-{stack}-data",
            "aiGatewayId": f"openclaw-edge-{stack}",
            "compatibilityDate": local_compatibility_date(),
            "openclawVersion": dockerfile_openclaw_version(),
        }
        for key, default in defaults.items():
            if key not in values and default is not None:
                values[key] = default
        return values

    @field_validator("hostname")
    @classmethod
    def _inside_the_zone(cls, hostname: str, info: ValidationInfo) -> str:
        zone = info.data.get("zone_name")
        if not all(HOST_LABEL.match(label) for label in hostname.split(".")):
            raise ValueError(f"must be a DNS name like moltworker.{zone}, got {hostname!r}")
        if zone and not hostname.endswith("." + zone):
            raise ValueError(
                f"must be inside the zone {zone!r} (zoneName), e.g. moltworker.{zone}; "
                f"got {hostname!r}"
            )
        return hostname

    @field_validator("instance_type")
    @classmethod
    def _holds_the_gateway(cls, name: str) -> str:
        if (too_small := memory_problem(name)) is not None:
            raise ValueError(too_small)
        return name

    @field_validator("ssm_prefix")
    @classmethod
    def _absolute_prefix(cls, prefix: str) -> str:
        if not prefix.startswith("/"):
            raise ValueError(f"must start with '/', e.g. /lolice/openclaw/; got {prefix!r}")
        return prefix if prefix.endswith("/") else prefix + "/"

    @field_validator("optional_secrets")
    @classmethod
    def _known_optional_secrets(
        cls, names: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        catalog: Catalog = (info.context or {})["catalog"]
        known = sorted(s.name for s in catalog.secrets if s.required == "optional")
        bad = [
            f"lists {name!r}, which is not an optional secret; choose from {', '.join(known)}"
            for name in names
            if name not in known
        ]
        if bad:
            raise Problems(bad)
        return names

    @field_validator("gateway_origin")
    @classmethod
    def _http_url(cls, origin: str | None) -> str | None:
        if origin is not None and not re.match(r"^https?://[^\s/]+", origin):
            raise ValueError(f"must be an http(s) URL, got {origin!r}")
        return origin

    @field_validator("worker_vars")
    @classmethod
    def _user_vars_only(cls, names: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        catalog: Catalog = (info.context or {})["catalog"]
        bad = [p for name in names if (p := worker_var_problem(name, catalog)) is not None]
        if bad:
            raise Problems(bad)
        return names

    @field_validator("access_allowed_emails")
    @classmethod
    def _someone_can_log_in(cls, emails: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        bad = [f"has {e!r}, which is not an email address" for e in emails if not EMAIL.match(e)]
        if not emails and info.data.get("access_github_organization") is None:
            bad.append(
                "or accessGithubOrganization must be set, or nobody can log in "
                "(pulumi config set --path 'accessAllowedEmails[0]' you@example.com)"
            )
        if bad:
            raise Problems(bad)
        return emails

    def stack_config(self, stack: str) -> StackConfig:
        return StackConfig(
            stack=stack,
            account_id=self.account_id,
            zone_id=self.zone_id,
            zone_name=self.zone_name,
            hostname=self.hostname,
            worker_name=self.worker_name,
            bucket_name=self.bucket_name,
            bucket_location=self.bucket_location,
            protect_bucket=self.protect_bucket,
            instance_type=self.instance_type,
            max_instances=self.max_instances,
            sleep_after=self.sleep_after,
            cron=self.cron,
            compatibility_date=self.compatibility_date,
            openclaw_version=self.openclaw_version,
            llm_provider=self.llm_provider,
            ssm_prefix=self.ssm_prefix,
            optional_secrets=self.optional_secrets,
            debug_routes=self.debug_routes,
            gateway_origin=self.gateway_origin,
            backup_interval_seconds=self.backup_interval_seconds,
            worker_vars=self.worker_vars,
            access=AccessSettings(
                team_domain=self.access_team_domain,
                github_idp_id=self.access_github_idp_id,
                allowed_emails=self.access_allowed_emails,
                github_organization=self.access_github_organization,
                session_duration=self.access_session_duration,
                probe_service_token=self.access_probe_service_token,
            ),
            ai_gateway=AiGatewaySettings(
                gateway_id=self.ai_gateway_id,
                collect_logs=self.ai_gateway_collect_logs,
                cache_ttl=self.ai_gateway_cache_ttl,
                rate_limit=self.ai_gateway_rate_limit,
                rate_limit_interval=self.ai_gateway_rate_limit_interval,
                authentication=self.ai_gateway_authentication,
            ),
            adopt=Adoption(
                bucket=self.adopt_bucket,
                access_application_id=self.adopt_access_application_id,
                access_policy_id=self.adopt_access_policy_id,
                ssm_parameters=self.adopt_ssm_parameters,
                ai_gateway=self.adopt_ai_gateway,
            ),
            cost=CostSettings(
                monthly_budget_usd=self.monthly_budget_usd,
                active_hours_per_day=self.expected_active_hours_per_day,
                state_size_mb=self.expected_state_size_mb,
            ),
        )


CONFIG_KEYS: Final = tuple(f.alias for f in ConfigModel.model_fields.values() if f.alias)
"""Every key the program reads, in the order of the README's table."""


def worker_var_problem(name: str, catalog: Catalog) -> str | None:
    """Why a user may not set the Worker var `name` through workerVars, or None. Which names the
    stack sets itself and which are local-only is the catalogue's `source` of each var."""
    spec = next((v for v in catalog.vars if v.name == name), None)
    if spec is None:
        return f"sets {name!r}, which the Worker does not read (see worker/src/env-catalog.json)"
    if spec.source == "stack":
        return f"sets {name}, which the stack manages itself; remove it"
    if spec.source == "local":
        return (
            f"sets {name}, which is for local runs and tests only (a deployed Worker checks "
            "Access against https://<accessTeamDomain>); remove it"
        )
    if any(word in name for word in SECRET_WORDS):
        return f"sets {name}; secrets go in secret config, not vars"
    return None


def load_config(source: ConfigSource, stack: str, catalog: Catalog) -> StackConfig:
    """Read and validate every key; raise ConfigError naming each bad key and its fix."""
    raw: dict[str, str] = {}
    for key in CONFIG_KEYS:
        value = source.get(key)
        if value is not None and value.strip() != "":
            raw[key] = value.strip()
    problems: list[str] = []
    model: ConfigModel | None = None
    try:
        model = ConfigModel.model_validate(raw, context={"stack": stack, "catalog": catalog})
    except ValidationError as error:
        fields = ConfigModel.model_fields
        problems += [line for detail in error.errors() for line in problems_of(detail, fields)]
    problems += unknown_key_problems(source.keys(), set(CONFIG_KEYS), catalog)
    if problems or model is None:
        raise ConfigError(problems)
    return model.stack_config(stack)
