"""Field types of `infra.config.ConfigModel`: how a raw config string (lists and maps arrive as
JSON) becomes a bool, a whole number, a number, a list, a map or a parsed value. Each converter
raises ValueError with the reason only; config.py puts the key in front."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BeforeValidator

from infra.values import CronSchedule, GoDuration, SleepAfter


def _boolean(value: object) -> object:
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise ValueError(f"must be true or false, got {value!r}")
        return value.lower() == "true"
    return value


def _whole(value: object) -> object:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"must be a whole number, got {value!r}") from None
    return value


def _number(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    return value


def _string_list(value: object) -> object:
    """A YAML list (the engine hands it over as JSON) or a comma-separated string."""
    if not isinstance(value, str):
        return value
    if not value.startswith("["):
        return tuple(i.strip() for i in value.split(",") if i.strip())
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("must be a list (YAML list or JSON array of strings)") from None
    if not isinstance(parsed, list) or not all(isinstance(i, str) for i in parsed):
        raise ValueError("must be a list of strings")
    return tuple(i.strip() for i in parsed if i.strip())


def _string_map(value: object) -> object:
    """A YAML mapping (as JSON) of NAME: scalar; booleans become `true`/`false`."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in parsed.items()
    ):
        raise ValueError("must be a map of NAME: value (YAML mapping or JSON object)")
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in parsed.items()}


def parsed(kind: type[SleepAfter] | type[GoDuration] | type[CronSchedule]) -> BeforeValidator:
    return BeforeValidator(lambda value: kind.parse(value) if isinstance(value, str) else value)


Bool = Annotated[bool, BeforeValidator(_boolean)]
Whole = Annotated[int, BeforeValidator(_whole)]
Number = Annotated[float, BeforeValidator(_number)]
StringList = Annotated[tuple[str, ...], BeforeValidator(_string_list)]
StringMap = Annotated[dict[str, str], BeforeValidator(_string_map)]
Lower = BeforeValidator(lambda value: value.lower() if isinstance(value, str) else value)
