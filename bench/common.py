"""Shared by the bench sections: progress lines, Markdown tables, medians, the control API."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Sequence
from typing import Any

from dev.stack import Stack


def say(line: str) -> None:
    print(f"[bench] {line}", file=sys.stderr, flush=True)


# --- tables ---------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"### {title}", ""]
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def median_spread(values: Sequence[float]) -> str:
    """`median (min-max)` of repeated measurements."""
    if not values:
        return "-"
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    if len(ordered) == 1:
        return _cell(median)
    return f"{_cell(median)} ({_cell(ordered[0])}-{_cell(ordered[-1])})"


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def json_call(url: str, body: object | None = None, timeout: float = 10) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback chat fakes
        url,
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read())


def control(stack: Stack, method: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback control API
        stack.config.url("control", path),
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={
            "Authorization": f"Bearer {stack.secrets.gateway_token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())
        return result
