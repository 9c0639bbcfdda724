"""Time expressions in questions: "today", "this morning", "past 24h", "last quarter",
"between Monday and Wednesday", "in March", "week 48", "since 3 March".

The common phrases are handled here explicitly, so their meaning is fixed and documented:

* ranges are half-open `[start, end)` of aware datetimes in the configured zone;
* calendar periods ("today", "this week", "this month", "this quarter", "on Friday",
  "in March", "week 48") are whole local days; a period that has not ended yet ends at
  the end of today (nothing later is in the store anyway), so "this week" and "this week
  so far" are the same range;
* weeks start on Monday and are ISO weeks ("week 48" is ISO week 48 of the current year,
  or of last year when week 48 of this year has not begun);
* "last N days/weeks/months" are whole local days ending today ("last 7 days" = today and
  the 6 days before); a month is 30 days there, a calendar month in "last month";
* hour-based ranges ("last hour", "past 24h", "last 3 hours") are counted in real elapsed
  time back from now, computed in UTC, so a DST change in between neither adds nor loses
  an hour; day boundaries are local midnights (a DST day is 23 or 25 hours long);
* parts of a day: morning 06:00–12:00, afternoon 12:00–18:00, evening 18:00–24:00, night
  00:00–06:00 (local wall-clock time);
* a month or weekday named without a year means the latest one that has begun ("in March"
  asked in February is last March; "on Friday" asked on a Friday is a week ago).

Anything else that looks like a date ("since 2026-03-01", "on March 3rd") goes to
`dateparser`, with the same zone and a preference for the past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")  # fmt: skip
_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
_MON = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
        r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)")  # fmt: skip
NUM_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
             "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
             "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
             "couple of": 2, "few": 3}  # fmt: skip
_NUM = r"(\d+|" + "|".join(sorted((re.escape(k) for k in NUM_WORDS), key=len, reverse=True)) + ")"
_PARTS = {"morning": (0, 12), "afternoon": (12, 18), "evening": (18, 24)}


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open range `[start, end)` of aware datetimes, with how to say it."""

    start: datetime
    end: datetime
    label: str
    #: how far back the comparison period lies, when not simply "just before"
    #: ("this week" so far compares with the same days of last week)
    shift: timedelta | None = None
    #: the calendar end of a period that was clipped to now ("today" ends at midnight)
    until: datetime | None = None

    def previous(self) -> Period:
        """The period to compare with: the same days of last week for "this week",
        yesterday for "today", else the period of the same length just before."""
        if self.shift is not None:
            return Period(self.start - self.shift, self.end - self.shift, "the same days last week")
        # whole calendar span, also when the period was clipped to now ("today" so far
        # compares with all of yesterday); same-zone aware arithmetic is wall-clock, so a
        # DST day still steps back to the previous midnight
        end = self.until or self.end
        months = _whole_months(self.start, end)
        if months:  # calendar months (a month, a quarter, a year): the same number before
            first = _month_start(self.start.date(), months)
            start = datetime.combine(first, time(0), tzinfo=self.start.tzinfo)
            return Period(start, self.start, f"the {months} month{'s' if months > 1 else ''} before")
        span = end - self.start
        if self.label == "today":
            return Period(self.start - span, self.start, "yesterday")
        return Period(self.start - span, self.start, f"the {_span_words(span)} before")


def _whole_months(start: datetime, end: datetime) -> int:
    """How many calendar months `[start, end)` spans when both are first-of-month
    midnights (0 otherwise)."""
    if (start.day, start.hour, start.minute, end.day, end.hour, end.minute) != (1, 0, 0, 1, 0, 0):
        return 0
    return (end.year - start.year) * 12 + end.month - start.month


def _span_words(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    if abs(days - round(days)) < 1e-6 and days >= 1:
        return "day" if round(days) == 1 else f"{round(days)} days"
    if days >= 2:  # "this month" on the 7th at 10:00 compares with the 6 days before
        return f"{round(days)} days"
    hours = span.total_seconds() / 3600
    if hours >= 1:
        return "hour" if round(hours) == 1 else f"{round(hours)} hours"
    return f"{max(1, round(span.total_seconds() / 60))} minutes"


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def _at(d: date, hour: int, tz: ZoneInfo) -> datetime:
    """Local wall-clock `hour` on day `d` (24 = the next midnight)."""
    if hour >= 24:
        return _midnight(d + timedelta(days=1), tz)
    return datetime.combine(d, time(hour), tzinfo=tz)


def _utc(d: datetime) -> datetime:
    return d.astimezone(UTC)


def _ago(now: datetime, tz: ZoneInfo, delta: timedelta) -> datetime:
    """`now - delta` in real elapsed time (UTC arithmetic: aware arithmetic on one zone
    would be wall-clock arithmetic and off by an hour across a DST change)."""
    return (now.astimezone(UTC) - delta).astimezone(tz)


def day_period(d: date, tz: ZoneInfo, label: str | None = None) -> Period:
    """One local calendar day (23 or 25 hours long across a DST change)."""
    return Period(_midnight(d, tz), _midnight(d + timedelta(days=1), tz), label or d.isoformat())


def _days(first: date, last: date, tz: ZoneInfo, label: str, shift: timedelta | None = None) -> Period:
    """Whole local days `first`..`last` inclusive."""
    return Period(_midnight(first, tz), _midnight(last + timedelta(days=1), tz), label, shift)


def _weekday_index(word: str) -> int:
    w = word.lower()
    for i, name in enumerate(WEEKDAYS):
        if name.startswith(w[:3]):
            return i
    raise ValueError(word)


def _month_index(word: str) -> int:
    w = word.lower()[:3]
    for i, name in enumerate(MONTHS):
        if name.startswith(w):
            return i + 1
    raise ValueError(word)


def _num(raw: str) -> int:
    raw = " ".join(raw.lower().split())
    return int(raw) if raw.isdigit() else NUM_WORDS[raw]


def _fmt_day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _month_start(d: date, back: int = 0) -> date:
    months = d.year * 12 + (d.month - 1) - back
    return date(months // 12, months % 12 + 1, 1)


def _last_day_of_month(y: int, m: int) -> date:
    return (_month_start(date(y, m, 1), -1) if m < 12 else date(y + 1, 1, 1)) - timedelta(days=1)


def _day_of_month(d: int, today: date) -> date | None:
    """Day `d` of the most recent month in which it is not in the future ("the 27th")."""
    month = today.replace(day=1)
    for _ in range(13):
        if d <= _last_day_of_month(month.year, month.month).day and month.replace(day=d) <= today:
            return month.replace(day=d)
        month = _month_start(month, 1)
    return None


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


# Patterns tried on the whole text; the earliest (then longest) match wins at each place.
_PATTERNS: list[tuple[str, str]] = [
    ("between", r"\b(?:between|from)\s+(.+?)\s+(?:and|to|till|until|through|-)\s+(.+?)"
     r"(?=$|[?!.,;]|\s+(?:vs\.?|versus|compared|in|for|by|about|with|where|that|which|from|mentioning)\b)"),
    ("part_dom", r"\b(?:in |on |during )?the (morning|afternoon|evening) of (?:the )?(\d{1,2})(?:st|nd|rd|th)\b"
     r"(?:\s+(?:of\s+)?(" + _MON + r"))?"),
    ("part_of_day", r"\b((?:on |last )?(?:" + "|".join(WEEKDAYS) + r")|this|yesterday|today|tonight|last)\s*(morning|afternoon|evening|night)?\b"),
    ("today", r"\b(?:so far )?today(?: so far)?\b|\bthe day\b(?= so far)"),
    ("tomorrow", r"\btomorrow\b"),
    ("same_day", r"\b(?:the )?same day (?:last|a) week(?: ago)?\b|\bthis day last week\b"),
    ("yesterday", r"\b(?:the )?day before yesterday\b|\byesterday\b"),
    ("hours", r"\b(?:in |over |during |within )?(?:the )?(?:last|past|previous)\s+" + _NUM
     + r"?\s*(h|hrs?|hours?|mins?|minutes?)\b"),
    ("hours_compact", r"\b(?:in |over |during )?(?:the )?(?:last|past|previous)\s*(\d+)\s*(h|m)\b"),
    ("this_week", r"\b(?:so far )?this (?:calendar )?week(?: so far)?\b|\bthe current week\b|\bwtd\b"),
    ("last_week", r"\b(?:the )?week before last\b|\b(?:last|previous|prior) (?:calendar )?week\b"),
    ("past_week", r"\b(?:in |over |during )?(?:the )?past week\b"),
    ("this_weekend", r"\b(?:this|last|past|over the|on the|at the|the) weekend\b"),
    ("this_month", r"\b(?:so far )?this month(?: so far)?\b|\bthe current month\b|\bmtd\b|\bmonth to date\b"),
    ("last_month", r"\b(?:last|previous|prior|past) month\b"),
    ("this_quarter", r"\bthis quarter\b|\bthe current quarter\b|\bqtd\b|\bquarter to date\b"),
    ("last_quarter", r"\b(?:last|previous|prior|past) quarter\b"),
    ("quarter_n", r"\b(?:in |during )?q([1-4])(?:\s+(\d{4}))?\b"),
    ("this_year", r"\bthis year\b|\bytd\b|\byear to date\b"),
    ("last_year", r"\blast year\b|\bprevious year\b"),
    ("last_n", r"\b(?:in |over |during |within )?(?:the )?(?:last|past|previous|recent)\s+" + _NUM
     + r"\s+(day|week|month|business day|working day)s?\b"),
    ("last_nd", r"\b(?:in |over |during )?(?:the )?(?:last|past|previous)\s*(\d+)\s*(d|w)\b"),
    ("fortnight", r"\b(?:in |over )?(?:the )?(?:last|past|this) fortnight\b"),
    # shorthand without "last": 7d, 48h, 2w, 3m (not after a comparison: "over 5m" is a length)
    ("bare_n", r"(?<![<>=\w.])(\d+)(h|d|w|m)\b"),
    ("dom", r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?" + _MON + r")"),
    ("ago", r"\b" + _NUM + r"\s+(day|week|month)s? ago\b"),
    ("week_n", r"\b(?:in |during )?(?:calendar |iso )?(?:week|wk|cw|kw)\s*#?\s*(\d{1,2})(?:\s+(?:of\s+)?(\d{4}))?\b"),
    ("since_wd", r"\bsince (?:last )?(" + _WD + r")\b"),
    ("on_wd", r"\b(?:on |last |this past |past )(" + _WD + r")s?\b(?!\s+\d)"),
    ("on_wd", r"\b(" + "|".join(WEEKDAYS) + r")s?\b(?!\s+\d)"),
    ("since_yesterday", r"\bsince yesterday\b"),
    ("since_last", r"\bsince last (week|month|quarter|year)\b"),
    ("in_month", r"\b(?:in |during |for |all of |throughout )?(?:the month of )?(" + _MON + r")\b(?:\s+(\d{4}))?"
     r"(?!\s*\d{1,2}(?:st|nd|rd|th)?\b)(?!\s+(?:the )?\d)"),
    ("since_date", r"\bsince (?:the )?([\w ,./-]+?)(?=$|\s+(?:vs\.?|versus|compared|in|for|by|about|with|from"
     r"|where|that|mentioning|and)\b|[?!,;])"),
    ("on_date", r"\b(?:on (?:the )?)?((?:\d{4}-\d{1,2}-\d{1,2})|(?:\d{1,2}(?:st|nd|rd|th)? (?:of )?" + _MON
     + r"(?: \d{4})?)|(?:" + _MON + r" \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?)|(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?))\b"),
]  # fmt: skip
_COMPILED = [(name, re.compile(p, re.IGNORECASE)) for name, p in _PATTERNS]


@dataclass(frozen=True, slots=True)
class Found:
    """One time expression: the period and where it sits in the text."""

    period: Period
    span: tuple[int, int]


def _dateparser_date(text: str, tz: ZoneInfo, now: datetime) -> date | None:
    import dateparser

    got = dateparser.parse(
        text,
        settings={
            "TIMEZONE": str(tz.key),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": now.astimezone(tz).replace(tzinfo=None),
            "DATE_ORDER": "DMY",
        },
        languages=["en"],
    )
    return got.astimezone(tz).date() if got else None


def find_periods(text: str, tz: ZoneInfo, now: datetime, *, clip: bool = True) -> list[Found]:
    """Every time expression in `text`, left to right, not overlapping. With `clip` (the
    default) a period that contains now ends at now: nothing later exists yet (a window of
    due dates, "follow-ups due today", is the exception and passes `clip=False`)."""
    local_now = now.astimezone(tz)
    cands: list[tuple[int, int, Period]] = []
    for name, rx in _COMPILED:
        for m in rx.finditer(text):
            try:
                period = _build(name, m, tz, local_now, local_now.date())
            except (ValueError, KeyError, OverflowError):
                period = None
            if period is not None:
                # compared as instants: two aware datetimes of one zone compare by wall clock
                # (fold ignored), which is wrong in the repeated hour of a DST change
                if clip and _utc(period.start) <= _utc(local_now) < _utc(period.end):
                    period = Period(period.start, local_now, period.label, period.shift, period.until or period.end)
                cands.append((m.start(), m.end(), period))
    cands.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    out: list[Found] = []
    last_end = -1
    for start, end, period in cands:
        if start >= last_end:
            out.append(Found(period, (start, end)))
            last_end = end
    return out


def parse_period(text: str, tz: ZoneInfo, now: datetime, *, clip: bool = True) -> tuple[Period, tuple[int, int]] | None:
    """The first time expression in `text` and where it sits, or None if there is none."""
    got = find_periods(text, tz, now, clip=clip)
    return (got[0].period, got[0].span) if got else None


def _single(text: str, tz: ZoneInfo, now: datetime) -> Period | None:
    """`text` as one whole time expression (an end of "between X and Y")."""
    text = text.strip()
    if re.fullmatch(_WD, text, re.I):  # the latest such day, today included
        today = now.astimezone(tz).date()
        d = today - timedelta(days=(today.weekday() - _weekday_index(text)) % 7)
        return day_period(d, tz, _fmt_day(d))
    got = find_periods(text, tz, now, clip=False)
    if len(got) == 1 and got[0].span == (0, len(text)):
        return got[0].period
    if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", text):
        return None
    day = _dateparser_date(text, tz, now)
    return day_period(day, tz, _fmt_day(day)) if day else None


def _build(name: str, m: re.Match[str], tz: ZoneInfo, now: datetime, today: date) -> Period | None:
    if name == "part_dom":  # "the afternoon of the 27th (of November)"
        h0, h1 = _PARTS[m.group(1).lower()]
        if m.group(3):
            day = _dateparser_date(f"{m.group(2)} {m.group(3)}", tz, now)
        else:
            day = _day_of_month(int(m.group(2)), today)
        if day is None or day > today:
            return None
        return Period(_at(day, h0, tz), _at(day, h1, tz) if h1 < 24 else _midnight(day + timedelta(days=1), tz),
                      f"{m.group(1).lower()} of {_fmt_day(day)}")
    if name == "between":
        a, b = re.sub(r"(?i)^the\s+", "", m.group(1).strip()), re.sub(r"(?i)^the\s+", "", m.group(2).strip())
        if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", a.strip()) and re.search(_MON, b, re.I):
            month = re.search(_MON + r"(?:\s+\d{4})?", b, re.I)
            a = f"{a.strip()} {month.group(0)}" if month else a  # "from 1 to 15 March"
        pa, pb = _single(a, tz, now), _single(b, tz, now)
        if pa is None or pb is None:
            return None
        if pb.start < pa.start and pb.start.replace(year=pb.start.year + 1) >= pa.start \
                and not re.search(r"\d{4}", b):  # "between 1 and 3 December": the same December
            d = pb.start.date().replace(year=pb.start.year + 1)
            pb = day_period(d, tz, _fmt_day(d))
        if pb.end <= pa.start and re.fullmatch(_WD, a.strip(), re.I):
            d = pa.start.date() - timedelta(days=7)  # "between Friday and Monday": last Friday
            pa = day_period(d, tz, _fmt_day(d))
        if pb.end <= pa.start:
            return None
        la, lb = (p.label.removeprefix("on ") for p in (pa, pb))
        return Period(pa.start, pb.end, f"{la} → {lb}")
    if name == "part_of_day":
        which, part = m.group(1).lower(), (m.group(2) or "").lower()
        if which == "tonight":
            part, which = "evening", "this"
        if not part or (which == "last" and part != "night"):
            return None
        if which == "last":  # "last night": yesterday evening to this morning
            return Period(_at(today - timedelta(days=1), 18, tz), _at(today, 6, tz), "last night")
        if part == "night":
            return None
        if which in ("this", "today"):
            day = today
        elif which == "yesterday":
            day = today - timedelta(days=1)
        else:
            idx = _weekday_index(which.removeprefix("on ").removeprefix("last ").strip())
            back = (today.weekday() - idx) % 7
            if back == 0 and which.startswith("last "):
                back = 7  # "last Wednesday morning" asked on a Wednesday
            day = today - timedelta(days=back)
        lo, hi = _PARTS[part]
        return Period(_at(day, lo, tz), _at(day, hi, tz), f"{which} {part}")
    if name == "today":
        return day_period(today, tz, "today")
    if name == "tomorrow":
        return day_period(today + timedelta(days=1), tz, "tomorrow")
    if name == "same_day":
        d = today - timedelta(days=7)
        return day_period(d, tz, f"the same day last week ({_fmt_day(d)})")
    if name == "yesterday":
        back = 2 if m.group(0).lower().endswith("before yesterday") else 1
        d = today - timedelta(days=back)
        return day_period(d, tz, "yesterday" if back == 1 else f"on {_fmt_day(d)}")
    if name in ("hours", "hours_compact"):
        if re.match(r"\s*past", m.group(0), re.I) and re.search(
                r"\b(?:ran|run|runs|running|went|go|goes|going|lasted|lasting|lasts|dragged|was|were|is|are)\s*$",
                m.string[: m.start()], re.I):  # fmt: skip
            return None  # "calls that ran past 20 min": a length, not a period
        n = _num(m.group(1)) if m.group(1) else 1
        unit = m.group(2).lower()
        if n < 1:
            return None
        minutes = unit.startswith("m")
        delta = timedelta(minutes=n) if minutes else timedelta(hours=n)
        what = ("minute" if minutes else "hour") if n == 1 else (f"{n} minutes" if minutes else f"{n} hours")
        return Period(_ago(now, tz, delta), now, f"in the last {what}")
    if name == "this_week":
        monday = today - timedelta(days=today.weekday())
        p = _days(monday, today, tz, f"this week (since {_fmt_day(monday)})", shift=timedelta(days=7))
        return Period(p.start, p.end, p.label, p.shift, _midnight(monday + timedelta(days=7), tz))
    if name == "last_week":
        back = 14 if "before last" in m.group(0).lower() else 7
        monday = today - timedelta(days=today.weekday() + back)
        return _days(monday, monday + timedelta(days=6), tz,
                     f"{'last week' if back == 7 else 'the week before last'} ({_fmt_day(monday)} → "
                     f"{_fmt_day(monday + timedelta(days=6))})")  # fmt: skip
    if name == "this_weekend":
        # the most recent Saturday and Sunday before today
        sat = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
        return _days(sat, sat + timedelta(days=1), tz, f"the weekend of {_fmt_day(sat)}")
    if name == "past_week":
        return _days(today - timedelta(days=6), today, tz, "in the last 7 days")
    if name == "this_month":
        p = _days(today.replace(day=1), today, tz, f"this month ({today:%B})")
        return Period(p.start, p.end, p.label, None, _midnight(_month_start(today, -1), tz))
    if name == "last_month":
        first = _month_start(today, 1)
        return _days(first, today.replace(day=1) - timedelta(days=1), tz, f"last month ({first:%B})")
    if name == "this_quarter":
        q0 = _quarter_start(today)
        p = _days(q0, today, tz, f"this quarter (Q{(q0.month - 1) // 3 + 1})")
        return Period(p.start, p.end, p.label, None, _midnight(_month_start(q0, -3), tz))
    if name == "last_quarter":
        q0 = _quarter_start(_quarter_start(today) - timedelta(days=1))
        q1 = _quarter_start(today)
        return _days(q0, q1 - timedelta(days=1), tz, f"last quarter (Q{(q0.month - 1) // 3 + 1} {q0.year})")
    if name == "quarter_n":
        qn = int(m.group(1))
        year = int(m.group(2)) if m.group(2) else today.year
        q0 = date(year, 3 * (qn - 1) + 1, 1)
        if q0 > today and not m.group(2):
            q0 = q0.replace(year=year - 1)
        if q0 > today:
            return None
        last = _month_start(q0, -3) - timedelta(days=1)
        return _days(q0, min(last, today), tz, f"Q{qn} {q0.year}")
    if name == "this_year":
        p = _days(date(today.year, 1, 1), today, tz, f"this year ({today.year})")
        return Period(p.start, p.end, p.label, None, _midnight(date(today.year + 1, 1, 1), tz))
    if name == "last_year":
        return _days(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), tz, f"last year ({today.year - 1})")
    if name in ("last_n", "last_nd", "fortnight"):
        if name == "fortnight":
            n, unit = 14, "day"
        else:
            n = _num(m.group(1))
            unit = {"d": "day", "w": "week"}.get(m.group(2).lower(), m.group(2).lower())
        if n < 1:
            return None
        if unit in ("business day", "working day"):
            d, left = today, n
            while True:
                if d.weekday() < 5:
                    left -= 1
                if left == 0:
                    break
                d -= timedelta(days=1)
            return _days(d, today, tz, f"in the last {n} business days")
        if unit == "month":  # calendar months back, plus a day: "last 3 months" on 12-02 = 09-03 → now
            back = _month_start(today, n)
            day = min(today.day, _last_day_of_month(back.year, back.month).day)
            first = back.replace(day=day) + timedelta(days=1)
            return _days(first, today, tz, f"in the last {n} months")
        days = {"day": 1, "week": 7}[unit] * n
        # "last 7 days" = today and the 6 days before it, whole local days.
        return _days(today - timedelta(days=days - 1), today, tz, f"in the last {days} days")
    if name == "bare_n":
        before = m.string[: m.start()].lower()
        if re.search(r"(?:more|less|longer|shorter|fewer|over|under|above|below|than|least|most|within|exceeding"
                     r"|top|by|per|[<>=+-])\s*$", before):  # fmt: skip
            return None
        n, unit = int(m.group(1)), m.group(2).lower()
        if n < 1:
            return None
        if unit == "h":
            return Period(_ago(now, tz, timedelta(hours=n)), now, f"in the last {n} hours")
        if unit == "m":
            back = _month_start(today, n)
            day = min(today.day, _last_day_of_month(back.year, back.month).day)
            return _days(back.replace(day=day) + timedelta(days=1), today, tz, f"in the last {n} months")
        days = n * (7 if unit == "w" else 1)
        return _days(today - timedelta(days=days - 1), today, tz, f"in the last {days} days")
    if name == "dom":
        day = _day_of_month(int(m.group(1)), today)
        return day_period(day, tz, f"on {_fmt_day(day)}") if day else None
    if name == "ago":
        n, unit = _num(m.group(1)), m.group(2).lower()
        if unit == "day":
            d = today - timedelta(days=n)
            return day_period(d, tz, f"on {_fmt_day(d)}")
        if unit == "week":
            monday = today - timedelta(days=today.weekday() + 7 * n)
            return _days(monday, monday + timedelta(days=6), tz, f"the week of {_fmt_day(monday)}")
        first = _month_start(today, n)
        return _days(first, _month_start(today, n - 1) - timedelta(days=1), tz, f"{first:%B %Y}")
    if name == "week_n":
        wk = int(m.group(1))
        year = int(m.group(2)) if m.group(2) else today.isocalendar().year
        monday = date.fromisocalendar(year, wk, 1)
        if monday > today and not m.group(2):
            monday = date.fromisocalendar(year - 1, wk, 1)
        if monday > today:
            return None
        return _days(monday, min(monday + timedelta(days=6), today), tz,
                     f"week {wk} ({_fmt_day(monday)} → {_fmt_day(monday + timedelta(days=6))})")  # fmt: skip
    if name in ("since_wd", "on_wd"):
        idx = _weekday_index(m.group(1))
        back = (today.weekday() - idx) % 7
        if back == 0 and re.match(r"\s*(?:since )?(?:last|this past|past)\b", m.group(0).lower()):
            back = 7  # "last Wednesday" asked on a Wednesday is a week ago; "Wednesday" is today
        day = today - timedelta(days=back)
        if name == "since_wd":
            return _days(day, today, tz, f"since {_fmt_day(day)}")
        return day_period(day, tz, f"on {_fmt_day(day)}")
    if name == "since_yesterday":
        return _days(today - timedelta(days=1), today, tz, "since yesterday")
    if name == "since_last":
        unit = m.group(1).lower()
        if unit == "week":
            start = today - timedelta(days=today.weekday() + 7)
        elif unit == "month":
            start = _month_start(today, 1)
        elif unit == "quarter":
            start = _quarter_start(_quarter_start(today) - timedelta(days=1))
        else:
            start = date(today.year - 1, 1, 1)
        return _days(start, today, tz, f"since {_fmt_day(start)}")
    if name == "in_month":
        word = m.group(1)
        if word.lower() == "may" and not m.group(0).lower().startswith(("in", "during", "for", "all", "through")) \
                and not m.group(2):
            return None  # "may" is mostly a verb
        month = _month_index(word)
        year = int(m.group(2)) if m.group(2) else today.year
        first = date(year, month, 1)
        if first > today and not m.group(2):
            first = date(year - 1, month, 1)
        if first > today:
            return None
        last = _last_day_of_month(first.year, first.month)
        return _days(first, min(last, today), tz, f"in {first:%B %Y}")
    if name in ("since_date", "on_date"):
        raw = m.group(1)
        dm = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", raw.strip())
        if name == "since_date" and dm:  # "since the 15th"
            first = _day_of_month(int(dm.group(1)), today)
            return _days(first, today, tz, f"since {_fmt_day(first)}") if first else None
        if name == "since_date" and re.fullmatch(_WD + r"|yesterday|last \w+", raw.strip(), re.I):
            return None
        day = _dateparser_date(raw, tz, now)
        if day is None or day > today:
            return None
        if name == "since_date":
            return _days(day, today, tz, f"since {_fmt_day(day)}")
        return day_period(day, tz, f"on {_fmt_day(day)}")
    return None


def default_period(days: int, tz: ZoneInfo, now: datetime) -> Period:
    """The last `days` whole local days, today included: a view's default period. It runs
    to the end of today rather than to now, so a row stamped a moment after the bot read
    its clock (another machine's clock, a flag written while the question is answered) is
    not left out of a question that named no time."""
    today = now.astimezone(tz).date()
    label = "today" if days == 1 else f"in the last {days} days"
    return _days(today - timedelta(days=days - 1), today, tz, label)
