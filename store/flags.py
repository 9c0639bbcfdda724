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
    cur = con or store.cursor()
    keys = [dedupe_key(f) for f in flags]
    existing = {
        r[0]: int(r[1])
        for r in cur.execute(
            "SELECT dedupe_key, id, kind FROM flags WHERE interaction_id = ?", [interaction_id]
        ).fetchall()
        if r[2] not in keep_kinds
    }
    new_ids: list[int] = []
    for f, key in zip(flags, keys, strict=True):
        evidence = json.dumps(f.evidence, default=str, ensure_ascii=False)
        if key in existing:
            cur.execute(
                "UPDATE flags SET severity = ?, score = ?, summary = ?, evidence = ?, confidence = ?, "
                "active = TRUE WHERE id = ?",
                [f.severity, f.score, f.summary, evidence, f.confidence, existing[key]],
            )
            f.id = existing[key]
        else:
            (f.id,) = store.next_ids("flags", con=cur)
            cur.execute(
                "INSERT INTO flags (id, interaction_id, kind, rule, dedupe_key, severity, score, "
                "summary, evidence, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [f.id, interaction_id, f.kind, f.rule, key, f.severity, f.score, f.summary, evidence,
                 f.confidence],
            )
            new_ids.append(f.id)
    gone = [fid for key, fid in existing.items() if key not in set(keys)]
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
