"""Human verdicts on flags: the state machine, the one "what counts" rule, the queue.

What counts. A flag counts in every number (scorecards, counts, trends, the bot's lists,
agent summaries, digests, alerts) when analysis still raises it (`active`) and no reviewer
dismissed it. That rule is `COUNTS` / `counts(alias)` and every query in `store/` uses it
instead of spelling `active` itself, so a dismissal moves every number at once and a
reopen restores it. Confirmed flags count and are marked as confirmed.

The state machine. `open -> confirmed | dismissed (reason) -> open (reopen)`; a confirmed
flag must be reopened before it is dismissed (and the other way round), so every verdict is
one explicit step in the audit log. Each change names the revision the reviewer saw
(`expected_rev`, from `review_rev` which grows by one per change); a change against an old
revision raises `StaleReview` carrying the current state, so two supervisors working the
same queue never silently overwrite each other. The reviewer is an authenticated
`permissions.Identity`; the change and its audit row are written in one transaction.

Contests. An agent may contest a flag on their own interaction with a reason; the flag
stays as it is (a contest is not a verdict), is marked `contested` and goes to the front of
the review queue. A later confirm/dismiss settles the contest.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store import audit
from store.db import Store
from store.permissions import Identity, require

log = logging.getLogger(__name__)

#: The predicate of a flag that counts (see module docstring), unqualified.
COUNTS = "active AND review_status <> 'dismissed'"

#: Below this confidence a high-severity flag is routed to the front of the review queue
#: and labelled "low confidence" in alerts (analysis/confidence.py). No confidence (flags
#: from before confidences, pattern flags) is not routed: there is no evidence to judge.
#: The default; `[analysis] low_confidence_below` replaces it (`set_low_confidence`).
LOW_CONFIDENCE = 0.6
HIGH_SEVERITY = 3
_threshold = {"low": LOW_CONFIDENCE}


def set_low_confidence(threshold: float) -> None:
    """Use the configured routing threshold (the composition root calls this once, from
    `[analysis] low_confidence_below`) for the queue order, the CLI/TUI marks and alerts:
    one number for every surface, so what an alert calls unsure is what the queue puts first."""
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"low_confidence_below must be between 0 and 1, got {threshold}")
    _threshold["low"] = float(threshold)


def low_confidence_threshold() -> float:
    """The routing threshold in force (the configured one, else `LOW_CONFIDENCE`)."""
    return _threshold["low"]


def low_confidence(severity: int, confidence: float | None) -> bool:
    """A high-severity verdict the evidence does not make sure of: a person should hear it."""
    return (int(severity) >= HIGH_SEVERITY and confidence is not None
            and float(confidence) < low_confidence_threshold())  # fmt: skip



#: status -> statuses a review may move it to ('open' from a verdict is a reopen).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("confirmed", "dismissed"),
    "confirmed": ("open",),
    "dismissed": ("open",),
}
#: What a person asks for -> the status it means.
ACTIONS = {"confirm": "confirmed", "dismiss": "dismissed", "reopen": "open"}


_listeners: weakref.WeakKeyDictionary[Store, list[Callable[[ReviewState], None]]] = weakref.WeakKeyDictionary()


def on_change(store: Store, fn: Callable[[ReviewState], None]) -> None:
    """Call `fn(new state)` after every committed review or contest on `store`. The
    composition root uses it to re-score an interaction's QA scorecards at once (scores
    live in analysis/, which store/ must not import)."""
    _listeners.setdefault(store, []).append(fn)


def _notify(store: Store, st: ReviewState) -> None:
    for fn in list(_listeners.get(store, ())):
        try:
            fn(st)
        except Exception:  # the review is committed; a follow-up failing must not undo it
            log.warning("follow-up after the review of flag %s failed; the next patterns run "
                        "recomputes it", st.flag_id, exc_info=True)


def contested(alias: str) -> str:
    """SQL: whether the flag `alias` has an open contest (flag_contests)."""
    return f"coalesce((SELECT c.open FROM flag_contests c WHERE c.flag_id = {alias}.id), FALSE)"


def contest_reason(alias: str) -> str:
    """SQL: the reason of the flag's open contest, else NULL."""
    return f"(SELECT c.reason FROM flag_contests c WHERE c.flag_id = {alias}.id AND c.open)"


def queue_order() -> str:
    """ORDER BY for a review queue over `flags f`: contested, then low-confidence
    high-severity flags (below the threshold in force), then the most severe."""
    return (f"{contested('f')} DESC, "
            f"(f.severity >= {HIGH_SEVERITY} AND coalesce(f.confidence, 1) < {low_confidence_threshold()!r}) DESC")  # fmt: skip


def counts(alias: str | None = None) -> str:
    """`COUNTS` for a table alias: counts('f') -> "f.active AND f.review_status <> 'dismissed'"."""
    if not alias:
        return f"({COUNTS})"
    return f"({alias}.active AND {alias}.review_status <> 'dismissed')"


class ReviewError(ValueError):
    """A review that is not allowed from the flag's state (message says why)."""


class StaleReview(ReviewError):
    """The flag changed since the reviewer saw it; `current` is its state now."""

    def __init__(self, message: str, current: ReviewState) -> None:
        super().__init__(message)
        self.current = current


@dataclass(slots=True)
class ReviewState:
    flag_id: int
    interaction_id: int
    kind: str
    rule: str | None
    severity: int
    review_status: str
    review_rev: int
    reviewer: str | None
    review_reason: str | None
    reviewed_at: datetime | None
    contested: bool
    contest_reason: str | None
    agent: str | None
    active: bool
    #: the surface and kind of the change just made ('confirmed', 'dismissed', 'reopen',
    #: 'contest'), set on what review/contest return
    via: str | None = None
    change: str | None = None

    def describe(self) -> str:
        who = f" by {self.reviewer}" if self.reviewer and self.review_status != "open" else ""
        why = f" ({self.review_reason})" if self.review_reason and self.review_status == "dismissed" else ""
        c = "; contested" if self.contested else ""
        return f"flag {self.flag_id} is {self.review_status}{who}{why} (revision {self.review_rev}{c})"


_STATE_SQL = (
    "SELECT f.id, f.interaction_id, f.kind, f.rule, f.severity, f.review_status, "
    "coalesce(f.review_rev, 0), f.reviewer, f.review_reason, f.reviewed_at, "
    f"{contested('f')}, {contest_reason('f')}, i.agent, f.active "
    "FROM flags f JOIN interactions i ON i.id = f.interaction_id WHERE f.id = ?"
)


def state(store: Store, flag_id: int, *, con: Any = None) -> ReviewState:
    row = (con or store.cursor()).execute(_STATE_SQL, [flag_id]).fetchone()
    if row is None:
        raise KeyError(f"no flag {flag_id}")
    return ReviewState(int(row[0]), int(row[1]), row[2], row[3], int(row[4]), row[5], int(row[6]),
                       row[7], row[8], row[9], bool(row[10]), row[11], row[12], bool(row[13]))


def review(
    store: Store,
    flag_id: int,
    to: str,
    who: Identity,
    reason: str | None = None,
    *,
    expected_rev: int | None,
    expected_status: str | None = None,
    via: str = "api",
    require_reason: bool = True,
) -> ReviewState:
    """Move a flag to `to` ('confirmed', 'dismissed' or 'open' = reopen) as `who`.

    `expected_rev` (and/or `expected_status`) is what the reviewer saw; a mismatch raises
    `StaleReview`. Pass `expected_rev=None` only from paths with no earlier view (internal
    jobs, tests). Raises `Forbidden` when `who` may not review, `ReviewError` for a move
    the state machine does not allow or a dismissal without a reason, `KeyError` for an
    unknown flag.
    """
    to = ACTIONS.get(to, to)
    if to not in TRANSITIONS:
        raise ReviewError(f"a review moves a flag to confirmed, dismissed or open; got {to!r}")
    require(who.role, "review", who.user)
    reason = (reason or "").strip() or None
    if to == "dismissed" and require_reason and not reason:
        raise ReviewError("a dismissal needs a reason (what was wrong with the flag?)")
    with store.transaction() as tx:
        cur = state(store, flag_id, con=tx)
        if (expected_rev is not None and expected_rev != cur.review_rev) or (
            expected_status is not None and expected_status != cur.review_status
        ):
            raise StaleReview(
                f"not applied: {cur.describe()}; you reviewed it as "
                f"{expected_status or 'revision'} {'' if expected_rev is None else expected_rev}".rstrip()
                + " — look at it again and decide on its current state",
                cur,
            )
        if to not in TRANSITIONS[cur.review_status]:
            step = "reopen it first" if cur.review_status != "open" else "it is already open"
            raise ReviewError(f"flag {flag_id} is {cur.review_status}; cannot move it to {to} ({step})")
        action = "review.reopen" if to == "open" else f"review.{to}"
        now = datetime.now(UTC)
        settle = to != "open"  # a verdict settles a contest; a reopen keeps it visible
        tx.execute(
            "UPDATE flags SET review_status = ?, reviewer = ?, review_reason = ?, reviewed_at = ?, "
            "review_rev = coalesce(review_rev, 0) + 1 WHERE id = ?",
            [to, who.user, reason if to != "open" else None, now, flag_id],
        )
        if settle and cur.contested:
            tx.execute("UPDATE flag_contests SET open = FALSE WHERE flag_id = ?", [flag_id])
        audit.log(
            store, who.user, action, f"flag:{flag_id}",
            {"from": cur.review_status, "to": to, "reason": reason, "via": via, "role": who.role,
             "rev": cur.review_rev + 1, "contested": cur.contested},
            con=tx,
        )
    st = state(store, flag_id)
    st.via, st.change = via, ("reopen" if to == "open" else to)
    _notify(store, st)
    return st


def contest(store: Store, flag_id: int, who: Identity, reason: str, *, via: str = "slack") -> ReviewState:
    """An agent contests a flag on their own interaction; it goes to the review queue first."""
    require(who.role, "contest", who.user)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("a contest needs a reason (what did the flag get wrong?)")
    with store.transaction() as tx:
        try:
            cur = state(store, flag_id, con=tx)
        except KeyError:
            cur = None
        if cur is None or not who.agent or (cur.agent or "").lower() != who.agent.lower():
            # Same message whether the flag exists or not: agents learn nothing of others' work.
            raise KeyError(f"no flag {flag_id} on your interactions")
        if cur.review_status == "dismissed":
            raise ReviewError(f"flag {flag_id} is already dismissed; nothing to contest")
        tx.execute(
            "UPDATE flags SET review_status = 'open', review_rev = coalesce(review_rev, 0) + 1 "
            "WHERE id = ?", [flag_id],
        )
        tx.execute("DELETE FROM flag_contests WHERE flag_id = ?", [flag_id])  # keep the latest only
        tx.execute(
            "INSERT INTO flag_contests (flag_id, reason, contested_by, contested_at, open) "
            "VALUES (?, ?, ?, ?, TRUE)", [flag_id, reason, who.user, datetime.now(UTC)],
        )
        audit.log(store, who.user, "review.contest", f"flag:{flag_id}",
                  {"from": cur.review_status, "reason": reason, "via": via}, con=tx)  # fmt: skip
    st = state(store, flag_id)
    st.via, st.change = via, "contest"
    _notify(store, st)
    return st


@dataclass(slots=True)
class QueueEntry:
    flag_id: int
    interaction_id: int
    kind: str
    rule: str | None
    severity: int
    summary: str | None
    review_status: str
    review_rev: int
    contested: bool
    contest_reason: str | None
    confidence: float | None
    created_at: datetime | None
    channel: str
    agent: str | None
    started_at: datetime | None


def queue(store: Store, *, limit: int = 200, kind: str | None = None) -> list[QueueEntry]:
    """Open flags that count: contested ones first, then low-confidence high-severity ones
    (confidence routing), then most severe, then oldest."""
    sql = (
        "SELECT f.id, f.interaction_id, f.kind, f.rule, f.severity, f.summary, f.review_status, "
        f"coalesce(f.review_rev, 0), {contested('f')}, {contest_reason('f')}, f.confidence, "
        "f.created_at, i.channel, i.agent, i.started_at FROM flags f "
        "JOIN interactions i ON i.id = f.interaction_id "
        f"WHERE {counts('f')} AND f.review_status = 'open'"
    )
    params: list[Any] = []
    if kind:
        sql += " AND f.kind = ?"
        params.append(kind)
    sql += f" ORDER BY {queue_order()}, f.severity DESC, f.created_at, f.id LIMIT {int(limit)}"
    return [QueueEntry(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), r[5], r[6], int(r[7]), bool(r[8]),
                       r[9], r[10], r[11], r[12], r[13], r[14])
            for r in store.cursor().execute(sql, params).fetchall()]  # fmt: skip


def alert_messages(store: Store, flag_id: int) -> list[tuple[str, str]]:
    """(channel, message ts) of the Slack alerts posted for a flag (follow-ups go there)."""
    rows = store.cursor().execute(
        "SELECT channel, message_ts FROM alerts_sent WHERE flag_id = ? AND message_ts IS NOT NULL "
        "AND message_ts <> '' AND message_ts NOT LIKE 'failed:%'", [int(flag_id)]
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def revisions(store: Store, flag_ids: list[int]) -> dict[int, tuple[str, int]]:
    """flag id -> (review status, revision): what a surface shows, to send back with a review."""
    if not flag_ids:
        return {}
    rows = store.cursor().execute(
        "SELECT id, review_status, coalesce(review_rev, 0) FROM flags "
        "WHERE id IN (SELECT unnest(?::BIGINT[]))", [[int(i) for i in flag_ids]]
    ).fetchall()
    return {int(r[0]): (r[1], int(r[2])) for r in rows}


def history(store: Store, flag_id: int) -> list[dict[str, Any]]:
    """The audit trail of one flag's reviews and contests, oldest first."""
    rows = store.cursor().execute(
        "SELECT at_time, actor, action, detail FROM audit_log WHERE target = ? "
        "AND action LIKE 'review.%' ORDER BY id", [f"flag:{int(flag_id)}"]
    ).fetchall()
    return [{"at": r[0], "actor": r[1], "action": r[2], "detail": json.loads(r[3]) if r[3] else {}}
            for r in rows]  # fmt: skip


# -- an agent's own work ------------------------------------------------------------------------


def agent_flags(store: Store, agent: str, start: datetime, end: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """One agent's active flags on interactions in [start, end), with the *redacted* text
    of the first evidence turn (None when analysis has not redacted it: never the raw
    text). Dismissed ones are included, marked, so an agent sees the verdict."""
    rows = store.cursor().execute(
        f"SELECT f.id, f.interaction_id, f.kind, f.severity, f.review_status, {contested('f')}, "
        "f.review_reason, i.channel, i.started_at, "
        "TRY_CAST(json_extract(f.evidence, '$[0].seq') AS INTEGER) AS seq "
        "FROM flags f JOIN interactions i ON i.id = f.interaction_id "
        "WHERE f.active AND lower(i.agent) = lower(?) AND i.started_at >= ? AND i.started_at < ? "
        "ORDER BY f.severity DESC, i.started_at DESC, f.id LIMIT ?",
        [agent, start, end, int(limit)],
    ).fetchall()
    out = []
    cur = store.cursor()
    for r in rows:
        ev = None
        if r[9] is not None:
            got = cur.execute(
                "SELECT redacted_text FROM turn_scores WHERE interaction_id = ? AND seq = ?", [r[1], r[9]]
            ).fetchone()
            ev = got[0] if got else None
        out.append({"flag_id": int(r[0]), "interaction_id": int(r[1]), "kind": r[2], "severity": int(r[3]),
                    "review_status": r[4], "contested": bool(r[5]), "review_reason": r[6],
                    "channel": r[7], "started_at": r[8], "evidence": ev})  # fmt: skip
    return out


def agent_queue(store: Store, agent: str, start: datetime, end: datetime) -> str | None:
    """The queue an agent worked most in [start, end) (for their queue's best phrases)."""
    row = store.cursor().execute(
        "SELECT queue FROM interactions WHERE lower(agent) = lower(?) AND started_at >= ? "
        "AND started_at < ? AND queue IS NOT NULL GROUP BY queue ORDER BY count(*) DESC, queue LIMIT 1",
        [agent, start, end],
    ).fetchone()
    return row[0] if row else None


# -- rule quality from reviews -----------------------------------------------------------------


@dataclass(slots=True)
class RuleQuality:
    """Reviews of one rule (or flag kind) over a period: what the verdicts imply."""

    kind: str
    rule: str | None
    confirmed: int
    dismissed: int
    open: int

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def precision(self) -> float | None:
        """Share of reviewed flags that reviewers confirmed (None before any review)."""
        return self.confirmed / self.reviewed if self.reviewed else None

    @property
    def name(self) -> str:
        return self.kind if not self.rule or self.kind.endswith(self.rule) else f"{self.kind} ({self.rule})"

    def describe(self) -> str:
        """'rule:disclosure: dismissed in 12 of 40 reviews (precision 70%), 5 awaiting review'."""
        if not self.reviewed:
            return f"{self.name}: no reviews yet, {self.open} awaiting review"
        return (f"{self.name}: dismissed in {self.dismissed} of {self.reviewed} reviews "
                f"(precision {self.precision:.0%}), {self.open} awaiting review")


def rule_quality(store: Store, start: datetime | None = None, end: datetime | None = None,
                 like: str | None = None) -> list[RuleQuality]:  # fmt: skip
    """Per flag kind and rule: confirmed, dismissed and open counts of active flags raised
    in [start, end) (by `created_at`); `like` keeps kinds or rules containing it."""
    sql = ("SELECT kind, rule, count(*) FILTER (review_status = 'confirmed'), "
           "count(*) FILTER (review_status = 'dismissed'), count(*) FILTER (review_status = 'open') "
           "FROM flags WHERE active")  # fmt: skip
    params: list[Any] = []
    if start is not None:
        sql += " AND created_at >= ?"
        params.append(start)
    if end is not None:
        sql += " AND created_at < ?"
        params.append(end)
    if like:
        sql += " AND (kind ILIKE ? OR coalesce(rule, '') ILIKE ?)"
        params += [f"%{like}%", f"%{like}%"]
    sql += " GROUP BY kind, rule ORDER BY count(*) FILTER (review_status = 'dismissed') DESC, kind, rule"
    return [RuleQuality(r[0], r[1], int(r[2]), int(r[3]), int(r[4]))
            for r in store.cursor().execute(sql, params).fetchall()]  # fmt: skip


def labelled_examples(store: Store, since: datetime | None = None) -> list[dict[str, Any]]:
    """Reviewed flags as labelled examples (label 'confirmed' / 'dismissed' with the
    reviewer's reason) for `convoscope export-reviews`: the rule, the redacted text of each
    evidence turn (with its speaker and times, so `bench/verdicts_rules.py --reviews` can
    replay it through the current rules) and where the match was. Only redacted text
    leaves the store."""
    sql = ("SELECT f.id, f.interaction_id, f.kind, f.rule, f.severity, f.review_status, f.review_reason, "
           "f.reviewer, f.reviewed_at, f.evidence, i.channel FROM flags f "
           "JOIN interactions i ON i.id = f.interaction_id "
           "WHERE f.review_status IN ('confirmed', 'dismissed')")  # fmt: skip
    params: list[Any] = []
    if since is not None:
        sql += " AND f.reviewed_at >= ?"
        params.append(since)
    sql += " ORDER BY f.reviewed_at, f.id"
    cur = store.cursor()
    out = []
    for r in cur.execute(sql, params).fetchall():
        evidence = json.loads(r[9]) if r[9] else []
        seqs = sorted({int(e["seq"]) for e in evidence if isinstance(e, dict) and isinstance(e.get("seq"), int)})
        # the redacted text with who spoke and when: what the rules harness replays
        texts = {int(row[0]): row[1:] for row in cur.execute(
            "SELECT seq, text, speaker, start_s, end_s FROM outbound_turns "
            "WHERE interaction_id = ? AND seq IN (SELECT unnest(?::INTEGER[])) AND text IS NOT NULL",
            [r[1], seqs]).fetchall()} if seqs else {}
        out.append({
            "flag_id": int(r[0]), "interaction_id": int(r[1]), "kind": r[2], "rule": r[3],
            "severity": int(r[4]), "label": r[5], "reason": r[6], "reviewer": r[7],
            "reviewed_at": r[8].isoformat() if r[8] else None, "channel": r[10],
            "evidence": [{"seq": s, "text": texts[s][0] if s in texts else None,
                          "speaker": texts[s][1] if s in texts else None,
                          "start": texts[s][2] if s in texts else None,
                          "end": texts[s][3] if s in texts else None} for s in seqs],
            "spans": [{k: e.get(k) for k in ("seq", "char_start", "char_end", "start", "end", "condition")}
                      for e in evidence if isinstance(e, dict)],
        })  # fmt: skip
    return out
