"""The analyst dashboard (TUI and the service API): today vs yesterday per channel, the
last 14 days, open flags, top and rising topics. Split from store/browse.py (#14)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from store import query_views as qv
from store.db import Store
from store.query import Query, Span
from store.reviews import COUNTS, counts

# -- dashboard ---------------------------------------------------------------------------


@dataclass(slots=True)
class ChannelDay:
    channel: str
    today: int
    yesterday: int
    sentiment_today: float | None
    sentiment_yesterday: float | None


@dataclass(slots=True)
class DaySeries:
    """14 daily values, oldest first (days[i] is the local date of values[i])."""

    days: list[date]
    volume: list[int]
    sentiment: list[float | None]
    flags: list[int]


@dataclass(slots=True)
class CountItem:
    key: str
    n: int
    previous: int = 0
    sentiment: float | None = None


#: a rising topic or pattern (the one definition: store.query_views.rising)
Rising = qv.Rising


@dataclass(slots=True)
class Dashboard:
    today: date
    channels: list[ChannelDay]
    total_today: int
    total_yesterday: int
    sentiment_today: float | None
    sentiment_yesterday: float | None
    open_flags: list[CountItem]
    series: DaySeries
    top_topics: list[CountItem]
    rising: list[Rising] = field(default_factory=list)


def _day_bounds(now: datetime, tz: str, days_back: int) -> tuple[date, datetime, datetime]:
    z = ZoneInfo(tz)
    today = now.astimezone(z).date()
    start = datetime.combine(today - timedelta(days=days_back), datetime.min.time(), z)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), z)
    return today, start, end


def _days(now: datetime, tz: str, n: int = 14) -> tuple[str, list[Any]]:
    """A CTE `days(lo, hi, d)`: the last `n` local days as [midnight, next midnight).

    Joining on it (a range join) buckets timestamps into local days 3x faster than calling
    timezone() on every row, and stays right across DST changes.
    """
    z = ZoneInfo(tz)
    today = now.astimezone(z).date()
    dates = [today - timedelta(days=n - 1 - k) for k in range(n + 1)]
    bounds = [datetime.combine(d, datetime.min.time(), z) for d in dates]
    return (
        "days AS (SELECT unnest(?::TIMESTAMPTZ[]) AS lo, unnest(?::TIMESTAMPTZ[]) AS hi, "
        "unnest(?::DATE[]) AS d)",
        [bounds[:-1], bounds[1:], dates[:-1]],
    )


def _table_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def dashboard(store: Store, now: datetime, tz: str = "UTC") -> Dashboard:
    """Today vs yesterday, the last 14 days, open flags, top and rising topics."""
    cur = store.cursor()
    today, start14, end = _day_bounds(now, tz, 13)
    yday = today - timedelta(days=1)
    cte, cte_params = _days(now, tz)
    rows = cur.execute(
        f"WITH {cte} SELECT days.d, i.channel, count(*), avg(s.sentiment) "
        "FROM interactions i JOIN days ON i.started_at >= days.lo AND i.started_at < days.hi "
        "LEFT JOIN scores s ON s.interaction_id = i.id GROUP BY ALL",
        cte_params,
    ).fetchall()
    by_day: dict[date, list[tuple[str, int, float | None]]] = {}
    for d, ch, n, sent in rows:
        by_day.setdefault(d, []).append((ch, int(n), sent))
    channels = []
    for ch in ("call", "email", "chat"):
        t = next((x for x in by_day.get(today, []) if x[0] == ch), (ch, 0, None))
        y = next((x for x in by_day.get(yday, []) if x[0] == ch), (ch, 0, None))
        channels.append(ChannelDay(ch, t[1], y[1], _r(t[2]), _r(y[2])))

    def day_avg(d: date) -> float | None:
        xs = [(n, s) for _c, n, s in by_day.get(d, []) if s is not None]
        tot = sum(n for n, _ in xs)
        return _r(sum(n * s for n, s in xs) / tot) if tot else None

    days = [start14.date() + timedelta(days=k) for k in range(14)]
    flag_rows = dict(
        cur.execute(
            f"WITH {cte} SELECT days.d, count(*) FROM flags f "
            "JOIN days ON f.created_at >= days.lo AND f.created_at < days.hi "
            f"WHERE {counts('f')} GROUP BY 1",
            cte_params,
        ).fetchall()
    )
    series = DaySeries(
        days=days,
        volume=[sum(n for _c, n, _s in by_day.get(d, [])) for d in days],
        sentiment=[day_avg(d) for d in days],
        flags=[int(flag_rows.get(d, 0)) for d in days],
    )
    open_flags = [
        CountItem(k, int(n))
        for k, n in cur.execute(
            f"SELECT kind, count(*) FROM flags WHERE {COUNTS} AND review_status = 'open' "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    ]
    _t, start7, _e = _day_bounds(now, tz, 6)
    prev7 = start7 - timedelta(days=7)
    top = [
        CountItem(k, int(n), int(p), _r(s))
        for k, n, p, s in cur.execute(
            "SELECT s.top_topic, count(*) FILTER (i.started_at >= ?), "
            "count(*) FILTER (i.started_at < ?), avg(s.sentiment) FILTER (i.started_at >= ?) "
            "FROM interactions i JOIN scores s ON s.interaction_id = i.id "
            "WHERE i.started_at >= ? AND i.started_at < ? AND s.top_topic IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 8",
            [start7, start7, start7, prev7, end],
        ).fetchall()
    ]
    return Dashboard(
        today=today,
        channels=channels,
        total_today=sum(c.today for c in channels),
        total_yesterday=sum(c.yesterday for c in channels),
        sentiment_today=day_avg(today),
        sentiment_yesterday=day_avg(yday),
        open_flags=open_flags,
        series=series,
        top_topics=top,
        rising=rising(store, now, tz),
    )


def rising(store: Store, now: datetime, tz: str = "UTC", limit: int = 5) -> list[Rising]:
    """The last 24 hours against the 13 days before, by the one definition of rising
    (`store.query_views.rising`: the patterns job's detected rises when it has run)."""
    day = timedelta(hours=24)
    q = Query(period=Span(now - day, now, "the last 24 hours"),
              compare_to=Span(now - 14 * day, now - day, "the 13 days before"))  # fmt: skip
    return qv.rising(store, q, limit=limit, tz=tz)


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None else round(float(v), nd)


