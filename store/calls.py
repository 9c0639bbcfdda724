"""Queries for the call path: which calls wait for transcription, and their audio paths.

Kept apart from `store.interactions` because only the drop folder and ASR use them.
Transcription failures carry a status_reason starting with `TRANSCRIBE_FAILED`, so a
call that failed later in analysis is not picked up again by ASR (and vice versa).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from store.db import Store

TRANSCRIBE_FAILED = "transcription failed: "


def pending_transcription(
    store: Store,
    *,
    max_attempts: int,
    limit: int | None = None,
    now: datetime | None = None,
    newest_first: bool = False,
    among: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """(id, attempts) of calls to transcribe, oldest first (`newest_first`: latest start
    time first): status 'new', or a failed transcription still under `max_attempts` whose
    back-off time has passed (only those of `among` when given: a driver re-checks a batch
    it has just leased)."""
    sql = (
        "SELECT id, attempts FROM interactions WHERE channel = 'call' AND ("
        " status = 'new' OR (status = 'failed' AND starts_with(status_reason, ?)"
        " AND attempts < ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)))"
    )
    params: list[object] = [TRANSCRIBE_FAILED, max_attempts, now or datetime.now(UTC)]
    if among is not None:
        sql += " AND id IN (SELECT unnest(?::BIGINT[]))"
        params.append([int(i) for i in among])
    sql += " ORDER BY started_at DESC NULLS LAST, id DESC" if newest_first else " ORDER BY id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = store.cursor().execute(sql, params).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


def raw_refs(
    store: Store, source: str, external_ids: Sequence[str], *, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, tuple[int, str | None]]:
    """external_id -> (id, raw_ref) for stored interactions of `source`."""
    if not external_ids:
        return {}
    rows = (con or store.cursor()).execute(
        "SELECT external_id, id, raw_ref FROM interactions WHERE source = ? "
        "AND external_id IN (SELECT unnest(?::VARCHAR[]))",
        [source, list(external_ids)],
    ).fetchall()
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def set_raw_ref(
    store: Store, interaction_id: int, raw_ref: str, *, con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Point an interaction at its audio's new location (the file was renamed or moved)."""
    (con or store.cursor()).execute(
        "UPDATE interactions SET raw_ref = ?, updated_at = ? WHERE id = ?",
        [raw_ref, datetime.now(UTC), interaction_id],
    )
