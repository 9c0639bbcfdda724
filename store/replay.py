"""Keys of recently accepted Slack requests, shared by every bot instance on one store.

`remember` is an atomic first-seen test: the upsert either adds the key (first time, or
the old row expired: True) or hits a live row (seen before, or another instance raced
us: False). Rows
carry their own expiry; `purge_expired` deletes the old ones (the guard calls it now and
then), so the table stays as small as the replay window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from store.db import Store


def remember(store: Store, key: str, ttl_seconds: float, *, now: datetime | None = None) -> bool:
    """True when `key` was not seen (or has expired) and is now recorded; False otherwise.

    One statement (one commit): a new key is inserted, an expired one is taken over, a
    live one is left alone and reports 0 rows."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_seconds)
    try:
        with store.writing() as cur:
            row = cur.execute(
                "MERGE INTO slack_seen AS t USING (SELECT ? AS key, ?::TIMESTAMPTZ AS seen_at, "
                "?::TIMESTAMPTZ AS expires_at) AS s ON t.key = s.key "
                "WHEN MATCHED AND t.expires_at <= s.seen_at THEN UPDATE SET seen_at = s.seen_at, "
                "expires_at = s.expires_at "
                "WHEN NOT MATCHED THEN INSERT (key, seen_at, expires_at) VALUES (s.key, s.seen_at, s.expires_at)",
                [key, now, expires],
            ).fetchone()
    except duckdb.TransactionException:
        # Another thread/instance wrote the same key in the same instant: it was seen.
        return False
    return bool(row and row[0])


def purge_expired(store: Store, *, now: datetime | None = None) -> int:
    """Delete expired keys; returns how many were deleted."""
    row = store.cursor().execute(
        "DELETE FROM slack_seen WHERE expires_at <= ?", [now or datetime.now(UTC)]
    ).fetchone()
    return int(row[0]) if row else 0


def count(store: Store) -> int:
    """Keys currently stored (expired ones included until purged)."""
    row = store.cursor().execute("SELECT count(*) FROM slack_seen").fetchone()
    return int(row[0]) if row else 0
