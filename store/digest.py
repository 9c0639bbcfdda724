"""Queries behind the daily digest (analysis/digest.py assembles them).

Days are local calendar days: the caller passes the instants `[start, end)` of the day
in the configured zone, and per-day series group by the local date (`AT TIME ZONE`), so
a 23- or 25-hour DST day is still one bar in the chart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from store.db import Store
from store.pseudonyms import customer_key_sql


def volumes(store: Store, start: datetime, end: datetime) -> dict[str, int]:
    rows = store.cursor().execute(
        "SELECT channel, count(*) FROM interactions WHERE started_at >= ? AND started_at < ? "
        "GROUP BY channel ORDER BY channel",
        [start, end],
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


_SENTIMENT_COLUMNS = {"overall": "s.sentiment", "agent": "s.sentiment_agent", "customer": "s.sentiment_customer"}


def average_sentiment(store: Store, start: datetime, end: datetime, who: str = "overall") -> float | None:
    """Mean sentiment of the interactions started in [start, end): `who` = overall (which
    follows the customer), agent or customer."""
    col = _SENTIMENT_COLUMNS[who]
    row = store.cursor().execute(
        f"SELECT avg({col}) FROM interactions i JOIN scores s ON s.interaction_id = i.id "
        "WHERE i.started_at >= ? AND i.started_at < ?",
        [start, end],
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def angriest(store: Store, start: datetime, end: datetime, limit: int = 5) -> list[dict[str, Any]]:
    rows = store.cursor().execute(
        "SELECT i.id, i.channel, i.agent, i.queue, i.started_at, s.anger, s.sentiment, s.top_topic "
        "FROM interactions i JOIN scores s ON s.interaction_id = i.id "
        "WHERE i.started_at >= ? AND i.started_at < ? AND s.anger IS NOT NULL "
        "ORDER BY s.anger DESC, s.sentiment, i.id LIMIT ?",
        [start, end, limit],
    ).fetchall()
    keys = ("id", "channel", "agent", "queue", "started_at", "anger", "sentiment", "topic")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def open_flags(store: Store, kind_pattern: str, since: datetime, until: datetime,
               limit: int = 5) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """Active, unreviewed flags of a kind on interactions in [since, until): (count, worst few)."""
    cur = store.cursor()
    where = (
        "f.active AND f.review_status = 'open' AND f.kind ILIKE ? "
        "AND i.started_at >= ? AND i.started_at < ?"
    )
    params = [kind_pattern, since, until]
    n = cur.execute(
        f"SELECT count(*) FROM flags f JOIN interactions i ON i.id = f.interaction_id WHERE {where}",
        params,
    ).fetchone()
    rows = cur.execute(
        "SELECT f.id, f.interaction_id, f.kind, f.severity, f.summary, i.channel, i.agent, "
        f"i.started_at FROM flags f JOIN interactions i ON i.id = f.interaction_id WHERE {where} "
        "ORDER BY f.severity DESC, i.started_at DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    keys = ("flag_id", "interaction_id", "kind", "severity", "summary", "channel", "agent", "started_at")
    return (int(n[0]) if n else 0), [dict(zip(keys, r, strict=True)) for r in rows]


def review_counts(store: Store, since: datetime, until: datetime) -> dict[str, int]:
    """Active flags on interactions in [since, until) by review status (open, confirmed,
    dismissed): the digest says how many count and how many reviewers threw out."""
    rows = store.cursor().execute(
        "SELECT f.review_status, count(*) FROM flags f JOIN interactions i ON i.id = f.interaction_id "
        "WHERE f.active AND i.started_at >= ? AND i.started_at < ? GROUP BY 1",
        [since, until],
    ).fetchall()
    out = {"open": 0, "confirmed": 0, "dismissed": 0}
    out.update({r[0]: int(r[1]) for r in rows})
    return out


def repeat_customers(store: Store, day_start: datetime, day_end: datetime, since: datetime,
                     limit: int = 5) -> list[dict[str, Any]]:  # fmt: skip
    """Customers who contacted on the day and at least once more since `since` (the key as
    a pseudonym, `store.pseudonyms.customer_key_sql`: this list is shown)."""
    rows = store.cursor().execute(
        "WITH today AS (SELECT DISTINCT customer_key FROM interactions "
        "WHERE started_at >= ? AND started_at < ? AND customer_key IS NOT NULL) "
        f"SELECT {customer_key_sql('i.customer_key')}, count(*) AS n, list(i.id ORDER BY i.started_at), "
        "list(DISTINCT i.channel) FROM interactions i JOIN today t ON t.customer_key = i.customer_key "
        "WHERE i.started_at >= ? AND i.started_at < ? GROUP BY i.customer_key HAVING count(*) > 1 "
        "ORDER BY n DESC, i.customer_key LIMIT ?",
        [day_start, day_end, since, day_end, limit],
    ).fetchall()
    return [{"customer_key": r[0], "contacts": int(r[1]), "interaction_ids": [int(x) for x in r[2]],
             "channels": sorted(r[3])} for r in rows]  # fmt: skip


def daily_series(store: Store, since: datetime, until: datetime, tz: str) -> list[dict[str, Any]]:
    """Per local day in [since, until): interactions per channel and average sentiment."""
    rows = store.cursor().execute(
        "SELECT (i.started_at AT TIME ZONE ?)::DATE AS d, i.channel, count(*), avg(s.sentiment) "
        "FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id "
        "WHERE i.started_at >= ? AND i.started_at < ? GROUP BY d, i.channel ORDER BY d",
        [tz, since, until],
    ).fetchall()
    by_day: dict[date, dict[str, Any]] = {}
    for d, ch, n, sent in rows:
        e = by_day.setdefault(d, {"day": d, "counts": {}, "_s": 0.0, "_n": 0})
        e["counts"][ch] = int(n)
        if sent is not None:
            e["_s"] += float(sent) * int(n)
            e["_n"] += int(n)
    out = []
    for d in sorted(by_day):
        e = by_day[d]
        out.append({"day": d, "counts": e["counts"], "sentiment": e["_s"] / e["_n"] if e["_n"] else None})
    return out


def posted_days(store: Store, channel: str, since: date) -> set[date]:
    """Days whose digest was already posted to `channel` (from the audit log)."""
    rows = store.cursor().execute(
        "SELECT DISTINCT json_extract_string(detail, '$.day') FROM audit_log "
        "WHERE action = 'digest.post' AND target = ? AND json_extract_string(detail, '$.day') >= ?",
        [channel, since.isoformat()],
    ).fetchall()
    return {date.fromisoformat(r[0]) for r in rows if r[0]}
