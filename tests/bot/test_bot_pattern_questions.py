"""Pattern questions (issue 5 through the question engine): traits of low-satisfaction
interactions and the phrases of agents whose interactions end well."""

from __future__ import annotations

from datetime import UTC, datetime

from slackhttp import TZ

from bot.questions import Engine
from store import Store
from store import patterns as sp


def _seed(store: Store) -> None:
    sp.save_traits(store, [
        sp.TraitRow("all", "topic", "refund", "odds_ratio", 3.2, 1.5, 6.8, 0.6, 0.2, 40, 60, 1),
        sp.TraitRow("all", "metric", "non_talk_pct", "cohen_d", 0.9, 0.4, 1.4, 18.0, 6.0, 40, 60, 1),
        sp.TraitRow("all", "phrase", "still not working", "log_odds_z", 4.1, None, None, None, None, 40, 60, 1),
        sp.TraitRow("queue:billing", "topic", "billing", "odds_ratio", 2.0, 1.1, 3.9, 0.5, 0.3, 10, 12, 1),
    ])
    sp.save_phrases(store, [
        sp.PhraseRow("topic:billing", "let me fix that for you", 3.4, 0.2, 18, 2, 20, 20, 1),
        sp.PhraseRow("topic:billing", "i have credited", 2.5, 0.1, 12, 3, 20, 20, 2),
        sp.PhraseRow("all", "happy to help", 2.9, 0.1, 50, 9, 80, 70, 1),
    ])


def _engine(store: Store) -> Engine:
    return Engine(store, TZ, clock=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))


def test_low_satisfaction_traits(store: Store) -> None:
    _seed(store)
    a = _engine(store).ask("what do low-satisfaction calls have in common?")
    assert a.intent == "traits"
    assert [it["feature"] for it in a.items] == ["non_talk_pct", "still not working", "refund"]
    assert "40 ending negative vs 60 ending positive" in a.text
    per_queue = _engine(store).ask("traits of low satisfaction interactions in billing")
    assert [it["feature"] for it in per_queue.items] == ["billing"]


def test_best_phrases_for_a_topic_and_overall(store: Store) -> None:
    _seed(store)
    a = _engine(store).ask("best phrases for billing")
    assert a.intent == "phrases"
    assert [it["phrase"] for it in a.items] == ["let me fix that for you", "i have credited"]
    overall = _engine(store).ask("what do the best agents say?")
    assert [it["phrase"] for it in overall.items] == ["happy to help"]


def test_pattern_questions_before_the_job_ran_say_so(store: Store) -> None:
    a = _engine(store).ask("best phrases for billing")
    assert a.items == [] and "computed yet" in a.text
    b = _engine(store).ask("what do low-satisfaction chats have in common?")
    assert b.items == [] and "computed yet" in b.text


def test_traits_answer_shows_the_unresolved_verdict(store: Store) -> None:
    _seed(store)
    sp.save_traits(store, [
        sp.TraitRow("all", "resolution", "unresolved", "odds_ratio", 5.5, 2.0, 15.0, 0.8, 0.13, 40, 60, 1),
    ])
    a = _engine(store).ask("what do low-satisfaction calls have in common?")
    assert {"kind": "resolution", "feature": "unresolved"}.items() <= next(
        it for it in a.items if it["kind"] == "resolution").items()
    assert "unresolved (odds_ratio +5.50)" in a.text
    assert any("*Resolution*: unresolved" in str(b) for b in a.blocks)
