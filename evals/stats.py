"""Small statistics every eval shares: nearest-rank percentiles and the Wilson upper bound."""

from __future__ import annotations

import math


def percentile(xs: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of xs; 0.0 for none."""
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def wilson_upper(k: int, n: int, z: float = 1.96) -> float:
    """Upper end of the Wilson score interval for k successes in n trials (1.0 when n is 0)."""
    if n == 0:
        return 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + margin) / denom)
