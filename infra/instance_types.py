"""Containers instance types against the memory the gateway needs, as `make bench` measured it.

Cloudflare Containers' predefined instance types (https://developers.cloudflare.com/containers/
platform-details/limits/): lite 1/16 vCPU 256 MiB, basic 1/4 vCPU 1 GiB, standard-1 1/2 vCPU
4 GiB, standard-2 1 vCPU 6 GiB, standard-3 2 vCPU 8 GiB, standard-4 4 vCPU 12 GiB. A container
that exceeds its memory is killed, so the stack refuses a type whose memory cannot hold the
gateway (channels on, one chat answered) plus MARGIN for everything else the container runs
(the boot code, the Sandbox runtime's server, the agent's tools: git, gh, Claude Code, Codex).
"""

from __future__ import annotations

import math
from typing import Final

from infra.cost import INSTANCE_TYPE_ALIASES, INSTANCE_TYPES, InstanceType

# The table of types (name, vCPU, memory) is the cost model's (infra/cost.py, with its source).


def memory_mib(item: InstanceType) -> int:
    return round(item.memory_gib * 1024)


MEASURED_GATEWAY_PEAK_MIB: Final = 1990
"""Peak RSS of the OpenClaw gateway (its whole process group, sum of each process's VmHWM) with
Discord and Telegram on and one chat answered: the highest of the three `make bench` runs of
2026-12-02 in docs/benchmarks.md ("Gateway memory after one Telegram chat"; 1804-1985 MiB over
every lever combination), rounded up."""

MARGIN: Final = 1.25
"""Head room on top of the gateway: +25 % for the boot code, the runtime and the agent's tools."""


def needed_mib() -> int:
    return math.ceil(MEASURED_GATEWAY_PEAK_MIB * MARGIN)


def lookup(name: str) -> InstanceType | None:
    return INSTANCE_TYPES.get(INSTANCE_TYPE_ALIASES.get(name, name))


def smallest_fitting() -> InstanceType:
    """The cheapest predefined type that holds the default config (types ascend in price)."""
    need = needed_mib()
    return next(item for item in INSTANCE_TYPES.values() if memory_mib(item) >= need)


def memory_problem(name: str) -> str | None:
    """Why `name` cannot run the gateway (to follow the config key), or None if it can.

    Unknown names are left to the key's own choice check."""
    chosen = lookup(name)
    if chosen is None or memory_mib(chosen) >= needed_mib():
        return None
    fits = smallest_fitting()
    return (
        f"{name!r} has {memory_mib(chosen)} MiB of memory; the gateway needs "
        f"{needed_mib()} MiB (measured peak {MEASURED_GATEWAY_PEAK_MIB} MiB with channels on "
        f"and one chat, docs/benchmarks.md, + {round((MARGIN - 1) * 100)} % margin): use "
        f"{fits.name!r} ({memory_mib(fits)} MiB), the smallest type that fits, or larger"
    )
