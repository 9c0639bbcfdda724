"""Idempotent upserts: same key + same hash is a no-op, a new hash is a new version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import Store, quarantine, sync
from store import flags as flag_q
from store import interactions as iq
from store.records import Flag, Interaction, QuarantineItem, Turn, Word


@pytest.fixture()
def store(store_target) -> Store:  # type: ignore[no-untyped-def]
    s = Store.open(store_target("t"))
    yield s
    s.close()


def _chat(ext: str, text: str, source: str = "zendesk") -> Interaction:
    return Interaction(
        channel="chat", source=source, external_id=ext, content_hash=f"h:{text}",
        started_at=datetime(2026, 11, 20, 9, tzinfo=UTC), customer="c@example.com",
        turns=[Turn(0, "customer", text), Turn(1, "agent", "thanks, looking into it")],
    )


def test_upsert_is_idempotent(store: Store) -> None:
    first = iq.upsert(store, [_chat("1", "hello"), _chat("2", "refund please")])
    again = iq.upsert(store, [_chat("1", "hello"), _chat("2", "refund please")])
    assert len(first.inserted) == 2
    assert again.inserted == [] and sorted(again.unchanged) == sorted(first.inserted)
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 2
    assert store.conn.execute("SELECT count(*) FROM turns").fetchone()[0] == 4


def test_changed_content_is_a_new_version_not_a_new_row(store: Store) -> None:
    (iid,) = iq.upsert(store, [_chat("7", "hello")]).inserted
    iq.set_status(store, iid, "analysed")
    res = iq.upsert(store, [_chat("7", "hello, any news?")])
    assert res.updated == [iid]
    got = iq.get(store, iid)
    assert got is not None
    assert got.version == 2 and got.status == "new"
    assert [t.text for t in got.turns] == ["hello, any news?", "thanks, looking into it"]


def test_same_external_id_in_two_sources_is_two_interactions(store: Store) -> None:
    res = iq.upsert(store, [_chat("1", "a", source="zendesk"), _chat("1", "a", source="front")])
    assert len(res.inserted) == 2


def test_turn_words_round_trip(store: Store) -> None:
    it = Interaction(
        channel="call", source="dropfolder", external_id="abc", content_hash="abc",
        turns=[Turn(0, "agent", "hello there", start=0.5, end=1.5,
                    words=[Word("hello", 0.5, 0.9, 0.98), Word("there", 1.0, 1.5, 0.9)])],
    )
    (iid,) = iq.upsert(store, [it]).inserted
    got = iq.get(store, iid)
    assert got is not None
    assert got.turns[0].words == [Word("hello", 0.5, 0.9, 0.98), Word("there", 1.0, 1.5, 0.9)]


def test_failed_retries_respect_attempts_and_backoff(store: Store) -> None:
    (iid,) = iq.upsert(store, [_chat("9", "x")]).inserted
    later = datetime(2030, 1, 1, tzinfo=UTC)
    iq.set_status(store, iid, "failed", "boom", next_attempt_at=later, count_attempt=True)
    assert iq.ids_with_status(store, ["failed"], max_attempts=3) == []
    assert iq.ids_with_status(store, ["failed"], max_attempts=3, now=later) == [iid]
    assert iq.ids_with_status(store, ["failed"], max_attempts=1, now=later) == []


def test_rescore_keeps_human_review(store: Store) -> None:
    (iid,) = iq.upsert(store, [_chat("5", "I want to cancel my account")]).inserted
    new = flag_q.replace_for_interaction(store, iid, [Flag(iid, "churn_risk", 3, summary="churn")])
    flag_q.set_review(store, new[0], "confirmed", "U123", "real churn", via="test")
    again = flag_q.replace_for_interaction(store, iid, [Flag(iid, "churn_risk", 2, summary="churn v2")])
    assert again == []
    flags = flag_q.for_interaction(store, iid)
    assert len(flags) == 1
    assert flags[0].review_status == "confirmed" and flags[0].severity == 2
    flag_q.replace_for_interaction(store, iid, [])
    assert flag_q.for_interaction(store, iid) == []
    kept = flag_q.get(store, new[0])
    assert kept is not None and kept.review_status == "confirmed"
    audit = store.conn.execute("SELECT actor, action, target FROM audit_log").fetchall()
    assert audit == [("U123", "review.confirmed", f"flag:{new[0]}")]


def test_quarantine_counts_attempts(store: Store) -> None:
    item = QuarantineItem("dropfolder", "sha:1", "not audio", raw_ref="/x/y.wav")
    assert quarantine.record(store, item) == 1
    assert quarantine.record(store, item) == 2
    assert quarantine.should_skip(store, "dropfolder", "sha:1", max_attempts=2)
    assert not quarantine.should_skip(store, "dropfolder", "sha:2", max_attempts=2)


def test_cursor_saved_with_data_or_not_at_all(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        iq.upsert(store, [_chat("11", "x")], con=tx)
        sync.save_cursor(store, "zendesk", {"after": "abc"}, con=tx)
        raise RuntimeError("crash before commit")
    assert sync.get_cursor(store, "zendesk") is None
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 0


def test_rescore_does_not_retire_flags_owned_by_the_patterns_job(store: Store) -> None:
    (iid,) = iq.upsert(store, [_chat("6", "refund again")]).inserted
    store.conn.execute(  # ids come from store.next_ids on both backends (the lake has no sequences)
        "INSERT INTO flags (id, interaction_id, kind, dedupe_key, severity) VALUES (?, ?, 'repeat_contact', 'r', 2)",
        [*store.next_ids("flags"), iid],
    )
    flag_q.replace_for_interaction(store, iid, [Flag(iid, "churn_risk", 3)])
    flag_q.replace_for_interaction(store, iid, [])
    kinds = [f.kind for f in flag_q.for_interaction(store, iid)]
    assert kinds == ["repeat_contact"]
