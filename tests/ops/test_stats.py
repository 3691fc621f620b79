"""The percentile the latency probe and the benchmarks share: nearest rank, on known inputs."""

from __future__ import annotations

import pytest

from bench import load
from ops import latency_probe
from ops.stats import percentile


def test_nearest_rank_on_one_to_a_hundred() -> None:
    values = [float(v) for v in range(1, 101)]
    # The benchmarks used to take index round(0.5 * (n - 1)) = round(49.5) = 50, the value 51:
    # one rank above nearest rank (docs/benchmarks.md says so).
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    # 7% of 100 is rank 7 exactly: computed as 7/100*100 in floats it would be 7.000000000000001
    # and round up to rank 8.
    assert percentile(values, 7) == 7


def test_nearest_rank_is_always_a_sample_and_ignores_order() -> None:
    values = [40.0, 10.0, 30.0, 20.0]
    # rank ceil(0.5*4) = 2 -> 20; ceil(0.99*4) = 4 -> 40; ceil(0.26*4) = 2 -> 20.
    assert percentile(values, 50) == 20
    assert percentile(values, 99) == 40
    assert percentile(values, 26) == 20
    assert percentile(values, 25) == 10
    assert percentile([7.0], 99) == 7


def test_empty_and_out_of_range() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match=r"must be 0\.\.100"):
        percentile([1.0], 101)


def test_probe_and_benchmarks_report_the_same_percentiles() -> None:
    seconds = [0.001 * v for v in (5, 1, 9, 3, 7, 2, 8, 4, 6, 10)]
    stats = load.summarize(seconds, errors=0, seconds=1.0)
    probe = latency_probe.summarize([s * 1000 for s in seconds])
    assert stats.p50_ms == pytest.approx(probe["p50"]) == pytest.approx(5.0)
    assert stats.p99_ms == pytest.approx(probe["p99"]) == pytest.approx(10.0)
