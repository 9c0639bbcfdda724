"""Rising issues: a planted rise becomes one `trend` flag; a flat or noisy series does not."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from patterns_data import NOW, Spec, put

from analysis.patterns import job
from analysis.patterns import trends as tr
from analysis.patterns.options import PatternsOptions, TrendOptions
from store import Store
from store import flags as store_flags
from store import patterns as sp


@pytest.fixture
def store(store_on_both_backends: Store) -> Store:
    """This module runs on the DuckDB file and on a DuckLake (conftest.py)."""
    return store_on_both_backends


def _day_specs(topic: str, per_day: list[int], *, flags: tuple[str, ...] = ()) -> list[Spec]:
    """per_day[k] interactions on topic, k days before NOW (index 0 = today)."""
    specs = []
    for back, n in enumerate(per_day):
        day = NOW - timedelta(days=back)
        for j in range(n):
            specs.append(Spec(started_at=day.replace(hour=8) + timedelta(minutes=10 * j),
                              customer=[f"about {topic}"], topic=topic, flags=flags))
    return specs


def test_planted_rise_is_flagged_and_flat_series_is_not(store: Store) -> None:
    history = [3, 2, 4, 3, 3, 2, 4] * 4  # 28 days, about 3 a day
    put(store, _day_specs("refund", [12, *history]))  # today: 12 = 4x the usual
    put(store, _day_specs("billing", [6, *([5, 6, 4, 5, 6, 5, 4] * 4)]))  # flat, noisy
    rows = job.run_trends(store, PatternsOptions(), now=NOW)
    assert [(r.dimension, r.key) for r in rows] == [("topic", "refund")]
    rise = rows[0]
    assert rise.day == NOW.date() and rise.n == 12
    assert abs(rise.baseline - 3.0) < 0.01 and rise.ratio == 4.0
    assert "refund" in rise.summary and "4.0x the usual today" in rise.summary
    flag = store_flags.get(store, rise.flag_id)  # type: ignore[arg-type]
    assert flag is not None and flag.kind == "trend" and flag.severity == 3
    assert flag.evidence[0]["count"] == 12 and flag.evidence[0]["dimension"] == "topic"
    assert flag.summary == rise.summary
    # the bot reads it back for today
    assert [r.key for r in sp.rising_issues(store, NOW.date())] == ["refund"]
    # re-running is idempotent: same flag, no second one
    again = job.run_trends(store, PatternsOptions(), now=NOW)
    assert [r.flag_id for r in again] == [rise.flag_id]
    n_trend = store.conn.execute("SELECT count(*) FROM flags WHERE kind = 'trend'").fetchone()
    assert n_trend == (1,)


def test_flag_kinds_rise_too(store: Store) -> None:
    put(store, _day_specs("other", [0] * 1 + [2] * 28, flags=("angry_customer",)))
    put(store, _day_specs("other2", [10], flags=("angry_customer",)))
    rows = job.run_trends(store, PatternsOptions(), now=NOW)
    assert ("flag", "angry_customer") in [(r.dimension, r.key) for r in rows]
    assert any("angry customer flags" in r.summary for r in rows)


def test_find_rises_needs_history_and_min_count() -> None:
    opts = TrendOptions()
    today = date(2026, 11, 24)
    # only two days of data: a fresh install judges nothing
    counts = [(today - timedelta(days=1), "topic", "a", 1), (today, "topic", "a", 30)]
    assert tr.find_rises(counts, [today], opts) == []
    # a month of zeros then 4 today: below min_count 5
    counts = [(today - timedelta(days=30), "topic", "b", 1), (today, "topic", "b", 4)]
    assert tr.find_rises(counts, [today], opts) == []
    counts[-1] = (today, "topic", "b", 6)
    rises = tr.find_rises(counts, [today], opts)
    assert [r.key for r in rises] == ["b"]
    assert tr.describe(rises[0], "b", today, 28) == "Contacts about b: 6 today, none in the previous 28 days"


def test_overdispersed_series_needs_a_bigger_jump() -> None:
    opts = TrendOptions()
    noisy = [0, 10, 1, 9, 0, 12, 2, 8] * 4  # mean ~5, sd ~4.7
    rise, _mean, ratio, z, _p = tr.judge_day(noisy[:28], 12, opts)
    assert not rise and ratio >= 2.0 and z < 3.0
    rise, *_ = tr.judge_day([5] * 28, 16, opts)
    assert rise


def test_days_are_counted_in_the_configured_time_zone(store: Store) -> None:
    # 01:30 UTC on the 24th is still the 23rd in New York
    late = NOW.replace(hour=1, minute=30)
    put(store, [Spec(started_at=late, customer=["x"], topic="refund")])
    first = NOW.date() - timedelta(days=30)
    job.run_trends(store, PatternsOptions(), now=NOW, tz="America/New_York")
    assert sp.daily_series(store, "topic", "refund", first, NOW.date() + timedelta(days=1)) == [
        (NOW.date() - timedelta(days=1), 1)
    ]
    job.run_trends(store, PatternsOptions(), now=NOW, tz="UTC")
    assert sp.daily_series(store, "topic", "refund", first, NOW.date() + timedelta(days=1)) == [
        (NOW.date(), 1)
    ]
