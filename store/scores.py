"""Analysis results: turn_scores and scores rows, which interactions wait for analysis.

Why replace-by-key: the analysis job may be killed half way, rerun, or asked to rescore.
`write` deletes an interaction's turn_scores/scores rows and inserts the new ones inside
the caller's transaction (the same one that moves the status to 'analysed' and writes
the flags), so a rerun can never leave duplicates or half a result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from store.db import Store
from store.records import InteractionScores, TurnScores

#: status_reason prefix of interactions that failed in analysis (not in ASR)
FAILED_PREFIX = "analysis: "


@dataclass(slots=True)
class ScoredInteraction:
    """Everything `write` stores for one interaction."""

    scores: InteractionScores
    turns: list[TurnScores]
    analysis_key: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def pending_ids(
    store: Store,
    *,
    limit: int | None = None,
    max_attempts: int = 3,
    rescore: bool = False,
    stale_key: str | None = None,
    now: datetime | None = None,
    newest_first: bool = False,
    among: Sequence[int] | None = None,
) -> list[int]:
    """Interactions to analyse, oldest first (`newest_first`: text interactions before
    calls, each newest first by start time: the order analysis streams them in).

    Calls once transcribed, chats/e-mails while new, and those that failed *in analysis*
    while under `max_attempts` and past their back-off time; with `rescore`, also every
    interaction already analysed; with `stale_key`, also those analysed whose score was
    produced under a different analysis key (another configuration or model). `among`
    limits the answer to these ids (a driver re-checks a batch it has just leased).
    """
    sql = (
        "SELECT id FROM interactions WHERE "
        "(status = 'transcribed') OR (status = 'new' AND channel <> 'call') OR "
        "(status = 'failed' AND starts_with(coalesce(status_reason, ''), ?) AND attempts < ? "
        " AND (next_attempt_at IS NULL OR next_attempt_at <= ?))"
    )
    params: list[Any] = [FAILED_PREFIX, max_attempts, now or _now()]
    if rescore:
        sql += " OR status = 'analysed'"
    elif stale_key is not None:
        sql += (
            " OR (status = 'analysed' AND id NOT IN "
            "(SELECT interaction_id FROM scores WHERE analysis_key = ?))"
        )
        params.append(stale_key)
    if among is not None:
        sql = f"SELECT id FROM ({sql}) WHERE id IN (SELECT unnest(?::BIGINT[]))"
        params.append([int(i) for i in among])
        sql += " ORDER BY id"
    else:
        sql += " ORDER BY (channel = 'call'), started_at DESC NULLS LAST, id DESC" if newest_first else " ORDER BY id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [int(r[0]) for r in store.cursor().execute(sql, params).fetchall()]


def write(store: Store, items: Sequence[ScoredInteraction], *, con: duckdb.DuckDBPyConnection) -> None:
    """Replace the scores and turn scores of these interactions (inside `con`'s transaction)."""
    if not items:
        return
    ids = [it.scores.interaction_id for it in items]
    con.execute("DELETE FROM turn_scores WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    con.execute("DELETE FROM scores WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    turn_rows = [
        {
            "interaction_id": t.interaction_id,
            "seq": t.seq,
            "sentiment": t.sentiment,
            "sentiment_label": t.sentiment_label,
            "anger": t.anger,
            "loudness": t.loudness,
            "redacted_text": t.redacted_text,
            "emotions": json.dumps(t.emotions) if t.emotions else None,
        }
        for it in items
        for t in it.turns
    ]
    if turn_rows:
        store.insert_arrow("turn_scores", turn_rows, con=con)
    now = _now()
    rows = []
    for it in items:
        s = it.scores
        m = s.metrics
        rows.append(
            {
                "interaction_id": s.interaction_id,
                "version": s.version,
                "analysed_at": now,
                "sentiment": s.sentiment,
                "sentiment_agent": s.sentiment_agent,
                "sentiment_customer": s.sentiment_customer,
                "customer_trend": s.customer_trend,
                "agent_trend": s.agent_trend,
                "anger": s.anger,
                "metrics": json.dumps(m, default=str),
                "topics": json.dumps(s.topics, default=str),
                "keywords": s.keywords,
                "top_topic": s.top_topic,
                "model": s.model,
                "non_talk_seconds": m.get("non_talk_seconds"),
                "non_talk_pct": m.get("non_talk_pct"),
                "interruptions": m.get("interruptions"),
                "agent_talk_ratio": m.get("agent_talk_ratio"),
                "first_response_seconds": m.get("first_response_seconds"),
                "analysis_key": it.analysis_key,
            }
        )
    import pyarrow as pa

    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("interaction_id", pa.int64()), ("version", pa.int32()),
                ("analysed_at", pa.timestamp("us", tz="UTC")), ("sentiment", pa.float64()),
                ("sentiment_agent", pa.float64()), ("sentiment_customer", pa.float64()),
                ("customer_trend", pa.list_(pa.float64())), ("agent_trend", pa.list_(pa.float64())),
                ("anger", pa.float64()), ("metrics", pa.string()), ("topics", pa.string()),
                ("keywords", pa.list_(pa.string())), ("top_topic", pa.string()), ("model", pa.string()),
                ("non_talk_seconds", pa.float64()), ("non_talk_pct", pa.float64()),
                ("interruptions", pa.int32()), ("agent_talk_ratio", pa.float64()),
                ("first_response_seconds", pa.float64()), ("analysis_key", pa.string()),
            ]
        ),
    )
    store.insert_arrow("scores", table, con=con)


def overwrite_turn_texts(
    store: Store, rows: Sequence[tuple[int, int, str, str | None]], *, con: duckdb.DuckDBPyConnection
) -> None:
    """Replace turns.text (and the word list) by redacted versions: (id, seq, text, words_json).

    Used when `redaction.keep_original = false`: afterwards the unredacted text exists
    nowhere in the file.
    """
    if not rows:
        return
    import pyarrow as pa

    table = pa.table(
        {
            "interaction_id": pa.array([r[0] for r in rows], pa.int64()),
            "seq": pa.array([r[1] for r in rows], pa.int32()),
            "text": pa.array([r[2] for r in rows], pa.string()),
            "words": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    con.register("_redacted_turns", table)
    try:
        con.execute(
            "UPDATE turns SET text = r.text, words = coalesce(r.words::JSON, turns.words) "
            "FROM _redacted_turns r WHERE turns.interaction_id = r.interaction_id AND turns.seq = r.seq"
        )
    finally:
        con.unregister("_redacted_turns")


def mark_failed(
    store: Store,
    interaction_id: int,
    reason: str,
    *,
    backoff_seconds: float,
    backoff_max_seconds: float,
    con: duckdb.DuckDBPyConnection | None = None,
) -> int:
    """Status 'failed' with the reason, one more attempt, next try after exponential back-off.

    Returns the attempts count now recorded.
    """
    cur = con or store.cursor()
    row = cur.execute("SELECT attempts FROM interactions WHERE id = ?", [interaction_id]).fetchone()
    attempts = int(row[0]) if row else 0
    delay = min(backoff_max_seconds, backoff_seconds * (2**attempts))
    now = _now()
    cur.execute(
        "UPDATE interactions SET status = 'failed', status_reason = ?, attempts = attempts + 1, "
        "next_attempt_at = ?, updated_at = ? WHERE id = ?",
        [(FAILED_PREFIX + reason)[:2000], now + _seconds(delay), now, interaction_id],
    )
    return attempts + 1


def mark_analysed(
    store: Store, id_versions: Sequence[tuple[int, int]], *, con: duckdb.DuckDBPyConnection
) -> None:
    """Status 'analysed' for these (id, version) pairs; attempts and back-off are cleared.

    An interaction that a connector replaced by a newer version while it was being analysed
    keeps its status 'new' (the version no longer matches), so the new text is analysed next.
    """
    if id_versions:
        con.execute(
            "UPDATE interactions SET status = 'analysed', status_reason = NULL, attempts = 0, "
            "next_attempt_at = NULL, updated_at = $1 FROM (SELECT unnest($2::BIGINT[]) AS id, "
            "unnest($3::INTEGER[]) AS version) AS done "
            "WHERE interactions.id = done.id AND interactions.version = done.version",
            [_now(), [i for i, _v in id_versions], [v for _i, v in id_versions]],
        )


def _seconds(s: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=s)


def get(store: Store, interaction_id: int) -> InteractionScores | None:
    """The scores row of one interaction."""
    r = store.cursor().execute(
        "SELECT interaction_id, version, sentiment, sentiment_agent, sentiment_customer, "
        "customer_trend, agent_trend, anger, metrics, topics, keywords, top_topic, model "
        "FROM scores WHERE interaction_id = ?",
        [interaction_id],
    ).fetchone()
    if r is None:
        return None
    return InteractionScores(
        interaction_id=int(r[0]), version=int(r[1]), sentiment=r[2], sentiment_agent=r[3],
        sentiment_customer=r[4], customer_trend=r[5], agent_trend=r[6], anger=r[7],
        metrics=json.loads(r[8]) if r[8] else {}, topics=json.loads(r[9]) if r[9] else [],
        keywords=list(r[10] or []), top_topic=r[11], model=r[12],
    )  # fmt: skip


def turn_scores(store: Store, interaction_id: int) -> list[TurnScores]:
    """The turn_scores rows of one interaction, in turn order."""
    rows = store.cursor().execute(
        "SELECT interaction_id, seq, sentiment, sentiment_label, anger, loudness, redacted_text, "
        "emotions FROM turn_scores WHERE interaction_id = ? ORDER BY seq",
        [interaction_id],
    ).fetchall()
    return [
        TurnScores(
            interaction_id=int(r[0]), seq=int(r[1]), sentiment=r[2], sentiment_label=r[3],
            anger=r[4], loudness=r[5], redacted_text=r[6], emotions=json.loads(r[7]) if r[7] else {},
        )
        for r in rows
    ]


def redacted_turns(store: Store, interaction_id: int) -> list[tuple[int, str, str]]:
    """(seq, speaker, text safe to show) per turn: the redacted text where analysis ran.

    For interactions not analysed yet there is no redacted text, so nothing is returned for
    them rather than raw text: readers outside the store (bot, TUI, exports) call this.
    """
    rows = store.cursor().execute(
        "SELECT t.seq, t.speaker, s.redacted_text FROM turns t JOIN turn_scores s "
        "ON s.interaction_id = t.interaction_id AND s.seq = t.seq "
        "WHERE t.interaction_id = ? ORDER BY t.seq",
        [interaction_id],
    ).fetchall()
    return [(int(r[0]), r[1], r[2] or "") for r in rows]


def analysed_since(store: Store, ids: Sequence[int], since: datetime) -> set[int]:
    """Those of `ids` whose scores were written at or after `since`: a cluster driver that
    re-scores everything drops them from a batch it has just leased, because another driver
    already re-scored them during this run."""
    if not ids:
        return set()
    rows = store.cursor().execute(
        "SELECT interaction_id FROM scores WHERE analysed_at >= ? "
        "AND interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [since, [int(i) for i in ids]],
    ).fetchall()
    return {int(r[0]) for r in rows}
