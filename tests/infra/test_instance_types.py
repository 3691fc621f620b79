"""The stack refuses an instanceType whose memory cannot hold the gateway (measured by
`make bench`) plus the margin, naming the key, the need and the smallest type that fits."""

from __future__ import annotations

from typing import get_args

import pytest

from infra import cost, instance_types
from infra.catalog import load_catalog
from infra.config import ConfigError, DictSource, InstanceTypeName, load_config
from infra.cost import memory_mib
from infra.values import NEVER
from tests.infra.pulumi_harness import BASE

TYPES = tuple(cost.INSTANCE_TYPES.values())


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(DictSource({**BASE, **overrides}), "dev", load_catalog())
    return caught.value.problems


def test_the_config_offers_exactly_the_cost_models_types() -> None:
    # The key's choices are a Literal (pydantic needs them as a type); the table is cost.py's.
    assert get_args(InstanceTypeName) == tuple(cost.INSTANCE_TYPES)


def test_need_is_the_measured_peak_plus_margin() -> None:
    need = cost.memory_need_mib()
    assert need >= cost.GATEWAY_PEAK_MEMORY_MIB * cost.MEMORY_MARGIN
    assert need < cost.GATEWAY_PEAK_MEMORY_MIB * cost.MEMORY_MARGIN + 1


def test_smallest_fitting_is_the_first_type_with_enough_memory() -> None:
    fits = cost.smallest_fitting_type()
    assert memory_mib(fits) >= cost.memory_need_mib()
    smaller = TYPES[: TYPES.index(fits)]
    assert all(memory_mib(item) < cost.memory_need_mib() for item in smaller)
    assert all(instance_types.memory_problem(item.name) for item in smaller)


@pytest.mark.parametrize("item", TYPES, ids=lambda item: item.name)
def test_every_type_is_refused_exactly_when_too_small(item: cost.InstanceType) -> None:
    too_small = memory_mib(item) < cost.memory_need_mib()
    if not too_small:
        load_config(DictSource({**BASE, "instanceType": item.name}), "dev", load_catalog())
        assert instance_types.memory_problem(item.name) is None
        return
    found = [p for p in problems(instanceType=item.name) if "MiB" in p]
    assert len(found) == 1, found
    message = found[0]
    fits = cost.smallest_fitting_type()
    assert message.startswith(
        f"openclaw-edge:instanceType '{item.name}' has {memory_mib(item)} MiB"
    )
    assert f"needs {cost.memory_need_mib()} MiB" in message
    assert f"peak {cost.GATEWAY_PEAK_MEMORY_MIB} MiB" in message
    assert f"use '{fits.name}'" in message


def test_the_default_instance_type_runs_the_default_config() -> None:
    config = load_config(DictSource(dict(BASE)), "dev", load_catalog())
    assert instance_types.memory_problem(config.instance_type) is None


def test_unknown_names_are_left_to_the_choice_check() -> None:
    assert instance_types.memory_problem("huge") is None
    assert instance_types.lookup("dev") == cost.INSTANCE_TYPES["lite"]
    assert memory_mib(cost.INSTANCE_TYPES["lite"]) == 256


def test_the_cost_estimate_names_the_smallest_type_that_runs_the_default_config() -> None:
    inputs = cost.CostInputs("standard-2", NEVER, 24, 1, 200, 300)
    named = cost.estimate(inputs).to_output()["smallestInstanceType"]
    assert named == {"name": "standard-1", "memoryNeedMib": cost.memory_need_mib()}
    assert instance_types.memory_problem(named["name"]) is None
