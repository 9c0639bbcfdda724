"""Rising issues: is today's count of a cluster, topic or flag kind clearly above usual?

For each key and each checked day D the baseline is the trailing `baseline_days` before D
(days without interactions count as 0). A rise needs all of: at least `min_count`
interactions, at least `min_ratio` times the baseline mean, and a z-score of at least
`min_z` where the variance is max(mean, sample variance, 1) — Poisson when the series is
quiet, the observed spread when it is noisy (over-dispersion), never tiny. The Poisson
upper-tail p-value is reported alongside for readers who prefer it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from analysis.patterns.options import TrendOptions


@dataclass(slots=True)
class Rise:
    dimension: str
    key: str
    day: date
    n: int
    baseline: float
    ratio: float
    z: float
    p_value: float


def poisson_sf(n: int, lam: float) -> float:
    """P(X >= n) for X ~ Poisson(lam)."""
    from scipy.stats import poisson

    return float(poisson.sf(n - 1, max(lam, 1e-9)))


def judge_day(history: Sequence[int], n: int, options: TrendOptions) -> tuple[bool, float, float, float, float]:
    """(is_rise, mean, ratio, z, p) for count `n` against `history` (one count per day)."""
    days = len(history)
    mean = sum(history) / days if days else 0.0
    var = sum((h - mean) ** 2 for h in history) / (days - 1) if days > 1 else 0.0
    sigma = math.sqrt(max(mean, var, 1.0))
    z = (n - mean) / sigma
    ratio = n / max(mean, 1.0 / max(days, 1))
    p = poisson_sf(n, max(mean, 1.0 / max(days, 1)))
    rise = n >= options.min_count and ratio >= options.min_ratio and z >= options.min_z
    return rise, mean, ratio, z, p


def find_rises(
    counts: Iterable[tuple[date, str, str, int]],
    check_days: Sequence[date],
    options: TrendOptions,
    *,
    min_history_days: int = 7,
) -> list[Rise]:
    """Rises on the checked days among `counts` rows (day, dimension, key, n).

    A day is only judged when the data reaches back at least `min_history_days` before
    it, so a fresh install does not call everything "rising" on its first day.
    """
    series: dict[tuple[str, str], dict[date, int]] = {}
    first_day: date | None = None
    for day, dim, key, n in counts:
        series.setdefault((dim, key), {})[day] = series.get((dim, key), {}).get(day, 0) + n
        first_day = day if first_day is None or day < first_day else first_day
    rises: list[Rise] = []
    if first_day is None:
        return rises
    for day in check_days:
        if (day - first_day).days < min_history_days:
            continue
        window = [day - timedelta(days=k) for k in range(options.baseline_days, 0, -1)]
        window = [d for d in window if d >= first_day] or window
        for (dim, key), by_day in series.items():
            n = by_day.get(day, 0)
            if n < options.min_count:
                continue
            history = [by_day.get(d, 0) for d in window]
            rise, mean, ratio, z, p = judge_day(history, n, options)
            if rise:
                rises.append(Rise(dim, key, day, n, mean, ratio, z, p))
    rises.sort(key=lambda r: (r.day, -r.z))
    return rises


def describe(rise: Rise, label: str, today: date, baseline_days: int) -> str:
    """A sentence for the alert, e.g. "Contacts about refund: 3.0x the usual today (...)"."""
    when = "today" if rise.day == today else f"on {rise.day.isoformat()}"
    what = {
        "topic": f"Contacts about {label}",
        "cluster": f"Issue \u201c{label}\u201d",
        "flag": f"{label.replace('_', ' ')} flags",
    }.get(rise.dimension, label)
    if rise.baseline < 0.05:
        return f"{what}: {rise.n} {when}, none in the previous {baseline_days} days"
    return (
        f"{what}: {rise.ratio:.1f}x the usual {when} "
        f"({rise.n} vs {rise.baseline:.1f}/day over the previous {baseline_days} days)"
    )
