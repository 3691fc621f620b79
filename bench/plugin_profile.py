"""Where a gateway start goes, plugin by plugin: OpenClaw's own plugin-load profile.

OpenClaw 2026.9.6 times each plugin's module load and registration when its diagnostics flag
`plugin.load-profile` is on (`OPENCLAW_DIAGNOSTICS=plugin.load-profile`: dist/diagnostic-flags-*.mjs
reads that variable; dist/plugin-load-profile-*.mjs checks the flag). Each measurement is one
stderr line whose field order that file documents as a stable contract:

    [plugin-load-profile] phase=<X> plugin=<Y> elapsedMs=<N> [extras...] source=<S>

The module load of a plugin is timed with the load's registration mode as the phase
(dist/loader-runtime-load-*.mjs, `withProfile(..., registrationPlan.mode, () =>
loadPluginModule(...))`; the modes are `createRegistrationPlan`'s: full, discovery,
setup-runtime, setup-only, tool-discovery, cli-metadata); sub-steps carry a suffix
(`full:register`) or another name (`bundled-register:loadChannelPlugin`) and are not summed here.
The bench runs one extra start of each kind with the flag on, after the timed ones (the flag
adds a line per step, so those starts are not in the timing tables).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DIAGNOSTICS_ENV = "OPENCLAW_DIAGNOSTICS"
PROFILE_FLAG = "plugin.load-profile"
MODULE_LOAD_PHASES = frozenset(
    {"full", "discovery", "setup-runtime", "setup-only", "tool-discovery", "cli-metadata"}
)
_LINE = re.compile(
    r"\[plugin-load-profile\] phase=(?P<phase>\S+) plugin=(?P<plugin>\S+) "
    r"elapsedMs=(?P<ms>[0-9.]+)"
)


@dataclass(frozen=True)
class PluginLoads:
    """One plugin's module loads in one start: how many, in which modes, their total time."""

    plugin: str
    modes: tuple[str, ...]
    seconds: float


def parse(lines: Iterable[str]) -> list[tuple[str, str, float]]:
    """(phase, plugin, seconds) of every profile line, in order; other lines are ignored."""
    found = []
    for line in lines:
        match = _LINE.search(line)
        if match:
            found.append((match["phase"], match["plugin"], float(match["ms"]) / 1000))
    return found


def module_loads(lines: Iterable[str]) -> list[PluginLoads]:
    """Each plugin's module loads (the registration-mode phases), the slowest first."""
    modes: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    for phase, plugin, took in parse(lines):
        if phase not in MODULE_LOAD_PHASES:
            continue
        modes.setdefault(plugin, []).append(phase)
        seconds[plugin] = seconds.get(plugin, 0.0) + took
    loads = [PluginLoads(p, tuple(modes[p]), round(seconds[p], 2)) for p in modes]
    return sorted(loads, key=lambda load: (-load.seconds, load.plugin))


def summary_rows(
    starts: dict[str, list[PluginLoads]], top: int = 4
) -> list[tuple[str, str, str, float]]:
    """Table rows (start, plugin, modes, seconds): the `top` slowest plugins of each start, then
    the rest together and the sum of all module loads."""
    rows: list[tuple[str, str, str, float]] = []
    for label, loads in starts.items():
        for load in loads[:top]:
            rows.append((label, load.plugin, " + ".join(load.modes), load.seconds))
        rest = loads[top:]
        if rest:
            modes = sum(len(load.modes) for load in rest)
            rows.append(
                (
                    label,
                    f"{len(rest)} other plugins",
                    f"{modes} loads",
                    round(sum(load.seconds for load in rest), 2),
                )
            )
        total = round(sum(load.seconds for load in loads), 2)
        rows.append((label, "all module loads", f"{len(loads)} plugins", total))
    return rows
