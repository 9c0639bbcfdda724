"""Queries of the alert dispatcher: which flags still need an alert, and `alerts_sent`.

A flag is alerted once (to the first channel its route names). The dispatcher *claims*
the flags of one Slack message by inserting their `alerts_sent` rows (state `claimed`,
one shared `post_key`) before posting, then records the outcome: `posted` with the
message ts, `failed` (a permanent Slack error), `unknown` (no answer came), or it
releases the claim if Slack refused the post. The primary key (flag_id, channel) makes
a second claim a no-op, so two dispatchers (the scheduled job and a direct trigger) can
never both post it. Claims left `claimed`/`unknown` are *in doubt*: the reconciliation
(bot/alerts.py) looks for their post_key in the channel's history and settles them with
`settle_found` or `release` (see migration 0017 for the states).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from store.db import Store


def pending_flags(store: Store, min_severity: int, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Active flags at or above `min_severity`, created since `since`, never claimed."""
    rows = store.cursor().execute(
        "SELECT f.id, f.interaction_id, f.kind, f.severity, pii_mask(f.summary), f.created_at, "
        "i.channel, i.agent, i.queue, i.started_at, f.confidence FROM flags f "
        "JOIN interactions i ON i.id = f.interaction_id "
        "WHERE f.active AND f.severity >= ? AND f.created_at >= ? AND f.review_status = 'open' "
        "AND NOT EXISTS (SELECT 1 FROM alerts_sent a WHERE a.flag_id = f.id) "
        "ORDER BY f.created_at, f.id LIMIT ?",
        [min_severity, since, limit],
    ).fetchall()
    keys = ("id", "interaction_id", "kind", "severity", "summary", "created_at", "channel",
            "agent", "queue", "started_at", "confidence")  # fmt: skip
    return [dict(zip(keys, r, strict=True)) for r in rows]


def new_post_key() -> str:
    """The id of one message attempt, carried in the message's metadata."""
    return uuid.uuid4().hex


def claim(store: Store, flag_ids: Sequence[int], channel: str, at: datetime,
          post_key: str | None = None) -> list[int]:  # fmt: skip
    """Insert claim rows (state `claimed`, sharing `post_key`); returns the flag ids this
    call claimed (others were taken)."""
    if not flag_ids:
        return []
    with store.transaction() as tx:
        # An anti-join (one form for both backends; the lake has no ON CONFLICT/RETURNING):
        # the flags not yet claimed on this channel are the ones this call claims.
        rows = tx.execute(
            "SELECT DISTINCT f FROM unnest(?::BIGINT[]) AS u(f) WHERE NOT EXISTS "
            "(SELECT 1 FROM alerts_sent a WHERE a.flag_id = u.f AND a.channel = ?) ORDER BY f",
            [list(flag_ids), channel],
        ).fetchall()
        mine = [int(r[0]) for r in rows]
        if mine:
            tx.execute(
                "INSERT INTO alerts_sent (flag_id, channel, message_ts, sent_at, post_key, state) "
                "SELECT unnest(?::BIGINT[]), ?, NULL, ?, ?, 'claimed'",
                [mine, channel, at, post_key or new_post_key()],
            )
    return mine


def mark_sent(store: Store, flag_ids: Sequence[int], channel: str, message_ts: str) -> None:
    """Record Slack's answer for these flags (`failed:<code>` for a refusal for good)."""
    state = "failed" if message_ts.startswith("failed:") else "posted"
    store.cursor().execute(
        "UPDATE alerts_sent SET message_ts = ?, state = ?, settled_by = 'reply' WHERE channel = ? "
        "AND flag_id IN (SELECT unnest(?::BIGINT[]))",
        [message_ts, state, channel, list(flag_ids)],
    )


def mark_posted(store: Store, post_key: str, message_ts: str, *, settled_by: str = "reply") -> int:
    """Every flag of the message `post_key` is posted as `message_ts`; returns the rows."""
    row = store.cursor().execute(
        "UPDATE alerts_sent SET message_ts = ?, state = 'posted', settled_by = ? WHERE post_key = ?",
        [message_ts, settled_by, post_key],
    ).fetchone()
    return int(row[0]) if row else 0


def mark_unknown(store: Store, post_key: str) -> None:
    """The request left but no answer came: in doubt until the reconciliation settles it."""
    store.cursor().execute(
        "UPDATE alerts_sent SET state = 'unknown' WHERE post_key = ? AND state = 'claimed'",
        [post_key],
    )


def release(store: Store, flag_ids: Sequence[int], channel: str) -> None:
    """Undo claims whose post failed, so the next dispatch tries again."""
    store.cursor().execute(
        "DELETE FROM alerts_sent WHERE channel = ? AND message_ts IS NULL "
        "AND flag_id IN (SELECT unnest(?::BIGINT[]))",
        [channel, list(flag_ids)],
    )


def release_post(store: Store, post_key: str) -> int:
    """Undo the claims of one message attempt that never reached Slack (its flags are
    pending again); returns the number of flags released."""
    row = store.cursor().execute(
        "DELETE FROM alerts_sent WHERE post_key = ? AND state IN ('claimed', 'unknown')",
        [post_key],
    ).fetchone()
    return int(row[0]) if row else 0


def give_up(store: Store, flag_ids: Sequence[int], channel: str) -> None:
    """In doubt and cannot be settled: never re-sent (at most once for these)."""
    store.cursor().execute(
        "UPDATE alerts_sent SET state = 'given_up' WHERE channel = ? AND message_ts IS NULL "
        "AND flag_id IN (SELECT unnest(?::BIGINT[]))",
        [channel, list(flag_ids)],
    )


def unsettled(store: Store, before: datetime) -> list[dict[str, Any]]:
    """In-doubt claims (`claimed`/`unknown`) made before `before`, oldest first."""
    rows = store.cursor().execute(
        "SELECT flag_id, channel, post_key, sent_at, state FROM alerts_sent "
        "WHERE state IN ('claimed', 'unknown') AND sent_at < ? ORDER BY sent_at, flag_id",
        [before],
    ).fetchall()
    keys = ("flag_id", "channel", "post_key", "claimed_at", "state")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def has_unsettled(store: Store) -> bool:
    """Cheap check the dispatcher runs every tick before deciding to reconcile."""
    row = store.cursor().execute(
        "SELECT 1 FROM alerts_sent WHERE state IN ('claimed', 'unknown') LIMIT 1"
    ).fetchone()
    return row is not None


def sent_since(store: Store, channel: str, since: datetime) -> int:
    """How many flags were alerted to `channel` since `since` (bursts are counted on this)."""
    row = store.cursor().execute(
        "SELECT count(*) FROM alerts_sent WHERE channel = ? AND sent_at >= ?", [channel, since]
    ).fetchone()
    return int(row[0]) if row else 0


def in_doubt(store: Store, before: datetime) -> list[tuple[int, str]]:
    """In-doubt claims older than `before` as (flag_id, channel): the process stopped (or
    got no answer) between claiming and recording, so whether Slack got it is unknown."""
    return [(int(r["flag_id"]), r["channel"]) for r in unsettled(store, before)]


def sent(store: Store) -> list[dict[str, Any]]:
    """Every alerts_sent row (for tests and the TUI's audit view)."""
    rows = store.cursor().execute(
        "SELECT flag_id, channel, message_ts, sent_at, post_key, state, settled_by FROM alerts_sent "
        "ORDER BY sent_at, flag_id"
    ).fetchall()
    keys = ("flag_id", "channel", "message_ts", "sent_at", "post_key", "state", "settled_by")
    return [dict(zip(keys, (int(r[0]), *r[1:]), strict=True)) for r in rows]
