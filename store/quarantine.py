"""The quarantine: inputs that failed, kept with the reason so nothing is lost silently.

An item is named by `(source, item_key)` (a file's content hash, a message's UID, a
vendor page's cursor). Recording it again bumps `attempts` instead of adding a row, so a
connector can ask `should_skip` and stop retrying a file that will never parse.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from store import guard
from store.db import Store
from store.records import QuarantineItem

EXCERPT_LIMIT = 2000


def record(
    store: Store, item: QuarantineItem, *, con: duckdb.DuckDBPyConnection | None = None
) -> int:
    """Add or bump a quarantined item; returns its attempts count."""
    excerpt = guard.text(store, item.excerpt[:EXCERPT_LIMIT] if item.excerpt else None)
    reason = guard.text(store, item.reason) or item.reason
    with store.writing(con) as cur:
        updated = cur.execute(
            "UPDATE quarantine SET reason = ?, raw_ref = coalesce(?, raw_ref), "
            "excerpt = coalesce(?, excerpt), attempts = attempts + 1, last_seen = ? "
            "WHERE source = ? AND item_key = ?",
            [reason, item.raw_ref, excerpt, datetime.now(UTC), item.source, item.item_key],
        ).fetchone()
        if not (updated and updated[0]):
            (qid,) = store.next_ids("quarantine", con=cur)
            cur.execute(
                "INSERT INTO quarantine (id, source, item_key, reason, raw_ref, excerpt) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [qid, item.source, item.item_key, reason, item.raw_ref, excerpt],
            )
        row = cur.execute(
            "SELECT attempts FROM quarantine WHERE source = ? AND item_key = ?", [item.source, item.item_key]
        ).fetchone()
    return int(row[0]) if row else 1


def attempts(store: Store, source: str, item_key: str) -> int:
    """How often this item has failed (0 if never)."""
    row = store.cursor().execute(
        "SELECT attempts FROM quarantine WHERE source = ? AND item_key = ?", [source, item_key]
    ).fetchone()
    return int(row[0]) if row else 0


def should_skip(store: Store, source: str, item_key: str, max_attempts: int) -> bool:
    """True once an item has failed `max_attempts` times: stop retrying it."""
    return attempts(store, source, item_key) >= max_attempts


def remove(store: Store, source: str, item_key: str) -> None:
    """Forget a quarantined item (it went through after all)."""
    store.cursor().execute(
        "DELETE FROM quarantine WHERE source = ? AND item_key = ?", [source, item_key]
    )


def list_items(store: Store, source: str | None = None, limit: int = 100) -> list[QuarantineItem]:
    sql = (
        "SELECT id, source, item_key, reason, raw_ref, excerpt, attempts, first_seen, last_seen "
        "FROM quarantine"
    )
    params: list[object] = []
    if source:
        sql += " WHERE source = ?"
        params.append(source)
    sql += f" ORDER BY last_seen DESC LIMIT {int(limit)}"
    return [
        QuarantineItem(
            id=r[0], source=r[1], item_key=r[2], reason=r[3], raw_ref=r[4], excerpt=r[5],
            attempts=r[6], first_seen=r[7], last_seen=r[8],
        )
        for r in store.cursor().execute(sql, params).fetchall()
    ]
