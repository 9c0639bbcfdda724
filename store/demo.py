"""Demo-only queries: move the sample data's clock so that 'today' has answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.db import Store
from store.reviews import counts


def latest_started_at(store: Store) -> datetime | None:
    row = store.cursor().execute("SELECT max(started_at) FROM interactions").fetchone()
    return row[0] if row else None


def shift_timestamps(store: Store, delta: timedelta) -> None:
    """Shift every interaction's and turn's timestamps by `delta` (whole-day shifts keep
    the time of day, so the samples keep their business-hours shape)."""
    with store.transaction() as tx:
        tx.execute(
            "UPDATE interactions SET started_at = started_at + ?, ended_at = ended_at + ?",
            [delta, delta],
        )
        tx.execute("UPDATE turns SET sent_at = sent_at + ? WHERE sent_at IS NOT NULL", [delta])


def summary_rows(store: Store) -> list[dict[str, object]]:
    """One row per interaction for the demo's closing table: who, what, how it went, flags."""
    res = store.cursor().execute(
        f"""
        SELECT i.id, i.channel, i.started_at, i.agent, pii_mask(i.customer) AS customer, i.queue, i.status,
               i.status_reason, s.sentiment, s.sentiment_customer, s.sentiment_agent, s.anger, s.top_topic,
               (SELECT string_agg(f.kind, ', ' ORDER BY f.severity DESC, f.kind)
                  FROM flags f WHERE f.interaction_id = i.id AND {counts('f')}) AS flags,
               coalesce(pii_mask(i.subject), (SELECT t.text FROM outbound_turns t
                                    WHERE t.interaction_id = i.id AND t.speaker = 'customer'
                                    ORDER BY t.seq LIMIT 1)) AS gist
        FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id
        ORDER BY i.started_at, i.id
        """
    )
    cols = [c[0] for c in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]
