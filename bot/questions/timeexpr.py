"""Time expressions in questions ("today", "this week", "since Monday", "on 3 March").

The common phrases are handled here explicitly (so their meaning is fixed and documented:
weeks start on Monday, "since Monday" includes today when today is Monday, ranges are
half-open `[start, end)` in the configured zone). Anything else that looks like a date
("since 2026-03-01", "on March 3rd") goes to `dateparser`, with the same zone and
"past" preference, so "since March 3" never means next March.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WD = "|".join(WEEKDAYS) + "|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
              "eight": 8, "nine": 9, "ten": 10, "fourteen": 14, "thirty": 30}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open range `[start, end)` of aware datetimes, with how to say it."""

    start: datetime
    end: datetime
    label: str
    #: how far back the comparison period lies, when not simply "just before"
    #: ("this week" so far compares with the same days of last week)
    shift: timedelta | None = None

    def previous(self) -> Period:
        """The period to compare with: the same days of last week for "this week",
        yesterday for "today", else the period of the same length just before."""
        if self.shift is not None:
            return Period(self.start - self.shift, self.end - self.shift, "the same days last week")
        span = self.end - self.start
        if self.label == "today":
            return Period(self.start - span, self.start, "yesterday")
        return Period(self.start - span, self.start, f"the {_span_words(span)} before")


def _span_words(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    if abs(days - round(days)) < 1e-6 and days >= 1:
        return "day" if round(days) == 1 else f"{round(days)} days"
    return f"{span.total_seconds() / 3600:g} hours"


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def day_period(d: date, tz: ZoneInfo, label: str | None = None) -> Period:
    """One local calendar day (23 or 25 hours long across a DST change)."""
    return Period(_midnight(d, tz), _midnight(d + timedelta(days=1), tz), label or d.isoformat())


def _weekday_index(word: str) -> int:
    w = word.lower()
    for i, name in enumerate(WEEKDAYS):
        if name.startswith(w[:3]):
            return i
    raise ValueError(word)


# Patterns tried in order; each returns (Period, matched span) via `parse_period`.
_PATTERNS: list[tuple[str, str]] = [
    ("today", r"\btoday\b|\bso far today\b"),
    ("yesterday", r"\byesterday\b"),
    ("this_week", r"\bthis week\b|\bso far this week\b"),
    ("last_week", r"\blast week\b|\bprevious week\b"),
    ("this_month", r"\bthis month\b"),
    ("last_month", r"\blast month\b"),
    ("last_n", r"\b(?:in the |over the |during the )?(?:last|past|previous) (\d+|" + "|".join(_NUM_WORDS)
     + r") (hour|day|week|month)s?\b"),
    ("since_wd", r"\bsince (?:last )?(" + _WD + r")\b"),
    ("on_wd", r"\b(?:on |last )(" + _WD + r")\b"),
    ("since_yesterday", r"\bsince yesterday\b"),
    ("since_date", r"\bsince ([\w ,./-]+?)(?=$|\s+(?:vs|versus|compared|in|for|by|about)\b|[?!])"),
    ("on_date", r"\bon ([\w ,./-]+?)(?=$|\s+(?:vs|versus|compared|in|for|by|about)\b|[?!])"),
]  # fmt: skip
_COMPILED = [(name, re.compile(p, re.IGNORECASE)) for name, p in _PATTERNS]


def _dateparser_date(text: str, tz: ZoneInfo, now: datetime) -> date | None:
    import dateparser

    got = dateparser.parse(
        text,
        settings={
            "TIMEZONE": str(tz.key),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": now.astimezone(tz).replace(tzinfo=None),
        },
        languages=["en"],
    )
    return got.astimezone(tz).date() if got else None


def parse_period(text: str, tz: ZoneInfo, now: datetime) -> tuple[Period, tuple[int, int]] | None:
    """The first time expression in `text` and where it sits, or None if there is none."""
    local_now = now.astimezone(tz)
    today = local_now.date()
    best: tuple[Period, tuple[int, int]] | None = None
    for name, rx in _COMPILED:
        m = rx.search(text)
        if not m:
            continue
        period = _build(name, m, tz, local_now, today)
        if period is None:
            continue
        if best is None or m.start() < best[1][0]:
            best = (period, m.span())
    return best


def _build(name: str, m: re.Match[str], tz: ZoneInfo, now: datetime, today: date) -> Period | None:
    end_today = _midnight(today + timedelta(days=1), tz)
    if name == "today":
        return day_period(today, tz, "today")
    if name == "yesterday":
        return day_period(today - timedelta(days=1), tz, "yesterday")
    if name == "this_week":
        monday = today - timedelta(days=today.weekday())
        return Period(_midnight(monday, tz), end_today, "this week", shift=timedelta(days=7))
    if name == "last_week":
        monday = today - timedelta(days=today.weekday() + 7)
        return Period(_midnight(monday, tz), _midnight(monday + timedelta(days=7), tz), "last week")
    if name == "this_month":
        return Period(_midnight(today.replace(day=1), tz), end_today, "this month")
    if name == "last_month":
        first = today.replace(day=1)
        prev_first = (first - timedelta(days=1)).replace(day=1)
        return Period(_midnight(prev_first, tz), _midnight(first, tz), "last month")
    if name == "last_n":
        raw = m.group(1).lower()
        n = int(raw) if raw.isdigit() else _NUM_WORDS[raw]
        unit = m.group(2).lower()
        if n < 1:
            return None
        if unit == "hour":
            return Period(now - timedelta(hours=n), now + timedelta(seconds=1), f"in the last {n} hours")
        days = {"day": 1, "week": 7, "month": 30}[unit] * n
        # "last 7 days" = today and the 6 days before it, whole local days.
        return Period(_midnight(today - timedelta(days=days - 1), tz), end_today,
                      f"in the last {days} days")  # fmt: skip
    if name in ("since_wd", "on_wd"):
        idx = _weekday_index(m.group(1))
        back = (today.weekday() - idx) % 7
        if name == "on_wd" and back == 0:
            back = 7  # "on Tuesday" asked on a Tuesday means last Tuesday
        day = today - timedelta(days=back)
        if name == "since_wd":
            return Period(_midnight(day, tz), end_today, f"since {WEEKDAYS[idx].title()}")
        return day_period(day, tz, f"on {WEEKDAYS[idx].title()} {day.isoformat()}")
    if name == "since_yesterday":
        return Period(_midnight(today - timedelta(days=1), tz), end_today, "since yesterday")
    if name in ("since_date", "on_date"):
        day = _dateparser_date(m.group(1), tz, now)
        if day is None or day > today:
            return None
        if name == "since_date":
            return Period(_midnight(day, tz), end_today, f"since {day.isoformat()}")
        return day_period(day, tz, f"on {day.isoformat()}")
    return None
