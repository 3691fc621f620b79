"""Containers instance types against the memory the gateway needs, as `make bench` measured it.

Cloudflare Containers' predefined instance types (https://developers.cloudflare.com/containers/
platform-details/limits/): lite 1/16 vCPU 256 MiB, basic 1/4 vCPU 1 GiB, standard-1 1/2 vCPU
4 GiB, standard-2 1 vCPU 6 GiB, standard-3 2 vCPU 8 GiB, standard-4 4 vCPU 12 GiB. A container
that exceeds its memory is killed, so the stack refuses a type whose memory cannot hold the
gateway (channels on, one chat answered) plus a margin for everything else the container runs
(the boot code, the Sandbox runtime's server, the agent's tools: git, gh, Claude Code, Codex).
"""

from __future__ import annotations

from infra.cost import (
    GATEWAY_PEAK_MEMORY_MIB,
    INSTANCE_TYPE_ALIASES,
    INSTANCE_TYPES,
    MEMORY_MARGIN,
    InstanceType,
    memory_mib,
    memory_need_mib,
    smallest_fitting_type,
)

# The table of types (name, vCPU, memory) and what one must hold (the measured gateway peak plus
# a margin) are the cost model's (infra/cost.py, with their sources).


def lookup(name: str) -> InstanceType | None:
    return INSTANCE_TYPES.get(INSTANCE_TYPE_ALIASES.get(name, name))


def memory_problem(name: str) -> str | None:
    """Why `name` cannot run the gateway (to follow the config key), or None if it can.

    Unknown names are left to the key's own choice check."""
    chosen = lookup(name)
    if chosen is None or memory_mib(chosen) >= memory_need_mib():
        return None
    fits = smallest_fitting_type()
    return (
        f"{name!r} has {memory_mib(chosen)} MiB of memory; the gateway needs "
        f"{memory_need_mib()} MiB (measured peak {GATEWAY_PEAK_MEMORY_MIB} MiB with channels on "
        f"and one chat, docs/benchmarks.md, + {round((MEMORY_MARGIN - 1) * 100)} % margin): use "
        f"{fits.name!r} ({memory_mib(fits)} MiB), the smallest type that fits, or larger"
    )
