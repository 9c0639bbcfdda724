"""Confidence from evidence, and routing: low-confidence high-severity flags go first in the
review queue and are labelled in alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis import confidence
from bot.alerts import Alerter
from bot.options import AlertOptions
from store import Store, browse, reviews
from store import alerts as store_alerts
from store import flags as store_flags
from store import interactions as store_interactions
from store.records import Flag, Interaction, Turn, Word, content_hash

WORDS = [Word("you", 0.0, 0.3, 0.95), Word("can", 0.3, 0.6, 0.9), Word("cancel", 0.6, 1.0, 0.35),
         Word("anytime", 1.0, 1.5, 0.45)]  # fmt: skip
TURNS = [
    Turn(seq=0, speaker="agent", text="you can cancel anytime", start=0.0, end=1.5, words=WORDS),
    Turn(seq=1, speaker="customer", text="ok", start=2.0, end=2.3, words=[Word("ok", 2.0, 2.3, 0.99)]),
]


def test_parts_come_from_the_evidence() -> None:
    # a fuzzy match (82) over two badly heard words (0.35, 0.45)
    f = Flag(interaction_id=1, kind="prohibited_phrase", severity=3,
             evidence=[{"seq": 0, "start": 0.6, "end": 1.5, "matched": "cancel anytime", "score": 82.0}])
    p = confidence.parts(f, TURNS)
    assert p == {"asr": pytest.approx(0.40), "match": pytest.approx(0.82)}
    assert confidence.confidence(f, TURNS) == pytest.approx(0.328, abs=1e-3)
    # an exact match on clearly heard words is sure
    sure = Flag(interaction_id=1, kind="prohibited_phrase", severity=3,
                evidence=[{"seq": 0, "start": 0.0, "end": 0.6, "matched": "you can", "score": 100.0}])
    assert confidence.confidence(sure, TURNS) == pytest.approx(0.925)
    # "never said": how well the agent was heard at all
    absent = Flag(interaction_id=1, kind="compliance_missing", severity=4, evidence=[{"absent": "disclosure"}])
    assert confidence.parts(absent, TURNS) == {"asr": pytest.approx((0.95 + 0.9 + 0.35 + 0.45) / 4)}
    # a chat: no words, only the match; the anger model's probability
    chat = [Turn(seq=0, speaker="agent", text="you can cancel anytime")]
    assert confidence.parts(f, chat) == {"match": pytest.approx(0.82)}
    angry = Flag(interaction_id=1, kind="angry_customer", severity=3,
                 evidence=[{"seq": 1, "probability": 0.97}, {"seq": 1, "probability": 0.7}])
    assert confidence.parts(angry, chat) == {"model": pytest.approx(0.97)}
    assert confidence.confidence(Flag(interaction_id=1, kind="trend", severity=2), TURNS) is None
    confidence.annotate([f], TURNS)
    assert f.confidence == pytest.approx(0.328, abs=1e-3)
    assert f.evidence[0]["confidence_parts"] == {"asr": 0.4, "match": 0.82}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "c.duckdb")
    yield s  # type: ignore[misc]
    s.close()


def _call_with_flags(store: Store, external_id: str, *, churn: bool) -> list[int]:
    """A stored call with a sure disclosure flag, an unsure prohibited phrase (0.925 and
    0.328) and, with `churn`, an unsure low-severity churn flag; returns the flag ids."""
    it = Interaction(channel="call", source="t", external_id=external_id, content_hash=content_hash(external_id),
                     started_at=datetime(2026, 3, 2, 10, tzinfo=UTC), agent="Kim", status="analysed",
                     turns=TURNS)  # fmt: skip
    store_interactions.upsert(store, [it])
    assert it.id is not None
    flags = [
        Flag(interaction_id=it.id, kind="compliance_missing", rule="disclosure", severity=4,
             evidence=[{"seq": 0, "start": 0.0, "end": 0.6, "matched": "you can", "score": 100.0}]),
        Flag(interaction_id=it.id, kind="prohibited_phrase", rule="cancel", severity=3,
             evidence=[{"seq": 0, "start": 0.6, "end": 1.5, "matched": "cancel anytime", "score": 82.0}]),
    ]  # fmt: skip
    if churn:
        flags.append(Flag(interaction_id=it.id, kind="churn_risk", rule="churn", severity=2,
                          evidence=[{"seq": 0, "start": 0.6, "end": 1.5, "matched": "cancel", "score": 70.0}]))
    confidence.annotate(flags, TURNS)
    return store_flags.replace_for_interaction(store, it.id, flags)


def test_low_confidence_high_severity_goes_first_and_is_labelled(store: Store) -> None:
    sure, unsure, low_sev = _call_with_flags(store, "c1", churn=True)
    assert store_flags.get(store, unsure).confidence == pytest.approx(0.328, abs=1e-3)  # type: ignore[union-attr]
    # the unsure high-severity flag is reviewed first, ahead of the surer critical one;
    # a low-severity unsure one is not routed
    assert [q.flag_id for q in reviews.queue(store)] == [unsure, sure, low_sev]
    assert [q.flag_id for q in browse.review_queue(store)] == [unsure, sure, low_sev]
    assert [q.flag_id for q in browse.review_queue(store, order="oldest")] == [sure, unsure, low_sev]
    pending = {f["id"]: f for f in store_alerts.pending_flags(store, 1, datetime(2000, 1, 1, tzinfo=UTC))}
    alerter = Alerter(AlertOptions(default_channel="C1"), None, ZoneInfo("UTC"))
    text, blocks = alerter.render_one(pending[unsure])
    assert "low confidence (33%)" in text and "low confidence" in str(blocks)
    text, _ = alerter.render_one(pending[sure])
    assert "low confidence" not in text
    text, _ = alerter.render_one(pending[low_sev])
    assert "low confidence" not in text


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_routing_threshold_comes_from_config(store: Store, tmp_path: Path) -> None:
    """`[analysis] low_confidence_below` moves the line for the queue order and the alert label."""
    from convoscope.context import Context

    sure, unsure = _call_with_flags(store, "c2", churn=False)  # 0.925 and 0.328
    pending = {f["id"]: f for f in store_alerts.pending_flags(store, 1, datetime(2000, 1, 1, tzinfo=UTC))}
    alerter = Alerter(AlertOptions(default_channel="C1"), None, ZoneInfo("UTC"))
    cfg = tmp_path / "c.toml"
    try:
        cfg.write_text("[analysis]\nlow_confidence_below = 0.3\n")
        assert Context(str(cfg)).config.analysis.low_confidence_below == 0.3
        assert reviews.low_confidence_threshold() == 0.3
        # 0.328 is above the configured line: not routed, not labelled
        assert [q.flag_id for q in reviews.queue(store)] == [sure, unsure]
        assert [q.flag_id for q in browse.review_queue(store)] == [sure, unsure]
        assert "low confidence" not in alerter.render_one(pending[unsure])[0]
        cfg.write_text("[analysis]\nlow_confidence_below = 0.95\n")
        Context(str(cfg)).config  # noqa: B018 - loading the config applies it
        # now both are below it: the sure one is labelled too
        assert "low confidence (92%)" in alerter.render_one(pending[sure])[0]
        assert [q.flag_id for q in browse.review_queue(store)] == [sure, unsure]  # both routed: most severe first
        cfg.write_text("[analysis]\nlow_confidence_below = 1.5\n")
        with pytest.raises(Exception, match="low_confidence_below"):
            Context(str(cfg)).config  # noqa: B018
    finally:
        reviews.set_low_confidence(reviews.LOW_CONFIDENCE)
    assert [q.flag_id for q in reviews.queue(store)] == [unsure, sure]
