"""The question engine: parsing (intents, filters, time in the configured zone) and answers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slackhttp import TZ

from bot.questions import Engine, parse
from bot.questions.timeexpr import parse_period
from store.db import Store
from store.entities import EntityValues
from store.query import Match, Query

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 25 March 2026, 10:00 in Berlin (CET, UTC+1); DST starts Sunday 29 March.
WED = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)


def _p(text: str, now: datetime = WED) -> tuple[datetime, datetime, str]:
    got = parse_period(text, BERLIN, now)
    assert got is not None, text
    return got[0].start, got[0].end, got[0].label


def _local(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("calls today", _local(2026, 3, 25), WED),
        ("yesterday", _local(2026, 3, 24), _local(2026, 3, 25)),
        ("this week", _local(2026, 3, 23), WED),
        ("last week", _local(2026, 3, 16), _local(2026, 3, 23)),
        ("since Monday", _local(2026, 3, 23), WED),
        ("since monday", _local(2026, 3, 23), WED),
        ("since Wednesday", _local(2026, 3, 25), WED),
        ("on Friday", _local(2026, 3, 20), _local(2026, 3, 21)),
        ("in the last 7 days", _local(2026, 3, 19), WED),
        ("past two weeks", _local(2026, 3, 12), WED),
        ("this month", _local(2026, 3, 1), WED),
        ("since 2026-03-10", _local(2026, 3, 10), WED),
        ("since March 3", _local(2026, 3, 3), WED),
    ],
)
def test_time_expressions(text: str, start: datetime, end: datetime) -> None:
    got_start, got_end, _label = _p(text)
    assert (got_start, got_end) == (start, end)


def test_days_are_local_days_across_dst() -> None:
    sunday_noon = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)  # the 23-hour day
    today = parse_period("today", BERLIN, sunday_noon)[0]  # type: ignore[index]
    assert today.start.astimezone(UTC) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert today.end == sunday_noon  # so far: nothing later exists
    assert today.until is not None and today.until.astimezone(UTC) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert today.until.astimezone(UTC) - today.start.astimezone(UTC) == timedelta(hours=23)
    # Just after midnight UTC it is already "today" in Tokyo, still "yesterday" in New York.
    t = datetime(2026, 6, 1, 0, 30, tzinfo=UTC)
    assert parse_period("today", ZoneInfo("Asia/Tokyo"), t)[0].start.date() == date(2026, 6, 1)  # type: ignore[index]
    assert parse_period("today", ZoneInfo("America/New_York"), t)[0].start.date() == date(2026, 5, 31)  # type: ignore[index]


VALUES = EntityValues(agents=("alice", "Alex Novak", "1042"), queues=("billing", "support"),
                      topics=("refund", "cancellation"))


def _facts(q: Query) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for f in q.filters:
        if isinstance(f, Match):
            out |= {(f.field, v, f.negate) for v in f.values}
        else:
            out.add((f.metric, f.op, f.value, f.negate))
    return out


@pytest.mark.parametrize(
    ("question", "view", "facts"),
    [
        ("angry calls today?", "list", {("channel", "call", False), ("flag", "angry", False)}),
        ("compliance violations this week", "list", {("flag", "compliance", False)}),
        ("escalations yesterday in billing", "list", {("flag", "escalation", False), ("queue", "billing", False)}),
        ("emails about refunds since Monday", "list", {("channel", "email", False), ("topic", "refund", False)}),
        ("show call 4211", "detail", set()),
        ("how is agent 1042 doing this week?", "agent_summary", {("agent", "1042", False)}),
        ("how many chats today vs yesterday", "comparison", {("channel", "chat", False)}),
        ("top topics this week", "top_issues", set()),
        ("what are the rising issues?", "rising", set()),
        ("calls today", "list", {("channel", "call", False)}),
        ("how is agent Alex Novak doing last week?", "agent_summary", {("agent", "Alex Novak", False)}),
        ("angry chats by agent alice yesterday", "list",
         {("agent", "alice", False), ("channel", "chat", False), ("flag", "angry", False)}),
        ("calls longer than 10 minutes not in billing", "list",
         {("channel", "call", False), ("duration", ">", 600.0, False), ("queue", "billing", True)}),
        ("repeat callers this week", "repeat_contacts", set()),
        ("tell me a joke", "help", set()),
        ("", "help", set()),
    ],
)
def test_parse_questions(question: str, view: str, facts: set[tuple[Any, ...]]) -> None:
    q = parse(question, BERLIN, WED, VALUES)
    assert (q.view, _facts(q)) == (view, facts), q


def test_vs_sets_a_comparison_period() -> None:
    q = parse("how many chats today vs yesterday", BERLIN, WED)
    assert q.period is not None and q.compare_to is not None
    assert (q.period.label, q.compare_to.label) == ("today", "yesterday")
    assert q.compare_to.end == q.period.start


def test_unused_words_are_reported_not_dropped() -> None:
    q = parse("angry calls urgently from the night shift", BERLIN, WED)
    assert q.ignored == ("urgently", "night", "shift")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One seeded store shared by the read-only answer tests of this module."""
    from botdata import seed

    now = datetime.now(UTC).replace(microsecond=0)
    s = Store.open(tmp_path_factory.mktemp("q") / "q.duckdb")
    yield s, seed(s, now, days=3, per_day=8), now
    s.close()


@pytest.fixture
def seeded(world: Any) -> Any:
    return world[1]


@pytest.fixture
def now(world: Any) -> datetime:
    return world[2]


@pytest.fixture
def engine(world: Any) -> Engine:
    store, _seeded, now = world
    return Engine(store, TZ, page_size=4, clock=lambda: now, redactor=None)


def _today(seeded: Any, now: datetime) -> list[tuple[int, dict[str, Any]]]:
    day = now.astimezone(TZ).date()
    return [(i, v) for i, v in seeded.by_id.items() if v["started_at"].astimezone(TZ).date() == day]


def test_angry_calls_today_lists_exactly_those(engine: Engine, seeded: Any, now: datetime) -> None:
    a = engine.ask("angry calls today?")
    want = {i for i, v in _today(seeded, now)
            if v["channel"] == "call" and any(k == "angry_customer" for k, _ in v["flags"])}  # fmt: skip
    assert a.intent == "list" and a.total == len(want)
    assert {it["id"] for it in a.items} == want  # fewer than a page here
    assert all(any(f["kind"] == "angry_customer" for f in it["flags"]) for it in a.items)


def _in_last_3_days(seeded: Any, now: datetime) -> dict[int, dict[str, Any]]:
    first = now.astimezone(TZ).date() - timedelta(days=2)
    return {i: v for i, v in seeded.by_id.items() if v["started_at"].astimezone(TZ).date() >= first}


def test_calls_today_and_pagination(engine: Engine, seeded: Any, now: datetime) -> None:
    a = engine.ask("interactions in the last 3 days")
    want = _in_last_3_days(seeded, now)
    assert a.total == len(want) and a.pages == -(-len(want) // 4)
    assert len(a.items) == 4 and a.blocks[-1]["block_id"] == "convoscope_pager"
    page2 = engine.ask("interactions in the last 3 days", page=1)
    assert not {i["id"] for i in a.items} & {i["id"] for i in page2.items}
    calls = engine.ask("calls today")
    assert calls.total == sum(1 for _i, v in _today(seeded, now) if v["channel"] == "call")


def test_show_call_is_redacted_and_has_review_buttons(engine: Engine, seeded: Any) -> None:
    iid = next(i for i, v in seeded.by_id.items() if v["channel"] == "call" and v["flags"])
    a = engine.ask(f"show call {iid}")
    (item,) = a.items
    assert item["id"] == iid and item["flags"]
    text = json.dumps([a.text, a.items, a.blocks])
    assert "[PII]" in text and "4111" not in text
    assert [e["seq"] for e in item["excerpt"]] == [0, 1, 2]  # around the evidence turn 1
    assert any(b["type"] == "actions" for b in a.blocks)
    viewer = engine.ask(f"show call {iid}", role="viewer")
    assert "only supervisors" in viewer.text and viewer.items == []


def test_unredacted_turns_are_withheld(store: Store) -> None:
    """The store's outbound view never hands the bot an original turn: a turn analysis has
    not redacted yet is withheld, whatever redactor the engine has."""
    from botdata import add_interaction

    now = datetime.now(UTC)
    iid, _ = add_interaction(store, channel="chat", started_at=now, agent="7", queue="q", topic="x",
                             sentiment=0, anger=0, ext="raw-1",
                             texts=[("customer", "my card is 4111 1111 1111 1111", None)])  # type: ignore[list-item]  # fmt: skip
    withheld = Engine(store, TZ, clock=lambda: now, redactor=None).ask(f"show chat {iid}")
    assert "4111" not in json.dumps(withheld.to_json()) and "withheld" in withheld.text
    with_redactor = Engine(store, TZ, clock=lambda: now, redactor=lambda t: t.replace("4111", "[PII]"))
    answer = with_redactor.ask(f"show chat {iid}")
    assert "4111" not in json.dumps(answer.to_json()) and "withheld" in answer.text


def test_agent_summary_counts_and_flags(engine: Engine, seeded: Any, now: datetime) -> None:
    a = engine.ask("how is agent 1042 doing in the last 3 days?")
    mine = [v for v in _in_last_3_days(seeded, now).values() if v["agent"] == "1042"]
    (item,) = a.items
    assert item["interactions"] == len(mine)
    angry = sum(1 for v in mine for k, _ in v["flags"] if k == "angry_customer")
    assert {f["kind"]: f["count"] for f in item["flags"]}.get("angry_customer", 0) == angry
    nobody = engine.ask("how is agent 9999 doing this week?")
    assert "no interactions" in nobody.text


def test_counts_today_vs_yesterday(engine: Engine, seeded: Any, now: datetime) -> None:
    a = engine.ask("how many chats today vs yesterday")
    today = now.astimezone(TZ).date()
    n = lambda d: sum(1 for v in seeded.by_id.values() if v["channel"] == "chat"  # noqa: E731
                      and v["started_at"].astimezone(TZ).date() == d)  # fmt: skip
    assert [(it["now"], it["before"]) for it in a.items] == [(n(today), n(today - timedelta(days=1)))]
    assert " vs " in a.text


def test_topics_rising_and_help(engine: Engine) -> None:
    top = engine.ask("top topics in the last 3 days")
    assert top.intent == "topics" and top.items and top.items[0]["count"] >= top.items[-1]["count"]
    rising = engine.ask("rising issues today")
    assert rising.intent == "rising"
    for nonsense in ("asdf qwerty", "show", "🙂", "   "):
        h = engine.ask(nonsense)
        assert h.intent == "help" and "angry calls today?" in h.text
    assert engine.ask("help").text.startswith("Here is what I can answer.")
    assert engine.ask("asdf").text.startswith("I did not understand that.")


def test_viewer_sees_counts_only(engine: Engine) -> None:
    a = engine.ask("compliance violations in the last 3 days", role="viewer")
    assert [it["count"] for it in a.items] == [a.total] and "#" not in a.text
    assert set(a.items[0]) <= {"count", "by_channel"}  # counts, never a list


def test_flag_summaries_quoting_transcript_words_are_redacted(store: Store) -> None:
    from botdata import add_interaction

    from bot.alerts import Alerter
    from bot.options import AlertOptions
    from store import flags as store_flags
    from store.records import Flag

    now = datetime.now(UTC)
    iid, _ = add_interaction(store, channel="call", started_at=now, agent="7", queue="q", topic="x",
                             sentiment=0, anger=0, ext="pii-summary")  # fmt: skip
    summary = 'Card number read out ("4111 1111 1111 1111", turn 1)'
    store_flags.replace_for_interaction(
        store, iid, [Flag(interaction_id=iid, kind="rule:card", severity=4, summary=summary)]
    )
    shown = Engine(store, TZ, clock=lambda: now).ask(f"show call {iid}")
    assert "4111" not in json.dumps([shown.text, shown.items, shown.blocks])
    assert "Card number read out" in shown.text
    text, blocks = Alerter(AlertOptions(), None, TZ).render_one(
        {"id": 1, "interaction_id": iid, "kind": "rule:card", "severity": 4, "summary": summary,
         "channel": "call", "agent": "7", "queue": "q", "started_at": now}
    )  # fmt: skip
    assert "4111" not in json.dumps([text, blocks]) and "Card number read out" in text


def test_comparison_periods() -> None:
    week = parse_period("this week", BERLIN, WED)[0]  # type: ignore[index]
    prev = week.previous()
    # this week so far (to Wednesday 10:00) against the same stretch of last week
    assert (prev.start, prev.end) == (_local(2026, 3, 16), WED - timedelta(days=7))
    assert prev.label == "the same days last week"
    today = parse_period("today", BERLIN, WED)[0]  # type: ignore[index]
    assert today.previous().label == "yesterday"
    assert today.previous().start == _local(2026, 3, 24)
    last3 = parse_period("last 3 days", BERLIN, WED)[0]  # type: ignore[index]
    assert (last3.previous().start, last3.previous().end) == (_local(2026, 3, 20), _local(2026, 3, 23))


def test_many_flags_still_fit_slacks_block_limit(store: Store) -> None:
    from botdata import add_interaction

    now = datetime.now(UTC)
    iid, _ = add_interaction(store, channel="call", started_at=now, agent="7", queue="q", topic="x",
                             sentiment=0, anger=0, ext="many-flags",
                             flags=[(f"rule:r{k}", 2) for k in range(40)])  # fmt: skip
    a = Engine(store, TZ, clock=lambda: now).ask(f"show call {iid}")
    assert len(a.items[0]["flags"]) == 40 and len(a.blocks) == 50
    assert "more blocks left out" in json.dumps(a.blocks[-1])


def test_show_call_shows_the_resolution_verdict(store: Store) -> None:
    from botdata import add_interaction

    from store import resolution as rs

    now = datetime.now(UTC).replace(microsecond=0)
    engine = Engine(store, TZ, clock=lambda: now)
    ids = [add_interaction(store, channel="call", started_at=now - timedelta(hours=2), agent="7", queue="billing",
                           topic="refund", sentiment=0, anger=0, ext=f"res-{k}",
                           texts=[("customer", "my refund has not arrived", "my refund has not arrived")])[0]
           for k in range(3)]  # type: ignore[list-item]  # fmt: skip
    pending, resolved, bare = ids
    due = now + timedelta(days=1)
    rs.save(store, [
        rs.ResolutionRow(pending, "pending", 0.82, ["follow-up promised: 'call you on 415-555-0199'"], [],
                         commitment="call you on 415-555-0199", follow_up_due=due),
        rs.ResolutionRow(resolved, "unresolved", 0.8, ["customer: 'it is still not working'"], [],
                         follow_up_due=due),
    ])
    a = engine.ask(f"show call {pending}")
    (item,) = a.items
    assert item["resolution"]["verdict"] == "pending" and item["resolution"]["confidence"] == 0.82
    assert item["resolution"]["follow_up_due"] == due.astimezone(TZ).date().isoformat()
    line = f"Resolution: pending (0.82) · follow-up due {due.astimezone(TZ).date().isoformat()}"
    assert line in a.text and "follow-up promised" in a.text
    assert "555-0199" not in json.dumps(a.to_json())  # the reason stays masked
    assert any(line in json.dumps(b, ensure_ascii=False) for b in a.blocks)
    b = engine.ask(f"show call {resolved}")
    assert "Resolution: unresolved (0.80) — customer: 'it is still not working'" in b.text
    assert "follow-up due" not in b.text and b.items[0]["resolution"]["follow_up_due"] is None
    c = engine.ask(f"show call {bare}")
    assert c.items[0]["resolution"] is None and "Resolution:" not in c.text
