"""Cost model: published worked examples, sleepAfter arithmetic, R2 free tier, CostGuard props,
the sleep warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import cost
from infra.components.cost_guard import CostGuard, CostGuardArgs
from infra.cost import CostInputs, CostModelError, estimate
from infra.mock_run import RecordingMocks
from infra.sleep_warnings import chat_channels, sleep_warnings
from infra.values import NEVER, CronSchedule, SleepAfter

S = SleepAfter.parse

ALWAYS_ON_STANDARD_1 = CostInputs(
    instance_type="standard-1",
    sleep_after=NEVER,
    active_hours_per_day=24,
    max_instances=1,
    state_size_mb=200,
    snapshot_interval_seconds=300,
)


def with_(inputs: CostInputs, **changes: Any) -> CostInputs:
    if isinstance(changes.get("sleep_after"), str):
        changes["sleep_after"] = S(changes["sleep_after"])
    fields = {**inputs.__dict__, **changes}
    return CostInputs(**fields)


def test_standard_1_always_on_matches_the_published_worked_example() -> None:
    # cloudflare/moltworker README "Container Cost Estimate": standard-1 24/7, CPU ~10% busy:
    # memory ~$26, CPU ~$2, disk ~$1.50, Workers Paid $5, total ~$34.50 (its rounded lines).
    breakdown = estimate(ALWAYS_ON_STANDARD_1)
    container = breakdown.container
    assert container.running_hours == pytest.approx(730)
    # 2,895 GiB-h over the 25 included, at $0.0000025/GiB-s
    assert container.memory_usd == pytest.approx(2895 * 3600 * 0.0000025)
    assert container.memory_usd == pytest.approx(26, abs=0.1)
    # 2,190 vCPU-min used, 1,815 over the 375 included, at $0.000020/vCPU-s
    assert container.cpu_usd == pytest.approx(1815 * 60 * 0.000020)
    assert container.cpu_usd == pytest.approx(2, abs=0.2)
    # 5,640 GB-h over the 200 included, at $0.00000007/GB-s
    assert container.disk_usd == pytest.approx(5640 * 3600 * 0.00000007)
    assert container.disk_usd == pytest.approx(1.5, abs=0.1)
    assert breakdown.workers_paid_usd == 5.0
    assert breakdown.monthly_usd == pytest.approx(34.50, abs=0.25)
    assert breakdown.monthly_usd == pytest.approx(34.65, abs=0.01)


def test_r2_storage_example_from_the_pricing_page() -> None:
    # r2/pricing "Standard storage example": 1,000 GB stored -> 990 billable GB-month = $14.85.
    example_usd = (1000 - cost.R2_FREE_STORAGE_GB_MONTH) * cost.R2_STORAGE_USD_PER_GB_MONTH
    assert example_usd == pytest.approx(14.85)
    r2 = cost.r2_cost(state_size_mb=500_000, snapshot_interval_seconds=3600, running_hours=0)
    assert r2.repository_gb == pytest.approx(1000)
    assert r2.storage_usd == pytest.approx(14.85)


def test_instance_type_aliases_price_as_their_targets() -> None:
    for alias, target in (("standard", "standard-1"), ("dev", "lite")):
        same = estimate(with_(ALWAYS_ON_STANDARD_1, instance_type=alias))
        assert (
            same.monthly_usd
            == estimate(with_(ALWAYS_ON_STANDARD_1, instance_type=target)).monthly_usd
        )
    with pytest.raises(CostModelError, match="openclaw-edge:instanceType"):
        estimate(with_(ALWAYS_ON_STANDARD_1, instance_type="huge"))


def test_sleep_after_prices_active_hours_plus_an_idle_tail_per_session() -> None:
    inputs = with_(
        ALWAYS_ON_STANDARD_1,
        sleep_after="10m",
        active_hours_per_day=4,
        openclaw_job_interval_seconds=None,  # heartbeat off: activity alone
    )
    # 4 one-hour sessions, each followed by 10 idle minutes: 4h40m a day.
    assert cost.running_hours_per_day(S("10m"), 4) == pytest.approx(4 + 4 * 10 / 60)
    breakdown = estimate(inputs)
    hours = (4 + 40 / 60) * 730 / 24
    assert breakdown.container.running_hours == pytest.approx(hours)
    assert breakdown.container.memory_usd == pytest.approx((4 * hours - 25) * 3600 * 0.0000025)
    assert breakdown.container.cpu_usd == pytest.approx(
        (0.5 * 0.1 * hours * 3600 - 375 * 60) * 0.000020
    )
    assert breakdown.monthly_usd < breakdown.always_on_monthly_usd
    assert breakdown.always_on_monthly_usd == pytest.approx(34.65, abs=0.01)


def test_four_hours_a_day_costs_a_few_dollars_on_top_of_the_plan() -> None:
    # The worked example says ~$5-6 of compute for 4 running hours a day; the same rates give
    # $4.35 for exactly 4 hours (memory dominates), and more once idle tails are added.
    spec = cost.INSTANCE_TYPES["standard-1"]
    exact = cost.container_cost(spec, 4 * 730 / 24)
    assert exact.total_usd == pytest.approx(4.35, abs=0.01)
    assert exact.cpu_usd == 0  # 365 vCPU-minutes fit in the 375 included


def test_a_frequent_cron_no_longer_keeps_a_sleeping_container_up() -> None:
    # With a sleepAfter duration the watchdog (worker/src/cron.ts) leaves an awake container
    # alone and wakes a sleeping one only for OpenClaw's jobs: the */5 cron costs nothing.
    inputs = with_(
        ALWAYS_ON_STANDARD_1,
        sleep_after="10m",
        active_hours_per_day=2,
        cron_interval_seconds=300,
        openclaw_job_interval_seconds=None,
    )
    breakdown = estimate(inputs)
    assert breakdown.container.running_hours == pytest.approx((2 + 2 * 10 / 60) * 730 / 24)
    assert breakdown.monthly_usd < breakdown.always_on_monthly_usd
    assert not cost.CRON_WAKES_CONTAINER


def test_openclaws_default_heartbeat_wakes_a_sleeping_container_every_30_minutes() -> None:
    # Idle all day, sleepAfter 10m: 48 heartbeat wakes x 10 min = 8 h a day.
    idle = with_(ALWAYS_ON_STANDARD_1, sleep_after="10m", active_hours_per_day=0)
    assert idle.openclaw_job_interval_seconds == 1800
    assert estimate(idle).container.running_hours == pytest.approx(8 * 730 / 24)
    # sleepAfter 30m or longer: woken again before it could sleep.
    assert cost.running_hours_per_day(S("30m"), 0, 1800) == 24
    inputs = estimate(idle).to_output()["inputs"]
    assert isinstance(inputs, dict)
    assert inputs["openclawJobIntervalSeconds"] == 1800


def test_each_openclaw_job_adds_one_sleep_after() -> None:
    # An hourly OpenClaw job, sleepAfter 10m: 24 wakes x 10 min = 4 h/day on top of 2h + 2 x 10min.
    hours = cost.running_hours_per_day(S("10m"), 2, 3600)
    assert hours == pytest.approx(2 + 2 * 10 / 60 + 24 * 10 / 60)
    assert cost.running_hours_per_day(S("10m"), 0, 3600) == pytest.approx(4)
    assert cost.running_hours_per_day(S("10m"), 2, None) == pytest.approx(2 + 2 * 10 / 60)
    assert cost.running_hours_per_day(S("never"), 0, 3600) == 24


def test_sleep_after_never_ignores_active_hours() -> None:
    low = estimate(with_(ALWAYS_ON_STANDARD_1, active_hours_per_day=1))
    assert low.monthly_usd == pytest.approx(estimate(ALWAYS_ON_STANDARD_1).monthly_usd)


def test_no_activity_and_no_openclaw_jobs_with_sleep_costs_only_the_plan() -> None:
    inputs = with_(
        ALWAYS_ON_STANDARD_1,
        sleep_after="10m",
        active_hours_per_day=0,
        openclaw_job_interval_seconds=None,
    )
    breakdown = estimate(inputs)
    assert breakdown.monthly_usd == pytest.approx(5.0)


def test_tails_never_exceed_a_full_day() -> None:
    assert cost.running_hours_per_day(S("2h"), 20) == 24


def test_small_instances_fit_mostly_in_the_allowance() -> None:
    lite = estimate(with_(ALWAYS_ON_STANDARD_1, instance_type="lite"))
    # 0.25 GiB * 730 h = 182.5 GiB-h; 157.5 over the 25 included = $1.42
    assert lite.container.memory_usd == pytest.approx(157.5 * 3600 * 0.0000025)
    assert lite.monthly_usd < 10


def test_worst_case_multiplies_always_on_by_max_instances() -> None:
    breakdown = estimate(with_(ALWAYS_ON_STANDARD_1, max_instances=3))
    spec = cost.INSTANCE_TYPES["standard-1"]
    three = cost.container_cost(spec, 730, instances=3)
    assert breakdown.worst_case_monthly_usd == pytest.approx(5 + three.total_usd)
    assert breakdown.worst_case_monthly_usd > 3 * (breakdown.always_on_monthly_usd - 5)
    assert breakdown.monthly_usd == pytest.approx(34.65, abs=0.01)


def test_r2_stays_in_the_free_tier_for_a_small_state() -> None:
    r2 = estimate(ALWAYS_ON_STANDARD_1).r2
    assert r2.snapshots_per_month == pytest.approx(730 * 12)
    assert r2.class_a_ops == pytest.approx(730 * 12 * cost.ASSUMED_CLASS_A_PER_SNAPSHOT)
    assert r2.total_usd == 0


def test_r2_rounds_billable_units_up() -> None:
    # One snapshot a second all month: 2.6M snapshots * 6 Class A = 15.8M; 14.8M billable -> 15M.
    r2 = cost.r2_cost(state_size_mb=6_000, snapshot_interval_seconds=1, running_hours=730)
    assert r2.class_a_usd == pytest.approx(15 * 4.50)
    # 12 GB repository, 2 GB over the free 10 -> 2 GB-month.
    assert r2.storage_usd == pytest.approx(2 * 0.015)
    # 10.5M Class B, 0.5M over the free 10M -> billed as 1M.
    assert r2.class_b_usd == pytest.approx(0.36)


def test_output_is_plain_json_with_camel_case_keys() -> None:
    output = estimate(ALWAYS_ON_STANDARD_1).to_output()
    assert json.loads(json.dumps(output)) == output
    assert output["monthlyUsd"] == 34.65
    assert output["ratesReadOn"] == cost.RATES_READ_ON
    assert set(output) >= {"monthlyUsd", "worstCaseMonthlyUsd", "container", "r2", "sources"}
    sources = output["sources"]
    assert isinstance(sources, dict)
    assert all(str(url).startswith("https://") for url in sources.values())


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_cost_guard_exposes_estimate_and_budget() -> Any:
    pulumi.runtime.set_mocks(RecordingMocks(), preview=True)
    guard = CostGuard("cost", CostGuardArgs(inputs=ALWAYS_ON_STANDARD_1, budget_usd=40))
    assert guard.cost.monthly_usd == pytest.approx(34.65, abs=0.01)

    def check(values: list[Any]) -> None:
        monthly, budget, breakdown, instance = values
        assert monthly == 34.65, guard.urn
        assert budget == 40
        assert breakdown["monthlyUsd"] == 34.65
        assert instance == "standard-1"

    return pulumi.Output.all(
        guard.monthly_usd,
        guard.budget_usd,
        guard.estimate,
        guard.instanceType,  # type: ignore[attr-defined]  # set by the engine from props
    ).apply(check)


def test_cost_guard_rejects_a_non_positive_budget() -> None:
    with pytest.raises(CostModelError, match="openclaw-edge:monthlyBudgetUsd"):
        CostGuard("cost", CostGuardArgs(inputs=ALWAYS_ON_STANDARD_1, budget_usd=0))


def test_sample_outputs_carry_the_current_estimate() -> None:
    # docs/project_docs/T-20260219-003/sample-outputs.json renders the committed phase documents;
    # its costEstimate must be what this model computes from the inputs it lists.
    sample = Path(__file__).resolve().parents[2] / "docs/project_docs/T-20260219-003"
    recorded = json.loads((sample / "sample-outputs.json").read_text())["costEstimate"]
    i = recorded["inputs"]
    inputs = CostInputs(
        instance_type=i["instanceType"],
        sleep_after=S(i["sleepAfter"]),
        active_hours_per_day=i["activeHoursPerDay"],
        max_instances=i["maxInstances"],
        state_size_mb=i["stateSizeMb"],
        snapshot_interval_seconds=i["snapshotIntervalSeconds"],
        cron_interval_seconds=i["cronIntervalSeconds"],
    )
    assert json.loads(json.dumps(estimate(inputs).to_output())) == recorded


@pytest.mark.parametrize(
    ("sleep_after", "cron", "channels", "expected"),
    [
        ("never", "*/5 * * * *", ["Discord"], []),  # the default: every bot always online
        ("10m", "*/5 * * * *", [], []),  # no bot, and the watchdog wakes in time
        ("10m", "*/5 * * * *", ["Discord", "Telegram"], ["Discord and Telegram bots are offline"]),
        ("10m", "0 * * * *", [], ["may not run", "at most 7 min"]),
        ("2m", "* * * * *", ["Slack"], ["Slack bot is offline", "at least 4 min"]),
        ("10m", "*/5 * * * 1-5", [], []),  # weekday crons are not judged
    ],
)
def test_sleep_warnings_say_what_sleep_means_for_bots_and_jobs(
    sleep_after: str, cron: str, channels: list[str], expected: list[str]
) -> None:
    warnings = sleep_warnings(S(sleep_after), CronSchedule.parse(cron), channels)
    assert len(warnings) == len([e for e in expected if "at " not in e]) or expected
    text = " ".join(warnings)
    for fragment in expected:
        assert fragment in text
    if not expected:
        assert warnings == []
    if channels and sleep_after != "never":
        assert "Telegram messages are answered at the next wake" in text
        assert "Keep sleepAfter 'never'" in text


def test_chat_channels_come_from_the_stacks_secrets() -> None:
    names = ["MOLTBOT_GATEWAY_TOKEN", "TELEGRAM_BOT_TOKEN", "SLACK_APP_TOKEN"]
    assert chat_channels(names) == ["Telegram", "Slack"]
    assert chat_channels([]) == []


def test_wake_lead_matches_the_worker() -> None:
    cron_ts = (Path(__file__).resolve().parents[2] / "worker" / "src" / "cron.ts").read_text()
    assert f"WAKE_LEAD_MS = {cost.WATCHDOG_WAKE_LEAD_SECONDS // 60} * 60_000" in cron_ts
