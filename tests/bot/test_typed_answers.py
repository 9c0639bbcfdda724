"""Answers that fit the question, from typed queries (bot/questions/views.py): ranked
tables, breakdowns, comparisons with the change, counts and lists, roles, and the one
place the interpretation line is put in front of an answer."""

from __future__ import annotations

import sys
import types
from datetime import datetime, timedelta
from typing import Any

import pytest
from botdata import Seeded
from slackhttp import TZ

from bot.questions import Engine
from store import query_views as qv
from store.db import Store
from store.permissions import pseudonym
from store.query import Compare, Match, Measure, Query, Span


def _engine(store: Store, now: datetime) -> Engine:
    return Engine(store, TZ, page_size=5, clock=lambda: now, redactor=None)


def _week(now: datetime) -> Span:
    return Span(now - timedelta(days=7), now + timedelta(minutes=1), "the last 7 days")


def test_ranking_is_a_ranked_table(store: Store, seeded: Seeded, now: datetime) -> None:
    q = Query(subject="agents", view="ranking", period=_week(now), filters=(Match("flag", ("escalation",)),),
              text="which agent has the most escalations this week")  # fmt: skip
    want = qv.aggregate(store, q)
    assert want.rows, "seeded data has escalations"
    a = _engine(store, now).answer_query(q, role="supervisor")
    assert a.intent == "ranking" and a.total == want.total
    assert [(it["agent"], it["count"]) for it in a.items] == [(r["agent"], r["count"]) for r in want.rows]
    first = want.rows[0]
    assert f"1. {first['agent']}: interactions {first['count']}" in a.text
    table = next(b for b in a.blocks if b["text"]["text"].startswith("```"))
    assert "agent" in table["text"]["text"] and f"1. {first['agent']}" in table["text"]["text"]
    # roles without agent names see pseudonyms; agents are refused
    viewer = _engine(store, now).answer_query(q, role="viewer")
    assert [it["agent"] for it in viewer.items] == [pseudonym(r["agent"]) for r in want.rows]
    assert first["agent"] not in viewer.text
    assert _engine(store, now).answer_query(q, role="agent").items == []


def test_breakdown_every_group_and_measure(store: Store, seeded: Seeded, now: datetime) -> None:
    q = Query(view="breakdown", period=_week(now), group_by=("queue",),
              measures=(Measure("average", "sentiment"), Measure("count"), Measure("rate", flag="angry")))  # fmt: skip
    a = _engine(store, now).answer_query(q, role="analyst")
    assert a.intent == "breakdown"
    got = {it["queue"]: it for it in a.items}
    assert set(got) == {"billing", "support", "sales"}
    for r in qv.aggregate(store, q).rows:
        assert got[r["queue"]]["count"] == r["count"]
        assert got[r["queue"]]["average_sentiment"] == pytest.approx(r["average_sentiment"])
        assert got[r["queue"]]["rate_angry"] == pytest.approx(r["rate_angry"])
    assert "Avg sentiment, interactions, angry rate by queue" in a.text
    assert "angry rate" in a.blocks[1]["text"]["text"]


def test_comparison_says_the_change(store: Store, seeded: Seeded, now: datetime) -> None:
    today = Span(now - timedelta(days=1), now + timedelta(minutes=1), "the last 24 hours")
    before = Span(now - timedelta(days=2), now - timedelta(days=1), "the 24 hours before")
    q = Query(view="comparison", period=today, compare_to=before, filters=(Match("channel", ("call",)),),
              measures=(Measure("count"), Measure("average", "anger")))  # fmt: skip
    a = _engine(store, now).answer_query(q, role="supervisor")
    n_now = qv.count(store, q)
    n_before = qv.count(store, Query(period=before, filters=q.filters))
    assert a.items[0] == {"measure": "count", "now": n_now, "before": n_before, "change": n_now - n_before}
    assert f"interactions: {n_now} the last 24 hours vs {n_before} the 24 hours before" in a.text
    by_queue = _engine(store, now).answer_query(
        Query(view="comparison", period=today, compare_to=before, group_by=("queue",)), role="supervisor")
    assert {it["queue"] for it in by_queue.items} == {"billing", "support", "sales"}
    assert all(it["change"] == it["now"] - it["before"] for it in by_queue.items)


def test_counts_lists_negation_and_metric_conditions(store: Store, seeded: Seeded, now: datetime) -> None:
    eng = _engine(store, now)
    week = _week(now)
    not_billing = Query(view="list", period=week, filters=(Match("queue", ("billing",), negate=True),))
    a = eng.answer_query(not_billing, role="supervisor")
    assert a.total == qv.count(store, not_billing) > 0
    assert all(it["queue"] != "billing" for it in a.items) and len(a.items) == 5 and a.pages > 1
    angry = Query(view="count", period=week, filters=(Compare("anger", ">", 0.7),))
    c = eng.answer_query(angry, role="viewer")  # counts are for every role but agents
    n = sum(1 for info in seeded.by_id.values() if info["flags"] and info["flags"][0][0] == "angry_customer")
    assert c.total == n and c.text.startswith(f"{n} interactions.")
    # a viewer asking for a list gets the count, not the rows
    v = eng.answer_query(not_billing, role="viewer")
    assert v.intent == "count" and v.total == a.total and "id" not in (v.items[0] if v.items else {})


def test_interpretation_line_is_added_in_one_place(store: Store, seeded: Seeded, now: datetime,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser side writes bot.questions.interpret; the engine puts its line in front
    of every answer (text and blocks)."""
    eng = _engine(store, now)
    plain = eng.ask("angry calls today")
    real_line, body = plain.text.split("\n", 1)
    assert real_line.startswith("Angry calls · today (")
    seen: list[Any] = []
    mod = types.ModuleType("bot.questions.interpret")

    def interpret(q: Query, now: datetime | None = None) -> str:
        seen.append(q)
        return "Angry calls · today"

    mod.interpret = interpret  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.questions.interpret", mod)
    got = eng.ask("angry calls today")
    assert got.text == "Angry calls · today\n" + body
    assert got.blocks[0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "Angry calls · today"}]}
    assert isinstance(seen[0], Query) and seen[0].matches("flag")[0].values == ("angry",)
    typed = eng.answer_query(Query(view="count", period=_week(now)), role="supervisor")
    assert not typed.text.startswith("Angry")  # answer_query alone adds nothing: ask/API do
    assert eng.ask("help").text == plain_help(eng)


def plain_help(eng: Engine) -> str:
    return eng.help("help", "Here is what I can answer.").text


def test_repeat_contacts_without_the_patterns_job(store: Store, seeded: Seeded, now: datetime) -> None:
    a = _engine(store, now).answer_query(Query(view="repeat_contacts", period=_week(now)), role="supervisor")
    assert a.total == 0 and "No repeat contacts" in a.text
    refused = _engine(store, now).answer_query(Query(view="repeat_contacts", period=_week(now)), role="viewer")
    assert "Sorry" in refused.text


def test_pattern_views_follow_the_typed_filters(store: Store, seeded: Seeded, now: datetime) -> None:
    """"top topics of angry calls": the pattern answers read the typed query's filters."""
    eng = _engine(store, now)
    week = _week(now)
    angry = (Match("flag", ("angry",)),)
    top = eng.answer_query(Query(view="top_issues", period=week, filters=angry), role="supervisor")
    want = qv.top_topics(store, Query(period=week, filters=angry), limit=5)
    assert top.intent == "topics" and [(it["topic"], it["count"]) for it in top.items] == want
    everything = qv.top_topics(store, Query(period=week), limit=5)
    assert sum(n for _t, n in want) < sum(n for _t, n in everything)
    rising = eng.answer_query(Query(view="rising", period=week), role="supervisor")
    assert rising.intent == "rising"
    got = qv.rising(store, Query(period=week, compare_to=Span(week.start - (week.end - week.start), week.start, "")),
                    limit=5)  # fmt: skip
    assert [it["topic"] for it in rising.items] == [r.label for r in got]
    vs = eng.answer_query(Query(view="count", period=week, compare_to=Span(week.start - timedelta(days=7),
                                                                          week.start, "the week before")),
                          role="viewer")  # fmt: skip
    assert vs.intent == "comparison" and vs.items[0]["before"] == 0 and vs.items[0]["now"] == len(seeded.ids)


def test_negative_is_a_sentiment_condition_not_a_flag(store: Store, seeded: Seeded, now: datetime) -> None:
    """No flag is called "negative": the regex parser's word reaches the store as a
    sentiment condition (bot/questions/legacy.py), so it finds the negative calls."""
    a = _engine(store, now).ask("negative calls in the last 7 days")
    want = qv.count(store, Query(period=_week(now), filters=(Match("channel", ("call",)),
                                                             Compare("sentiment", "<", -0.25))))  # fmt: skip
    assert want > 0 and a.total == want
    assert all(it["sentiment"] < -0.25 for it in a.items)
