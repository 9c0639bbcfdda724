"""Read queries behind the analyst screens (TUI and the service API) — the only SQL they run.

The Interactions screen's filter form (`Filter`, also built by `convoscope export` and the
API) is a thin builder of the typed `store.query.Query`: pages, counts and exports compile
that query (store/query_sql.py), so a filter means here what it means to the bot.
The dashboard lives in store/browse_dashboard.py, the other screens' reads in
store/browse_views.py; both are re-exported here.

Both the TUI opening the file itself and the service API answering the TUI call these same
functions, so a screen looks the same either way. Every function takes `now` (and the
display time zone) explicitly: "today" is a parameter, which makes the screens testable with a
fixed clock and lets the API answer for the client's idea of today.

Speed on a million interactions comes from shape, not indexes (the schema has none on
purpose): pages use keyset pagination on (sort key, id) and fetch flag badges only for the
page's rows; aggregates scan only the columns they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from store import query_views as qv
from store.db import Store
from store.pseudonyms import agent_sql
from store.query import Compare, Match, Query, Span
from store.query_sql import compile_where
from store.reviews import COUNTS, counts

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

    def to_query(self) -> Query:
        """The typed query this form means; every browse read compiles that, so the TUI's
        filter form, exports and the API mean what the bot means (store.query_sql)."""
        f: list[Match | Compare] = []
        for name in ("channel", "agent", "queue", "topic"):
            v = getattr(self, name)
            if v is not None and v != "":
                f.append(Match(name, (str(v),)))  # type: ignore[arg-type]
        if self.flag_kind:
            f.append(Match("flag", (f"kind:{self.flag_kind}",)))
        if self.review_status:
            f.append(Match("review", (self.review_status,)))
        if self.cluster_id is not None:
            f.append(Match("cluster", (str(int(self.cluster_id)),)))
        if self.ids is not None:
            f.append(Match("id", tuple(str(int(i)) for i in self.ids) or ("-1",)))
        if self.sentiment_min is not None:
            f.append(Compare("sentiment", ">=", float(self.sentiment_min)))
        if self.sentiment_max is not None:
            f.append(Compare("sentiment", "<=", float(self.sentiment_max)))
        period = None
        if self.since is not None or self.until is not None:
            period = Span(self.since or _EPOCH, self.until or _FOREVER, "")
        return Query(period=period, filters=tuple(f))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


def as_query(flt: Filter | Query | None) -> Query:
    """A typed query from what a caller holds: the form's Filter, a Query, or nothing."""
    if flt is None:
        return Query()
    return flt if isinstance(flt, Query) else flt.to_query()


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


_FROM = " FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id"
_ROW_COLS = (
    "i.id, i.started_at, i.channel, i.agent, i.queue, i.duration, s.sentiment, s.top_topic, "
    "pii_mask(i.subject)"
)


def page(
    store: Store,
    flt: Filter | Query | None = None,
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
    conds, params = compile_where(as_query(flt), store.cursor()).driven(drive)
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


def count(store: Store, flt: Filter | Query | None = None) -> int:
    """How many interactions the view holds (`store.query_views.count` of its query)."""
    return qv.count(store, as_query(flt))


def export_sql(flt: Filter | Query | None = None, *, sort: str = "started_at", descending: bool = True,
               agent_names: bool = True) -> tuple[str, list[Any]]:  # fmt: skip
    """The SELECT behind an export of the current view (used by `export_to`). Without
    `agent_names` agents are written as the same pseudonym `store.permissions.pseudonym`
    gives (`store.pseudonyms.agent_sql`)."""
    cond, params = compile_where(as_query(flt)).joined()
    where = f" WHERE {cond}"
    key = SORT_KEYS[sort]
    d = "DESC" if descending else "ASC"
    agent = "i.agent" if agent_names else f"({agent_sql('i.agent')}) AS agent"
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
    flt: Filter | Query | None = None,
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


from store.browse_dashboard import (  # noqa: E402  (re-exported: callers import them from here)
    ChannelDay,
    CountItem,
    Dashboard,
    DaySeries,
    Rising,
    dashboard,
    rising,
)
from store.browse_views import (  # noqa: E402
    AgentCard,
    ClusterRow,
    Detail,
    FlagView,
    QueueItem,
    Scorecards,
    TopicsView,
    TopicTrend,
    TurnView,
    agents,
    detail,
    distinct_values,
    review_queue,
    topics,
)

__all__ = [
    "SORT_KEYS", "AgentCard", "ChannelDay", "ClusterRow", "CountItem", "Dashboard", "DaySeries", "Detail",
    "Filter", "FlagView", "InteractionRow", "Page", "QueueItem", "Rising", "Scorecards", "TopicTrend",
    "TopicsView", "TurnView", "agents", "as_query", "count", "dashboard", "detail", "distinct_values",
    "export_sql", "export_to", "page", "review_queue", "rising", "topics",
]
