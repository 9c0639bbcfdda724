"""Resolution verdicts (#19): the pure stage on its signals, then through the real analysis
job on a DuckDB file (stored verdict, `unresolved_issue` flag, review kept), the repeat
override by the patterns job and the follow-ups due query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis.anger import AngerOptions
from analysis.options import AnalysisOptions
from analysis.patterns import job
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.resolution import ResolutionOptions, assess
from analysis.sentiment import SentimentOptions
from analysis.topics import TopicOptions
from store import flags as flag_store
from store import interactions as istore
from store import resolution as rs
from store.db import Store
from store.patterns import RepeatRow
from store.records import Interaction, Turn, content_hash

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # a Thursday


def _it(channel: str, *turns: tuple[str, str], ext: str = "x", meta: dict | None = None,
        customer: str | None = None, start: datetime = T0) -> Interaction:  # fmt: skip
    ts = [Turn(i, s, t, sent_at=start + timedelta(minutes=i) if channel != "call" else None,
               start=float(i * 10) if channel == "call" else None) for i, (s, t) in enumerate(turns)]  # fmt: skip
    return Interaction(channel, "test", ext, content_hash(ext, [t for _s, t in turns]), started_at=start,
                       customer_key=customer, agent="1042", queue="billing", turns=ts, metadata=meta or {},
                       status="transcribed" if channel == "call" else "new")  # fmt: skip


@pytest.mark.parametrize(
    ("closing", "verdict"),
    [
        ("Okay, that fixed it, thanks!", "resolved"),
        ("It's still not working.", "unresolved"),
        ("That didn't help, I'll have to call back.", "unresolved"),
        ("That didn't fix it.", "unresolved"),  # a negated resolved cue counts against
        ("Did that fix it? Let me look... yes, it works now.", "resolved"),  # the question is not a verdict
        ("If it still isn't working tomorrow I'll ring you, but it looks fine now.", "resolved"),
        ("Thanks, it isn't dropping any more.", "resolved"),
    ],
)
def test_closing_turns_read_in_their_clause(closing: str, verdict: str) -> None:
    it = _it("call", ("customer", "my internet keeps dropping"), ("agent", "I've reset the line."),
             ("customer", closing))  # fmt: skip
    got = assess(it)
    assert got.verdict == verdict, got.reasons


def test_commitment_makes_pending_with_due_date_in_configured_zone() -> None:
    it = _it("call", ("customer", "the router is dead"), ("agent", "A technician will visit on Friday."),
             ("customer", "Okay."))  # fmt: skip
    got = assess(it, ResolutionOptions(timezone="Europe/Berlin"))
    assert got.verdict == "pending" and "technician will visit" in (got.commitment or "")
    assert got.follow_up_due is not None
    due = got.follow_up_due.astimezone(ZoneInfo("Europe/Berlin"))
    assert due.date().isoformat() == "2026-12-04" and due.weekday() == 4
    tomorrow = assess(_it("call", ("customer", "no signal"), ("agent", "I'll call you back tomorrow."),
                          ("customer", "fine")))  # fmt: skip
    assert tomorrow.verdict == "pending"
    assert tomorrow.follow_up_due is not None and tomorrow.follow_up_due.date() == (T0 + timedelta(days=1)).date()


def test_customer_reply_after_agent_answer_and_vendor_status() -> None:
    waiting = assess(_it("email", ("customer", "Where is my refund?"), ("agent", "It was sent yesterday."),
                         ("customer", "My bank shows nothing, which account did you send it to?")))  # fmt: skip
    assert waiting.verdict == "unresolved" and "replied after" in " ".join(waiting.reasons)
    thanked = assess(_it("chat", ("customer", "Where is my refund?"), ("agent", "It was sent."),
                         ("customer", "thanks")))  # fmt: skip
    assert thanked.verdict == "resolved"
    solved = assess(_it("email", ("customer", "Where is my refund?"), ("agent", "It was sent."),
                        meta={"ticket_status": "solved"}))  # fmt: skip
    assert solved.verdict == "resolved" and solved.vendor_status == "solved"
    snoozed = assess(_it("chat", ("customer", "Where is my refund?"), ("agent", "Checking."),
                         meta={"state": "snoozed"}))  # fmt: skip
    assert snoozed.verdict == "pending"


def _analyzer() -> Analyzer:
    return Analyzer(
        AnalysisOptions(transcribe=False, backoff_seconds=0.0), sentiment=SentimentOptions(backend="vader"),
        anger=AngerOptions(), topics=TopicOptions(taxonomy=[]), rules=[], redaction=RedactionOptions(),
        cache_dir="/nonexistent-cache", resolution=ResolutionOptions(),
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "t.duckdb")
    yield s
    s.close()


def _id(store: Store, ext: str) -> int:
    return istore.existing_hashes(store, "test", [ext])[ext][0]


def test_pipeline_stores_verdict_and_flag_and_keeps_review(store: Store) -> None:
    istore.upsert(store, [
        _it("chat", ("customer", "I can't log in"), ("agent", "I've sent a reset link."),
            ("customer", "I still can't log in, this is useless."), ext="bad", customer="c1"),
        _it("chat", ("customer", "I can't log in"), ("agent", "I've sent a reset link."),
            ("customer", "Great, I can log in now. Thanks!"), ext="good", customer="c2"),
    ])  # fmt: skip
    _analyzer().run(store)
    bad, good = _id(store, "bad"), _id(store, "good")
    assert rs.get(store, bad).verdict == "unresolved"  # type: ignore[union-attr]
    assert rs.get(store, good).verdict == "resolved"  # type: ignore[union-attr]
    flags = [f for f in flag_store.for_interaction(store, bad) if f.kind == "unresolved_issue"]
    assert len(flags) == 1 and flags[0].confidence is not None and flags[0].confidence >= 0.6
    assert "still can't" in flags[0].summary  # type: ignore[operator]
    assert not [f for f in flag_store.for_interaction(store, good) if f.kind == "unresolved_issue"]
    flag_store.set_review(store, flags[0].id, "confirmed", reviewer="sup")  # type: ignore[arg-type]
    _analyzer().run(store, rescore=True)
    again = [f for f in flag_store.for_interaction(store, bad) if f.kind == "unresolved_issue"]
    assert [(f.id, f.review_status) for f in again] == [(flags[0].id, "confirmed")]


def test_repeat_contact_overrides_resolved_and_follow_ups_due(store: Store) -> None:
    istore.upsert(store, [
        _it("call", ("customer", "my router is broken"), ("agent", "Restart it please."),
            ("customer", "Okay, that fixed it, thanks!"), ext="first", customer="c9"),
        _it("call", ("customer", "the router is broken again"), ("agent", "Sorry, let me check."),
            ("customer", "ok"), ext="second", customer="c9", start=T0 + timedelta(days=1)),
        _it("call", ("customer", "no dial tone"), ("agent", "I'll call you back tomorrow."),
            ("customer", "fine"), ext="promise", customer="c5"),
    ])  # fmt: skip
    _analyzer().run(store)
    first, second, promise = _id(store, "first"), _id(store, "second"), _id(store, "promise")
    assert rs.get(store, first).verdict == "resolved"  # type: ignore[union-attr]
    rep = RepeatRow(second, first, first, "c9", "topic", "router", 24.0, 2)
    assert job.override_resolutions(store, [rep]) == 1
    assert job.override_resolutions(store, [rep]) == 0  # re-running changes nothing
    got = rs.get(store, first)
    assert got is not None and got.verdict == "unresolved" and got.analysed_verdict == "resolved"
    assert f"interaction {second}" in got.reasons[0]
    kinds = {(f.kind, f.rule) for f in flag_store.for_interaction(store, first)}
    assert ("unresolved_issue", "repeat_contact") in kinds
    day = datetime(2026, 12, 4, tzinfo=UTC)
    n, rows = rs.follow_ups_due(store, day, day + timedelta(days=1))
    assert n == 1 and rows[0].interaction_id == promise and "call you back" in (rows[0].commitment or "")
    # a later contact by the same customer takes it off the list
    istore.upsert(store, [_it("call", ("customer", "still no dial tone"), ("agent", "Checking."),
                              ext="later", customer="c5", start=T0 + timedelta(hours=30))])  # fmt: skip
    assert rs.follow_ups_due(store, day, day + timedelta(days=1))[0] == 0
    total, resolved, judged = rs.first_contact_resolution(store, T0 - timedelta(days=1), T0 + timedelta(days=3))
    # first: overridden; promise: pending; second (no repeat_contacts row without the patterns
    # job, so a "first contact" here) ends with "ok" after the agent's answer: resolved
    assert (total, judged, resolved) == (4, 3, 1)
