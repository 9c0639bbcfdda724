"""Run a typed `Query`'s view: list, count, ranking, breakdown, comparison, rising topics.

Conditions come from `store.query_sql.compile_where`, so every view (and every surface)
agrees on what a filter means. The shapes are written to stay fast on a million
interactions: the period on `interactions.started_at` prunes row groups first (zone maps;
rows arrive roughly in time order), `scores` is joined only when a condition, a group or
a measure reads it, and lists fetch their page's rows by primary key afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from store.db import Store
from store.pseudonyms import customer_label_sql
from store.query import Match, Measure, Query, Span
from store.query_sql import METRICS, Where, compile_where, flag_condition, review_sql, review_states

#: Group -> (table it reads, SQL expression of the key). Day and week are local dates
#: (the `tz` argument); customers appear as pseudonyms, never as identifiers.
_GROUPS: dict[str, tuple[str, str]] = {
    "agent": ("i", "i.agent"),
    # queues compare case-insensitively in filters ("Billing" = "billing"), so they group so too
    "queue": ("i", "lower(i.queue)"),
    "channel": ("i", "i.channel"),
    "topic": ("s", "s.top_topic"),
    "cluster": ("s", "s.cluster_id"),
    #: a keyed pseudonym (`store.pseudonyms.customer_label_sql`), built per call
    "customer": ("i", ""),
    "day": ("i", "CAST(timezone(?, i.started_at) AS DATE)"),
    "week": ("i", "CAST(date_trunc('week', timezone(?, i.started_at)) AS DATE)"),
    "flag": ("f", "fl.kind"),
    #: internal (compare): which of two periods a row is in; its SQL is built per call
    "_period": ("i", ""),
}
#: The group a subject implies when a ranking names none ("which agents …").
SUBJECT_GROUP = {"agents": "agent", "topics": "topic", "clusters": "cluster", "customers": "customer",
                 "flags": "flag"}  # fmt: skip
RANKING_LIMIT = 10
BREAKDOWN_LIMIT = 200


@dataclass(slots=True)
class Found:
    """A page of interactions and how many match in all."""

    total: int
    rows: list[dict[str, Any]]


#: A condition on a score column is never true for an unscored interaction (negated ones
#: compile to NOT IN, see store.query_sql), so with one the inner join gives the same rows —
#: and runs ~3x faster on a million rows: DuckDB pushes the period's id range into the scan
#: of `scores` for an inner join, not for the preserved side of a LEFT JOIN.
_INNER = "JOIN scores s ON s.interaction_id = i.id"
_LEFT = "LEFT JOIN scores s ON s.interaction_id = i.id"


def _where(store: Store, q: Query) -> Where:
    return compile_where(q, store.cursor())


def _positive_flags(q: Query) -> list[str]:
    return [v for m in q.matches("flag") if not m.negate for v in m.values]


def _without_joined_flag(q: Query) -> Query:
    """`q` less the flag filter that `find` already applies by joining `flags` (and the
    review filter folded into that join): the same rows, one semi-join fewer over the
    period (~40 % of a flagged list's time on a million rows). Only when there is exactly
    one positive flag filter — two must each hold (AND), the join tests their union."""
    flag_filters = [f for f in q.filters if isinstance(f, Match) and f.field == "flag"]
    if len(flag_filters) != 1 or flag_filters[0].negate:
        return q  # several (AND) or a negated one (it reads the review filter too): keep all
    keep = tuple(f for f in q.filters if not (isinstance(f, Match) and f.field in ("flag", "review")))
    return replace(q, filters=keep)


def find(store: Store, q: Query, *, limit: int = 10, offset: int = 0) -> Found:
    """Interactions matching `q`, worst first when `q` asks for flagged ones, by `q.order`
    when it names a metric (longest, most negative), newest first otherwise; each row with
    its flags (those that count, or those in the review states `q` asks for).

    Two phases keep it fast on a million rows: pick the page's ids touching only the
    tables the filter needs, then read scores and flags for those few ids.
    """
    fams = _positive_flags(q)
    order_metric = q.order.by if q.order is not None and q.order.by in METRICS else None
    w = _where(store, _without_joined_flag(q) if fams and not order_metric else q)
    cond, params = w.joined()
    join = _INNER if w.needs_scores else _LEFT if order_metric and METRICS[order_metric][0] == "s" else ""
    # The total is its own query: `count(*) OVER ()` next to ORDER BY … LIMIT trips an
    # intermittent DuckDB internal error ("Attempted to access index 0 within vector of
    # size 0", duckdb/duckdb#22352) that invalidates the whole database.
    if order_metric:
        expr = METRICS[order_metric][1]
        d = "DESC" if q.order is None or q.order.descending else "ASC"
        sel, body = "i.id, NULL", f"FROM interactions i {join} WHERE {cond}"
        order = f"ORDER BY {expr} {d} NULLS LAST, i.id DESC"
    elif fams:
        fparams: list[Any] = []
        fcond = flag_condition(q, fams, fparams)
        # Join from the time-filtered interactions to their flags (the planner builds the
        # hash table on the few interactions and probes flags), not the other way round.
        sel = "i.id, max(fl.severity) AS sev"
        body = (f"FROM interactions i JOIN flags fl ON fl.interaction_id = i.id {join} "
                f"WHERE {cond} AND {fcond} GROUP BY i.id, i.started_at")  # fmt: skip
        order = "ORDER BY sev DESC, i.started_at DESC, i.id DESC"
        params = params + fparams
    else:
        sel, body = "i.id, NULL", f"FROM interactions i {join} WHERE {cond}"
        order = "ORDER BY i.started_at DESC, i.id DESC"
    cur = store.cursor()
    page = cur.execute(f"SELECT {sel} {body} {order} LIMIT ? OFFSET ?", [*params, int(limit), int(offset)]).fetchall()
    if not page:
        # past the last page (or nothing at all)
        return Found(count(store, q) if offset else 0, [])
    row = cur.execute(f"SELECT count(*) FROM (SELECT i.id {body})", params).fetchone()
    total = int(row[0]) if row else len(page)
    ids = [int(r[0]) for r in page]
    sev = {int(r[0]): r[1] for r in page}
    lit = ",".join(str(i) for i in ids)
    by_id: dict[int, dict[str, Any]] = {}
    for r in cur.execute(
        f"SELECT id, channel, started_at, agent, queue, pii_mask(subject), duration FROM interactions "
        f"WHERE id IN ({lit})"
    ).fetchall():
        by_id[int(r[0])] = {
            "id": int(r[0]), "channel": r[1], "started_at": r[2], "agent": r[3], "queue": r[4],
            "subject": r[5], "duration": r[6], "sentiment": None, "sentiment_agent": None, "anger": None,
            "top_topic": None, "max_severity": sev[int(r[0])], "flags": [],
        }  # fmt: skip
    for r in cur.execute(
        "SELECT interaction_id, sentiment, anger, top_topic, sentiment_agent FROM scores "
        f"WHERE interaction_id IN ({lit})"
    ).fetchall():
        if int(r[0]) in by_id:
            by_id[int(r[0])].update(sentiment=r[1], anger=r[2], top_topic=r[3], sentiment_agent=r[4])
    for fr in cur.execute(
        "SELECT fl.id, fl.interaction_id, fl.kind, fl.severity, fl.summary, fl.review_status "
        f"FROM flags fl WHERE {review_sql(review_states(q))} AND fl.interaction_id IN ({lit}) "
        "ORDER BY fl.severity DESC, fl.id"
    ).fetchall():
        by_id[int(fr[1])]["flags"].append(
            {"id": int(fr[0]), "kind": fr[2], "severity": int(fr[3]), "summary": fr[4],
             "review_status": fr[5]}
        )  # fmt: skip
    return Found(total, [by_id[i] for i in ids if i in by_id])


def count(store: Store, q: Query) -> int:
    """How many interactions match `q`."""
    w = _where(store, q)
    cond, params = w.joined()
    join = _INNER if w.needs_scores else ""
    row = store.cursor().execute(f"SELECT count(*) FROM interactions i {join} WHERE {cond}", params).fetchone()
    return int(row[0]) if row else 0


def count_by_channel(store: Store, q: Query) -> dict[str, int]:
    """Matching interactions per channel (channels with none are left out)."""
    w = _where(store, q)
    cond, params = w.joined()
    join = _INNER if w.needs_scores else ""
    rows = store.cursor().execute(
        f"SELECT i.channel, count(*) FROM interactions i {join} WHERE {cond} GROUP BY 1 ORDER BY 1", params
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


# -- rankings and breakdowns -----------------------------------------------------------------


@dataclass(slots=True)
class Table:
    """Rows of a ranking, breakdown or comparison: `groups` key columns then `measures`
    (their `Measure.name`); `total` is the number of matching interactions."""

    groups: list[str]
    measures: list[str]
    rows: list[dict[str, Any]]
    total: int = 0
    labels: dict[str, str] = field(default_factory=dict)


def groups_of(q: Query) -> list[str]:
    """`q.group_by`, or the group its subject implies."""
    if q.group_by:
        return list(q.group_by)
    g = SUBJECT_GROUP.get(q.subject)
    return [g] if g else []


def measures_of(q: Query) -> list[Measure]:
    return list(q.measures) or [Measure("count")]


def _measure_sql(m: Measure, q: Query, by_flag: bool, params: list[Any]) -> tuple[str, bool]:
    """(SQL aggregate, reads scores) for one measure."""
    n = "count(DISTINCT i.id)" if by_flag else "count(*)"
    if m.kind == "count":
        return n, False
    if m.kind == "share":
        # the group's count; `aggregate` divides it by the sum over every group, read by its
        # own query (a window beside ORDER BY … LIMIT trips duckdb#22352)
        return n, False
    if m.kind == "rate":
        if not m.flag:
            raise ValueError("a rate measure names a flag family")
        fparams: list[Any] = []
        fcond = flag_condition(q, [m.flag], fparams, alias="fl2")
        params += fparams
        return (f"avg(CASE WHEN i.id IN (SELECT fl2.interaction_id FROM flags fl2 WHERE {fcond}) "
                "THEN 1.0 ELSE 0.0 END)"), False  # fmt: skip
    if m.metric is None or m.metric not in METRICS:
        raise ValueError(f"a {m.kind} measure names a metric; got {m.metric!r}")
    table, expr = METRICS[m.metric]
    fn = {"average": "avg", "sum": "sum", "min": "min", "max": "max"}[m.kind]
    return f"{fn}({expr})", table == "s"


def aggregate(store: Store, q: Query, *, tz: str = "UTC", limit: int | None = None,
              order: bool = True, with_total: bool = True,
              periods: tuple[Span, Span] | None = None) -> Table:  # fmt: skip
    """Every measure of `q` per group of `q` (a breakdown), sorted by `q.order` or the first
    measure (descending) and cut to `limit` (a ranking: `q.limit` or 10)."""
    groups = groups_of(q)
    measures = measures_of(q)
    w = _where(store, q)
    split = _split(q, groups, measures, w)
    if split is not None:
        return _aggregate_split(store, q, split, tz=tz, limit=limit, order=order, with_total=with_total,
                                periods=periods)  # fmt: skip
    cond, wparams = w.joined()
    needs_s = w.needs_scores
    by_flag = "flag" in groups
    sel: list[str] = []
    sel_params: list[Any] = []
    for k, g in enumerate(groups):
        if g not in _GROUPS:
            raise ValueError(f"cannot group by {g!r}")
        table, expr = _GROUPS[g]
        if g == "_period":
            if periods is None:
                raise ValueError("cannot group by '_period'")
            expr = "CASE WHEN i.started_at >= ? AND i.started_at < ? THEN 0 WHEN i.started_at >= ? AND i.started_at < ? THEN 1 END"
            sel_params += [periods[0].start, periods[0].end, periods[1].start, periods[1].end]
        elif g == "customer":
            expr = customer_label_sql("i.customer_key")
        elif "?" in expr:
            sel_params.append(tz)
        needs_s = needs_s or table == "s"
        sel.append(f"{expr} AS g{k}")
    mparams: list[Any] = []
    shared = ""  # the count a share measure divides by the sum over every group
    for k, m in enumerate(measures):
        sql, reads_s = _measure_sql(m, q, by_flag, mparams)
        needs_s = needs_s or reads_s
        sel.append(f"{sql} AS m{k}")
        shared = sql if m.kind == "share" else shared
    # inner join when unscored rows cannot change the answer: a score condition already
    # drops them, or every measure ignores them (averages of scores) and no group reads scores
    inner = w.needs_scores or (
        all(m.kind not in ("count", "share", "rate") and METRICS[m.metric or "sentiment"][0] == "s"
            for m in measures) and not any(_GROUPS[g][0] == "s" for g in groups))  # fmt: skip
    joins = (f"{_INNER if inner else _LEFT} ") if needs_s else ""
    jparams: list[Any] = []
    if by_flag:
        fams = _positive_flags(q) or ["any"]
        fcond = flag_condition(q, fams, jparams)
        joins += f"JOIN flags fl ON fl.interaction_id = i.id AND {fcond} "
    group_sql = (" GROUP BY " + ", ".join(str(k + 1) for k in range(len(groups)))) if groups else ""
    names = [m.name for m in measures]
    sort = ""
    if order and groups:
        by = q.order.by if q.order is not None and q.order.by in names else names[0]
        desc = q.order.descending if q.order is not None and q.order.by in names else True
        k = names.index(by)
        gcols = ", ".join(f"g{j} NULLS LAST" for j in range(len(groups)))
        sort = f" ORDER BY m{k} {'DESC' if desc else 'ASC'} NULLS LAST, {gcols}"
    cap = limit if limit is not None else (q.limit or (RANKING_LIMIT if q.view == "ranking" else BREAKDOWN_LIMIT))
    # The number of matching interactions is its own query (below), not a window beside
    # ORDER BY … LIMIT: that form trips DuckDB's intermittent internal error (duckdb#22352).
    sql = (f"SELECT {', '.join(sel)} FROM interactions i {joins}WHERE {cond}"
           f"{group_sql}{sort} LIMIT {int(cap)}")  # fmt: skip
    params = sel_params + mparams + jparams + wparams
    rows = store.cursor().execute(sql, params).fetchall()
    whole = 0.0
    if shared:
        gsel = "".join(f"{x}, " for x in sel[:len(groups)])
        whole = float(store.cursor().execute(
            f"SELECT sum(n) FROM (SELECT {gsel}{shared} AS n FROM interactions i {joins}WHERE {cond}{group_sql})",
            sel_params + jparams + wparams).fetchone()[0] or 0)  # fmt: skip
    out = []
    for r in rows:
        d: dict[str, Any] = {g: r[k] for k, g in enumerate(groups)}
        for k, nm in enumerate(names):
            v = r[len(groups) + k]
            if measures[k].kind == "share" and v is not None:
                v = v / whole if whole else None
            d[nm] = int(v) if measures[k].kind == "count" and v is not None else (None if v is None else float(v))
        out.append(d)
    labels = _cluster_labels(store, out) if "cluster" in groups else {}
    counted = next((nm for nm, m in zip(names, measures, strict=True) if m.kind == "count"), None)
    if not groups and counted is not None and not inner:
        total = int(out[0][counted] or 0) if out else 0
    elif not with_total:
        total = 0
    else:
        total = count(store, q)
    return Table(groups, names, out, int(total or 0), labels)


def _split(q: Query, groups: list[str], measures: list[Measure], w: Where) -> tuple[Query, Query] | None:
    """(counting part, score part) of a query mixing counts/rates with averages of scores
    (and no condition or group that reads scores): run apart, each is fast — counts from
    interactions alone, averages over an inner join — where one LEFT JOIN is ~3x slower."""
    if w.needs_scores or any(_GROUPS.get(g, ("i",))[0] == "s" for g in groups):
        return None
    reads_s = [m for m in measures if m.kind not in ("count", "share", "rate") and m.metric in METRICS
               and METRICS[m.metric][0] == "s"]  # fmt: skip
    rest = [m for m in measures if m not in reads_s]
    if not reads_s or not rest:
        return None
    return replace(q, measures=tuple(rest)), replace(q, measures=tuple(reads_s))


def _aggregate_split(store: Store, q: Query, parts: tuple[Query, Query], *, tz: str, limit: int | None,
                     order: bool, with_total: bool, periods: tuple[Span, Span] | None = None) -> Table:  # fmt: skip
    counting, scored = parts
    cap = BREAKDOWN_LIMIT * 50 * (2 if periods else 1)  # two periods: room for both
    a = aggregate(store, counting, tz=tz, limit=cap, order=False, with_total=with_total, periods=periods)
    b = aggregate(store, scored, tz=tz, limit=cap, order=False, with_total=False, periods=periods)
    key = lambda r: tuple(r[g] for g in a.groups)  # noqa: E731
    got = {key(r): r for r in b.rows}
    names = [m.name for m in measures_of(q)]
    rows = [{**r, **{n: got.get(key(r), {}).get(n) for n in b.measures}} for r in a.rows]
    if order and a.groups:
        by = q.order.by if q.order is not None and q.order.by in names else names[0]
        desc = q.order.descending if q.order is not None and q.order.by in names else True
        present = [r for r in rows if r[by] is not None]
        present.sort(key=lambda r: tuple(str(r[g]) for g in a.groups))
        present.sort(key=lambda r: r[by], reverse=desc)
        rows = present + [r for r in rows if r[by] is None]
    cap = limit if limit is not None else (q.limit or (RANKING_LIMIT if q.view == "ranking" else BREAKDOWN_LIMIT))
    rows = [{**{g: r[g] for g in a.groups}, **{n: r[n] for n in names}} for r in rows[: int(cap)]]
    return Table(a.groups, names, rows, a.total, {**a.labels, **b.labels})


def _cluster_labels(store: Store, rows: list[dict[str, Any]]) -> dict[str, str]:
    ids = [int(r["cluster"]) for r in rows if r.get("cluster") is not None]
    if not ids:
        return {}
    got = store.cursor().execute(
        f"SELECT id, label, terms FROM clusters WHERE id IN ({','.join(str(i) for i in ids)})"
    ).fetchall()
    return {str(r[0]): r[1] or ", ".join((r[2] or [])[:3]) for r in got}


def compare(store: Store, q: Query, *, tz: str = "UTC") -> Table:
    """The measures of `q` in `q.period` next to `q.compare_to` (per group when grouped):
    each measure `m` gives columns `m` (now), `m_before` and `m_change` (now - before)."""
    if q.period is None or q.compare_to is None:
        raise ValueError("a comparison needs a period and compare_to")
    both = _compare_one_pass(store, q, tz)
    if both is not None:
        now, before = both
    else:
        now = aggregate(store, q, tz=tz, limit=BREAKDOWN_LIMIT)
        before = aggregate(store, replace(q, period=q.compare_to), tz=tz, limit=BREAKDOWN_LIMIT, with_total=False)

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(r[g] for g in now.groups)

    cur_rows = {key(r): r for r in now.rows}
    prev = {key(r): r for r in before.rows}
    rows = []
    # groups seen now first, then those only seen before (they went to zero)
    for k in [*cur_rows, *(k for k in prev if k not in cur_rows)]:
        d: dict[str, Any] = dict(zip(now.groups, k, strict=True))
        for nm in now.measures:
            zero = 0 if nm.startswith("count") else None
            a = cur_rows[k][nm] if k in cur_rows else zero
            b = prev[k][nm] if k in prev else zero
            d[nm] = a
            d[f"{nm}_before"] = b
            d[f"{nm}_change"] = None if a is None or b is None else a - b
        rows.append(d)
    if now.groups:
        first = now.measures[0]
        rows.sort(key=lambda d: (-(d[first] or 0), str(d[now.groups[0]])))
        rows = rows[: q.limit or BREAKDOWN_LIMIT]
    return Table(now.groups, now.measures, rows, now.total, {**before.labels, **now.labels})


def _compare_one_pass(store: Store, q: Query, tz: str) -> tuple[Table, Table] | None:
    """Both periods of a comparison from one aggregate over their union, grouped by which
    period a row is in as well: every table is read once instead of once per period (the
    million-row scans are most of a comparison's time). The same two tables `aggregate`
    gives per period — the same rows, order and cut — or None where that is not certain:
    overlapping periods (a row would belong to both) or flag groups."""
    now_p, before_p = q.period, q.compare_to
    assert now_p is not None and before_p is not None
    groups = groups_of(q)
    if "flag" in groups or "_period" in groups or (now_p.start < before_p.end and before_p.start < now_p.end):
        return None
    union = Span(min(now_p.start, before_p.start), max(now_p.end, before_p.end), now_p.label)
    bq = replace(q, period=union, group_by=("_period", *groups), order=q.order)
    measures = measures_of(q)
    names = [m.name for m in measures]
    t = aggregate(store, bq, tz=tz, limit=BREAKDOWN_LIMIT * 100, order=False, with_total=False,
                  periods=(now_p, before_p))  # fmt: skip
    # ordered as aggregate orders one period: the SQL order, or the split path's Python one
    split = _split(q, groups, measures, compile_where(q, None)) is not None
    by = q.order.by if q.order is not None and q.order.by in names else names[0]
    desc = q.order.descending if q.order is not None and q.order.by in names else True

    def one(k: int) -> list[dict[str, Any]]:
        rows = [{g: r[g] for g in groups} | {n: r[n] for n in names} for r in t.rows if r["_period"] == k]
        if not groups:  # an empty period still has its one row, as aggregate gives it
            return rows or [{n: 0 if m.kind == "count" else None for n, m in zip(names, measures, strict=True)}]
        present = [r for r in rows if r[by] is not None]
        if split:
            present.sort(key=lambda r: tuple(str(r[g]) for g in groups))
            present.sort(key=lambda r: r[by], reverse=desc)
        else:  # ORDER BY m DESC|ASC NULLS LAST, g0 NULLS LAST, g1 NULLS LAST ...
            present.sort(key=lambda r: tuple((r[g] is None, r[g] if r[g] is not None else 0) for g in groups))
            present.sort(key=lambda r: r[by], reverse=desc)
            nulls = [r for r in rows if r[by] is None]
            nulls.sort(key=lambda r: tuple((r[g] is None, r[g] if r[g] is not None else 0) for g in groups))
            return (present + nulls)[:BREAKDOWN_LIMIT]
        return (present + [r for r in rows if r[by] is None])[:BREAKDOWN_LIMIT]

    now_rows, before_rows = one(0), one(1)
    counted = next((nm for nm, m in zip(names, measures, strict=True) if m.kind == "count"), None)
    if counted is not None:  # each matching interaction is counted in exactly one group
        total = sum(int(r[counted] or 0) for r in t.rows if r["_period"] == 0)
    else:
        total = count(store, q)
    labels = t.labels
    return (Table(groups, names, now_rows, total, labels), Table(groups, names, before_rows, 0, labels))


# -- rising topics: the one definition -------------------------------------------------------


@dataclass(slots=True)
class Rising:
    """A topic (or pattern) whose count in a period is well above its usual rate.

    `baseline` is the count expected in a period of this length from the comparison
    period; `ratio` = (n + 1) / (baseline + 1), so something from nothing ranks high
    without dividing by zero."""

    key: str
    label: str
    n: int
    baseline: float
    ratio: float
    before: int = 0
    day: Any = None
    summary: str | None = None


#: a topic is rising when seen at least this often now and more than its baseline
RISING_MIN_COUNT = 2


def rising(store: Store, q: Query, *, limit: int = 10, use_patterns: bool = True, tz: str = "UTC") -> list[Rising]:
    """What is rising in `q.period` against `q.compare_to` (default: the span before).

    When the patterns job has run and `q` has no filter its tables cannot apply, its
    detected trends (tested for significance there) are the answer; otherwise topics are
    counted in both periods, the earlier count scaled to the period's length.
    """
    if q.period is None:
        raise ValueError("rising needs a period")
    prev = q.compare_to or Span(q.period.start - (q.period.end - q.period.start), q.period.start, "before")
    if use_patterns and not q.filters:
        got = pattern_trends(store, q.period.start, q.period.end, tz)
        if got:
            return got[:limit]
    scale = (q.period.end - q.period.start) / (prev.end - prev.start)
    now_w = _where(store, q)
    prev_w = _where(store, replace(q, period=prev))
    c1, p1 = now_w.joined()
    c2, p2 = prev_w.joined()
    rows = store.cursor().execute(
        "WITH cur AS (SELECT s.top_topic AS t, count(*) AS n FROM interactions i "
        f"JOIN scores s ON s.interaction_id = i.id WHERE {c1} AND s.top_topic IS NOT NULL GROUP BY 1), "
        "prev AS (SELECT s.top_topic AS t, count(*) AS n FROM interactions i "
        f"JOIN scores s ON s.interaction_id = i.id WHERE {c2} AND s.top_topic IS NOT NULL GROUP BY 1) "
        "SELECT cur.t, cur.n, coalesce(prev.n, 0) AS before, coalesce(prev.n, 0) * ? AS base FROM cur "
        "LEFT JOIN prev ON prev.t = cur.t WHERE cur.n >= ? AND cur.n > coalesce(prev.n, 0) * ? "
        "ORDER BY (cur.n + 1.0) / (coalesce(prev.n, 0) * ? + 1.0) DESC, cur.n DESC, cur.t LIMIT ?",
        [*p1, *p2, scale, RISING_MIN_COUNT, scale, scale, limit],
    ).fetchall()
    return [Rising(str(t), str(t), int(n), round(float(b), 2), round((int(n) + 1) / (float(b) + 1), 2), int(bf))
            for t, n, bf, b in rows]  # fmt: skip


def pattern_trends(store: Store, start: datetime, end: datetime, tz: str = "UTC") -> list[Rising]:
    """The patterns job's detected rises on the local days of `[start, end)`, strongest
    first ([] before the job has run)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from store.patterns import rising_issues

    z = ZoneInfo(tz)
    since = start.astimezone(z).date()
    until = (end - timedelta(microseconds=1)).astimezone(z).date() + timedelta(days=1)
    rows = sorted(rising_issues(store, since=since, until=until), key=lambda t: (-float(t.z or 0), t.label))
    return [Rising(t.key, t.label, t.n, float(t.baseline), float(t.ratio), 0, t.day, t.summary) for t in rows]


def top_topics(store: Store, q: Query, limit: int = 10) -> list[tuple[str, int]]:
    """Most frequent `scores.top_topic` among interactions matching `q`."""
    t = aggregate(store, replace(q, group_by=("topic",), measures=(Measure("count"),), order=None,
                                 view="ranking", limit=limit + 1))  # fmt: skip
    return [(r["topic"], int(r["count"])) for r in t.rows if r["topic"] is not None][:limit]
