"""Retention SQL: find what is past its keep period and remove it, stage by stage.

Four stages per channel, each after its own number of days (see `convoscope.privacy`):

- **audio**: the caller deletes the files; here only the fact is recorded.
- **original text**: each turn becomes its redacted text (word lists dropped), e-mail
  message bodies and headers are cleared, the interaction's subject is masked and its
  customer field and sidecar metadata dropped.
- **redacted text**: turns, search documents, embeddings and e-mail messages go; the
  customer key becomes a pseudonym (`h:` + SHA-256 prefix), flag summaries and evidence
  are cleared. Scores, per-turn sentiment, flags (with their review verdicts), cluster
  membership and pattern counts stay, so every aggregate and verdict count is unchanged.
- **interaction**: everything about the interaction (as `forget` does, minus the audit of
  a person), for `aggregates_days`.

Each stage is recorded in `retention_state`, so a re-run does nothing twice. Ages are
measured from `started_at` (or `ingested_at` when a source gave no time).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from store import privacy
from store.db import Store
from store.pseudonyms import customer_key_sql

STAGES = ("audio", "original", "redacted", "interaction")
_STATE_COL = {"audio": "audio_deleted_at", "original": "original_deleted_at",
              "redacted": "redacted_deleted_at"}  # fmt: skip


def due(store: Store, channel: str, stage: str, cutoff: datetime) -> list[tuple[int, str | None]]:
    """(id, raw_ref) of `channel` interactions older than `cutoff` not yet through `stage`."""
    if stage not in STAGES:
        raise ValueError(f"unknown retention stage {stage!r}")
    sql = (
        "SELECT i.id, i.raw_ref FROM interactions i "
        "LEFT JOIN retention_state r ON r.interaction_id = i.id "
        "WHERE i.channel = ? AND coalesce(i.started_at, i.ingested_at) < ?"
    )
    if stage in _STATE_COL:
        sql += f" AND r.{_STATE_COL[stage]} IS NULL"
    return [(int(r[0]), r[1]) for r in store.cursor().execute(sql + " ORDER BY i.id", [channel, cutoff]).fetchall()]


def _mark(tx: duckdb.DuckDBPyConnection, ids: list[int], cols: list[str], at: datetime) -> None:
    tx.execute(
        "INSERT INTO retention_state (interaction_id) SELECT DISTINCT i FROM unnest(?::BIGINT[]) AS u(i) "
        "WHERE NOT EXISTS (SELECT 1 FROM retention_state r WHERE r.interaction_id = u.i)",
        [ids],
    )
    sets = ", ".join(f"{c} = coalesce({c}, ?)" for c in cols)
    tx.execute(f"UPDATE retention_state SET {sets} WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
               [at] * len(cols) + [ids])


def _thread_messages_cond() -> str:
    return ("(source, thread_key) IN (SELECT source, external_id FROM interactions "
            "WHERE id IN (SELECT unnest(?::BIGINT[])))")


def mark_audio_deleted(tx: duckdb.DuckDBPyConnection, ids: list[int], at: datetime) -> None:
    """Record that the audio of calls `ids` is gone (the caller removed the files)."""
    if ids:
        _mark(tx, ids, ["audio_deleted_at"], at)


def drop_original(tx: duckdb.DuckDBPyConnection, ids: list[int], at: datetime) -> int:
    """Replace original text by redacted text for `ids`; returns turns changed."""
    if not ids:
        return 0
    n = tx.execute(
        "UPDATE turns SET text = coalesce((SELECT ts.redacted_text FROM turn_scores ts "
        "WHERE ts.interaction_id = turns.interaction_id AND ts.seq = turns.seq), ''), words = NULL, "
        "speaker_name = pii_mask(speaker_name) "
        "WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [ids],
    ).fetchone()
    tx.execute(
        "UPDATE email_messages SET text = '', subject = NULL, norm_subject = NULL, from_name = NULL, "
        f"from_addr = '', to_addrs = NULL, cc_addrs = NULL, meta = NULL WHERE {_thread_messages_cond()}",
        [ids],
    )
    tx.execute(
        "UPDATE interactions SET subject = pii_mask(subject), customer = NULL, metadata = NULL "
        "WHERE id IN (SELECT unnest(?::BIGINT[]))",
        [ids],
    )
    _mark(tx, ids, ["original_deleted_at"], at)
    return int(n[0]) if n else 0


def drop_redacted(tx: duckdb.DuckDBPyConnection, ids: list[int], at: datetime) -> int:
    """Remove all text of `ids` but keep scores, flags and counts; returns turns removed."""
    if not ids:
        return 0
    tx.execute(f"DELETE FROM email_messages WHERE {_thread_messages_cond()}", [ids])
    n = tx.execute("DELETE FROM turns WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchone()
    tx.execute("UPDATE turn_scores SET redacted_text = NULL WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
               [ids])
    present = set(privacy.tables_with(tx, "interaction_id"))
    for table in ("search_docs", "search_postings", "interaction_embeddings"):
        if table in present:  # the postings exist once the search index was first built
            tx.execute(f"DELETE FROM {table} WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    tx.execute("UPDATE flags SET summary = NULL, evidence = NULL WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
               [ids])
    pseudo = customer_key_sql("customer_key")
    tx.execute(f"UPDATE interactions SET subject = NULL, customer = NULL, metadata = NULL, customer_key = {pseudo} "
               "WHERE id IN (SELECT unnest(?::BIGINT[]))", [ids])
    for table, col in (("repeat_contacts", "interaction_id"), ("contact_resolution", "interaction_id")):
        tx.execute(f"UPDATE {table} SET customer_key = {pseudo} WHERE {col} IN (SELECT unnest(?::BIGINT[]))", [ids])
    _mark(tx, ids, ["original_deleted_at", "redacted_deleted_at"], at)
    return int(n[0]) if n else 0


def drop_interactions(store: Store, tx: duckdb.DuckDBPyConnection, ids: list[int]) -> int:
    """Remove interactions `ids` entirely (the `aggregates_days` stage); suppressed from
    re-ingest like an erasure. Returns interactions removed."""
    if not ids:
        return 0
    plan = privacy.find_plan(store, interaction_ids=ids)
    counts: dict[str, int] = {}
    privacy.delete_plan(tx, plan, counts)
    return counts.get("interactions", 0)


def clear_quarantine_excerpts(tx: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Quarantine rows keep an excerpt of what failed: dropped once past the original-text age."""
    n = tx.execute("UPDATE quarantine SET excerpt = NULL WHERE excerpt IS NOT NULL AND last_seen < ?",
                   [cutoff]).fetchone()
    return int(n[0]) if n else 0
