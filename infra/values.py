"""Typed values parsed once from their config text: the container's idle time (`sleepAfter`),
the Access session length (`accessSessionDuration`, a Go duration) and the Worker's cron
schedule (`cron`). Config parses each when it is read; everything after it (cost model,
warnings, Worker vars) takes the parsed value, so one rule decides what is valid.

`parse` raises ValueError with the reason only; infra/config.py puts the key name in front.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cronsim import CronSim, CronSimError

SLEEP_AFTER_TEXT: Final = re.compile(r"^(never|[1-9][0-9]*[smh])$")
"""What `sleepAfter` takes: `never` or one positive whole number with one unit. The Sandbox SDK
reads it as `<n><unit>` (worker/src: SANDBOX_SLEEP_AFTER), so `1h30m` is refused: write `90m`."""
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600}

# One element of a Go duration (time.ParseDuration), the format Access takes for
# session_duration ("300ms", "2h45m"; units ns, us/µs, ms, s, m, h).
_GO_DURATION_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}

_CRON_FIELDS: Final = ("minute", "hour", "day of month", "month", "day of week")
_CRON_RANGES: Final = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT")
_CRON_START: Final = datetime(2026, 1, 1)


@dataclass(frozen=True)
class SleepAfter:
    """`sleepAfter`: how long an idle container stays up, or `never` (it never sleeps)."""

    text: str
    seconds: int | None
    """None for `never`."""

    @classmethod
    def parse(cls, text: str) -> SleepAfter:
        value = text.strip()
        if not SLEEP_AFTER_TEXT.match(value):
            raise ValueError(f"must be never or a duration like 10m, 2h, 90s, got {value!r}")
        if value == "never":
            return cls(value, None)
        return cls(value, int(value[:-1]) * _UNIT_SECONDS[value[-1]])

    def __str__(self) -> str:
        return self.text


NEVER: Final = SleepAfter("never", None)


@dataclass(frozen=True)
class GoDuration:
    """A positive Go duration (`24h`, `1h30m`, `1.5h`), what Access takes as session_duration."""

    text: str
    seconds: float

    @classmethod
    def parse(cls, text: str) -> GoDuration:
        value = text.strip()
        position, total = 0, 0.0
        while position < len(value):
            match = _GO_DURATION_PART.match(value, position)
            if match is None:
                break
            total += float(match.group(1)) * _GO_DURATION_UNITS[match.group(2)]
            position = match.end()
        if not value or position < len(value) or total <= 0:
            raise ValueError(
                "must be a positive Go duration like 24h, 30m or 1h30m (units h, m, s, ms; Access "
                f"takes no 'never' or days), got {value!r}"
            )
        return cls(value, total)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class CronSchedule:
    """A 5-field cron expression as Cloudflare Cron Triggers take it (UTC), checked by cronsim."""

    text: str

    @classmethod
    def parse(cls, text: str) -> CronSchedule:
        value = " ".join(text.split())
        fields = value.split()
        if len(fields) != 5:
            raise ValueError(
                "is not a valid cron expression: needs 5 fields (minute hour day month weekday), "
                f"got {len(fields)}"
            )
        try:
            cls._sim(value)
        except CronSimError as error:
            raise ValueError(
                f"is not a valid cron expression: {_cron_reason(fields, error)}"
            ) from None
        return cls(value)

    @staticmethod
    def _sim(text: str) -> CronSim:
        # "?" (no specific day) is what "*" means to cronsim.
        return CronSim(text.replace("?", "*"), _CRON_START)

    @property
    def interval_seconds(self) -> int | None:
        """Seconds between runs when the schedule has one fixed period, else None.

        Only minute/hour schedules are judged (`*/5 * * * *`, `0,30 * * * *`, `0 */6 * * *`,
        `0 3 * * *`): with a day, month or weekday restriction the schedule is not priced. The
        runs of two days are taken from cronsim; the period is fixed when every gap is equal."""
        fields = self.text.split()
        if any(f not in ("*", "?") for f in fields[2:]):
            return None
        sim = self._sim(self.text)
        end = _CRON_START + timedelta(days=2)
        runs = [next(sim)]
        while runs[-1] < end:
            runs.append(next(sim))
        gaps = {int((b - a).total_seconds()) for a, b in itertools.pairwise(runs)}
        return gaps.pop() if len(gaps) == 1 else None

    def __str__(self) -> str:
        return self.text


def _cron_reason(fields: list[str], error: CronSimError) -> str:
    """cronsim says "Bad minute"; name the field, its text and the allowed range instead."""
    message = str(error)
    for index, label in enumerate(_CRON_FIELDS):
        if message.lower() == f"bad {label.replace(' ', '-')}":
            return f"{label} field {fields[index]!r} is outside {_CRON_RANGES[index]} or malformed"
    return message
