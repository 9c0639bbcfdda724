"""Read queries behind the question engine (Slack bot and `convoscope ask`) that are not
views of a typed query: one interaction's detail, agent summaries, examples.

Lists, counts, rankings, breakdowns, comparisons and rising topics are `store.query_views`
over a `store.query.Query` (the Filter/_where of this module were merged into it, #14).

Every query takes an explicit half-open time range `[start, end)` of aware datetimes:
the caller resolves "today" or "since Monday" in the configured time zone, the store
only compares instants. They are written to stay fast on a million interactions:
the time filter on `interactions.started_at` runs first (DuckDB zone maps prune row
groups, since rows arrive roughly in time order) and joins only touch what survives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from store.db import Store
from store.outbound import mask_strings
from store.reviews import counts


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
    still open (flags that count: dismissed ones are left out). One query whatever the number of ranges; the agent is matched
    case-insensitively, as people type names."""
    cur = store.cursor()
    case = " ".join(f"WHEN i.started_at >= ? AND i.started_at < ? THEN {k}" for k in range(len(ranges)))
    case_params = [x for r in ranges for x in r]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    # One statement, the agent's interactions read once (MATERIALIZED): the volume/score
    # part (tag 0) and the flags part (tag 1) share the scan of a million interactions,
    # which is most of the answer's time.
    params = [*case_params, lo, hi, agent]
    got = cur.execute(
        f"WITH a AS MATERIALIZED (SELECT i.id, i.channel, CASE {case} END AS k FROM interactions i "
        "WHERE i.started_at >= ? AND i.started_at < ? AND lower(i.agent) = lower(?)), "
        "v AS (SELECT 0 AS tag, a.k, a.channel AS key, count(*)::DOUBLE AS c1, sum(s.sentiment) AS c2, "
        "count(s.sentiment)::DOUBLE AS c3, sum(s.anger) AS c4, count(s.anger)::DOUBLE AS c5 "
        "FROM a LEFT JOIN scores s ON s.interaction_id = a.id WHERE a.k IS NOT NULL GROUP BY a.k, a.channel), "
        "f AS (SELECT 1 AS tag, a.k, fl.kind AS key, count(*)::DOUBLE, "
        "(count(*) FILTER (WHERE fl.review_status = 'open'))::DOUBLE, "
        "(count(*) FILTER (WHERE fl.review_status = 'confirmed'))::DOUBLE, NULL::DOUBLE, NULL::DOUBLE "
        f"FROM a JOIN flags fl ON fl.interaction_id = a.id WHERE {counts('fl')} AND a.k IS NOT NULL "
        "GROUP BY a.k, fl.kind) "
        "SELECT * FROM (SELECT * FROM v UNION ALL SELECT * FROM f) "
        "ORDER BY tag, k, CASE WHEN tag = 1 THEN -c1 END, key",
        params,
    ).fetchall()
    rows = [(r[1], r[2], int(r[3]), r[4], int(r[5]), r[6], int(r[7])) for r in got if r[0] == 0]
    flags = [(r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in got if r[0] == 1]

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
