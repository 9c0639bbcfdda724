"""The typed query compiled to SQL (store/query_sql.py, store/query_views.py) on a real
DuckDB file written through the store's own write paths: every filter, its negation, and
the list, count, ranking, breakdown and comparison views."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import Store
from store import flags as store_flags
from store import interactions as store_interactions
from store import query_views as qv
from store.permissions import Identity
from store.query import Compare, Match, Measure, Order, Query, Span
from store.records import Flag, Interaction, Turn, content_hash
from store.reviews import review
from store.search import refresh_search_index

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WEEK = Span(NOW - timedelta(days=7), NOW, "the last 7 days")
PREV = Span(NOW - timedelta(days=14), NOW - timedelta(days=7), "the 7 days before")

# (key, channel, hours ago, agent, queue, topic, sentiment, anger, duration, flags, text, customer, direction)
ROWS = [
    ("a", "call", 2, "Maria Lopez", "billing", "refund", -0.8, 0.9, 700.0, [("angry_customer", 3)],
     "I want a refund for the router now", "c1", "inbound"),
    ("b", "call", 5, "John Smith", None, "password reset", 0.5, 0.1, 120.0, [],
     "I forgot my password", "c2", "outbound"),
    ("c", "email", 9, "Maria Lopez", "support", "shipping", -0.3, 0.2, None, [("compliance_missing", 4)],
     "Where is my parcel", "c1", "inbound"),
    ("d", "chat", 20, "John Smith", "billing", "delivery delay", 0.1, 0.7, 300.0,
     [("angry_customer", 3), ("escalation_request", 2)], "the router arrived broken", "c3", "inbound"),
    ("e", "chat", 30, "John Smith", "Sales", "delivery delay", -0.5, 0.8, 200.0, [("angry_customer", 2)],
     "still waiting on delivery", "c4", "inbound"),
    ("f", "call", 24 * 8, "Maria Lopez", "billing", "refund", -0.9, 0.9, 800.0, [("angry_customer", 4)],
     "refund please", "c1", "inbound"),
    ("g", "call", 24 * 9, "John Smith", "billing", "refund", 0.2, 0.1, 100.0, [], "thanks", "c5", "inbound"),
    ("u", "call", 3, "Kim Lee", "sales", None, None, None, 60.0, [], "", "c6", "inbound"),  # unscored
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, int], dict[str, list[int]]]]:
    path: Path = tmp_path_factory.mktemp("q") / "q.duckdb"
    store = Store.open(path)
    ids: dict[str, int] = {}
    flag_ids: dict[str, list[int]] = {}
    for key, ch, ago, agent, queue, topic, sent, anger, dur, flags, text, cust, direction in ROWS:
        started = NOW - timedelta(hours=ago)
        it = Interaction(
            channel=ch, source="t", external_id=f"x-{key}", content_hash=content_hash(key), started_at=started,
            ended_at=started + timedelta(minutes=5), duration=dur, agent=agent, customer=cust, customer_key=cust,
            queue=queue, direction=direction, subject=f"About {topic}" if ch == "email" else None,
            status="analysed", turns=[Turn(seq=0, speaker="customer", text=text or "hello", start=0.0, end=3.0)],
        )  # fmt: skip
        store_interactions.upsert(store, [it])
        assert it.id is not None
        ids[key] = it.id
        if sent is not None:
            store.insert_arrow("turn_scores", [{"interaction_id": it.id, "seq": 0, "sentiment": sent,
                                                "redacted_text": text}])  # fmt: skip
            store.insert_arrow("scores", [{
                "interaction_id": it.id, "version": 1, "sentiment": sent, "anger": anger, "top_topic": topic,
                "non_talk_pct": 40.0 if key == "a" else 5.0, "model": "test",
                "cluster_id": 7 if topic == "refund" else None,
            }])  # fmt: skip
        flag_ids[key] = store_flags.replace_for_interaction(
            store, it.id, [Flag(interaction_id=it.id, kind=k, severity=s, summary=k) for k, s in flags]
        )
    store.cursor().execute("INSERT INTO clusters (id, label, size) VALUES (7, 'refund requests', 3)")
    store.insert_arrow("interaction_resolution", [
        {"interaction_id": ids["a"], "verdict": "unresolved", "confidence": 0.9},
        {"interaction_id": ids["b"], "verdict": "resolved", "confidence": 0.8},
    ])  # fmt: skip
    store.insert_arrow("repeat_contacts", [
        {"interaction_id": ids["a"], "previous_id": ids["c"], "first_id": ids["c"], "customer_key": "c1",
         "matched_on": "topic", "gap_hours": 7.0, "contact_number": 2},
    ])  # fmt: skip
    review(store, flag_ids["c"][0], "dismissed", Identity("sup", "supervisor"), reason="fine", expected_rev=None)
    refresh_search_index(store, force=True)
    yield store, ids, flag_ids
    store.close()


def _ids(store: Store, q: Query) -> set[int]:
    found = qv.find(store, q, limit=100)
    assert found.total == len(found.rows) == qv.count(store, q)
    return {r["id"] for r in found.rows}


def _q(*filters: Match | Compare, period: Span | None = WEEK, **kw: object) -> Query:
    return Query(period=period, filters=tuple(filters), **kw)  # type: ignore[arg-type]


def test_each_match_and_its_negation(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, ids, _ = seeded
    week = {ids[k] for k in "abcdeu"}
    cases = {
        Match("channel", ("call",)): {"a", "b", "u"},
        Match("agent", ("maria lopez",)): {"a", "c"},
        Match("queue", ("billing",)): {"a", "d"},
        Match("queue", ("sales",)): {"e", "u"},  # case-insensitive
        Match("topic", ("delivery",)): {"d", "e"},
        Match("topic", ("shipping",)): {"c"},
        Match("cluster", ("7",)): {"a"},
        Match("cluster", ("Refund Requests",)): {"a"},
        Match("flag", ("angry",)): {"a", "d", "e"},
        Match("flag", ("escalation",)): {"d"},
        Match("flag", ("compliance",)): set(),  # its only flag was dismissed
        Match("flag", ("kind:angry_customer",)): {"a", "d", "e"},
        Match("flag", ("any",)): {"a", "d", "e"},
        Match("customer", ("c1",)): {"a", "c"},
        Match("direction", ("outbound",)): {"b"},
        Match("text", ("router",)): {"a", "d"},
        Match("text", ("router broken",)): {"d"},
        Match("resolution", ("unresolved",)): {"a"},
        Match("repeat", ("yes",)): {"a", "c"},
        Match("id", (str(ids["a"]), str(ids["b"]))): {"a", "b"},
    }
    for m, want in cases.items():
        got = _ids(store, _q(m))
        assert got == {ids[k] for k in want}, m
        neg = Match(m.field, m.values, negate=True)
        assert _ids(store, _q(neg)) == week - got, neg


def test_negated_queue_keeps_interactions_without_a_queue(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, ids, _ = seeded
    got = _ids(store, _q(Match("queue", ("billing",), negate=True)))
    assert ids["b"] in got and ids["a"] not in got


def test_review_state_filters(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, ids, _ = seeded
    dismissed = _q(Match("flag", ("compliance",)), Match("review", ("dismissed",)))
    assert _ids(store, dismissed) == {ids["c"]}
    found = qv.find(store, dismissed)
    assert [f["review_status"] for f in found.rows[0]["flags"]] == ["dismissed"]
    assert _ids(store, _q(Match("review", ("open",)))) == {ids[k] for k in "ade"}
    # not dismissed = the other states: open flags of the family
    assert _ids(store, _q(Match("flag", ("compliance",)), Match("review", ("dismissed",), negate=True))) == set()


def test_metric_conditions_and_negation(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, ids, _ = seeded
    week = {ids[k] for k in "abcdeu"}
    cases = {
        Compare("duration", ">", 600): {"a"},
        Compare("sentiment", "<", -0.25): {"a", "c", "e"},
        Compare("anger", ">=", 0.7): {"a", "d", "e"},
        Compare("silence_pct", ">", 0.3): {"a"},
        Compare("duration", "between", 100, 250): {"b", "e"},
    }
    for c, want in cases.items():
        got = _ids(store, _q(c))
        assert got == {ids[k] for k in want}, c
        # negation keeps rows without the value: the unscored call, the e-mail with no duration
        neg = _ids(store, _q(Compare(c.metric, c.op, c.value, c.value2, negate=True)))
        assert neg == week - got, c
    assert ids["u"] in _ids(store, _q(Compare("sentiment", "<", -0.25, negate=True)))
    assert ids["c"] in _ids(store, _q(Compare("duration", ">", 600, negate=True)))


def test_list_orders_worst_first_when_flagged_else_newest(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, ids, _ = seeded
    rows = qv.find(store, _q(Match("flag", ("angry",)))).rows
    assert [r["id"] for r in rows] == [ids["a"], ids["d"], ids["e"]]  # severity 3, 3 (newer first), 2
    assert rows[1]["flags"][0]["kind"] == "angry_customer" and len(rows[1]["flags"]) == 2
    plain = qv.find(store, _q()).rows
    assert [r["id"] for r in plain] == [ids[k] for k in "aubcde"]
    longest = qv.find(store, _q(order=Order("duration")), limit=2).rows
    assert [r["id"] for r in longest] == [ids["a"], ids["d"]]
    page2 = qv.find(store, _q(), limit=2, offset=2)
    assert page2.total == 6 and [r["id"] for r in page2.rows] == [ids["b"], ids["c"]]


def test_ranking_breakdown_and_rate(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, _, _ = seeded
    # "which agent has the most angry calls/chats this week"
    t = qv.aggregate(store, _q(Match("flag", ("angry",)), view="ranking", subject="agents"))
    assert t.groups == ["agent"] and [(r["agent"], r["count"]) for r in t.rows] == [("John Smith", 2), ("Maria Lopez", 1)]
    # "average sentiment by queue", every group, unscored rows are left out of the average
    t = qv.aggregate(store, _q(view="breakdown", group_by=("queue",),
                               measures=(Measure("average", "sentiment"), Measure("count"))))  # fmt: skip
    got = {r["queue"]: (round(r["average_sentiment"], 3) if r["average_sentiment"] is not None else None, r["count"])
           for r in t.rows}  # fmt: skip
    # queues that differ only in case are one group, as they are one queue to the filters
    assert got == {"billing": (-0.35, 2), "support": (-0.3, 1), None: (0.5, 1), "sales": (-0.5, 2)}
    # rate of angry per channel, share of volume
    t = qv.aggregate(store, _q(view="breakdown", group_by=("channel",),
                               measures=(Measure("rate", flag="angry"), Measure("share"))))  # fmt: skip
    by = {r["channel"]: r for r in t.rows}
    assert by["chat"]["rate_angry"] == 1.0 and by["call"]["rate_angry"] == pytest.approx(1 / 3)
    assert by["email"]["rate_angry"] == 0.0 and sum(r["share"] for r in t.rows) == pytest.approx(1.0)
    # a share is of every group, also when the ranking is cut to the top one
    top = qv.aggregate(store, _q(view="ranking", group_by=("channel",), measures=(Measure("share"),)), limit=1)
    assert len(top.rows) == 1 and top.rows[0]["share"] == pytest.approx(by[top.rows[0]["channel"]]["share"])
    assert top.rows[0]["share"] == pytest.approx(max(r["share"] for r in t.rows)) and top.rows[0]["share"] < 1
    # by flag kind (subject flags), by local day, by cluster with its label
    t = qv.aggregate(store, _q(view="ranking", subject="flags"))
    assert [(r["flag"], r["count"]) for r in t.rows] == [("angry_customer", 3), ("escalation_request", 1)]
    t = qv.aggregate(store, _q(view="breakdown", group_by=("day",)), tz="Europe/Berlin")
    assert sum(r["count"] for r in t.rows) == 6 and len(t.rows) == 2
    t = qv.aggregate(store, _q(view="ranking", group_by=("cluster",), limit=1))
    assert len(t.rows) == 1 and t.labels.get(str(t.rows[0]["cluster"])) in (None, "refund requests")
    with pytest.raises(ValueError):
        qv.aggregate(store, _q(view="breakdown", measures=(Measure("average"),), group_by=("queue",)))


def test_comparison_with_change(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, _, _ = seeded
    q = _q(Match("queue", ("billing",)), view="comparison", compare_to=PREV,
           measures=(Measure("count"), Measure("average", "anger")))  # fmt: skip
    t = qv.compare(store, q)
    (row,) = t.rows
    assert (row["count"], row["count_before"], row["count_change"]) == (2, 2, 0)
    assert row["average_anger"] == pytest.approx(0.8) and row["average_anger_before"] == pytest.approx(0.5)
    assert row["average_anger_change"] == pytest.approx(0.3)
    per_agent = qv.compare(store, _q(view="comparison", compare_to=PREV, group_by=("agent",)))
    by = {r["agent"]: (r["count"], r["count_before"]) for r in per_agent.rows}
    assert by == {"Maria Lopez": (2, 1), "John Smith": (3, 1), "Kim Lee": (1, 0)}


def test_rising_is_one_definition(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, _, _ = seeded
    got = qv.rising(store, _q(compare_to=PREV))
    # delivery delay: 2 now, 0 before; refund 1 now vs 2 before is not rising
    assert [(r.label, r.n, r.before) for r in got] == [("delivery delay", 2, 0)]
    # a shorter period is measured against the earlier span scaled to its length
    day = Span(NOW - timedelta(days=2), NOW, "2 days")
    scaled = qv.rising(store, Query(period=day, compare_to=PREV))
    assert scaled and scaled[0].baseline == 0.0
    assert qv.top_topics(store, _q())[:1] == [("delivery delay", 2)]


def test_unknown_values_raise(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    store, _, _ = seeded
    with pytest.raises(ValueError, match="flag family"):
        qv.count(store, _q(Match("flag", ("nonsense",))))
    with pytest.raises(ValueError, match="review"):
        qv.count(store, _q(Match("flag", ("angry",)), Match("review", ("maybe",))))


def test_text_search_scans_when_no_index_is_built(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    """Without the FTS index (or its extension) the same ids come from a scan of the
    redacted documents."""
    from store.query_sql import text_ids_sql

    store, ids, _ = seeded
    sql, params = text_ids_sql(None, ["router"])
    assert "search_postings" not in sql
    got = {int(r[0]) for r in store.cursor().execute(sql, params).fetchall()}
    assert got == {ids["a"], ids["d"]}


def test_flagged_list_with_other_flag_and_review_filters(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    """`find` applies a lone flag filter through its join with `flags` (not a second
    semi-join); the page must still equal `count`'s rows, which keep the plain filter."""
    store, ids, _ = seeded
    angry = Match("flag", ("angry",))
    cases = {
        (angry, Match("flag", ("escalation",))): {"d"},  # two flag filters: both must hold
        (angry, Match("flag", ("escalation",), negate=True)): {"a", "e"},
        (angry, Match("review", ("open",))): {"a", "d", "e"},
        (angry, Match("review", ("confirmed",))): set(),
        (Match("flag", ("compliance",)), Match("review", ("open", "dismissed"))): {"c"},
        (angry, Match("channel", ("chat",))): {"d", "e"},
    }
    for filters, want in cases.items():
        assert _ids(store, _q(*filters)) == {ids[k] for k in want}, filters


def test_comparison_in_one_pass_equals_each_period_apart(seeded: tuple[Store, dict[str, int], dict[str, list[int]]]) -> None:
    """`compare` reads both periods in one aggregate (grouped by period too); each side must
    be exactly what `aggregate` gives for that period alone — rows, order and total."""
    store, _, _ = seeded
    far = Span(NOW - timedelta(days=60), NOW - timedelta(days=50), "long ago")  # empty period
    shapes = [
        dict(measures=(Measure("count"), Measure("average", "anger"))),  # split path, no groups
        dict(group_by=("queue",)),
        dict(group_by=("agent",), measures=(Measure("rate", flag="angry"), Measure("average", "sentiment"))),
        dict(group_by=("topic",), measures=(Measure("count"), Measure("max", "duration"))),
        dict(group_by=("channel", "agent"), measures=(Measure("average", "anger"),)),
        dict(filters=(Match("flag", ("angry",)),), group_by=("queue",)),
        dict(filters=(Compare("sentiment", "<", 0.0),), measures=(Measure("count"),)),
        dict(filters=(Match("text", ("router",)),), group_by=("agent",), measures=(Measure("share"),)),
    ]
    for shape in shapes:
        for before in (PREV, far):
            kw = {k: v for k, v in shape.items() if k != "filters"}
            fs = shape.get("filters", ())
            q = _q(*fs, view="comparison", compare_to=before, **kw)  # type: ignore[arg-type]
            got = qv.compare(store, q)
            now_t = qv.aggregate(store, q, limit=qv.BREAKDOWN_LIMIT)
            before_t = qv.aggregate(store, _q(*fs, view="comparison", period=before, **kw),  # type: ignore[arg-type]
                                    limit=qv.BREAKDOWN_LIMIT)  # fmt: skip
            assert got.total == now_t.total, shape
            keys = [tuple(r[g] for g in now_t.groups) for r in now_t.rows]
            keys += [k for k in (tuple(r[g] for g in before_t.groups) for r in before_t.rows) if k not in keys]
            assert {tuple(r[g] for g in got.groups) for r in got.rows} == set(keys), shape
            for r in got.rows:
                k = tuple(r[g] for g in got.groups)
                a = next((x for x in now_t.rows if tuple(x[g] for g in now_t.groups) == k), None)
                b = next((x for x in before_t.rows if tuple(x[g] for g in before_t.groups) == k), None)
                for m in got.measures:
                    zero = 0 if m.startswith("count") else None
                    assert r[m] == pytest.approx(a[m] if a else zero), (shape, k, m)
                    assert r[f"{m}_before"] == pytest.approx(b[m] if b else zero), (shape, k, m)
