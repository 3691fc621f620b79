"""The one percentile of the latency probe and the benchmarks."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest sample with at least `pct`% of the samples at or
    below it (rank ceil(pct/100 * n), no interpolation); None for no samples.

    Every returned value is a measured sample. p0 is the minimum, p100 the maximum.
    """
    if not values:
        return None
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be 0..100, got {pct}")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct * len(ordered) / 100))  # pct * n first: exact for whole pct
    return ordered[rank - 1]
