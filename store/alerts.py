"""Queries of the alert dispatcher: which flags still need an alert, and `alerts_sent`.

A flag is alerted at most once (to the first channel its route names). The dispatcher
*claims* a flag by inserting its `alerts_sent` row (message_ts NULL) before posting,
then records the message ts after Slack answered, and releases the claim if Slack
refused the post. The primary key (flag_id, channel) makes a second claim a no-op, so
two dispatchers (the scheduled job and a direct trigger) can never both post it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from store.db import Store


def pending_flags(store: Store, min_severity: int, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Active flags at or above `min_severity`, created since `since`, never claimed."""
    rows = store.cursor().execute(
        "SELECT f.id, f.interaction_id, f.kind, f.severity, pii_mask(f.summary), f.created_at, "
        "i.channel, i.agent, i.queue, i.started_at FROM flags f "
        "JOIN interactions i ON i.id = f.interaction_id "
        "WHERE f.active AND f.severity >= ? AND f.created_at >= ? AND f.review_status = 'open' "
        "AND NOT EXISTS (SELECT 1 FROM alerts_sent a WHERE a.flag_id = f.id) "
        "ORDER BY f.created_at, f.id LIMIT ?",
        [min_severity, since, limit],
    ).fetchall()
    keys = ("id", "interaction_id", "kind", "severity", "summary", "created_at", "channel",
            "agent", "queue", "started_at")  # fmt: skip
    return [dict(zip(keys, r, strict=True)) for r in rows]


def claim(store: Store, flag_ids: Sequence[int], channel: str, at: datetime) -> list[int]:
    """Insert claim rows; returns the flag ids this call claimed (others were taken)."""
    if not flag_ids:
        return []
    with store.transaction() as tx:
        rows = tx.execute(
            "INSERT INTO alerts_sent (flag_id, channel, message_ts, sent_at) "
            "SELECT unnest(?::BIGINT[]), ?, NULL, ? ON CONFLICT DO NOTHING RETURNING flag_id",
            [list(flag_ids), channel, at],
        ).fetchall()
    return [int(r[0]) for r in rows]


def mark_sent(store: Store, flag_ids: Sequence[int], channel: str, message_ts: str) -> None:
    store.cursor().execute(
        "UPDATE alerts_sent SET message_ts = ? WHERE channel = ? "
        "AND flag_id IN (SELECT unnest(?::BIGINT[]))",
        [message_ts, channel, list(flag_ids)],
    )


def release(store: Store, flag_ids: Sequence[int], channel: str) -> None:
    """Undo claims whose post failed, so the next dispatch tries again."""
    store.cursor().execute(
        "DELETE FROM alerts_sent WHERE channel = ? AND message_ts IS NULL "
        "AND flag_id IN (SELECT unnest(?::BIGINT[]))",
        [channel, list(flag_ids)],
    )


def sent_since(store: Store, channel: str, since: datetime) -> int:
    """How many flags were alerted to `channel` since `since` (bursts are counted on this)."""
    row = store.cursor().execute(
        "SELECT count(*) FROM alerts_sent WHERE channel = ? AND sent_at >= ?", [channel, since]
    ).fetchone()
    return int(row[0]) if row else 0


def in_doubt(store: Store, before: datetime) -> list[tuple[int, str]]:
    """Claims without a message ts older than `before`: the process stopped between
    claiming and recording, so whether Slack got the message is unknown."""
    return [
        (int(r[0]), r[1])
        for r in store.cursor().execute(
            "SELECT flag_id, channel FROM alerts_sent WHERE message_ts IS NULL AND sent_at < ?",
            [before],
        ).fetchall()
    ]


def sent(store: Store) -> list[dict[str, Any]]:
    """Every alerts_sent row (for tests and the TUI's audit view)."""
    rows = store.cursor().execute(
        "SELECT flag_id, channel, message_ts, sent_at FROM alerts_sent ORDER BY sent_at, flag_id"
    ).fetchall()
    return [{"flag_id": int(r[0]), "channel": r[1], "message_ts": r[2], "sent_at": r[3]} for r in rows]
