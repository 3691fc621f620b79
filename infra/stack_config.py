"""The validated stack configuration as the program uses it: plain frozen records, built only by
`infra.config.load_config` (defaults and rules live in its `ConfigModel`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra.values import CronSchedule, GoDuration, SleepAfter


@dataclass(frozen=True)
class AccessSettings:
    """Zero Trust Access: who may log in to the Worker hostname."""

    team_domain: str
    github_idp_id: str
    allowed_emails: tuple[str, ...]
    github_organization: str | None
    session_duration: GoDuration
    probe_service_token: bool


@dataclass(frozen=True)
class AiGatewaySettings:
    """The AI Gateway that LLM traffic goes through."""

    gateway_id: str
    collect_logs: bool
    cache_ttl: int
    rate_limit: int
    rate_limit_interval: int
    authentication: bool
    """When true, the optional secret AI_GATEWAY_API_KEY becomes required."""


@dataclass(frozen=True)
class Adoption:
    """Existing resources to adopt (Pulumi import) instead of creating new ones."""

    bucket: bool
    access_application_id: str | None
    access_policy_id: str | None
    ssm_parameters: bool
    ai_gateway: bool


@dataclass(frozen=True)
class CostSettings:
    """Inputs of the cost estimate and its budget gate."""

    monthly_budget_usd: float
    active_hours_per_day: float
    state_size_mb: float


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
    sleep_after: SleepAfter
    cron: CronSchedule
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
    adopt: Adoption
    cost: CostSettings

    @property
    def worker_url(self) -> str:
        return f"https://{self.hostname}"
