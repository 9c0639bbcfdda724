"""Time phrases across the US and EU daylight-saving changes: local days are 23 or 25
hours long, hour phrases are elapsed time, and every bound carries its own offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.questions.timeexpr import find_periods

CHICAGO = ZoneInfo("America/Chicago")  # DST 2026: Sun 8 March (23 h), Sun 1 November (25 h)
BERLIN = ZoneInfo("Europe/Berlin")  # DST 2026: Sun 29 March (23 h), Sun 25 October (25 h)


def _one(text: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    found = find_periods(text, tz, now)
    assert len(found) == 1, (text, found)
    return found[0].period.start, found[0].period.end


def _hours(a: datetime, b: datetime) -> float:
    return (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() / 3600


@pytest.mark.parametrize(
    ("text", "tz", "now", "start", "end", "hours"),
    [
        # the US fall-back day is 25 hours long; "yesterday" is all of it
        ("yesterday", CHICAGO, datetime(2026, 11, 2, 12, tzinfo=CHICAGO),
         datetime(2026, 11, 1, tzinfo=CHICAGO), datetime(2026, 11, 2, tzinfo=CHICAGO), 25),
        # the US spring-forward day is 23 hours long
        ("on 8 March", CHICAGO, datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO),
         datetime(2026, 3, 8, tzinfo=CHICAGO), datetime(2026, 3, 9, tzinfo=CHICAGO), 23),
        # "past 24h" is 24 elapsed hours even across the fall-back (25 wall-clock hours)
        ("past 24h", CHICAGO, datetime(2026, 11, 1, 12, tzinfo=CHICAGO),
         datetime(2026, 10, 31, 13, tzinfo=CHICAGO), datetime(2026, 11, 1, 12, tzinfo=CHICAGO), 24),
        # "last 3 hours" across spring-forward: 04:00 CDT minus 3 h is 00:00 CST
        ("last 3 hours", CHICAGO, datetime(2026, 3, 8, 4, tzinfo=CHICAGO),
         datetime(2026, 3, 8, 0, tzinfo=CHICAGO), datetime(2026, 3, 8, 4, tzinfo=CHICAGO), 3),
        # "last week" in Berlin holding the EU spring-forward Sunday: 7 days, 167 hours
        ("last week", BERLIN, datetime(2026, 4, 1, 9, tzinfo=BERLIN),
         datetime(2026, 3, 23, tzinfo=BERLIN), datetime(2026, 3, 30, tzinfo=BERLIN), 167),
        # "last week" over the EU fall-back: 169 hours
        ("last week", BERLIN, datetime(2026, 10, 28, 9, tzinfo=BERLIN),
         datetime(2026, 10, 19, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN), 169),
        # ISO week 44 of 2026 holds the US fall-back
        ("week 44", CHICAGO, datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO),
         datetime(2026, 10, 26, tzinfo=CHICAGO), datetime(2026, 11, 2, tzinfo=CHICAGO), 169),
        # a month across the change: March in Chicago is 743 hours
        ("in March", CHICAGO, datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO),
         datetime(2026, 3, 1, tzinfo=CHICAGO), datetime(2026, 4, 1, tzinfo=CHICAGO), 743),
        # "last 7 days" counts local days, today included, up to now
        ("last 7 days", BERLIN, datetime(2026, 3, 31, 8, tzinfo=BERLIN),
         datetime(2026, 3, 25, tzinfo=BERLIN), datetime(2026, 3, 31, 8, tzinfo=BERLIN), 151),
    ],
)
def test_periods_across_dst(text: str, tz: ZoneInfo, now: datetime, start: datetime, end: datetime,
                            hours: float) -> None:  # fmt: skip
    got_start, got_end = _one(text, tz, now)
    assert (got_start, got_end) == (start, end)
    assert _hours(got_start, got_end) == hours
    # the bounds carry the offset in force at each instant
    assert got_start.utcoffset() == start.utcoffset() and got_end.utcoffset() == end.utcoffset()


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("this morning", datetime(2026, 12, 2, tzinfo=CHICAGO), datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)),
        ("yesterday afternoon", datetime(2026, 12, 1, 12, tzinfo=CHICAGO), datetime(2026, 12, 1, 18, tzinfo=CHICAGO)),
        ("last hour", datetime(2026, 12, 2, 9, 30, tzinfo=CHICAGO), datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)),
        ("this quarter", datetime(2026, 10, 1, tzinfo=CHICAGO), datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)),
        ("last quarter", datetime(2026, 7, 1, tzinfo=CHICAGO), datetime(2026, 10, 1, tzinfo=CHICAGO)),
        ("between Monday and Wednesday", datetime(2026, 11, 30, tzinfo=CHICAGO),
         datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)),
        ("on Friday", datetime(2026, 11, 27, tzinfo=CHICAGO), datetime(2026, 11, 28, tzinfo=CHICAGO)),
        ("last Wednesday", datetime(2026, 11, 25, tzinfo=CHICAGO), datetime(2026, 11, 26, tzinfo=CHICAGO)),
        ("since 3 March", datetime(2026, 3, 3, tzinfo=CHICAGO), datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)),
        ("last 3 months", datetime(2026, 9, 3, tzinfo=CHICAGO), datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)),
        ("Dec 5", datetime(2025, 12, 5, tzinfo=CHICAGO), datetime(2025, 12, 6, tzinfo=CHICAGO)),
    ],
)
def test_phrases_at_the_corpus_clock(text: str, start: datetime, end: datetime) -> None:
    now = datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)
    assert _one(text, CHICAGO, now) == (start, end)


def test_this_week_compares_with_the_same_stretch_of_last_week() -> None:
    now = datetime(2026, 12, 2, 10, 30, tzinfo=CHICAGO)
    week = find_periods("this week", CHICAGO, now)[0].period
    prev = week.previous()
    assert (prev.start, prev.end) == (week.start - timedelta(days=7), now - timedelta(days=7))


def test_last_hour_inside_the_repeated_hour() -> None:
    """01:30 happens twice on the US fall-back night; at the second one "last hour" is the
    first one (one real hour back), and the clip to now compares instants, not wall clocks."""
    now = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)  # 01:30 CST, the second 01:30
    start, end = _one("last hour", CHICAGO, now)
    # (compared in UTC: PEP 495 makes an ambiguous local time unequal to any other zone's)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), now)
    assert (start.utcoffset(), end.utcoffset()) == (timedelta(hours=-5), timedelta(hours=-6))
    assert (start.hour, start.minute) == (end.hour, end.minute) == (1, 30)
    today_start, today_end = _one("today", CHICAGO, now)
    assert _hours(today_start, today_end) == 2.5  # midnight CDT to 01:30 CST
