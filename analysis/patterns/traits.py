"""What low-satisfaction interactions have in common, compared with high-satisfaction ones.

Three kinds of trait, each with an effect size rather than a raw count:

- topics: odds ratio of the topic appearing in low vs high interactions, with a 95 %
  Wald interval on log OR (Haldane-Anscombe +0.5 so empty cells stay finite), the most
  over-represented in low satisfaction first;
- metrics (every numeric key of scores.metrics: non-talk time, interruptions, talk ratio,
  response time...): Cohen's d (low minus high, pooled SD) with its normal-approximation
  95 % interval, largest |d| first (a metric lower in low satisfaction is a trait too);
- phrases: log-odds z with an informative Dirichlet prior (see phrases.py), phrases
  over-represented in low-satisfaction interactions;
- resolution: the "unresolved" share (resolution verdict `unresolved`, including a
  repeat-contact override) among low vs high satisfaction, as an odds ratio with the same
  interval as topics. Only interactions that have a verdict count (value_low/value_high
  are shares of those), so a store analysed before the resolution stage gets no row
  rather than a made-up 0 %; at least 3 with a verdict on each side are needed.

Run for all interactions and per queue (queues with enough of both).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from analysis.patterns.options import TraitOptions
from analysis.patterns.outcomes import satisfaction
from analysis.patterns.phrases import distinctive_phrases
from store.patterns import InteractionFacts, TraitRow

Z95 = 1.959964


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a metrics dict, nested keys joined by dots (booleans excluded)."""
    out: dict[str, float] = {}
    for k, v in metrics.items():
        name = f"{prefix}{k}"
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int | float):
            if math.isfinite(float(v)):
                out[name] = float(v)
        elif isinstance(v, Mapping):
            out.update(flatten_metrics(v, name + "."))
    return out


def cohen_d(low: Sequence[float], high: Sequence[float]) -> tuple[float, float, float]:
    """(d, ci_low, ci_high) of low minus high."""
    a, b = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    n1, n2 = len(a), len(b)
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    if pooled == 0:
        return 0.0, 0.0, 0.0
    d = (a.mean() - b.mean()) / pooled
    se = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
    return float(d), float(d - Z95 * se), float(d + Z95 * se)


def odds_ratio(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    """(OR, ci_low, ci_high) for [[a, b], [c, d]] = [[low with, low without], [high with, high without]]."""
    a_, b_, c_, d_ = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    log_or = math.log(a_ * d_ / (b_ * c_))
    se = math.sqrt(1 / a_ + 1 / b_ + 1 / c_ + 1 / d_)
    return math.exp(log_or), math.exp(log_or - Z95 * se), math.exp(log_or + Z95 * se)


def _topics(f: InteractionFacts) -> set[str]:
    out = {str(t.get("topic")) for t in f.topics if isinstance(t, Mapping) and t.get("topic")}
    if f.top_topic:
        out.add(f.top_topic)
    return out


def compare(
    scope: str,
    low: Sequence[InteractionFacts],
    high: Sequence[InteractionFacts],
    texts: Mapping[int, str],
    options: TraitOptions,
) -> list[TraitRow]:
    """Traits of one scope (low vs high)."""
    rows: list[TraitRow] = []
    n_low, n_high = len(low), len(high)
    # topics
    topic_rows = []
    t_low = [_topics(f) for f in low]
    t_high = [_topics(f) for f in high]
    for topic in sorted(set().union(*t_low, *t_high)):
        a = sum(topic in t for t in t_low)
        c = sum(topic in t for t in t_high)
        or_, lo, hi = odds_ratio(a, n_low - a, c, n_high - c)
        # ranked by how much more typical of low satisfaction (under-represented last)
        topic_rows.append(("topic", topic, "odds_ratio", or_, lo, hi, a / n_low, c / n_high,
                           math.log(or_)))
    # metrics
    metric_rows = []
    m_low = [flatten_metrics(f.metrics) for f in low]
    m_high = [flatten_metrics(f.metrics) for f in high]
    for name in sorted(set().union(*[m.keys() for m in m_low + m_high])):
        a_vals = [m[name] for m in m_low if name in m]
        b_vals = [m[name] for m in m_high if name in m]
        if len(a_vals) < 3 or len(b_vals) < 3:
            continue
        d, lo, hi = cohen_d(a_vals, b_vals)
        metric_rows.append(("metric", name, "cohen_d", d, lo, hi, float(np.mean(a_vals)),
                            float(np.mean(b_vals)), abs(d)))
    # phrases (only over-represented in low)
    phrase_rows = []
    for p in distinctive_phrases(
        [texts.get(f.id, "") for f in low], [texts.get(f.id, "") for f in high], options,
        min_z=options.min_phrase_z,
    ):
        phrase_rows.append(("phrase", p.phrase, "log_odds_z", p.z, None, None, float(p.count_a),
                            float(p.count_b), p.z))
    # resolution verdict
    resolution_rows = []
    v_low = [f.resolution for f in low if f.resolution]
    v_high = [f.resolution for f in high if f.resolution]
    if len(v_low) >= 3 and len(v_high) >= 3:
        a = v_low.count("unresolved")
        c = v_high.count("unresolved")
        or_, lo, hi = odds_ratio(a, len(v_low) - a, c, len(v_high) - c)
        resolution_rows.append(("resolution", "unresolved", "odds_ratio", or_, lo, hi, a / len(v_low),
                                c / len(v_high), math.log(or_)))
    for group in (topic_rows, metric_rows, phrase_rows, resolution_rows):
        group.sort(key=lambda r: -r[8])
        for rank, r in enumerate(group[: options.top], start=1):
            rows.append(TraitRow(scope=scope, kind=r[0], feature=r[1], statistic=r[2], effect=r[3],
                                 ci_low=r[4], ci_high=r[5], value_low=r[6], value_high=r[7],
                                 n_low=n_low, n_high=n_high, rank=rank))
    return rows


def low_satisfaction_traits(
    facts: Iterable[InteractionFacts], texts: Mapping[int, str], options: TraitOptions
) -> list[TraitRow]:
    """Traits overall ('all') and per queue ('queue:<name>')."""
    low: list[InteractionFacts] = []
    high: list[InteractionFacts] = []
    for f in facts:
        s = satisfaction(f, options)
        if s == "low":
            low.append(f)
        elif s == "high":
            high.append(f)
    rows: list[TraitRow] = []
    if len(low) >= options.min_group and len(high) >= options.min_group:
        rows += compare("all", low, high, texts, options)
    for queue in sorted({f.queue for f in low + high if f.queue}):
        ql = [f for f in low if f.queue == queue]
        qh = [f for f in high if f.queue == queue]
        if len(ql) >= options.min_group and len(qh) >= options.min_group:
            rows += compare(f"queue:{queue}", ql, qh, texts, options)
    return rows
