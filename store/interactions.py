"""Queries on interactions and their turns: idempotent upserts, status moves, reads.

The idempotency rule every connector relies on lives here: `(source, external_id)` names
an interaction. Offered again with the same `content_hash` it is skipped; with a different
hash it becomes the next `version` of the same row (turns replaced, scores invalidated,
status back to 'new'), never a second row.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from store import guard, privacy
from store.db import Store
from store.records import Interaction, Turn, Word


@dataclass(slots=True)
class UpsertResult:
    """What `upsert` did with each offered interaction (ids in offer order)."""

    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    #: external ids skipped because they were erased (`convoscope forget`): a source that
    #: still holds them cannot bring them back
    suppressed: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return self.inserted + self.updated + self.unchanged


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False)


def _words_json(words: list[Word] | None) -> str | None:
    if words is None:
        return None
    return json.dumps(
        [[w.word, round(w.start, 3), round(w.end, 3), round(w.probability, 3)] for w in words],
        ensure_ascii=False,
    )


def _turn_rows(interaction_id: int, turns: Sequence[Turn]) -> list[dict[str, Any]]:
    return [
        {
            "interaction_id": interaction_id,
            "seq": t.seq,
            "speaker": t.speaker,
            "speaker_name": t.speaker_name,
            "start_s": t.start,
            "end_s": t.end,
            "sent_at": t.sent_at,
            "text": t.text,
            "words": _words_json(t.words),
            "channel_index": t.channel_index,
            "meta": _json(t.meta or None),
        }
        for t in turns
    ]


_INTERACTION_COLS = (
    "channel", "source", "external_id", "version", "started_at", "ended_at", "duration",
    "agent", "customer", "customer_key", "queue", "direction", "subject", "language",
    "status", "status_reason", "content_hash", "raw_ref", "metadata",
)  # fmt: skip


def _interaction_row(it: Interaction) -> dict[str, Any]:
    return {
        "channel": it.channel,
        "source": it.source,
        "external_id": it.external_id,
        "version": it.version,
        "started_at": it.started_at,
        "ended_at": it.ended_at,
        "duration": it.duration,
        "agent": it.agent,
        "customer": it.customer,
        "customer_key": it.customer_key,
        "queue": it.queue,
        "direction": it.direction,
        "subject": it.subject,
        "language": it.language,
        "status": it.status,
        "status_reason": it.status_reason,
        "content_hash": it.content_hash,
        "raw_ref": it.raw_ref,
        "metadata": _json(it.metadata or {}),
    }


def existing_hashes(
    store: Store, source: str, external_ids: Iterable[str], *, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, tuple[int, str, int]]:
    """external_id -> (id, content_hash, version) for those already stored."""
    ids = list(external_ids)
    if not ids:
        return {}
    cur = con or store.cursor()
    # A Python list parameter makes DuckDB try `import pandas` once per element (~0.2 ms
    # each while pandas is not installed); an Arrow table is scanned natively.
    view = f"_external_ids_{threading.get_ident()}"
    cur.register(view, pa.table({"external_id": pa.array(ids, pa.string())}))
    try:
        rows = cur.execute(
            "SELECT external_id, id, content_hash, version FROM interactions "
            f'WHERE source = ? AND external_id IN (SELECT external_id FROM "{view}")',
            [source],
        ).fetchall()
    finally:
        cur.unregister(view)
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def has_content_hash(store: Store, content_hash: str) -> int | None:
    """The id of an interaction with this content hash, if any (any source)."""
    row = store.cursor().execute(
        "SELECT id FROM interactions WHERE content_hash = ? LIMIT 1", [content_hash]
    ).fetchone()
    return int(row[0]) if row else None


def upsert(
    store: Store,
    interactions: Sequence[Interaction],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> UpsertResult:
    """Store interactions with their turns, idempotently (see module docstring).

    Runs inside the caller's transaction when `con` is given (so a connector can commit
    its cursor in the same transaction), else in its own. Sets `it.id` and `it.version`
    on the offered records.
    """
    if con is None:
        # retried on a write-write conflict (a lake writer outside the write lock, or two
        # threads of one DuckDB process): the next attempt's anti-join sees the winner's rows
        return store.retrying(lambda tx: _upsert(store, interactions, tx))  # type: ignore[no-any-return]
    return _upsert(store, interactions, con)


def _upsert(
    store: Store, interactions: Sequence[Interaction], con: duckdb.DuckDBPyConnection
) -> UpsertResult:
    guard.interactions(store, interactions)  # PCI mode: no card number reaches a table
    result = UpsertResult()
    by_source: dict[str, list[Interaction]] = {}
    for it in interactions:
        by_source.setdefault(it.source, []).append(it)
    new_rows: list[dict[str, Any]] = []
    new_items: list[Interaction] = []
    for source, items in by_source.items():
        erased = privacy.suppressed_keys(con, "interaction", [(source, i.external_id) for i in items])
        if erased:
            result.suppressed += [i.external_id for i in items if (source, i.external_id) in erased]
            items = [i for i in items if (source, i.external_id) not in erased]
        known = existing_hashes(store, source, [i.external_id for i in items], con=con)
        seen_in_batch: dict[str, Interaction] = {}
        for it in items:
            if it.external_id in seen_in_batch:
                # The same conversation twice in one batch: the later copy wins.
                prev = seen_in_batch[it.external_id]
                if prev in new_items:
                    idx = new_items.index(prev)
                    new_items[idx] = it
                    new_rows[idx] = _interaction_row(it)
                continue
            seen_in_batch[it.external_id] = it
            if it.external_id not in known:
                it.version = 1
                new_rows.append(_interaction_row(it))
                new_items.append(it)
                continue
            iid, old_hash, old_version = known[it.external_id]
            it.id = iid
            if old_hash == it.content_hash:
                it.version = old_version
                result.unchanged.append(iid)
                continue
            it.version = old_version + 1
            _replace_version(con, it)
            result.updated.append(iid)
    if new_rows:
        # Ids are handed out explicitly (the lake has no sequences; store/backend.py).
        for it, row, iid in zip(new_items, new_rows, store.next_ids("interactions", len(new_rows), con=con),
                                strict=True):
            row["id"] = it.id = iid
            result.inserted.append(iid)
        store.insert_arrow("interactions", new_rows, con=con)
    turn_rows: list[dict[str, Any]] = []
    for it in new_items:
        turn_rows.extend(_turn_rows(it.id, it.turns))  # type: ignore[arg-type]
    for it in interactions:
        if it.id is not None and it.id in result.updated:
            turn_rows.extend(_turn_rows(it.id, it.turns))  # type: ignore[arg-type]
    if turn_rows:
        store.insert_arrow("turns", turn_rows, con=con)
    return result


def _replace_version(con: duckdb.DuckDBPyConnection, it: Interaction) -> None:
    """Make `it` the new version of its stored row; derived data is dropped for re-analysis."""
    row = _interaction_row(it)
    sets = [
        c for c in _INTERACTION_COLS
        if c not in ("source", "external_id", "status", "status_reason")
    ]
    con.execute(
        f"UPDATE interactions SET {', '.join(f'{c} = ?' for c in sets)}, "
        "status = 'new', status_reason = NULL, attempts = 0, next_attempt_at = NULL, "
        "updated_at = ? WHERE id = ?",
        [*(row[c] for c in sets), _now(), it.id],
    )
    con.execute("DELETE FROM turns WHERE interaction_id = ?", [it.id])
    con.execute("DELETE FROM turn_scores WHERE interaction_id = ?", [it.id])


def replace_turns(
    store: Store, interaction_id: int, turns: Sequence[Turn], *, con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Replace an interaction's turns (ASR writes the turns of a call it transcribed)."""
    guard.turns(store, turns)
    cur = con or store.cursor()
    cur.execute("DELETE FROM turns WHERE interaction_id = ?", [interaction_id])
    store.insert_arrow("turns", _turn_rows(interaction_id, turns), con=cur)


def set_status(
    store: Store,
    interaction_id: int,
    status: str,
    reason: str | None = None,
    *,
    language: str | None = None,
    duration: float | None = None,
    next_attempt_at: datetime | None = None,
    count_attempt: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> None:
    """Move an interaction along new -> transcribed -> analysed (or -> failed, with reason)."""
    cur = con or store.cursor()
    cur.execute(
        "UPDATE interactions SET status = ?, status_reason = ?, "
        "language = coalesce(?, language), duration = coalesce(?, duration), "
        "next_attempt_at = ?, attempts = attempts + ?, updated_at = ? WHERE id = ?",
        [status, reason, language, duration, next_attempt_at, 1 if count_attempt else 0, _now(),
         interaction_id],
    )


def ids_with_status(
    store: Store,
    statuses: Sequence[str],
    *,
    channel: str | None = None,
    limit: int | None = None,
    max_attempts: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Interaction ids waiting in the given statuses, oldest first.

    With `max_attempts`, 'failed' rows are included only while under the limit and past
    their `next_attempt_at` (retry with backoff).
    """
    sql = "SELECT id FROM interactions WHERE status IN (SELECT unnest(?::VARCHAR[]))"
    params: list[Any] = [list(statuses)]
    if channel:
        sql += " AND channel = ?"
        params.append(channel)
    if max_attempts is not None:
        sql += " AND attempts < ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        params += [max_attempts, now or _now()]
    sql += " ORDER BY id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [int(r[0]) for r in store.cursor().execute(sql, params).fetchall()]


def _row_to_interaction(cols: list[str], row: tuple) -> Interaction:
    d = dict(zip(cols, row, strict=True))
    return Interaction(
        id=int(d["id"]),
        channel=d["channel"],
        source=d["source"],
        external_id=d["external_id"],
        content_hash=d["content_hash"],
        version=int(d["version"]),
        started_at=d["started_at"],
        ended_at=d["ended_at"],
        duration=d["duration"],
        agent=d["agent"],
        customer=d["customer"],
        customer_key=d["customer_key"],
        queue=d["queue"],
        direction=d["direction"],
        subject=d["subject"],
        language=d["language"],
        status=d["status"],
        status_reason=d["status_reason"],
        raw_ref=d["raw_ref"],
        metadata=json.loads(d["metadata"]) if d["metadata"] else {},
    )


def _row_to_turn(cols: list[str], row: tuple) -> Turn:
    d = dict(zip(cols, row, strict=True))
    words = None
    if d["words"]:
        words = [Word(w[0], w[1], w[2], w[3]) for w in json.loads(d["words"])]
    return Turn(
        seq=int(d["seq"]),
        speaker=d["speaker"],
        text=d["text"],
        start=d["start_s"],
        end=d["end_s"],
        sent_at=d["sent_at"],
        words=words,
        speaker_name=d["speaker_name"],
        channel_index=d["channel_index"],
        meta=json.loads(d["meta"]) if d["meta"] else {},
    )


def get(store: Store, interaction_id: int, *, with_turns: bool = True) -> Interaction | None:
    """One interaction (and its turns in order), or None."""
    got = get_many(store, [interaction_id], with_turns=with_turns)
    return got[0] if got else None


def get_many(store: Store, ids: Sequence[int], *, with_turns: bool = True) -> list[Interaction]:
    """Interactions by id, in the order given (missing ids are left out)."""
    if not ids:
        return []
    cur = store.cursor()
    res = cur.execute(
        "SELECT * FROM interactions WHERE id IN (SELECT unnest(?::BIGINT[]))", [list(ids)]
    )
    cols = [c[0] for c in res.description]
    by_id = {int(r[0]): _row_to_interaction(cols, r) for r in res.fetchall()}
    if with_turns and by_id:
        res = cur.execute(
            "SELECT * FROM turns WHERE interaction_id IN (SELECT unnest(?::BIGINT[])) "
            "ORDER BY interaction_id, seq",
            [list(by_id)],
        )
        tcols = [c[0] for c in res.description]
        for r in res.fetchall():
            by_id[int(r[0])].turns.append(_row_to_turn(tcols, r))
    return [by_id[i] for i in ids if i in by_id]


def count_by_status(store: Store) -> dict[str, int]:
    rows = store.cursor().execute(
        "SELECT status, count(*) FROM interactions GROUP BY status"
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}
