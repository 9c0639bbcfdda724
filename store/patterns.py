"""Queries of the pattern jobs (analysis/patterns) and the reads the bot and TUI use.

Write side (used by `analysis.patterns.job`): embeddings, cluster membership and
centroids, daily counts, trend rows, repeat contacts and first-contact resolution, traits,
best phrases, stage orders, scorecard results. Each writer replaces its slice inside one
transaction, so a re-run is safe and readers never see half a result.

Read side (for "top issues this week", "what do low-satisfaction calls have in common?",
"repeat callers this month", "best phrases for billing", agent QA): `top_clusters`,
`rising_issues`, `repeat_contacts`, `fcr_rates`, `low_satisfaction_traits`,
`best_phrases`, `stage_orders`, `agent_scorecards`, `interaction_scorecards` — in
store/patterns_read.py, records and helpers in store/patterns_base.py (split by job, #14);
both re-exported here.

Trend and repeat-contact flags are written here rather than through
`store.flags.replace_for_interaction`, because that function retires every flag of the
interaction it is not given (the analysis core's flags included); `upsert_flags` touches
only the flags it names and keeps human reviews.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from store.db import Store
from store.patterns_base import (  # noqa: F401  (re-exported)
    _ANALYSED,
    DIM,
    AgentScorecard,
    ClusterRecord,
    ClusterSummary,
    FcrRate,
    InteractionFacts,
    PhraseRow,
    RepeatCustomer,
    RepeatRow,
    ResolutionRow,
    ScorecardResult,
    StageOrderRow,
    TraitRow,
    TrendRow,
    _and,
    _arrow_to_vectors,
    _cur,
    _ints,
    _loads,
    _strs,
    _vectors_to_arrow,
)
from store.records import Flag
from store.reviews import COUNTS, counts

# -- interactions as the pattern jobs see them --------------------------------------------------


def interaction_facts(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    ids: Sequence[int] | None = None,
    statuses: Sequence[str] = _ANALYSED,
) -> list[InteractionFacts]:
    """Interactions started in [since, until) (or the given ids) with their scores and cluster."""
    sql = (
        "SELECT i.id, i.channel, i.started_at, i.agent, i.queue, i.customer, i.customer_key, "
        "i.metadata, s.sentiment, s.sentiment_customer, s.customer_trend, s.metrics, s.topics, "
        "s.top_topic, m.cluster_id, pii_mask(i.subject), r.verdict, coalesce(r.analysed_verdict, r.verdict) "
        "FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id "
        "LEFT JOIN cluster_members m ON m.interaction_id = i.id "
        "LEFT JOIN interaction_resolution r ON r.interaction_id = i.id "
        "WHERE i.status IN (SELECT unnest(?::JSON::VARCHAR[]))"
    )
    cond, extra = _and(("i.started_at >= ?", since), ("i.started_at < ?", until),
                       ("i.id IN (SELECT unnest(?::BIGINT[]))", None if ids is None else _ints(ids)))
    sql += cond
    params: list[Any] = [_strs(statuses), *extra]
    sql += " ORDER BY i.started_at NULLS LAST, i.id"
    out = []
    for r in store.cursor().execute(sql, params).fetchall():
        out.append(
            InteractionFacts(
                id=int(r[0]), channel=r[1], started_at=r[2], agent=r[3], queue=r[4],
                customer=r[5], customer_key=r[6], metadata=_loads(r[7], {}) or {},
                sentiment=r[8], sentiment_customer=r[9],
                customer_trend=list(r[10]) if r[10] is not None else None,
                metrics=_loads(r[11], {}) or {}, topics=_loads(r[12], []) or [],
                top_topic=r[13], cluster_id=int(r[14]) if r[14] is not None else None,
                subject=r[15], resolution=r[16], resolution_own=r[17],
            )
        )
    return out



#: what pattern mining reads of a turn: its redacted text without the `[PII:KIND]` markers
#: (so no cluster is named "pii card" and no phrase counts a marker)
_MINED = r"regexp_replace(text, '\[PII:[A-Z_]+\]', '', 'g')"


def interaction_texts(
    store: Store, ids: Sequence[int], speakers: Sequence[str] | None = None
) -> dict[int, str]:
    """id -> the interaction's turns (of the given speakers) joined in order, one per line.

    Redacted text only (the outbound view): what is mined from it — cluster names, traits,
    phrases — is shown in Slack and the TUI."""
    if not ids:
        return {}
    sql = (
        f"SELECT interaction_id, string_agg({_MINED}, '\n' ORDER BY seq) FROM outbound_turns "
        "WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))"
    )
    params: list[Any] = [_ints(ids)]
    if speakers is not None:
        sql += " AND speaker IN (SELECT unnest(?::JSON::VARCHAR[]))"
        params.append(_strs(speakers))
    sql += " GROUP BY interaction_id"
    return {int(r[0]): r[1] or "" for r in store.cursor().execute(sql, params).fetchall()}


def agent_turns(store: Store, ids: Sequence[int]) -> dict[int, list[str]]:
    """id -> the agent's redacted turns in order (stage detection, best phrases)."""
    if not ids:
        return {}
    rows = store.cursor().execute(
        f"SELECT interaction_id, list(coalesce({_MINED}, '') ORDER BY seq) FROM outbound_turns "
        "WHERE speaker = 'agent' AND interaction_id IN (SELECT unnest(?::BIGINT[])) "
        "GROUP BY interaction_id",
        [_ints(ids)],
    ).fetchall()
    return {int(r[0]): list(r[1]) for r in rows}


def speaker_turns(store: Store, ids: Sequence[int]) -> dict[int, tuple[list[str], list[str]]]:
    """id -> (speakers, redacted texts) of all its turns in order (clustering vectors)."""
    if not ids:
        return {}
    rows = store.cursor().execute(
        f"SELECT interaction_id, list(speaker ORDER BY seq), list(coalesce({_MINED}, '') ORDER BY seq) "
        "FROM outbound_turns WHERE interaction_id IN (SELECT unnest(?::BIGINT[])) GROUP BY interaction_id",
        [_ints(ids)],
    ).fetchall()
    return {int(r[0]): (list(r[1]), list(r[2])) for r in rows}


def active_flag_kinds(store: Store, ids: Sequence[int]) -> dict[int, set[str]]:
    """id -> the kinds of its flags that count (`rule:<name>` for configured rules):
    a dismissed flag does not mark a scorecard down (store.reviews)."""
    if not ids:
        return {}
    rows = store.cursor().execute(
        f"SELECT interaction_id, kind, rule FROM flags WHERE {COUNTS} "
        "AND interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [_ints(ids)],
    ).fetchall()
    out: dict[int, set[str]] = {}
    for iid, kind, rule in rows:
        kinds = out.setdefault(int(iid), set())
        kinds.add(kind)
        if rule and not kind.startswith("rule:"):
            kinds.add(f"rule:{rule}")
    return out


def unclustered_ids(
    store: Store, *, since: datetime | None = None, limit: int | None = None
) -> list[int]:
    """Analysed interactions (started at or after `since`) without a cluster yet, newest first."""
    sql = (
        "SELECT i.id FROM interactions i LEFT JOIN cluster_members m ON m.interaction_id = i.id "
        "WHERE i.status = 'analysed' AND m.interaction_id IS NULL"
    )
    params: list[Any] = []
    if since is not None:
        sql += " AND i.started_at >= ?"
        params.append(since)
    sql += " ORDER BY i.started_at DESC NULLS LAST, i.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [int(r[0]) for r in store.cursor().execute(sql, params).fetchall()]


# -- embeddings -----------------------------------------------------------------------------------


def embedding_hashes(store: Store, ids: Sequence[int], model: str) -> dict[int, str]:
    """id -> text hash of the stored embedding made with `model`."""
    if not ids:
        return {}
    rows = store.cursor().execute(
        "SELECT interaction_id, text_hash FROM interaction_embeddings "
        "WHERE model = ? AND interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [model, _ints(ids)],
    ).fetchall()
    return {int(r[0]): r[1] for r in rows}


def save_embeddings(
    store: Store, ids: Sequence[int], hashes: Sequence[str], matrix: np.ndarray, model: str,
    *, con: duckdb.DuckDBPyConnection | None = None,
) -> None:
    """Store (replace) the embeddings of these interactions (inside `con`'s transaction if given)."""
    if not len(ids):
        return
    table = pa.table({
        "interaction_id": pa.array(list(ids), type=pa.int64()),
        "model": pa.array([model] * len(ids)),
        "text_hash": pa.array(list(hashes)),
        "embedding": _vectors_to_arrow(matrix),
    })
    if con is not None:
        _replace_embeddings(store, ids, table, con)
        return
    with store.transaction() as tx:
        _replace_embeddings(store, ids, table, tx)


def _replace_embeddings(
    store: Store, ids: Sequence[int], table: pa.Table, con: duckdb.DuckDBPyConnection
) -> None:
    con.execute(
        "DELETE FROM interaction_embeddings WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [_ints(ids)],
    )
    store.insert_arrow("interaction_embeddings", table, con=con)


def load_embeddings(store: Store, ids: Sequence[int], model: str) -> tuple[list[int], np.ndarray]:
    """(ids found, matrix) for the given ids, in the order given."""
    if not ids:
        return [], np.zeros((0, DIM), dtype=np.float32)
    tbl = store.cursor().execute(
        "SELECT interaction_id, embedding FROM interaction_embeddings "
        "WHERE model = ? AND interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [model, _ints(ids)],
    ).to_arrow_table()
    got = [int(x) for x in tbl.column("interaction_id").to_pylist()]
    mat = _arrow_to_vectors(tbl.column("embedding"))
    pos = {iid: k for k, iid in enumerate(got)}
    order = [pos[i] for i in ids if i in pos]
    return [got[k] for k in order], mat[order] if order else mat[:0]


# -- clusters ---------------------------------------------------------------------------------------


def active_clusters(store: Store, *, with_centroids: bool = True) -> list[ClusterRecord]:
    """The current clusters (with centroid and threshold for incremental assignment)."""
    tbl = store.cursor().execute(
        "SELECT id, label, terms, size, examples, centroid, threshold FROM clusters "
        "WHERE coalesce(active, TRUE) AND centroid IS NOT NULL ORDER BY id"
    ).to_arrow_table()
    cents = _arrow_to_vectors(tbl.column("centroid")) if with_centroids else None
    out = []
    for k, (cid, label, terms, size, examples, thr) in enumerate(zip(
        tbl.column("id").to_pylist(), tbl.column("label").to_pylist(),
        tbl.column("terms").to_pylist(), tbl.column("size").to_pylist(),
        tbl.column("examples").to_pylist(), tbl.column("threshold").to_pylist(), strict=True,
    )):
        out.append(ClusterRecord(
            id=int(cid), label=label or "", terms=list(terms or []), size=int(size or 0),
            examples=[int(x) for x in (examples or [])],
            centroid=cents[k] if cents is not None else None, threshold=thr,
        ))
    return out


def max_cluster_id(store: Store) -> int:
    row = store.cursor().execute("SELECT coalesce(max(id), -1) FROM clusters").fetchone()
    return int(row[0]) if row else -1


def cluster_membership(store: Store, ids: Sequence[int] | None = None) -> dict[int, int]:
    """interaction id -> cluster id (-1 = noise)."""
    sql = "SELECT interaction_id, cluster_id FROM cluster_members"
    params: list[Any] = []
    if ids is not None:
        sql += " WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))"
        params.append(_ints(ids))
    return {int(a): int(b) for a, b in store.cursor().execute(sql, params).fetchall()}


def save_clustering(
    store: Store,
    clusters: Sequence[ClusterRecord],
    retired: Sequence[int],
    member_ids: Sequence[int],
    labels: Sequence[int],
    similarities: Sequence[float],
    *,
    assigned_by: str,
    now: datetime,
) -> None:
    """Write a full re-cluster: clusters upserted, retired ones inactive, members replaced."""
    with store.transaction() as tx:
        if clusters:
            ids = [c.id for c in clusters]
            cents = np.stack([
                c.centroid if c.centroid is not None else np.zeros(DIM, np.float32) for c in clusters
            ])
            store.insert_arrow("clusters", pa.table({
                "id": pa.array(ids, type=pa.int64()),
                "label": pa.array([c.label for c in clusters]),
                "terms": pa.array([c.terms for c in clusters], type=pa.list_(pa.string())),
                "size": pa.array([c.size for c in clusters], type=pa.int32()),
                "examples": pa.array([c.examples for c in clusters], type=pa.list_(pa.int64())),
                "created_at": pa.array([now] * len(ids), type=pa.timestamp("us", tz="UTC")),
                "updated_at": pa.array([now] * len(ids), type=pa.timestamp("us", tz="UTC")),
                "centroid": _vectors_to_arrow(cents),
                "threshold": pa.array([c.threshold for c in clusters], type=pa.float64()),
                "active": pa.array([True] * len(ids)),
            }), con=tx, skip_existing=("id",), update=(
                # a kept cluster keeps its created_at
                "label", "terms", "size", "examples", "updated_at", "centroid", "threshold", "active"))
        if retired:
            tx.execute(
                "UPDATE clusters SET active = FALSE, size = 0, updated_at = ? "
                "WHERE id IN (SELECT unnest(?::BIGINT[]))",
                [now, _ints(retired)],
            )
        _replace_members(store, tx, member_ids, labels, similarities, assigned_by, now)


def _replace_members(
    store: Store,
    tx: duckdb.DuckDBPyConnection,
    member_ids: Sequence[int],
    labels: Sequence[int],
    similarities: Sequence[float],
    assigned_by: str,
    now: datetime,
) -> None:
    if not len(member_ids):
        return
    ids = [int(i) for i in member_ids]
    tx.execute(
        "DELETE FROM cluster_members WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [_ints(ids)]
    )
    store.insert_arrow("cluster_members", pa.table({
        "interaction_id": pa.array(ids, type=pa.int64()),
        "cluster_id": pa.array([int(x) for x in labels], type=pa.int64()),
        "similarity": pa.array([float(x) for x in similarities], type=pa.float64()),
        "assigned_by": pa.array([assigned_by] * len(ids)),
        "assigned_at": pa.array([now] * len(ids), type=pa.timestamp("us", tz="UTC")),
    }), con=tx)
    # scores.cluster_id mirrors the membership for readers that only join scores.
    tx.execute(
        "UPDATE scores SET cluster_id = m.cluster_id FROM cluster_members m "
        "WHERE scores.interaction_id = m.interaction_id "
        "AND m.interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [_ints(ids)],
    )


def add_members(
    store: Store,
    member_ids: Sequence[int],
    labels: Sequence[int],
    similarities: Sequence[float],
    *,
    now: datetime,
) -> None:
    """Incremental assignment: record memberships and grow the clusters' sizes."""
    with store.transaction() as tx:
        _replace_members(store, tx, member_ids, labels, similarities, "incremental", now)
        tx.execute(
            "UPDATE clusters SET size = c.n, updated_at = ? FROM "
            "(SELECT cluster_id, count(*) AS n FROM cluster_members GROUP BY cluster_id) c "
            "WHERE clusters.id = c.cluster_id AND clusters.id IN "
            "(SELECT DISTINCT unnest(?::BIGINT[]))",
            [now, _ints(sorted({int(x) for x in labels if int(x) >= 0}))],
        )


# -- daily counts and trends ------------------------------------------------------------------------

_DIMENSION_SQL = {
    "cluster": (
        "SELECT (i.started_at AT TIME ZONE ?)::DATE AS day, m.cluster_id::VARCHAR AS key, "
        "count(*) AS n FROM interactions i JOIN cluster_members m ON m.interaction_id = i.id "
        "WHERE m.cluster_id >= 0 AND i.started_at >= ? AND i.started_at < ? GROUP BY ALL"
    ),
    "topic": (
        "SELECT (i.started_at AT TIME ZONE ?)::DATE AS day, s.top_topic AS key, count(*) AS n "
        "FROM interactions i JOIN scores s ON s.interaction_id = i.id "
        "WHERE s.top_topic IS NOT NULL AND i.started_at >= ? AND i.started_at < ? GROUP BY ALL"
    ),
    "flag": (
        "SELECT (i.started_at AT TIME ZONE ?)::DATE AS day, f.kind AS key, "
        "count(DISTINCT i.id) AS n FROM interactions i JOIN flags f ON f.interaction_id = i.id "
        f"WHERE {counts('f')} AND f.kind NOT IN (SELECT unnest(?::JSON::VARCHAR[])) "
        "AND i.started_at >= ? AND i.started_at < ? GROUP BY ALL"
    ),
}


def compute_daily_counts(
    store: Store,
    since: datetime,
    until: datetime,
    tz: str,
    *,
    ignore_flag_kinds: Sequence[str] = ("trend",),
) -> list[tuple[date, str, str, int]]:
    """(day, dimension, key, n) for interactions started in [since, until), days in `tz`."""
    out: list[tuple[date, str, str, int]] = []
    cur = store.cursor()
    for dim, sql in _DIMENSION_SQL.items():
        params: list[Any] = [tz]
        if dim == "flag":
            params.append(_strs(ignore_flag_kinds))
        params += [since, until]
        out += [(r[0], dim, str(r[1]), int(r[2])) for r in cur.execute(sql, params).fetchall()]
    return out


def save_daily_counts(
    store: Store, first_day: date, rows: Sequence[tuple[date, str, str, int]]
) -> None:
    """Replace the stored counts from `first_day` on."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM pattern_daily_counts WHERE day >= ?", [first_day])
        if rows:
            store.insert_arrow("pattern_daily_counts", pa.table({
                "day": pa.array([r[0] for r in rows], type=pa.date32()),
                "dimension": pa.array([r[1] for r in rows]),
                "key": pa.array([r[2] for r in rows]),
                "n": pa.array([r[3] for r in rows], type=pa.int32()),
            }), con=tx)


def daily_series(
    store: Store, dimension: str, key: str, since: date, until: date
) -> list[tuple[date, int]]:
    """Stored daily counts of one key (days without interactions are absent)."""
    rows = store.cursor().execute(
        "SELECT day, n FROM pattern_daily_counts WHERE dimension = ? AND key = ? "
        "AND day >= ? AND day < ? ORDER BY day",
        [dimension, key, since, until],
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def representative_interaction(
    store: Store, dimension: str, key: str, day: date, tz: str
) -> int | None:
    """An interaction of that day behind a rise (the most recent one)."""
    base = (
        "SELECT i.id FROM interactions i {join} WHERE (i.started_at AT TIME ZONE ?)::DATE = ? "
        "AND {cond} ORDER BY i.started_at DESC, i.id DESC LIMIT 1"
    )
    if dimension == "cluster":
        sql = base.format(join="JOIN cluster_members m ON m.interaction_id = i.id",
                          cond="m.cluster_id = ?::BIGINT")
    elif dimension == "topic":
        sql = base.format(join="JOIN scores s ON s.interaction_id = i.id", cond="s.top_topic = ?")
    else:
        sql = base.format(join="JOIN flags f ON f.interaction_id = i.id",
                          cond=f"{counts('f')} AND f.kind = ?")
    row = store.cursor().execute(sql, [tz, day, key]).fetchone()
    return int(row[0]) if row else None


def upsert_flags(
    store: Store, flags: Sequence[Flag], keys: Sequence[str], *, con: duckdb.DuckDBPyConnection | None = None
) -> list[int]:
    """Insert or refresh flags by dedupe key (review columns untouched); returns their ids."""
    cur = _cur(store, con)
    ids: list[int] = []
    for f, key in zip(flags, keys, strict=True):
        ev = json.dumps(f.evidence, default=str, ensure_ascii=False)
        got = cur.execute("SELECT id FROM flags WHERE dedupe_key = ?", [key]).fetchone()
        if got:  # a keyed update, else an insert (one form for both backends)
            f.id = int(got[0])
            cur.execute(
                "UPDATE flags SET interaction_id = ?, severity = ?, score = ?, summary = ?, "
                "evidence = ?, active = TRUE WHERE id = ?",
                [f.interaction_id, f.severity, f.score, f.summary, ev, f.id],
            )
        else:
            (f.id,) = store.next_ids("flags", con=cur)
            cur.execute(
                "INSERT INTO flags (id, interaction_id, kind, rule, dedupe_key, severity, score, "
                "summary, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [f.id, f.interaction_id, f.kind, f.rule, key, f.severity, f.score, f.summary, ev],
            )
        ids.append(f.id)
    return ids


def deactivate_flags_except(
    store: Store, kind: str, keep_keys: Sequence[str], *, con: duckdb.DuckDBPyConnection | None = None
) -> int:
    """Retire flags of `kind` whose dedupe key is not in `keep_keys` (reviews kept)."""
    cur = _cur(store, con)
    row = cur.execute(
        "UPDATE flags SET active = FALSE WHERE kind = ? AND active "
        "AND dedupe_key NOT IN (SELECT unnest(?::JSON::VARCHAR[]))",
        [kind, _strs(keep_keys)],
    ).fetchone()
    return int(row[0]) if row else 0


def save_trends(store: Store, rows: Sequence[TrendRow], flags: Sequence[Flag]) -> None:
    """Write detected rises and their `trend` flags (one per day and key) atomically."""
    with store.transaction() as tx:
        keys = [f"trend:{r.dimension}:{r.key}:{r.day.isoformat()}" for r in rows]
        flag_ids = upsert_flags(store, flags, keys, con=tx)
        for r, fid in zip(rows, flag_ids, strict=True):
            r.flag_id = fid
            # delete + insert by key: INSERT OR REPLACE needs a key constraint the lake lacks
            tx.execute("DELETE FROM pattern_trends WHERE day = ? AND dimension = ? AND key = ?",
                       [r.day, r.dimension, r.key])
            tx.execute(
                "INSERT INTO pattern_trends (day, dimension, key, label, n, baseline, "
                "ratio, z, p_value, interaction_id, flag_id, summary) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r.day, r.dimension, r.key, r.label, r.n, r.baseline, r.ratio, r.z, r.p_value,
                 r.interaction_id, fid, r.summary],
            )


# -- repeat contacts ------------------------------------------------------------------------------


def save_repeats(
    store: Store,
    processed_ids: Sequence[int],
    repeats: Sequence[RepeatRow],
    resolutions: Sequence[ResolutionRow],
    flags: Sequence[Flag],
) -> None:
    """Replace repeat contacts, first-contact resolution and `repeat_contact` flags of the
    processed interactions (older results stay, so history is not lost as it ages out)."""
    ids = [int(i) for i in processed_ids]
    with store.transaction() as tx:
        for table in ("repeat_contacts", "contact_resolution"):
            tx.execute(
                f"DELETE FROM {table} WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [_ints(ids)]
            )
        if repeats:
            store.insert_arrow("repeat_contacts", [
                {"interaction_id": r.interaction_id, "previous_id": r.previous_id,
                 "first_id": r.first_id, "customer_key": r.customer_key,
                 "matched_on": r.matched_on, "match_value": r.match_value,
                 "gap_hours": r.gap_hours, "contact_number": r.contact_number}
                for r in repeats
            ], con=tx)
        if resolutions:
            store.insert_arrow("contact_resolution", pa.table({
                "interaction_id": pa.array([r.interaction_id for r in resolutions], type=pa.int64()),
                "customer_key": pa.array([r.customer_key for r in resolutions]),
                "started_at": pa.array([r.started_at for r in resolutions], type=pa.timestamp("us", tz="UTC")),
                "agent": pa.array([r.agent for r in resolutions], type=pa.string()),
                "queue": pa.array([r.queue for r in resolutions], type=pa.string()),
                "topic": pa.array([r.topic for r in resolutions], type=pa.string()),
                "repeats": pa.array([r.repeats for r in resolutions], type=pa.int32()),
                "resolved": pa.array([r.resolved for r in resolutions]),
            }), con=tx)
        keys = [f"{f.interaction_id}:repeat_contact:" for f in flags]
        upsert_flags(store, flags, keys, con=tx)
        tx.execute(
            "UPDATE flags SET active = FALSE WHERE kind = 'repeat_contact' AND active "
            "AND interaction_id IN (SELECT unnest(?::BIGINT[])) "
            "AND dedupe_key NOT IN (SELECT unnest(?::JSON::VARCHAR[]))",
            [_ints(ids), _strs(keys)],
        )


# -- traits, phrases, stages --------------------------------------------------------------------


def _replace_all(store: Store, table: str, rows: Sequence[Any]) -> None:
    """Replace a whole result table with `rows` (dataclasses whose fields are its columns)."""
    with store.transaction() as tx:
        tx.execute(f"DELETE FROM {table}")
        if rows:
            store.insert_arrow(table, [dataclasses.asdict(r) for r in rows], con=tx)


def save_traits(store: Store, rows: Sequence[TraitRow]) -> None:
    _replace_all(store, "pattern_traits", rows)


def save_phrases(store: Store, rows: Sequence[PhraseRow]) -> None:
    _replace_all(store, "pattern_phrases", rows)


def save_stage_orders(store: Store, rows: Sequence[StageOrderRow]) -> None:
    _replace_all(store, "pattern_stage_orders", rows)


# -- scorecards --------------------------------------------------------------------------------------


def save_scorecard_results(store: Store, rows: Sequence[ScorecardResult]) -> None:
    """Replace the results of these interactions (for the forms given)."""
    if not rows:
        return
    with store.transaction() as tx:
        tx.execute(
            "DELETE FROM scorecard_results WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
            [_ints(sorted({r.interaction_id for r in rows}))],
        )
        store.insert_arrow("scorecard_results", pa.table({
            "interaction_id": pa.array([r.interaction_id for r in rows], type=pa.int64()),
            "scorecard": pa.array([r.scorecard for r in rows]),
            "agent": pa.array([r.agent for r in rows], type=pa.string()),
            "queue": pa.array([r.queue for r in rows], type=pa.string()),
            "started_at": pa.array([r.started_at for r in rows], type=pa.timestamp("us", tz="UTC")),
            "score": pa.array([r.score for r in rows], type=pa.float64()),
            "answered": pa.array([r.answered for r in rows], type=pa.int32()),
            "not_applicable": pa.array([r.not_applicable for r in rows], type=pa.int32()),
            "answers": pa.array([json.dumps(r.answers, ensure_ascii=False) for r in rows]),
        }), con=tx)




# The read side lives in store/patterns_read.py; callers keep importing it from here.
from store.patterns_read import (  # noqa: E402, F401
    agent_scorecards,
    best_phrases,
    cluster,
    fcr_rates,
    interaction_scorecards,
    low_satisfaction_traits,
    phrase_scopes,
    repeat_contacts,
    repeat_of,
    rising_issues,
    stage_orders,
    top_clusters,
)
