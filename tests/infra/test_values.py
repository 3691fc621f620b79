"""Durations and cron schedules, parsed once (infra/values.py): what is valid, what each means."""

from __future__ import annotations

import pytest

from infra.values import CronSchedule, GoDuration, SleepAfter


@pytest.mark.parametrize(
    ("text", "seconds"), [("never", None), ("10m", 600), ("2h", 7200), ("90m", 5400), ("90s", 90)]
)
def test_sleep_after_parses(text: str, seconds: int | None) -> None:
    assert SleepAfter.parse(text) == SleepAfter(text, seconds)


@pytest.mark.parametrize("bad", ["", "ten minutes", "0m", "1h30m", "10d", "-5m", "10"])
def test_sleep_after_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="never or a duration"):
        SleepAfter.parse(bad)


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("1h30m", 5400), ("1.5h", 5400), ("300ms", 0.3)]
)
def test_go_duration_parses(text: str, seconds: float) -> None:
    assert GoDuration.parse(text).seconds == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["never", "1d", "24", "0s", "", "h"])
def test_go_duration_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="positive Go duration"):
        GoDuration.parse(bad)


@pytest.mark.parametrize(
    "expression",
    ["*/5 * * * *", "0 3 * * MON-FRI", "15,45 */2 1-15 JAN,JUL 0", "0 0 L * *", "0 0 ? * *"],
)
def test_valid_cron(expression: str) -> None:
    assert CronSchedule.parse(expression).text == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("* * * *", "needs 5 fields"),
        ("* * * * * *", "needs 5 fields"),
        ("*/0 * * * *", "minute field '*/0'"),
        ("61 * * * *", "outside 0-59"),
        ("0 24 * * *", "hour field '24' is outside 0-23"),
        ("0 0 32 * *", "day of month field '32'"),
        ("0 0 * 13 *", "month field '13'"),
        ("0 0 * * 8", "day of week field '8'"),
    ],
)
def test_invalid_cron_names_the_field(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match="is not a valid cron expression") as caught:
        CronSchedule.parse(expression)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("*/5 * * * *", 300),
        ("* * * * *", 60),
        ("17 * * * *", 3600),
        ("0,30 * * * *", 1800),
        ("0 */6 * * *", 21600),
        ("0 3 * * *", 86400),
        ("*/7 * * * *", None),  # not a fixed period within the hour
        ("0,10 * * * *", None),  # two runs an hour, but 10 and 50 minutes apart
        ("0 */5 * * *", None),  # 20:00 -> 00:00 is 4 h, the rest 5 h
        ("0 0 * * 1", None),  # weekday restriction: not priced
        ("1-5 * * * *", None),
    ],
)
def test_cron_interval(expression: str, seconds: int | None) -> None:
    assert CronSchedule.parse(expression).interval_seconds == seconds
