"""Resolution verdicts per interaction (table `interaction_resolution`, migration 0019).

The analysis job writes one row per analysed interaction (`save`, replace-by-key inside
its batch transaction); the patterns job overrides an earlier `resolved`/`pending` after a
repeat contact on the same issue (`override_for_repeats`) and raises its
`unresolved_issue` flag (`upsert_flags`: that flag has rule "repeat_contact", so the
analysis job's own `unresolved_issue` flag — rule "resolution" — is a different key).
Read side: first-contact resolution counts and follow-ups that came due without a later
contact, for the question engine and the digest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from store.db import Store
from store.records import Flag


@dataclass(slots=True)
class ResolutionRow:
    """One stored verdict (the shape of `analysis.resolution.Resolution`)."""

    interaction_id: int
    verdict: str
    confidence: float
    reasons: list[str]
    evidence: list[dict[str, Any]]
    commitment: str | None = None
    follow_up_due: datetime | None = None
    vendor_status: str | None = None
    analysed_verdict: str | None = None
    repeat_id: int | None = None


_COLS = ("interaction_id, verdict, confidence, reasons, evidence, commitment, follow_up_due, "
         "vendor_status, analysed_verdict, repeat_id")  # fmt: skip


def save(store: Store, rows: Sequence[Any], *, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Replace the verdicts of these interactions (rows: anything with ResolutionRow's fields;
    a re-analysis starts over, the next patterns run re-applies repeat overrides)."""
    if not rows:
        return
    cur = con or store.cursor()
    ids = [int(r.interaction_id) for r in rows]
    cur.execute("DELETE FROM interaction_resolution WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    # through Arrow, not executemany: one statement per batch (executemany was ~1.5 ms of
    # CPU per interaction in the analysis job's write, #15)
    import pyarrow as pa

    table = pa.Table.from_pydict(
        {
            "interaction_id": ids, "verdict": [r.verdict for r in rows],
            "confidence": [float(r.confidence) for r in rows],
            "reasons": [json.dumps(list(r.reasons)) for r in rows],
            "evidence": [json.dumps(list(r.evidence), default=str) for r in rows],
            "commitment": [r.commitment for r in rows], "follow_up_due": [r.follow_up_due for r in rows],
            "vendor_status": [r.vendor_status for r in rows],
            "analysed_verdict": [getattr(r, "analysed_verdict", None) for r in rows],
            "repeat_id": [getattr(r, "repeat_id", None) for r in rows],
        },
        schema=pa.schema([
            ("interaction_id", pa.int64()), ("verdict", pa.string()), ("confidence", pa.float64()),
            ("reasons", pa.string()), ("evidence", pa.string()), ("commitment", pa.string()),
            ("follow_up_due", pa.timestamp("us", tz="UTC")), ("vendor_status", pa.string()),
            ("analysed_verdict", pa.string()), ("repeat_id", pa.int64()),
        ]),
    )  # fmt: skip
    store.insert_arrow("interaction_resolution", table, con=cur)


def get_many(store: Store, ids: Sequence[int]) -> dict[int, ResolutionRow]:
    got = store.cursor().execute(
        f"SELECT {_COLS} FROM interaction_resolution WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))",
        [list(ids)],
    ).fetchall()
    return {int(r[0]): _row(r) for r in got}


def get(store: Store, interaction_id: int) -> ResolutionRow | None:
    return get_many(store, [interaction_id]).get(interaction_id)


def _row(r: tuple[Any, ...]) -> ResolutionRow:
    return ResolutionRow(int(r[0]), r[1], float(r[2]), json.loads(r[3] or "[]"), json.loads(r[4] or "[]"),
                         r[5], r[6], r[7], r[8], int(r[9]) if r[9] is not None else None)  # fmt: skip


def override_for_repeats(store: Store, rows: Sequence[ResolutionRow], flags: Sequence[Flag]) -> None:
    """Write overridden verdicts (with `analysed_verdict` and `repeat_id` set) and their
    flags in one transaction."""
    with store.transaction() as tx:
        for r in rows:
            tx.execute(
                "UPDATE interaction_resolution SET verdict = ?, confidence = ?, reasons = ?, evidence = ?, "
                "follow_up_due = NULL, analysed_verdict = ?, repeat_id = ?, updated_at = now() "
                "WHERE interaction_id = ?",
                [r.verdict, r.confidence, json.dumps(r.reasons), json.dumps(r.evidence, default=str),
                 r.analysed_verdict, r.repeat_id, r.interaction_id],
            )  # fmt: skip
        upsert_flags(store, flags, con=tx)


def upsert_flags(store: Store, flags: Sequence[Flag], *, con: duckdb.DuckDBPyConnection | None = None) -> list[int]:
    """Insert these flags or re-activate and update the same (interaction, kind, rule),
    retiring nothing else; returns the ids of new flags. Review columns are not touched."""
    cur = con or store.cursor()
    new: list[int] = []
    for f in flags:
        key = f"{f.interaction_id}:{f.kind}:{f.rule or ''}"
        ev = json.dumps(f.evidence, default=str, ensure_ascii=False)
        got = cur.execute("SELECT id FROM flags WHERE dedupe_key = ?", [key]).fetchone()
        if got:
            cur.execute("UPDATE flags SET severity = ?, score = ?, summary = ?, evidence = ?, confidence = ?, "
                        "active = TRUE WHERE id = ?", [f.severity, f.score, f.summary, ev, f.confidence, got[0]])
            f.id = int(got[0])
        else:
            (f.id,) = store.next_ids("flags", con=cur)
            cur.execute(
                "INSERT INTO flags (id, interaction_id, kind, rule, dedupe_key, severity, score, summary, "
                "evidence, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [f.id, f.interaction_id, f.kind, f.rule, key, f.severity, f.score, f.summary, ev, f.confidence],
            )
            new.append(f.id)
    return new


@dataclass(slots=True)
class ResolutionView:
    """A verdict as it may leave the store (TUI detail, bot "show call N"): reasons and the
    promised follow-up masked (`pii_mask`: reasons quote the customer), `follow_up_due`
    only while the verdict is `pending`."""

    verdict: str
    confidence: float
    reasons: list[str]
    commitment: str | None = None
    follow_up_due: datetime | None = None
    repeat_id: int | None = None
    analysed_verdict: str | None = None

    @property
    def reason(self) -> str:
        """The reasons, first (strongest) first, for a one-line display."""
        return "; ".join(self.reasons[:3])


def view(store: Store, interaction_id: int) -> ResolutionView | None:
    """The verdict of one interaction for display (None when it has none)."""
    from store.outbound import mask_strings

    cur = store.cursor()
    r = cur.execute(
        "SELECT verdict, confidence, reasons, pii_mask(commitment), "
        "CASE WHEN verdict = 'pending' THEN follow_up_due END, repeat_id, analysed_verdict "
        "FROM interaction_resolution WHERE interaction_id = ?", [interaction_id],
    ).fetchone()  # fmt: skip
    if r is None:
        return None
    reasons = mask_strings(cur, [str(x) for x in json.loads(r[2] or "[]")])
    return ResolutionView(r[0], round(float(r[1]), 3), reasons, r[3], r[4],
                          int(r[5]) if r[5] is not None else None, r[6])  # fmt: skip


@dataclass(slots=True)
class FollowUp:
    interaction_id: int
    started_at: datetime | None
    agent: str | None
    queue: str | None
    channel: str
    commitment: str | None
    due: datetime


def follow_ups_due(store: Store, start: datetime, end: datetime, *, limit: int = 50) -> tuple[int, list[FollowUp]]:
    """Promised follow-ups due in [start, end) with no later contact by the same customer.

    The commitment text is masked (`pii_mask`): it is shown in Slack and the digest."""
    base = (
        "FROM interaction_resolution r JOIN interactions i ON i.id = r.interaction_id "
        "WHERE r.verdict = 'pending' AND r.follow_up_due >= ? AND r.follow_up_due < ? "
        "AND NOT EXISTS (SELECT 1 FROM interactions j WHERE j.customer_key = i.customer_key "
        "AND i.customer_key IS NOT NULL AND j.id <> i.id AND j.started_at > i.started_at)"
    )
    cur = store.cursor()
    total = int(cur.execute(f"SELECT count(*) {base}", [start, end]).fetchone()[0])  # type: ignore[index]
    rows = cur.execute(
        f"SELECT i.id, i.started_at, i.agent, i.queue, i.channel, pii_mask(r.commitment), r.follow_up_due {base} "
        "ORDER BY r.follow_up_due LIMIT ?", [start, end, limit],
    ).fetchall()  # fmt: skip
    return total, [FollowUp(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def first_contact_resolution(
    store: Store, start: datetime, end: datetime, *, channel: str | None = None, queue: str | None = None,
    topic: str | None = None, agent: str | None = None,
) -> tuple[int, int, int]:  # fmt: skip
    """(first contacts, resolved first time, with a verdict) in [start, end).

    A first contact is an interaction that does not repeat an earlier one
    (`repeat_contacts`); it was resolved first time when its verdict is `resolved` (a
    repeat contact in the window has already turned it to `unresolved`)."""
    sql = (
        "SELECT count(*), count(*) FILTER (WHERE r.verdict = 'resolved'), count(r.verdict) "
        "FROM interactions i LEFT JOIN interaction_resolution r ON r.interaction_id = i.id "
        "LEFT JOIN scores s ON s.interaction_id = i.id "
        "WHERE i.started_at >= ? AND i.started_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM repeat_contacts rc WHERE rc.interaction_id = i.id)"
    )
    params: list[Any] = [start, end]
    if channel:
        sql += " AND i.channel = ?"
        params.append(channel)
    if queue:
        sql += " AND (i.queue ILIKE ? OR s.top_topic ILIKE ?)"
        params += [f"%{queue}%", f"%{queue}%"]
    if topic:
        sql += " AND (s.top_topic ILIKE ? OR i.subject ILIKE ?)"  # boundary: filter only, not returned
        params += [f"%{topic}%", f"%{topic}%"]
    if agent:
        sql += " AND i.agent ILIKE ?"
        params.append(agent)
    r = store.cursor().execute(sql, params).fetchone()
    return int(r[0]), int(r[1]), int(r[2])  # type: ignore[index]
