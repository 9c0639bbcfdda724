"""Read queries behind the analyst screens (TUI and the service API) — the only SQL they run.

Both the TUI opening the file itself and the service API answering the TUI call these same
functions, so a screen looks the same either way. Every function takes `now` (and the
display time zone) explicitly: "today" is a parameter, which makes the screens testable with a
fixed clock and lets the API answer for the client's idea of today.

Speed on a million interactions comes from shape, not indexes (the schema has none on
purpose): pages use keyset pagination on (sort key, id) and fetch flag badges only for the
page's rows; aggregates scan only the columns they need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from store.db import Store
from store.outbound import WITHHELD, mask_strings
from store.resolution import ResolutionView
from store.resolution import view as resolution_view
from store.reviews import COUNTS, contest_reason, contested, counts, queue_order

SORT_KEYS: dict[str, str] = {
    # key -> SQL expression (never NULL, so keyset comparisons are total)
    "started_at": "coalesce(i.started_at, TIMESTAMPTZ '1970-01-01 00:00:00+00')",
    "sentiment": "s.sentiment",
    "duration": "coalesce(i.duration, -1.0)",
    "agent": "coalesce(i.agent, '')",
    "id": "i.id",
}


@dataclass(slots=True)
class Filter:
    """What the Interactions screen (and an export) is restricted to; None = no restriction."""

    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    agent: str | None = None
    queue: str | None = None
    sentiment_min: float | None = None
    sentiment_max: float | None = None
    flag_kind: str | None = None
    topic: str | None = None
    review_status: str | None = None
    cluster_id: int | None = None
    ids: list[int] | None = None

    def describe(self) -> str:
        """One line for the screen's filter bar, e.g. 'channel=call agent=Kim Lee'."""
        parts = []
        for name in ("channel", "agent", "queue", "flag_kind", "topic", "review_status", "cluster_id"):
            v = getattr(self, name)
            if v is not None:
                parts.append(f"{name}={v}")
        if self.since or self.until:
            a = self.since.strftime("%Y-%m-%d %H:%M") if self.since else "…"
            b = self.until.strftime("%Y-%m-%d %H:%M") if self.until else "…"
            parts.append(f"time={a}..{b}")
        if self.sentiment_min is not None or self.sentiment_max is not None:
            parts.append(f"sentiment={self.sentiment_min if self.sentiment_min is not None else ''}"
                         f"..{self.sentiment_max if self.sentiment_max is not None else ''}")
        if self.ids is not None:
            parts.append(f"ids={len(self.ids)} selected")
        return " ".join(parts) or "all interactions"


@dataclass(slots=True)
class InteractionRow:
    id: int
    started_at: datetime | None
    channel: str
    agent: str | None
    queue: str | None
    duration: float | None
    sentiment: float | None
    topic: str | None
    subject: str | None
    flags: int = 0
    max_severity: int = 0
    open_flags: int = 0


@dataclass(slots=True)
class Page:
    """One page of rows; `after` is the keyset cursor to pass for the next page (None = end)."""

    rows: list[InteractionRow]
    after: list[Any] | None


class _Conds:
    """WHERE conditions split by the table they read (i = interactions, s = scores).

    Joining the million-row `scores` to `interactions` costs ~100 ms; a page needs ~10 ms.
    So a page is driven by the one table that holds the sort key and reads the other only
    through an IN-subquery when a filter needs it, then fetches the page's few rows whole.
    """

    def __init__(self, flt: Filter) -> None:
        self.i: list[tuple[str, list[Any]]] = []
        self.s: list[tuple[str, list[Any]]] = []
        if flt.channel:
            self.i.append(("i.channel = ?", [flt.channel]))
        if flt.since:
            self.i.append(("i.started_at >= ?", [flt.since]))
        if flt.until:
            self.i.append(("i.started_at < ?", [flt.until]))
        if flt.agent:
            self.i.append(("i.agent = ?", [flt.agent]))
        if flt.queue:
            self.i.append(("i.queue = ?", [flt.queue]))
        if flt.sentiment_min is not None:
            self.s.append(("s.sentiment >= ?", [flt.sentiment_min]))
        if flt.sentiment_max is not None:
            self.s.append(("s.sentiment <= ?", [flt.sentiment_max]))
        if flt.topic:
            self.s.append(("s.top_topic = ?", [flt.topic]))
        if flt.cluster_id is not None:
            self.s.append(("s.cluster_id = ?", [flt.cluster_id]))
        self.f: list[tuple[str, list[Any]]] = []
        if flt.flag_kind or flt.review_status:
            # A review status asks for those flags (dismissed included); otherwise the
            # flags that count (store.reviews).
            sub = "SELECT interaction_id FROM flags WHERE " + ("active" if flt.review_status else COUNTS)
            ps: list[Any] = []
            if flt.flag_kind:
                sub += " AND kind = ?"
                ps.append(flt.flag_kind)
            if flt.review_status:
                sub += " AND review_status = ?"
                ps.append(flt.review_status)
            self.f.append((sub, ps))
        self.ids = list(flt.ids) if flt.ids is not None else None

    def where(self, drive: str) -> tuple[list[str], list[Any]]:
        """Conditions for a query whose FROM is the `drive` table ('i' or 's')."""
        idcol = "i.id" if drive == "i" else "s.interaction_id"
        conds: list[str] = []
        params: list[Any] = []
        own, other = (self.i, self.s) if drive == "i" else (self.s, self.i)
        for sql, ps in own:
            conds.append(sql)
            params += ps
        if other:
            table = "scores s" if drive == "i" else "interactions i"
            col = "s.interaction_id" if drive == "i" else "i.id"
            conds.append(f"{idcol} IN (SELECT {col} FROM {table} WHERE "
                         + " AND ".join(sql for sql, _ in other) + ")")
            for _sql, ps in other:
                params += ps
        for sub, ps in self.f:
            conds.append(f"{idcol} IN ({sub})")
            params += ps
        if self.ids is not None:
            conds.append(f"{idcol} IN ({_id_list(self.ids)})")
        return conds, params


def _where(flt: Filter) -> tuple[str, list[Any]]:
    """All conditions for a query over interactions i LEFT JOIN scores s (exports, counts)."""
    c = _Conds(flt)
    conds = [sql for sql, _ in c.i + c.s]
    params = [p for _, ps in c.i + c.s for p in ps]
    for sub, ps in c.f:
        conds.append(f"i.id IN ({sub})")
        params += ps
    if c.ids is not None:
        conds.append(f"i.id IN ({_id_list(c.ids)})")
    return (" WHERE " + " AND ".join(conds)) if conds else "", params


_FROM = " FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id"
_ROW_COLS = (
    "i.id, i.started_at, i.channel, i.agent, i.queue, i.duration, s.sentiment, s.top_topic, "
    "pii_mask(i.subject)"
)


def page(
    store: Store,
    flt: Filter | None = None,
    *,
    sort: str = "started_at",
    descending: bool = True,
    limit: int = 100,
    after: list[Any] | None = None,
) -> Page:
    """One page of interactions, sorted, starting after the keyset cursor `after`.

    Sorting by sentiment lists scored interactions (unscored ones have no sentiment).
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}; got {sort!r}")
    drive = "s" if sort == "sentiment" else "i"
    conds, params = _Conds(flt or Filter()).where(drive)
    key = SORT_KEYS[sort] if drive == "i" else "s.sentiment"
    idcol = "i.id" if drive == "i" else "s.interaction_id"
    if drive == "s":
        conds.append("s.sentiment IS NOT NULL")
    if after is not None:
        after = _typed_cursor(sort, after)
        conds.append(f"({key}, {idcol}) {'<' if descending else '>'} (?, ?)")
        params += [after[0], after[1]]
    direction = "DESC" if descending else "ASC"
    table = "interactions i" if drive == "i" else "scores s"
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    cur = store.cursor()
    keys = cur.execute(
        f"SELECT {idcol}, {key} FROM {table}{where} "
        f"ORDER BY 2 {direction}, 1 {direction} LIMIT {int(limit)}",
        params,
    ).fetchall()
    ids = [int(k[0]) for k in keys]
    lit = _id_list(ids)
    by_id = {
        int(r[0]): InteractionRow(*r)
        for r in cur.execute(
            f"SELECT {_ROW_COLS} FROM interactions i LEFT JOIN "
            f"(SELECT * FROM scores WHERE interaction_id IN ({lit})) s "
            f"ON s.interaction_id = i.id WHERE i.id IN ({lit})"
        ).fetchall()
    }
    rows = [by_id[i] for i in ids if i in by_id]
    _attach_flags(cur, rows)
    nxt = [keys[-1][1], keys[-1][0]] if len(keys) == limit else None
    return Page(rows, nxt)


def _typed_cursor(sort: str, after: list[Any]) -> list[Any]:
    """A keyset cursor that travelled as JSON (the API) gets its SQL type back, so the row
    comparison compares timestamps and numbers, not strings."""
    if len(after) != 2:
        raise ValueError("a page cursor is [sort value, id]")
    v = after[0]
    if sort == "started_at" and isinstance(v, str):
        v = datetime.fromisoformat(v)
    elif sort in ("sentiment", "duration") and v is not None:
        v = float(v)
    elif sort == "id":
        v = int(v)
    return [v, int(after[1])]


def _id_list(ids: list[int]) -> str:
    """Ids inlined as literals: DuckDB prunes with a literal IN list (2 ms on 1M rows) but
    scans with a bound list parameter (~130 ms). Every value goes through int()."""
    return ",".join(str(int(i)) for i in ids) or "NULL"


def _attach_flags(cur: duckdb.DuckDBPyConnection, rows: list[InteractionRow]) -> None:
    if not rows:
        return
    got = {
        int(r[0]): r[1:]
        for r in cur.execute(
            "SELECT interaction_id, count(*), max(severity), count(*) FILTER (review_status = 'open') "
            f"FROM flags WHERE {COUNTS} AND interaction_id IN ({_id_list([r.id for r in rows])}) "
            "GROUP BY 1"
        ).fetchall()
    }
    for r in rows:
        if r.id in got:
            r.flags, r.max_severity, r.open_flags = (int(v) for v in got[r.id])


def count(store: Store, flt: Filter | None = None) -> int:
    where, params = _where(flt or Filter())
    join = _FROM if "s." in where else " FROM interactions i"
    row = store.cursor().execute(f"SELECT count(*){join}{where}", params).fetchone()
    return int(row[0]) if row else 0


def export_sql(flt: Filter | None = None, *, sort: str = "started_at", descending: bool = True,
               agent_names: bool = True) -> tuple[str, list[Any]]:  # fmt: skip
    """The SELECT behind an export of the current view (used by `export_to`). Without
    `agent_names` agents are written as the same pseudonym `store.permissions.pseudonym`
    gives ('agent-' + the first 6 hex digits of SHA-256 of the name)."""
    where, params = _where(flt or Filter())
    key = SORT_KEYS[sort]
    d = "DESC" if descending else "ASC"
    agent = "i.agent" if agent_names else "('agent-' || substr(sha256(i.agent), 1, 6)) AS agent"
    cols = (
        f"i.id, i.started_at, i.channel, i.source, {agent}, i.queue, i.duration, "
        "pii_mask(i.subject) AS subject, s.sentiment, s.sentiment_customer, s.anger, s.top_topic, s.cluster_id, "
        f"(SELECT count(*) FROM flags f WHERE f.interaction_id = i.id AND {counts('f')}) AS flags"
    )
    return f"SELECT {cols}{_FROM}{where} ORDER BY {key} {d}, i.id {d}", params


def export_to(
    store: Store,
    path: str,
    fmt: str,
    flt: Filter | None = None,
    *,
    sort: str = "started_at",
    descending: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
    agent_names: bool = True,
) -> int:
    """Write the filtered view to CSV or Parquet with DuckDB's COPY; returns rows written.

    Pass your own cursor as `con` to watch `con.query_progress()` from another thread
    while this runs (a UI's progress bar).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"export format must be csv or parquet, got {fmt!r}")
    sql, params = export_sql(flt, sort=sort, descending=descending, agent_names=agent_names)
    opts = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    target = path.replace("'", "''")
    cur = con or store.cursor()
    res = cur.execute(f"COPY ({sql}) TO '{target}' ({opts})", params).fetchone()
    return int(res[0]) if res else 0


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


@dataclass(slots=True)
class Rising:
    key: str
    label: str
    n: int
    baseline: float
    ratio: float


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
    """Rising issues: the patterns engine's detected trends when it has run, else topics
    whose count in the last day is well above their daily mean over the 13 before."""
    cur = store.cursor()
    today, _start, end = _day_bounds(now, tz, 13)
    if _table_exists(cur, "pattern_trends"):
        got = cur.execute(
            "SELECT key, label, n, baseline, ratio FROM pattern_trends WHERE day >= ? "
            "ORDER BY day DESC, ratio DESC LIMIT ?",
            [today - timedelta(days=2), limit],
        ).fetchall()
        if got:
            return [Rising(str(k), str(lbl), int(n), float(b), float(r)) for k, lbl, n, b, r in got]
    last = now - timedelta(hours=24)
    rows = cur.execute(
        "SELECT s.top_topic, count(*) FILTER (i.started_at >= ?) AS n, "
        "count(*) FILTER (i.started_at < ?) / 13.0 AS base "
        "FROM interactions i JOIN scores s ON s.interaction_id = i.id "
        "WHERE i.started_at >= ? AND i.started_at < ? AND s.top_topic IS NOT NULL "
        "GROUP BY 1 HAVING n >= 3 ORDER BY n / (base + 1) DESC LIMIT ?",
        [last, last, last - timedelta(days=13), end, limit],
    ).fetchall()
    return [
        Rising(k, k, int(n), round(float(b), 1), round(int(n) / (float(b) + 1.0), 2))
        for k, n, b in rows
        if int(n) > float(b) * 1.2
    ]


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None else round(float(v), nd)


# -- detail --------------------------------------------------------------------------------


@dataclass(slots=True)
class TurnView:
    seq: int
    speaker: str
    speaker_name: str | None
    start_s: float | None
    end_s: float | None
    sent_at: datetime | None
    text: str
    redacted_text: str | None
    sentiment: float | None
    sentiment_label: str | None
    anger: float | None


@dataclass(slots=True)
class FlagView:
    id: int
    kind: str
    rule: str | None
    severity: int
    score: float | None
    summary: str | None
    evidence: list[dict[str, Any]]
    review_status: str
    reviewer: str | None
    review_reason: str | None
    reviewed_at: datetime | None
    created_at: datetime | None
    review_rev: int = 0
    contested: bool = False
    contest_reason: str | None = None


@dataclass(slots=True)
class Detail:
    id: int
    channel: str
    source: str
    external_id: str
    started_at: datetime | None
    duration: float | None
    agent: str | None
    customer: str | None
    queue: str | None
    subject: str | None
    status: str
    sentiment: float | None
    sentiment_agent: float | None
    sentiment_customer: float | None
    customer_trend: list[float] | None
    anger: float | None
    metrics: dict[str, Any]
    topics: list[dict[str, Any]]
    keywords: list[str]
    cluster_id: int | None
    cluster_label: str | None
    qa_score: float | None
    turns: list[TurnView]
    flags: list[FlagView]
    #: the resolution verdict (store.resolution.view: reasons masked), None without one
    resolution: ResolutionView | None = None


def detail(store: Store, interaction_id: int) -> Detail | None:
    """One interaction with its turns, scores, flags and cluster, as it may leave the store:
    turn text from the outbound view (`text` = the redacted text, or a 'withheld' marker
    before analysis redacted it), customer, subject and flag summaries masked. The original
    text is only reachable through `store.outbound.original_turns`."""
    cur = store.cursor()
    r = cur.execute(
        "SELECT i.id, i.channel, i.source, i.external_id, i.started_at, i.duration, i.agent, "
        "pii_mask(i.customer), i.queue, pii_mask(i.subject), i.status, s.sentiment, s.sentiment_agent, "
        "s.sentiment_customer, s.customer_trend, s.anger, s.metrics, s.topics, s.keywords, "
        "s.cluster_id, c.label "
        "FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id "
        "LEFT JOIN clusters c ON c.id = s.cluster_id WHERE i.id = ?",
        [interaction_id],
    ).fetchone()
    if r is None:
        return None
    turns = [
        TurnView(*t)
        for t in cur.execute(
            "SELECT t.seq, t.speaker, t.speaker_name, t.start_s, t.end_s, t.sent_at, "
            "coalesce(t.text, ?), t.text, ts.sentiment, ts.sentiment_label, ts.anger "
            "FROM outbound_turns t "
            "LEFT JOIN turn_scores ts ON ts.interaction_id = t.interaction_id AND ts.seq = t.seq "
            "WHERE t.interaction_id = ? ORDER BY t.seq",
            [WITHHELD, interaction_id],
        ).fetchall()
    ]
    flags = [
        FlagView(f[0], f[1], f[2], int(f[3]), f[4], f[5], mask_strings(cur, _loads(f[6], [])), f[7], f[8],
                 f[9], f[10], f[11], int(f[12]), bool(f[13]), f[14])
        for f in cur.execute(
            "SELECT id, kind, rule, severity, score, pii_mask(summary), evidence, review_status, "
            "reviewer, review_reason, reviewed_at, created_at, coalesce(review_rev, 0), "
            f"{contested('flags')}, {contest_reason('flags')} FROM flags "
            "WHERE interaction_id = ? AND active ORDER BY severity DESC, id",
            [interaction_id],
        ).fetchall()
    ]
    qa = None
    if _table_exists(cur, "scorecard_results"):
        q = cur.execute(
            "SELECT avg(score) FROM scorecard_results WHERE interaction_id = ?", [interaction_id]
        ).fetchone()
        qa = _r(q[0]) if q else None
    return Detail(
        id=int(r[0]), channel=r[1], source=r[2], external_id=r[3], started_at=r[4],
        duration=r[5], agent=r[6], customer=r[7], queue=r[8], subject=r[9], status=r[10],
        sentiment=r[11], sentiment_agent=r[12], sentiment_customer=r[13],
        customer_trend=list(r[14]) if r[14] is not None else None, anger=r[15],
        metrics=_loads(r[16], {}), topics=_loads(r[17], []), keywords=list(r[18] or []),
        cluster_id=r[19], cluster_label=r[20], qa_score=qa, turns=turns, flags=flags,
        resolution=resolution_view(store, interaction_id),
    )


def _loads(v: Any, default: Any) -> Any:
    if v is None:
        return default
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return default
    return v


# -- review queue ----------------------------------------------------------------------------


@dataclass(slots=True)
class QueueItem:
    flag_id: int
    interaction_id: int
    kind: str
    rule: str | None
    severity: int
    summary: str | None
    created_at: datetime | None
    channel: str
    agent: str | None
    started_at: datetime | None
    review_rev: int = 0
    contested: bool = False
    contest_reason: str | None = None
    confidence: float | None = None


def review_queue(
    store: Store, *, order: str = "severity", kind: str | None = None, limit: int = 200
) -> list[QueueItem]:
    """Open flags that count: contested ones first, then low-confidence high-severity ones,
    then most severe (then oldest); or strictly oldest first."""
    if order not in ("severity", "oldest"):
        raise ValueError("order must be 'severity' or 'oldest'")
    ob = "f.severity DESC, f.created_at, f.id" if order == "severity" else "f.created_at, f.id"
    if order == "severity":  # contested, then low-confidence high-severity: first
        ob = queue_order() + ", " + ob
    sql = (
        "SELECT f.id, f.interaction_id, f.kind, f.rule, f.severity, pii_mask(f.summary), f.created_at, "
        f"i.channel, i.agent, i.started_at, coalesce(f.review_rev, 0), {contested('f')}, "
        f"{contest_reason('f')}, f.confidence FROM flags f JOIN interactions i ON i.id = f.interaction_id "
        f"WHERE {counts('f')} AND f.review_status = 'open'"
    )
    params: list[Any] = []
    if kind:
        sql += " AND f.kind = ?"
        params.append(kind)
    sql += f" ORDER BY {ob} LIMIT {int(limit)}"
    return [QueueItem(*r[:10], int(r[10]), bool(r[11]), r[12], r[13])
            for r in store.cursor().execute(sql, params).fetchall()]


# -- agents ------------------------------------------------------------------------------------


@dataclass(slots=True)
class AgentCard:
    agent: str
    interactions: int
    sentiment: float | None
    flags: int
    open_flags: int
    flag_rate: float
    qa_score: float | None
    talk_pct: float | None
    non_talk_pct: float | None
    interruptions: float | None
    wpm: float | None


@dataclass(slots=True)
class Scorecards:
    since: datetime
    team: AgentCard
    agents: list[AgentCard]


def agents(store: Store, now: datetime, days: int = 30) -> Scorecards:
    """Per-agent scorecard over the last `days` days, and the whole team's for comparison.

    Talk metrics come from `scores.metrics` as analysis/metrics.py writes them
    (agent_talk_ratio, non_talk_pct, interruptions, words_per_minute.agent — METRICS.md);
    the QA score from the patterns engine's `scorecard_results` when that table exists.
    """
    cur = store.cursor()
    since = now - timedelta(days=days)
    has_qa = _table_exists(cur, "scorecard_results")
    qa_join = (
        " LEFT JOIN (SELECT interaction_id, avg(score) AS qa FROM scorecard_results GROUP BY 1) q"
        " ON q.interaction_id = i.id" if has_qa else ""
    )
    qa_col = "avg(q.qa)" if has_qa else "NULL"
    m = "TRY_CAST(json_extract_string(s.metrics, '$.{}') AS DOUBLE)"
    sql = (
        f"WITH fl AS (SELECT interaction_id, count(*) AS n, count(*) FILTER (review_status = 'open') AS o "
        f"FROM flags WHERE {COUNTS} GROUP BY 1) "
        f"SELECT coalesce(i.agent, '(none)') AS agent, count(*), avg(s.sentiment), "
        f"coalesce(sum(fl.n), 0), coalesce(sum(fl.o), 0), count(fl.n) / count(*), {qa_col}, "
        f"avg({m.format('agent_talk_ratio')}) * 100, avg({m.format('non_talk_pct')}), "
        f"avg({m.format('interruptions')}), avg({m.format('words_per_minute.agent')}) "
        f"FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id "
        f"LEFT JOIN fl ON fl.interaction_id = i.id{qa_join} "
        f"WHERE i.started_at >= ? AND i.started_at <= ? GROUP BY GROUPING SETS ((1), ())"
    )
    rows = cur.execute(sql, [since, now]).fetchall()
    team_rows = [r for r in rows if r[0] is None]
    agent_rows = sorted((r for r in rows if r[0] is not None), key=lambda r: (-int(r[1]), r[0]))

    def card(r: tuple[Any, ...], name: str | None = None) -> AgentCard:
        return AgentCard(
            agent=name or r[0], interactions=int(r[1]), sentiment=_r(r[2]), flags=int(r[3]),
            open_flags=int(r[4]), flag_rate=round(float(r[5] or 0), 4), qa_score=_r(r[6], 1),
            talk_pct=_r(r[7], 1), non_talk_pct=_r(r[8], 1), interruptions=_r(r[9]),
            wpm=_r(r[10], 0),
        )

    team = (
        card(team_rows[0], "team") if team_rows and team_rows[0][1]
        else AgentCard("team", 0, None, 0, 0, 0.0, None, None, None, None, None)
    )
    return Scorecards(since, team, [card(r) for r in agent_rows])


# -- topics and clusters -----------------------------------------------------------------------


@dataclass(slots=True)
class TopicTrend:
    key: str
    n: int
    sentiment: float | None
    daily: list[int]
    examples: list[int]


@dataclass(slots=True)
class ClusterRow:
    id: int
    label: str | None
    terms: list[str]
    size: int
    recent: int
    daily: list[int]
    examples: list[int]


@dataclass(slots=True)
class TopicsView:
    days: list[date]
    topics: list[TopicTrend]
    clusters: list[ClusterRow]


def topics(store: Store, now: datetime, tz: str = "UTC", limit: int = 30) -> TopicsView:
    """Topic and cluster sizes over 14 days with daily counts and a few example ids."""
    cur = store.cursor()
    _today, start14, _end = _day_bounds(now, tz, 13)
    days = [start14.date() + timedelta(days=k) for k in range(14)]
    idx = {d: k for k, d in enumerate(days)}

    def grouped(col: str) -> dict[Any, tuple[list[int], int, float, list[int]]]:
        """key -> (daily counts, total, sentiment sum, example ids from its latest day)."""
        out: dict[Any, tuple[list[int], int, float, list[int]]] = {}
        latest: dict[Any, date] = {}
        cte, cte_params = _days(now, tz)
        rows = cur.execute(
            f"WITH {cte} SELECT {col} AS k, days.d, count(*), "
            f"sum(s.sentiment), (list(i.id ORDER BY i.started_at DESC, i.id))[1:3] "
            f"FROM interactions i JOIN days ON i.started_at >= days.lo AND i.started_at < days.hi "
            f"JOIN scores s ON s.interaction_id = i.id WHERE {col} IS NOT NULL GROUP BY ALL",
            cte_params,
        ).fetchall()
        for k, d, n, ssum, ex in rows:
            daily, tot, sent_sum, exs = out.get(k, ([0] * 14, 0, 0.0, []))
            if d in idx:
                daily[idx[d]] += int(n)
            if k not in latest or d > latest[k]:
                latest[k], exs = d, [int(x) for x in ex or []]
            out[k] = (daily, tot + int(n), sent_sum + float(ssum or 0.0), exs)
        return out

    tp = grouped("s.top_topic")
    topic_rows = sorted(
        (TopicTrend(k, v[1], _r(v[2] / v[1]) if v[1] else None, v[0], v[3][:3]) for k, v in tp.items()),
        key=lambda t: (-t.n, t.key),
    )[:limit]
    cl = grouped("s.cluster_id")
    meta = {
        int(r[0]): r[1:]
        for r in cur.execute("SELECT id, label, terms, size, examples FROM clusters").fetchall()
    }
    clusters = []
    for cid, (daily, n, _s, ex) in cl.items():
        if int(cid) < 0:  # the patterns engine's "noise" (no cluster)
            continue
        label, terms, size, examples = meta.get(int(cid), (None, [], 0, []))
        clusters.append(ClusterRow(int(cid), label, list(terms or []), int(size or n), n, daily,
                                   list(examples or ex)[:3]))
    clusters.sort(key=lambda c: (-c.recent, c.id))
    return TopicsView(days, topic_rows, clusters[:limit])


def distinct_values(store: Store) -> dict[str, list[str]]:
    """Choices for the filter form: agents, queues, topics, flag kinds."""
    cur = store.cursor()

    def col(sql: str) -> list[str]:
        return [str(r[0]) for r in cur.execute(sql).fetchall() if r[0] is not None]

    return {
        "agent": col("SELECT DISTINCT agent FROM interactions WHERE agent IS NOT NULL ORDER BY 1 LIMIT 500"),
        "queue": col("SELECT DISTINCT queue FROM interactions WHERE queue IS NOT NULL ORDER BY 1 LIMIT 200"),
        "topic": col("SELECT DISTINCT top_topic FROM scores WHERE top_topic IS NOT NULL ORDER BY 1 LIMIT 500"),
        "flag_kind": col("SELECT DISTINCT kind FROM flags ORDER BY 1"),
    }
