"""The stack refuses an instanceType whose memory cannot hold the gateway (measured by
`make bench`) plus the margin, naming the key, the need and the smallest type that fits."""

from __future__ import annotations

import pytest

from infra import cost, instance_types
from infra.catalog import load_catalog
from infra.config import INSTANCE_TYPES, ConfigError, DictSource, load_config
from tests.pulumi_harness import BASE


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(DictSource({**BASE, **overrides}), "dev", load_catalog())
    return caught.value.problems


def test_table_matches_the_cost_model_and_the_config_choices() -> None:
    names = tuple(item.name for item in instance_types.INSTANCE_TYPES)
    assert names == INSTANCE_TYPES
    for item in instance_types.INSTANCE_TYPES:
        assert cost.instance_type(item.name).memory_gib * 1024 == item.memory_mib
        assert cost.instance_type(item.name).vcpu == item.vcpu
    assert instance_types.ALIASES == cost.INSTANCE_TYPE_ALIASES


def test_need_is_the_measured_peak_plus_margin() -> None:
    need = instance_types.needed_mib()
    assert need >= instance_types.MEASURED_GATEWAY_PEAK_MIB * instance_types.MARGIN
    assert need < instance_types.MEASURED_GATEWAY_PEAK_MIB * instance_types.MARGIN + 1


def test_smallest_fitting_is_the_first_type_with_enough_memory() -> None:
    fits = instance_types.smallest_fitting()
    assert fits.memory_mib >= instance_types.needed_mib()
    smaller = instance_types.INSTANCE_TYPES[: instance_types.INSTANCE_TYPES.index(fits)]
    assert all(item.memory_mib < instance_types.needed_mib() for item in smaller)
    assert all(instance_types.memory_problem(item.name) for item in smaller)


@pytest.mark.parametrize("item", instance_types.INSTANCE_TYPES, ids=lambda item: item.name)
def test_every_type_is_refused_exactly_when_too_small(item: instance_types.InstanceType) -> None:
    too_small = item.memory_mib < instance_types.needed_mib()
    if not too_small:
        load_config(DictSource({**BASE, "instanceType": item.name}), "dev", load_catalog())
        assert instance_types.memory_problem(item.name) is None
        return
    found = [p for p in problems(instanceType=item.name) if "MiB" in p]
    assert len(found) == 1, found
    message = found[0]
    fits = instance_types.smallest_fitting()
    assert message.startswith(f"openclaw-edge:instanceType '{item.name}' has {item.memory_mib} MiB")
    assert f"needs {instance_types.needed_mib()} MiB" in message
    assert f"peak {instance_types.MEASURED_GATEWAY_PEAK_MIB} MiB" in message
    assert f"use '{fits.name}'" in message


def test_the_default_instance_type_runs_the_default_config() -> None:
    config = load_config(DictSource(dict(BASE)), "dev", load_catalog())
    assert instance_types.memory_problem(config.instance_type) is None


def test_unknown_names_are_left_to_the_choice_check() -> None:
    assert instance_types.memory_problem("huge") is None
    assert instance_types.lookup("dev") == instance_types.INSTANCE_TYPES[0]
