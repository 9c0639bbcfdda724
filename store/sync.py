"""Connector cursors (`sync_state`).

A connector reads its cursor with `get_cursor`, fetches past it, and writes the new
cursor with `save_cursor` *in the same transaction* as the records it stored, so a crash
between the two can never skip data (at worst it refetches, which upserts make harmless).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from store.db import Store


def get_cursor(store: Store, source: str, key: str = "") -> dict[str, Any] | None:
    row = store.cursor().execute(
        "SELECT cursor FROM sync_state WHERE source = ? AND key = ?", [source, key]
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def save_cursor(
    store: Store,
    source: str,
    cursor: dict[str, Any],
    key: str = "",
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> None:
    with store.writing(con) as cur:
        cur.execute(
            "MERGE INTO sync_state AS t USING (SELECT ? AS source, ? AS key, ?::JSON AS cursor, "
            "?::TIMESTAMPTZ AS updated_at) AS s ON t.source = s.source AND t.key = s.key "
            "WHEN MATCHED THEN UPDATE SET cursor = s.cursor, updated_at = s.updated_at "
            "WHEN NOT MATCHED THEN INSERT (source, key, cursor, updated_at) "
            "VALUES (s.source, s.key, s.cursor, s.updated_at)",
            [source, key, json.dumps(cursor, default=str), datetime.now(UTC)],
        )


def delete_cursor(store: Store, source: str, key: str = "") -> None:
    store.cursor().execute("DELETE FROM sync_state WHERE source = ? AND key = ?", [source, key])
