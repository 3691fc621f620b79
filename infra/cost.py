"""Monthly cost model of one deployment (Workers Paid + Containers + R2) and its CostGuard.

Rates are Cloudflare's published prices, kept as named constants with their source and the date
they were read. The model is deliberately simple arithmetic that a reader can redo by hand; every
assumption it adds on top of the published rates is a named constant listed in `ASSUMPTIONS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from infra.values import SleepAfter

# --- Published rates --------------------------------------------------------------------------

RATES_READ_ON: Final = "2026-11-22"
"""Date the rates below were read from the sources that follow."""

SOURCE_WORKERS_PRICING: Final = "https://developers.cloudflare.com/workers/platform/pricing/"
SOURCE_CONTAINERS_PRICING: Final = "https://developers.cloudflare.com/containers/pricing/"
SOURCE_CONTAINERS_LIMITS: Final = (
    "https://developers.cloudflare.com/containers/platform-details/limits/"
)
SOURCE_R2_PRICING: Final = "https://developers.cloudflare.com/r2/pricing/"
SOURCE_WORKED_EXAMPLE: Final = "https://github.com/cloudflare/moltworker#container-cost-estimate"

WORKERS_PAID_USD_PER_MONTH: Final = 5.00
"""Workers Paid plan, the minimum charge that Containers require. Source: SOURCE_WORKERS_PRICING."""

CONTAINER_MEMORY_USD_PER_GIB_SECOND: Final = 0.0000025
"""Containers memory, billed on provisioned GiB while running. Source: SOURCE_CONTAINERS_PRICING."""
CONTAINER_VCPU_USD_PER_VCPU_SECOND: Final = 0.000020
"""Containers CPU, billed on active usage only. Source: SOURCE_CONTAINERS_PRICING."""
CONTAINER_DISK_USD_PER_GB_SECOND: Final = 0.00000007
"""Containers disk, billed on provisioned GB while running. Source: SOURCE_CONTAINERS_PRICING."""

CONTAINER_INCLUDED_MEMORY_GIB_SECONDS: Final = 25 * 3600
"""25 GiB-hours/month included with Workers Paid. Source: SOURCE_CONTAINERS_PRICING."""
CONTAINER_INCLUDED_VCPU_SECONDS: Final = 375 * 60
"""375 vCPU-minutes/month included with Workers Paid. Source: SOURCE_CONTAINERS_PRICING."""
CONTAINER_INCLUDED_DISK_GB_SECONDS: Final = 200 * 3600
"""200 GB-hours/month included with Workers Paid. Source: SOURCE_CONTAINERS_PRICING."""

R2_STORAGE_USD_PER_GB_MONTH: Final = 0.015
"""R2 Standard storage. Source: SOURCE_R2_PRICING."""
R2_CLASS_A_USD_PER_MILLION: Final = 4.50
"""R2 Class A operations (PutObject, ListObjects, ...). Source: SOURCE_R2_PRICING."""
R2_CLASS_B_USD_PER_MILLION: Final = 0.36
"""R2 Class B operations (GetObject, HeadObject, ...). Source: SOURCE_R2_PRICING."""
R2_FREE_STORAGE_GB_MONTH: Final = 10.0
"""R2 free tier: 10 GB-month/month (Standard storage only). Source: SOURCE_R2_PRICING."""
R2_FREE_CLASS_A: Final = 1_000_000
"""R2 free tier: 1 million Class A requests/month. Source: SOURCE_R2_PRICING."""
R2_FREE_CLASS_B: Final = 10_000_000
"""R2 free tier: 10 million Class B requests/month. Source: SOURCE_R2_PRICING."""


@dataclass(frozen=True)
class InstanceType:
    """One predefined Containers instance type (source: SOURCE_CONTAINERS_LIMITS)."""

    name: str
    vcpu: float
    memory_gib: float
    disk_gb: float


INSTANCE_TYPES: Final[dict[str, InstanceType]] = {
    t.name: t
    for t in (
        InstanceType("lite", 1 / 16, 0.25, 2),
        InstanceType("basic", 1 / 4, 1, 4),
        InstanceType("standard-1", 1 / 2, 4, 8),
        InstanceType("standard-2", 1, 6, 12),
        InstanceType("standard-3", 2, 8, 16),
        InstanceType("standard-4", 4, 12, 20),
    )
}
"""Predefined instance types; `dev` and `standard` are documented aliases of lite/standard-1."""

INSTANCE_TYPE_ALIASES: Final[dict[str, str]] = {"dev": "lite", "standard": "standard-1"}

# --- What an instance type must hold ------------------------------------------------------------


def memory_mib(item: InstanceType) -> int:
    return round(item.memory_gib * 1024)


GATEWAY_PEAK_MEMORY_MIB: Final = 1990
"""Peak RSS of the OpenClaw gateway (its whole process group, sum of each process's VmHWM) with
Discord and Telegram on and one chat answered: the highest of the three `make bench` runs of
2026-12-02 in docs/benchmarks.md ("Gateway memory after one Telegram chat"; 1804-1985 MiB over
every lever combination), rounded up."""

MEMORY_MARGIN: Final = 1.25
"""Head room on top of the gateway: +25 % for the boot code, the runtime and the agent's tools."""


def memory_need_mib() -> int:
    """What a container running the default config needs (the stack refuses smaller types)."""
    return math.ceil(GATEWAY_PEAK_MEMORY_MIB * MEMORY_MARGIN)


def smallest_fitting_type() -> InstanceType:
    """The cheapest predefined type that holds the default config (types ascend in price)."""
    need = memory_need_mib()
    return next(item for item in INSTANCE_TYPES.values() if memory_mib(item) >= need)


# --- Assumptions added by this model (not published rates) -------------------------------------

HOURS_PER_MONTH: Final = 730.0
"""365 * 24 / 12; the convention of the worked example in SOURCE_WORKED_EXAMPLE."""
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24

ASSUMED_CPU_UTILIZATION: Final = 0.10
"""Share of the provisioned vCPU actually busy while running (the worked example's ~10%)."""
ASSUMED_ACTIVE_SESSION_HOURS: Final = 1.0
"""Active hours arrive in sessions of this length; each one is followed by `sleepAfter` idle."""
ASSUMED_REPOSITORY_SIZE_FACTOR: Final = 2.0
"""Restic repository size / live state size, for retained snapshots (deduplicated, compressed)."""
ASSUMED_CLASS_A_PER_SNAPSHOT: Final = 6
"""Restic backup: lock put, pack put, index put, snapshot put, two listings."""
ASSUMED_CLASS_B_PER_SNAPSHOT: Final = 4
"""Restic backup: config get, key get, lock/index reads."""
ASSUMED_SNAPSHOTS_ONLY_WHILE_RUNNING: Final = True
"""The snapshot loop runs inside the container, so a sleeping container takes no snapshots."""
CRON_WAKES_CONTAINER: Final = False
"""With a `sleepAfter` duration the cron watchdog (worker/src/cron.ts) does not touch the container
on every run (any request to it counts as activity and would keep it awake): it only wakes a
sleeping container ahead of OpenClaw's next due job. With `never` it runs 24/7 anyway."""
WATCHDOG_WAKE_LEAD_SECONDS: Final = 180
"""How long before a due OpenClaw job the watchdog wakes the container (WAKE_LEAD_MS in
worker/src/cron.ts; a test keeps the two equal)."""
ASSUMED_OPENCLAW_JOB_INTERVAL_SECONDS: Final = 1800
"""OpenClaw's own schedule, for which the watchdog wakes a sleeping container: its heartbeat runs
every 30 min by default (OpenClaw 2026.9.6 docs/gateway/heartbeat.md, `agents.defaults.heartbeat
.every`, "0m" disables it; 1 h with Anthropic OAuth). Each wake keeps the container up for
`sleepAfter`."""
ASSUMPTIONS: Final[dict[str, object]] = {
    "hoursPerMonth": HOURS_PER_MONTH,
    "cpuUtilization": ASSUMED_CPU_UTILIZATION,
    "activeSessionHours": ASSUMED_ACTIVE_SESSION_HOURS,
    "repositorySizeFactor": ASSUMED_REPOSITORY_SIZE_FACTOR,
    "classAPerSnapshot": ASSUMED_CLASS_A_PER_SNAPSHOT,
    "classBPerSnapshot": ASSUMED_CLASS_B_PER_SNAPSHOT,
    "snapshotsOnlyWhileRunning": ASSUMED_SNAPSHOTS_ONLY_WHILE_RUNNING,
    "cronWakesContainer": CRON_WAKES_CONTAINER,
    "watchdogWakes": "a sleeping container only, ahead of OpenClaw's next due job",
    "openclawJobIntervalSeconds": ASSUMED_OPENCLAW_JOB_INTERVAL_SECONDS,
    "chatWhileAsleep": "outbound bot connections are not activity: while the container sleeps "
    "Discord and Slack messages go unanswered, Telegram ones wait (24 h) for the next wake",
    "r2FreeTier": "the account's R2 free tier is assumed unused by its other buckets",
    "notModelled": "Workers/Durable Object requests beyond the plan's allowance, container egress"
    " beyond 1 TB, Workers Logs, AI Gateway and LLM provider charges, Browser Rendering",
}

SOURCES: Final[dict[str, str]] = {
    "workers": SOURCE_WORKERS_PRICING,
    "containers": SOURCE_CONTAINERS_PRICING,
    "instanceTypes": SOURCE_CONTAINERS_LIMITS,
    "r2": SOURCE_R2_PRICING,
    "workedExample": SOURCE_WORKED_EXAMPLE,
}


class CostModelError(ValueError):
    """An input the cost model cannot price; the message names the config key."""


def instance_type(name: str) -> InstanceType:
    """The predefined instance type called `name` (aliases allowed)."""
    resolved = INSTANCE_TYPE_ALIASES.get(name, name)
    if resolved not in INSTANCE_TYPES:
        raise CostModelError(
            f"openclaw-edge:instanceType must be one of {', '.join(INSTANCE_TYPES)}, got {name!r}"
        )
    return INSTANCE_TYPES[resolved]


@dataclass(frozen=True)
class CostInputs:
    """What the cost depends on; all from stack config."""

    instance_type: str
    """Containers instance type (`lite`, `basic`, `standard-1` .. `standard-4`)."""
    sleep_after: SleepAfter
    """Idle time before the container sleeps: `never` or a duration such as `10m`."""
    active_hours_per_day: float
    """Expected hours a day with traffic (ignored when `sleep_after` is `never`)."""
    max_instances: int
    """Upper bound of concurrently running instances; priced only in the worst case."""
    state_size_mb: float
    """Expected size of the OpenClaw state directory that is snapshotted to R2."""
    snapshot_interval_seconds: int
    """Seconds between restic snapshots while the container runs."""
    cron_interval_seconds: int | None = None
    """Seconds between Worker cron runs (`config.cron.interval_seconds`); shown in the
    estimate's inputs (the watchdog wakes a sleeping container only for OpenClaw's jobs)."""
    openclaw_job_interval_seconds: int | None = ASSUMED_OPENCLAW_JOB_INTERVAL_SECONDS
    """Seconds between OpenClaw's own scheduled jobs, each of which wakes a sleeping container
    for `sleepAfter`; None leaves them out (heartbeat disabled, no jobs)."""


@dataclass(frozen=True)
class ContainerCost:
    """Containers charges for one usage pattern (after the included allowances)."""

    running_hours: float
    memory_usd: float
    cpu_usd: float
    disk_usd: float

    @property
    def total_usd(self) -> float:
        """Memory + CPU + disk."""
        return self.memory_usd + self.cpu_usd + self.disk_usd

    def to_output(self) -> dict[str, float]:
        """camelCase view for stack outputs."""
        return {
            "runningHoursPerMonth": round(self.running_hours, 2),
            "memoryUsd": round(self.memory_usd, 2),
            "cpuUsd": round(self.cpu_usd, 2),
            "diskUsd": round(self.disk_usd, 2),
            "totalUsd": round(self.total_usd, 2),
        }


@dataclass(frozen=True)
class R2Cost:
    """R2 charges for the restic repository (after the free tier, rounded up as billed)."""

    repository_gb: float
    snapshots_per_month: float
    class_a_ops: float
    class_b_ops: float
    storage_usd: float
    class_a_usd: float
    class_b_usd: float

    @property
    def total_usd(self) -> float:
        """Storage + Class A + Class B."""
        return self.storage_usd + self.class_a_usd + self.class_b_usd

    def to_output(self) -> dict[str, float]:
        """camelCase view for stack outputs."""
        return {
            "repositoryGb": round(self.repository_gb, 3),
            "snapshotsPerMonth": round(self.snapshots_per_month),
            "classAOps": round(self.class_a_ops),
            "classBOps": round(self.class_b_ops),
            "storageUsd": round(self.storage_usd, 2),
            "classAUsd": round(self.class_a_usd, 2),
            "classBUsd": round(self.class_b_usd, 2),
            "totalUsd": round(self.total_usd, 2),
        }


@dataclass(frozen=True)
class CostBreakdown:
    """Estimated monthly cost; `monthly_usd` is the expected case the budget is checked against."""

    inputs: CostInputs
    monthly_usd: float
    """Workers Paid + one instance with the configured sleepAfter + R2."""
    always_on_monthly_usd: float
    """Workers Paid + one instance running 24/7 + R2 (what `sleepAfter: never` costs)."""
    worst_case_monthly_usd: float
    """Workers Paid + `max_instances` instances running 24/7 + R2."""
    workers_paid_usd: float
    container: ContainerCost
    container_always_on: ContainerCost
    r2: R2Cost
    assumptions: dict[str, object] = field(default_factory=lambda: dict(ASSUMPTIONS))

    def to_output(self) -> dict[str, object]:
        """The `costEstimate` stack output: plain JSON, camelCase keys, USD rounded to cents."""
        return {
            "monthlyUsd": round(self.monthly_usd, 2),
            "alwaysOnMonthlyUsd": round(self.always_on_monthly_usd, 2),
            "worstCaseMonthlyUsd": round(self.worst_case_monthly_usd, 2),
            "workersPaidUsd": round(self.workers_paid_usd, 2),
            "container": self.container.to_output(),
            "containerAlwaysOn": self.container_always_on.to_output(),
            "r2": self.r2.to_output(),
            "inputs": {
                "instanceType": self.inputs.instance_type,
                "sleepAfter": self.inputs.sleep_after.text,
                "activeHoursPerDay": self.inputs.active_hours_per_day,
                "maxInstances": self.inputs.max_instances,
                "stateSizeMb": self.inputs.state_size_mb,
                "snapshotIntervalSeconds": self.inputs.snapshot_interval_seconds,
                "cronIntervalSeconds": self.inputs.cron_interval_seconds,
                "openclawJobIntervalSeconds": self.inputs.openclaw_job_interval_seconds,
            },
            "assumptions": dict(self.assumptions),
            "smallestInstanceType": {
                "name": smallest_fitting_type().name,
                "memoryNeedMib": memory_need_mib(),
            },
            "ratesReadOn": RATES_READ_ON,
            "sources": dict(SOURCES),
        }


def running_hours_per_day(
    sleep_after: SleepAfter, active_hours_per_day: float, job_interval: int | None = None
) -> float:
    """Hours a day one instance is up: 24 for `never`, else activity plus idle tails.

    Activity is assumed to come in sessions of ASSUMED_ACTIVE_SESSION_HOURS; after each one the
    container stays up for `sleep_after` before it sleeps. The watchdog also wakes it ahead of
    each of OpenClaw's jobs (every `job_interval` seconds), keeping it up for `sleep_after`; a
    job interval <= sleep_after means it never sleeps. Overlaps are not subtracted, so the
    figure errs high.
    """
    sleep_seconds = sleep_after.seconds
    if sleep_seconds is None:
        return 24.0
    hours = 0.0
    if active_hours_per_day > 0:
        sessions = math.ceil(active_hours_per_day / ASSUMED_ACTIVE_SESSION_HOURS)
        hours = active_hours_per_day + sessions * sleep_seconds / 3600
    if job_interval is not None:
        if job_interval <= sleep_seconds:
            return 24.0
        hours += 24.0 * sleep_seconds / job_interval
    return min(24.0, hours)


def container_cost(
    spec: InstanceType,
    running_hours: float,
    *,
    instances: int = 1,
    cpu_utilization: float = ASSUMED_CPU_UTILIZATION,
) -> ContainerCost:
    """Containers charges for `instances` instances each running `running_hours` this month."""
    seconds = running_hours * 3600 * instances
    memory = max(0.0, spec.memory_gib * seconds - CONTAINER_INCLUDED_MEMORY_GIB_SECONDS)
    cpu = max(0.0, spec.vcpu * cpu_utilization * seconds - CONTAINER_INCLUDED_VCPU_SECONDS)
    disk = max(0.0, spec.disk_gb * seconds - CONTAINER_INCLUDED_DISK_GB_SECONDS)
    return ContainerCost(
        running_hours=running_hours * instances,
        memory_usd=memory * CONTAINER_MEMORY_USD_PER_GIB_SECOND,
        cpu_usd=cpu * CONTAINER_VCPU_USD_PER_VCPU_SECOND,
        disk_usd=disk * CONTAINER_DISK_USD_PER_GB_SECOND,
    )


def r2_cost(state_size_mb: float, snapshot_interval_seconds: int, running_hours: float) -> R2Cost:
    """R2 charges for restic snapshots of `state_size_mb` taken while the container runs.

    Billable quantities are rounded up to the next unit (GB-month, million requests) as R2 bills.
    """
    repository_gb = state_size_mb * ASSUMED_REPOSITORY_SIZE_FACTOR / 1000
    snapshots = running_hours * 3600 / snapshot_interval_seconds
    class_a = snapshots * ASSUMED_CLASS_A_PER_SNAPSHOT
    class_b = snapshots * ASSUMED_CLASS_B_PER_SNAPSHOT
    billable_gb = math.ceil(max(0.0, repository_gb - R2_FREE_STORAGE_GB_MONTH))
    billable_a_millions = math.ceil(max(0.0, class_a - R2_FREE_CLASS_A) / 1_000_000)
    billable_b_millions = math.ceil(max(0.0, class_b - R2_FREE_CLASS_B) / 1_000_000)
    return R2Cost(
        repository_gb=repository_gb,
        snapshots_per_month=snapshots,
        class_a_ops=class_a,
        class_b_ops=class_b,
        storage_usd=billable_gb * R2_STORAGE_USD_PER_GB_MONTH,
        class_a_usd=billable_a_millions * R2_CLASS_A_USD_PER_MILLION,
        class_b_usd=billable_b_millions * R2_CLASS_B_USD_PER_MILLION,
    )


def estimate(inputs: CostInputs) -> CostBreakdown:
    """Monthly cost of `inputs`: expected (with sleepAfter), always-on and worst case."""
    spec = instance_type(inputs.instance_type)
    per_day = running_hours_per_day(
        inputs.sleep_after, inputs.active_hours_per_day, inputs.openclaw_job_interval_seconds
    )
    hours = per_day * DAYS_PER_MONTH
    expected = container_cost(spec, hours)
    always_on = container_cost(spec, HOURS_PER_MONTH)
    worst = container_cost(spec, HOURS_PER_MONTH, instances=inputs.max_instances)
    r2 = r2_cost(inputs.state_size_mb, inputs.snapshot_interval_seconds, hours)
    r2_always_on = r2_cost(inputs.state_size_mb, inputs.snapshot_interval_seconds, HOURS_PER_MONTH)
    r2_worst = r2_cost(
        inputs.state_size_mb,
        inputs.snapshot_interval_seconds,
        HOURS_PER_MONTH * inputs.max_instances,
    )
    plan = WORKERS_PAID_USD_PER_MONTH
    return CostBreakdown(
        inputs=inputs,
        monthly_usd=plan + expected.total_usd + r2.total_usd,
        always_on_monthly_usd=plan + always_on.total_usd + r2_always_on.total_usd,
        worst_case_monthly_usd=plan + worst.total_usd + r2_worst.total_usd,
        workers_paid_usd=plan,
        container=expected,
        container_always_on=always_on,
        r2=r2,
    )
