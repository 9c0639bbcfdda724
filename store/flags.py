"""Flags: what analysis raised, and the human verdict on it.

Analysis owns `kind/severity/score/summary/evidence/active`; people own the review columns
(`review_status`, `reviewer`, `review_reason`, `reviewed_at`). `replace_for_interaction`
is how a (re)score writes: flags keep their id and review across rescoring (keyed by
`dedupe_key` = interaction + kind + rule), flags no longer raised become inactive rather
than deleted, so a confirmed verdict is never lost. People review through
`store.reviews.review` (state machine, optimistic check, audit log); `set_review` here is
that path for trusted internal callers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb

from store import reviews
from store.db import Store
from store.permissions import Identity
from store.records import REVIEW_STATUSES, Flag

#: Kinds the patterns job raises and retires itself (store.patterns); a rescore by the
#: analysis core must not retire them just because it did not produce them.
PATTERN_KINDS: frozenset[str] = frozenset({"trend", "repeat_contact"})


def dedupe_key(flag: Flag) -> str:
    return f"{flag.interaction_id}:{flag.kind}:{flag.rule or ''}"


def replace_for_interaction(
    store: Store,
    interaction_id: int,
    flags: Sequence[Flag],
    *,
    keep_kinds: frozenset[str] = PATTERN_KINDS,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[int]:
    """Write the current set of flags for one interaction; returns ids of *new* flags.

    Flags of `keep_kinds` (owned by another writer) are neither retired nor touched.
    """
    return replace_for_interactions(store, [(interaction_id, flags)], keep_kinds=keep_kinds, con=con)


def replace_for_interactions(
    store: Store,
    items: Sequence[tuple[int, Sequence[Flag]]],
    *,
    keep_kinds: frozenset[str] = PATTERN_KINDS,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[int]:
    """`replace_for_interaction` for many interactions at once (the analysis job's batch):
    one SELECT of the stored flags, one id allocation and one Arrow insert for the new ones,
    one UPDATE retiring those no longer raised; only flags raised again are updated row by
    row (a rescore). Same rows and ids as one call per interaction in order, without a few
    statements per flag (~5 ms of CPU per interaction on bench/analysis.py, #15)."""
    if not items:
        return []
    cur = con or store.cursor()
    ids = list(dict.fromkeys(int(iid) for iid, _ in items))
    if len(ids) != len(items):  # both would be judged against the stored state: a key clash
        raise ValueError("replace_for_interactions: an interaction is listed twice in one batch")
    existing: dict[int, dict[str, int]] = {iid: {} for iid in ids}
    for key, fid, kind, iid in cur.execute(
        "SELECT dedupe_key, id, kind, interaction_id FROM flags "
        "WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids]
    ).fetchall():
        if kind not in keep_kinds:
            existing[int(iid)][key] = int(fid)
    inserts: list[tuple[Flag, int, str, str]] = []
    gone: list[int] = []
    for iid, flags in items:
        old = existing[int(iid)]
        keys = [dedupe_key(f) for f in flags]
        for f, key in zip(flags, keys, strict=True):
            evidence = json.dumps(f.evidence, default=str, ensure_ascii=False)
            if key in old:
                cur.execute(
                    "UPDATE flags SET severity = ?, score = ?, summary = ?, evidence = ?, confidence = ?, "
                    "active = TRUE WHERE id = ?",
                    [f.severity, f.score, f.summary, evidence, f.confidence, old[key]],
                )
                f.id = old[key]
            else:
                inserts.append((f, int(iid), key, evidence))
        kept = set(keys)
        gone += [fid for key, fid in old.items() if key not in kept]
    new_ids: list[int] = []
    if inserts:
        new_ids = [int(i) for i in store.next_ids("flags", len(inserts), con=cur)]
        for (f, _iid, _key, _ev), fid in zip(inserts, new_ids, strict=True):
            f.id = fid
        import pyarrow as pa

        table = pa.Table.from_pydict(
            {
                "id": new_ids, "interaction_id": [r[1] for r in inserts], "kind": [r[0].kind for r in inserts],
                "rule": [r[0].rule for r in inserts], "dedupe_key": [r[2] for r in inserts],
                "severity": [r[0].severity for r in inserts], "score": [r[0].score for r in inserts],
                "summary": [r[0].summary for r in inserts], "evidence": [r[3] for r in inserts],
                "confidence": [r[0].confidence for r in inserts],
            },
            schema=pa.schema([
                ("id", pa.int64()), ("interaction_id", pa.int64()), ("kind", pa.string()), ("rule", pa.string()),
                ("dedupe_key", pa.string()), ("severity", pa.int16()), ("score", pa.float64()),
                ("summary", pa.string()), ("evidence", pa.string()), ("confidence", pa.float64()),
            ]),
        )  # fmt: skip
        store.insert_arrow("flags", table, con=cur)
    if gone:
        cur.execute(
            "UPDATE flags SET active = FALSE WHERE id IN (SELECT unnest(?::BIGINT[]))", [gone]
        )
    return new_ids


_COLS = (
    "id, interaction_id, kind, rule, severity, score, summary, evidence, review_status, "
    "reviewer, review_reason, reviewed_at, created_at, confidence"
)


def _to_flag(r: tuple[Any, ...]) -> Flag:
    return Flag(
        id=int(r[0]), interaction_id=int(r[1]), kind=r[2], rule=r[3], severity=int(r[4]),
        score=r[5], summary=r[6], evidence=json.loads(r[7]) if r[7] else [],
        review_status=r[8], reviewer=r[9], review_reason=r[10], reviewed_at=r[11],
        created_at=r[12], confidence=r[13],
    )


def get(store: Store, flag_id: int) -> Flag | None:
    r = store.cursor().execute(f"SELECT {_COLS} FROM flags WHERE id = ?", [flag_id]).fetchone()
    return _to_flag(r) if r else None


def for_interaction(store: Store, interaction_id: int, *, active_only: bool = True) -> list[Flag]:
    sql = f"SELECT {_COLS} FROM flags WHERE interaction_id = ?"
    if active_only:
        sql += " AND active"
    sql += " ORDER BY severity DESC, id"
    return [_to_flag(r) for r in store.cursor().execute(sql, [interaction_id]).fetchall()]


def set_review(
    store: Store,
    flag_id: int,
    status: str,
    reviewer: str,
    reason: str | None = None,
    *,
    via: str = "api",
    expected_rev: int | None = None,
) -> Flag:
    """Confirm, dismiss or reopen a flag as a trusted internal caller (jobs, tests).

    People review through `store.reviews.review` with their authenticated identity and
    the revision they saw; this wrapper is that path for callers with neither (it acts
    with the admin role and does not insist on a dismissal reason).
    """
    if status not in REVIEW_STATUSES:
        raise ValueError(f"review status must be one of {', '.join(REVIEW_STATUSES)}")
    reviews.review(store, flag_id, status, Identity(reviewer, "admin"), reason,
                   expected_rev=expected_rev, via=via, require_reason=False)
    flag = get(store, flag_id)
    assert flag is not None
    return flag
