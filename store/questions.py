"""Read queries behind the question engine (Slack bot and `convoscope ask`).

Every query takes an explicit half-open time range `[start, end)` of aware datetimes:
the caller resolves "today" or "since Monday" in the configured time zone, the store
only compares instants. They are written to stay fast on a million interactions:
the time filter on `interactions.started_at` runs first (DuckDB zone maps prune row
groups, since rows arrive roughly in time order) and joins only touch what survives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.db import Store
from store.outbound import mask_strings
from store.reviews import contested, counts


@dataclass(slots=True)
class Filter:
    """Which interactions a question is about. Empty fields mean "any"."""

    start: datetime
    end: datetime
    channel: str | None = None
    agent: str | None = None
    queue: str | None = None
    topic: str | None = None
    #: ILIKE patterns on flags.kind; non-empty means "flagged with one of these"
    kinds: list[str] = field(default_factory=list)
    #: "open" (unreviewed), "confirmed", "dismissed" or "contested"; None = the flags that
    #: count (not dismissed, see store.reviews). Also restricts the flags listed per row.
    review: str | None = None
    #: kept for callers of the old name: the same as review="open"
    open_only: bool = False


@dataclass(slots=True)
class Found:
    total: int
    rows: list[dict[str, Any]]


def _where(f: Filter, params: list[Any]) -> str:
    sql = ["i.started_at >= ?", "i.started_at < ?"]
    params += [f.start, f.end]
    if f.channel:
        sql.append("i.channel = ?")
        params.append(f.channel)
    if f.agent:
        sql.append("i.agent ILIKE ?")
        params.append(f.agent)
    if f.queue:
        sql.append("i.queue ILIKE ?")
        params.append(f"%{f.queue}%")
    if f.topic:
        pat = f"%{f.topic}%"
        # top topic or email subject; keywords and the topics JSON are left out (turning
        # them into text per row costs more than the rest of the query on a million rows)
        sql.append("(s.top_topic ILIKE ? OR i.subject ILIKE ?)")  # boundary: filter only, not returned
        params += [pat, pat]
    return " AND ".join(sql)


def _review_cond(f: Filter, alias: str = "fl") -> str:
    """Which flags a question is about: those that count, or one review state."""
    review = f.review or ("open" if f.open_only else None)
    if review is None:
        return counts(alias)
    if review == "contested":
        return f"({alias}.active AND {contested(alias)})"
    if review not in ("open", "confirmed", "dismissed"):
        raise ValueError(f"review must be open, confirmed, dismissed or contested; got {review!r}")
    return f"({alias}.active AND {alias}.review_status = '{review}')"


def _flag_cond(f: Filter, params: list[Any]) -> str:
    cond = _review_cond(f) + " AND (" + " OR ".join("fl.kind ILIKE ?" for _ in f.kinds) + ")"
    params += list(f.kinds)
    return cond


def find(store: Store, f: Filter, *, limit: int = 10, offset: int = 0) -> Found:
    """Interactions matching `f`, worst first when flagged, newest first otherwise,
    each with its active flags (id, kind, severity, summary, review_status).

    Two phases keep it fast on a million rows: pick the page's ids touching only the
    tables the filter needs, then read scores and flags for those few ids.
    """
    params: list[Any] = []
    where = _where(f, params)
    join_scores = "LEFT JOIN scores s ON s.interaction_id = i.id" if f.topic else ""
    if f.kinds:
        fparams: list[Any] = []
        cond = _flag_cond(f, fparams)
        # Join from the time-filtered interactions to their flags (the planner builds the
        # hash table on the few interactions and probes flags), not the other way round.
        sql = (
            f"SELECT i.id, max(fl.severity) AS sev, count(*) OVER () FROM interactions i JOIN flags fl "
            f"ON fl.interaction_id = i.id {join_scores} WHERE {where} AND {cond} "
            "GROUP BY i.id, i.started_at ORDER BY sev DESC, i.started_at DESC, i.id DESC "
            "LIMIT ? OFFSET ?"
        )
        params = params + fparams
    else:
        sql = (
            f"SELECT i.id, NULL, count(*) OVER () FROM interactions i {join_scores} WHERE {where} "
            "ORDER BY i.started_at DESC, i.id DESC LIMIT ? OFFSET ?"
        )
    params += [int(limit), int(offset)]
    cur = store.cursor()
    page = cur.execute(sql, params).fetchall()
    if not page:
        # past the last page (or nothing at all): the window count is not there to read
        return Found(count(store, f) if offset else 0, [])
    total = int(page[0][2])
    ids = [int(r[0]) for r in page]
    sev = {int(r[0]): r[1] for r in page}
    by_id: dict[int, dict[str, Any]] = {}
    # Separate point lookups by primary key: a join here would scan all of `scores`.
    for r in cur.execute(
        "SELECT id, channel, started_at, agent, queue, pii_mask(subject) FROM interactions "
        "WHERE id IN (SELECT unnest(?::BIGINT[]))",
        [ids],
    ).fetchall():
        by_id[int(r[0])] = {
            "id": int(r[0]), "channel": r[1], "started_at": r[2], "agent": r[3], "queue": r[4],
            "subject": r[5], "sentiment": None, "sentiment_agent": None, "anger": None, "top_topic": None,
            "max_severity": sev[int(r[0])], "flags": [],
        }  # fmt: skip
    for r in cur.execute(
        "SELECT interaction_id, sentiment, anger, top_topic, sentiment_agent FROM scores "
        "WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [ids],
    ).fetchall():
        if int(r[0]) in by_id:
            by_id[int(r[0])].update(sentiment=r[1], anger=r[2], top_topic=r[3], sentiment_agent=r[4])
    for fr in cur.execute(
        "SELECT fl.id, fl.interaction_id, fl.kind, fl.severity, fl.summary, fl.review_status "
        f"FROM flags fl WHERE {_review_cond(f)} AND fl.interaction_id IN (SELECT unnest(?::BIGINT[])) "
        "ORDER BY fl.severity DESC, fl.id",
        [ids],
    ).fetchall():
        by_id[int(fr[1])]["flags"].append(
            {"id": int(fr[0]), "kind": fr[2], "severity": int(fr[3]), "summary": fr[4],
             "review_status": fr[5]}
        )  # fmt: skip
    return Found(total, [by_id[i] for i in ids if i in by_id])


def count(store: Store, f: Filter) -> int:
    """How many interactions match `f`."""
    params: list[Any] = []
    where = _where(f, params)
    join = "LEFT JOIN scores s ON s.interaction_id = i.id" if f.topic else ""
    sql = f"SELECT count(*) FROM interactions i {join} WHERE {where}"
    if f.kinds:
        fparams: list[Any] = []
        cond = _flag_cond(f, fparams)
        sql += f" AND i.id IN (SELECT fl.interaction_id FROM flags fl WHERE {cond})"
        params += fparams
    row = store.cursor().execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def count_by_channel(store: Store, f: Filter) -> dict[str, int]:
    """Matching interactions per channel (channels with none are left out)."""
    params: list[Any] = []
    where = _where(f, params)
    join = "LEFT JOIN scores s ON s.interaction_id = i.id" if f.topic else ""
    sql = f"SELECT i.channel, count(*) FROM interactions i {join} WHERE {where}"
    if f.kinds:
        fparams: list[Any] = []
        cond = _flag_cond(f, fparams)
        sql += f" AND i.id IN (SELECT fl.interaction_id FROM flags fl WHERE {cond})"
        params += fparams
    sql += " GROUP BY i.channel ORDER BY i.channel"
    return {r[0]: int(r[1]) for r in store.cursor().execute(sql, params).fetchall()}


def resolve_interaction(store: Store, ref: str, channel: str | None = None) -> int | None:
    """An interaction id from what a person typed: the numeric id, else an external id."""
    cur = store.cursor()
    if ref.isdigit():
        sql = "SELECT id FROM interactions WHERE id = ?"
        params: list[Any] = [int(ref)]
        if channel:
            sql += " AND channel = ?"
            params.append(channel)
        row = cur.execute(sql, params).fetchone()
        if row:
            return int(row[0])
    row = cur.execute(
        "SELECT id FROM interactions WHERE external_id = ? ORDER BY id LIMIT 1", [ref]
    ).fetchone()
    return int(row[0]) if row else None


def interaction_detail(store: Store, interaction_id: int) -> dict[str, Any] | None:
    """Header, scores, active flags, the resolution verdict (`store.resolution.view`) and
    the redacted turns of one interaction.

    Reads the outbound boundary (`store.outbound`): turns carry only `redacted_text` (None
    where analysis has not redacted yet: callers withhold those), the subject is masked and
    no customer identifier is returned.
    """
    cur = store.cursor()
    res = cur.execute(
        "SELECT i.id, i.channel, i.source, i.external_id, i.started_at, i.duration, i.agent, "
        "i.queue, pii_mask(i.subject) AS subject, i.status, s.sentiment, s.sentiment_agent, "
        "s.sentiment_customer, s.anger, s.top_topic, s.metrics "
        "FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id WHERE i.id = ?",
        [interaction_id],
    )
    cols = [c[0] for c in res.description]
    row = res.fetchone()
    if row is None:
        return None
    d = dict(zip(cols, row, strict=True))
    d["metrics"] = json.loads(d["metrics"]) if d["metrics"] else {}
    d["flags"] = [
        {"id": int(r[0]), "kind": r[1], "severity": int(r[2]), "summary": r[3],
         "evidence": mask_strings(cur, json.loads(r[4])) if r[4] else [], "review_status": r[5],
         "reviewer": r[6], "review_rev": int(r[7])}
        for r in cur.execute(
            "SELECT id, kind, severity, pii_mask(summary), evidence, review_status, reviewer, "
            "coalesce(review_rev, 0) FROM flags "
            "WHERE interaction_id = ? AND active ORDER BY severity DESC, id", [interaction_id]
        ).fetchall()
    ]  # fmt: skip
    d["turns"] = [
        {"seq": int(r[0]), "speaker": r[1], "start": r[2], "redacted_text": r[3]}
        for r in cur.execute(
            "SELECT seq, speaker, start_s, text FROM outbound_turns "
            "WHERE interaction_id = ? ORDER BY seq", [interaction_id]
        ).fetchall()
    ]  # fmt: skip
    from store.resolution import view as resolution_view

    res_view = resolution_view(store, interaction_id)  # reasons and commitment masked
    d["resolution"] = None if res_view is None else {
        "verdict": res_view.verdict, "confidence": res_view.confidence, "reason": res_view.reason,
        "commitment": res_view.commitment, "follow_up_due": res_view.follow_up_due,
    }  # fmt: skip
    return d


def agent_summary(store: Store, agent: str, start: datetime, end: datetime) -> dict[str, Any]:
    """One agent's interactions in `[start, end)` (see `agent_summaries`)."""
    return agent_summaries(store, agent, [(start, end)])[0]


def agent_summaries(
    store: Store, agent: str, ranges: Sequence[tuple[datetime, datetime]]
) -> list[dict[str, Any]]:
    """One agent's interactions in each of `ranges` (e.g. this week and the week before):
    volume per channel, average sentiment and anger, flags per kind and how many are
    still open (flags that count: dismissed ones are left out). Two queries whatever the number of ranges; the agent is matched
    case-insensitively, as people type names."""
    cur = store.cursor()
    case = " ".join(f"WHEN i.started_at >= ? AND i.started_at < ? THEN {k}" for k in range(len(ranges)))
    case_params = [x for r in ranges for x in r]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    base = (
        f"WITH a AS (SELECT i.id, i.channel, CASE {case} END AS k FROM interactions i "
        "WHERE i.started_at >= ? AND i.started_at < ? AND lower(i.agent) = lower(?)) "
    )
    params = [*case_params, lo, hi, agent]
    rows = cur.execute(
        base + "SELECT a.k, a.channel, count(*), sum(s.sentiment), count(s.sentiment), "
        "sum(s.anger), count(s.anger) FROM a LEFT JOIN scores s ON s.interaction_id = a.id "
        "WHERE a.k IS NOT NULL GROUP BY a.k, a.channel ORDER BY a.k, a.channel",
        params,
    ).fetchall()
    flags = cur.execute(
        base + "SELECT a.k, fl.kind, count(*), count(*) FILTER (WHERE fl.review_status = 'open'), "
        "count(*) FILTER (WHERE fl.review_status = 'confirmed') "
        f"FROM a JOIN flags fl ON fl.interaction_id = a.id WHERE {counts('fl')} AND a.k IS NOT NULL "
        "GROUP BY a.k, fl.kind ORDER BY a.k, count(*) DESC, fl.kind",
        params,
    ).fetchall()

    def avg(total: float | None, n: int) -> float | None:
        return None if not n or total is None else float(total) / n

    out = []
    for k in range(len(ranges)):
        mine = [r for r in rows if r[0] == k]
        sent_n = sum(int(r[4]) for r in mine)
        anger_n = sum(int(r[6]) for r in mine)
        out.append({
            "agent": agent,
            "interactions": sum(int(r[2]) for r in mine),
            "sentiment": avg(sum(float(r[3] or 0) for r in mine), sent_n),
            "anger": avg(sum(float(r[5] or 0) for r in mine), anger_n),
            "by_channel": [
                {"channel": r[1], "count": int(r[2]), "sentiment": avg(r[3], int(r[4])),
                 "anger": avg(r[5], int(r[6]))}
                for r in mine
            ],
            "flags": [{"kind": r[1], "count": int(r[2]), "open": int(r[3]), "confirmed": int(r[4])}
                      for r in flags if r[0] == k],
        })  # fmt: skip
    return out


def known_agents(store: Store, like: str, limit: int = 5) -> list[str]:
    """Agent names containing `like` (to suggest when an exact name matched nothing)."""
    return [
        r[0]
        for r in store.cursor().execute(
            "SELECT agent FROM interactions WHERE agent ILIKE ? GROUP BY agent "
            "ORDER BY count(*) DESC LIMIT ?",
            [f"%{like}%", limit],
        ).fetchall()
    ]


def top_topics(store: Store, f: Filter, limit: int = 10) -> list[tuple[str, int]]:
    """Most frequent `scores.top_topic` among matching interactions."""
    params: list[Any] = []
    where = _where(f, params)
    rows = store.cursor().execute(
        "SELECT s.top_topic, count(*) AS n FROM interactions i "
        f"JOIN scores s ON s.interaction_id = i.id WHERE {where} AND s.top_topic IS NOT NULL "
        "GROUP BY s.top_topic ORDER BY n DESC, s.top_topic LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def rising_topics(
    store: Store, f: Filter, prev_start: datetime, prev_end: datetime, limit: int = 10,
    min_count: int = 2,
) -> list[dict[str, Any]]:
    """Topics whose count in `f`'s range grew the most against `[prev_start, prev_end)`.

    Growth is ranked by (now + 1) / (before + 1) so a topic that appears from nothing
    ranks high without dividing by zero; topics seen fewer than `min_count` times now
    are ignored as noise.
    """
    params: list[Any] = []
    where = _where(f, params)
    prev = Filter(prev_start, prev_end, f.channel, f.agent, f.queue)
    pparams: list[Any] = []
    pwhere = _where(prev, pparams)
    rows = store.cursor().execute(
        "WITH cur AS (SELECT s.top_topic AS t, count(*) AS n FROM interactions i "
        f"JOIN scores s ON s.interaction_id = i.id WHERE {where} AND s.top_topic IS NOT NULL "
        "GROUP BY 1), prev AS (SELECT s.top_topic AS t, count(*) AS n FROM interactions i "
        f"JOIN scores s ON s.interaction_id = i.id WHERE {pwhere} AND s.top_topic IS NOT NULL "
        "GROUP BY 1) SELECT cur.t, cur.n, coalesce(prev.n, 0) AS before FROM cur "
        "LEFT JOIN prev ON prev.t = cur.t WHERE cur.n >= ? AND cur.n > coalesce(prev.n, 0) "
        "ORDER BY (cur.n + 1.0) / (coalesce(prev.n, 0) + 1.0) DESC, cur.n DESC, cur.t LIMIT ?",
        [*params, *pparams, min_count, limit],
    ).fetchall()
    return [{"topic": r[0], "count": int(r[1]), "before": int(r[2])} for r in rows]


def latest_id(store: Store, channel: str | None = None) -> int | None:
    """The newest interaction id (of a channel): examples and benchmarks pick from it."""
    sql = "SELECT max(id) FROM interactions" + (" WHERE channel = ?" if channel else "")
    row = store.cursor().execute(sql, [channel] if channel else []).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def busiest_agents(store: Store, limit: int = 5) -> list[str]:
    """Agents with the most interactions (examples in help texts and benchmarks)."""
    return [
        r[0]
        for r in store.cursor().execute(
            "SELECT agent FROM interactions WHERE agent IS NOT NULL GROUP BY agent "
            "ORDER BY count(*) DESC, agent LIMIT ?",
            [limit],
        ).fetchall()
    ]
