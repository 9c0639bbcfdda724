"""The phrasing corpus is well-formed: every expected query loads through `Query.from_dict`,
names only store values of `questions_entities.json`, and its periods follow the
conventions (aware, start < end, local-midnight bounds unless the question says an hour,
never past the fixed now except for follow-up due windows). Also checks the comparison
helper itself. Running the parser over the corpus is the parser's own test."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from store.query import FLAG_FAMILIES, REVIEW_STATES, Compare, Match, Query

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "data"))
import questions_check as qc  # noqa: E402

FILES = {
    "corpus": ROOT / "tests" / "data" / "questions.tsv",
    "heldout": ROOT / "bench" / "data" / "questions_heldout.tsv",
    "heldout2": ROOT / "bench" / "data" / "questions_heldout2.tsv",
}
MINIMUM = {"corpus": 330, "heldout": 110, "heldout2": 120}
NO_PERIOD_VIEWS = {"detail", "help", "contest"}
HOUR_WORDS = ("hour", "24h", "48h", "morning", "afternoon", "evening", " 3h", "past 2h")
TODAY = qc.NOW.replace(hour=0, minute=0)
ENT = json.loads(qc.ENTITIES.read_text(encoding="utf-8"))


def _rows(name: str) -> list[tuple[str, dict]]:
    path = FILES[name]
    if not path.exists():
        pytest.fail(f"{path} is missing")
    return qc.load(path)


@pytest.fixture(scope="module", params=sorted(FILES))
def corpus(request: pytest.FixtureRequest) -> tuple[str, list[tuple[str, dict]]]:
    return request.param, _rows(request.param)


def _values(kind: str) -> set[str]:
    if kind == "agent":
        return {a["name"] for a in ENT["agents"]}
    if kind == "queue":
        return {q["name"] for q in ENT["queues"]}
    if kind == "topic":
        return {t["name"] for t in ENT["topics"]}
    if kind == "cluster":
        return {c["label"] for c in ENT["clusters"]}
    if kind == "customer":
        return {c["key"] for c in ENT["customers"]}
    if kind == "channel":
        return {"call", "email", "chat"}
    if kind == "direction":
        return {"inbound", "outbound"}
    if kind == "flag":
        return set(FLAG_FAMILIES)
    if kind == "review":
        return set(REVIEW_STATES)
    if kind == "resolution":
        return {"resolved", "unresolved", "pending"}
    if kind == "repeat":
        return {"yes"}
    raise AssertionError(kind)


def test_size_and_unique_questions(corpus: tuple[str, list[tuple[str, dict]]]) -> None:
    name, rows = corpus
    assert len(rows) >= MINIMUM[name]
    questions = [q.casefold().strip() for q, _ in rows]
    assert len(set(questions)) == len(questions), "a question appears twice"


@pytest.mark.parametrize("name", ["heldout", "heldout2"])
def test_heldout_questions_are_not_in_the_corpus(name: str) -> None:
    corpus = {q.casefold().strip() for q, _ in _rows("corpus")}
    held = {q.casefold().strip() for q, _ in _rows(name)}
    assert not corpus & held


def test_every_row_is_a_valid_query_with_known_values(
    corpus: tuple[str, list[tuple[str, dict]]],
) -> None:
    _, rows = corpus
    for question, expected in rows:
        query = qc.expected_query(expected)  # raises on an unknown enum value or key
        assert isinstance(query, Query)
        assert expected.get("extra", {}).get("intent"), question
        for f in query.filters:
            if isinstance(f, Match):
                assert f.values, question
                if f.field != "text":
                    unknown = set(f.values) - _values(f.field)
                    assert not unknown, (
                        f"{question!r}: {f.field} values {unknown} are not store values"
                    )
            else:
                assert isinstance(f, Compare)
                assert (f.value2 is not None) == (f.op == "between"), question
        for m in query.measures:
            assert (m.kind == "rate") == (m.flag is not None), question
            assert m.flag is None or m.flag in FLAG_FAMILIES, question
            assert (m.kind in ("average", "sum", "min", "max")) == (m.metric is not None), question
        if query.view == "ranking":
            assert query.order is not None and query.measures, question
            assert query.order.by == query.measures[0].name, question
        if query.group_by and query.view in ("ranking", "breakdown"):
            subject = {
                "agent": "agents",
                "topic": "topics",
                "cluster": "clusters",
                "customer": "customers",
                "flag": "flags",
            }.get(query.group_by[0], "interactions")
            assert query.subject == subject, question
        amb = query.extra.get("ambiguous")
        if amb:
            for fld, names in amb.items():
                assert len(names) >= 2 and set(names) <= _values(fld), question
                assert not query.matches(fld), (
                    f"{question!r}: an ambiguous {fld} must not be guessed"
                )


def test_periods_follow_the_conventions(corpus: tuple[str, list[tuple[str, dict]]]) -> None:
    _, rows = corpus
    for question, expected in rows:
        query = qc.expected_query(expected)
        if query.period_default:
            assert "period" not in expected, question
            assert query.view not in NO_PERIOD_VIEWS, question
            continue
        if query.view in NO_PERIOD_VIEWS:
            assert query.period is None and query.compare_to is None, question
            continue
        assert query.period is not None, f"{question!r}: a period or period_default"
        for span in (query.period, query.compare_to):
            if span is None:
                continue
            for bound in (span.start, span.end):
                assert bound.tzinfo is not None, question
                # written in the zone's own offset at that instant (DST-correct)
                assert bound.utcoffset() == bound.astimezone(qc.TIMEZONE).utcoffset(), question
            assert span.start < span.end, question
            if query.view != "followups":
                assert span.end <= qc.NOW, f"{question!r}: a period never extends past now"
            local = span.start.astimezone(qc.TIMEZONE)
            if (local.hour, local.minute) != (0, 0):
                assert any(w in question.casefold() for w in HOUR_WORDS), question
        if query.compare_to is not None:
            assert query.view == "comparison", question


@pytest.mark.parametrize(
    ("phrase", "start", "end"),
    [
        ("today", TODAY, qc.NOW),
        ("yesterday", TODAY - timedelta(days=1), TODAY),
        ("this week", datetime(2026, 11, 30, tzinfo=qc.TIMEZONE), qc.NOW),
        (
            "last week",
            datetime(2026, 11, 23, tzinfo=qc.TIMEZONE),
            datetime(2026, 11, 30, tzinfo=qc.TIMEZONE),
        ),
        (
            "last month",
            datetime(2026, 11, 1, tzinfo=qc.TIMEZONE),
            datetime(2026, 12, 1, tzinfo=qc.TIMEZONE),
        ),
    ],
)
def test_common_phrases_mean_the_same_in_every_row(
    phrase: str, start: datetime, end: datetime
) -> None:
    """Rows whose only time words are `phrase` all carry the same period (a row that slips
    would make the corpus contradict itself)."""
    seen = 0
    others = (
        "vs",
        "versus",
        "compar",
        "due",
        "same day",
        "day before",
        "morning",
        "afternoon",
        "evening",
        "since",
    )
    for name in FILES:
        for question, expected in _rows(name):
            q = question.casefold()
            if f" {phrase}" not in f" {q}" or any(o in q for o in others):
                continue
            if phrase in ("this week", "last week") and any(w in q for w in ("weekend", "wk")):
                continue
            query = qc.expected_query(expected)
            assert query.period is not None, question
            assert (query.period.start, query.period.end) == (start, end), question
            seen += 1
    assert seen >= 3


def test_compare_accepts_the_row_itself_and_reports_real_differences() -> None:
    rows = _rows("corpus")
    for _, expected in rows:
        assert qc.compare(expected, qc.expected_query(expected)) == []
    _, expected = next(r for r in rows if r[0] == "calls not in billing")
    got = qc.expected_query(expected)
    # filter order and value case do not matter
    reordered = Query.from_dict(
        {
            **got.to_dict(),
            "filters": [
                {"match": {"field": "queue", "values": ["BILLING"], "negate": True}},
                {"match": {"field": "channel", "values": ["call"]}},
            ],
        }
    )
    assert qc.compare(expected, reordered) == []
    # the opposite meaning is a difference
    flipped = Query.from_dict(
        {
            **got.to_dict(),
            "filters": [
                {"match": {"field": "channel", "values": ["call"]}},
                {"match": {"field": "queue", "values": ["billing"]}},
            ],
        }
    )
    assert any(d.startswith("filters:") for d in qc.compare(expected, flipped))
    # a default period is not compared, but saying there was none matters
    assert expected.get("period_default") is True
    assert (
        qc.compare(
            expected,
            Query.from_dict(
                {
                    **got.to_dict(),
                    "period": {
                        "start": "2026-11-25T00:00:00-06:00",
                        "end": "2026-12-02T10:30:00-06:00",
                        "label": "x",
                    },
                }
            ),
        )
        == []
    )
    assert qc.compare(expected, Query.from_dict({**got.to_dict(), "period_default": False}))


def test_compare_periods_as_instants_and_ignored_as_words() -> None:
    rows = dict(_rows("corpus"))
    expected = rows["calls today"]
    got = qc.expected_query(expected).to_dict()
    got["period"] = {
        "start": "2026-12-02T06:00:00+00:00",
        "end": "2026-12-02T16:30:00+00:00",
        "label": "today",
    }
    assert qc.compare(expected, got) == []
    got["period"]["end"] = "2026-12-03T06:00:00+00:00"
    diffs = qc.compare(expected, got)
    assert len(diffs) == 1 and diffs[0].startswith("period:")
    night = rows["angry calls from the night shift this week"]
    q = qc.expected_query(night).to_dict()
    q["ignored"] = ["from the Night shift"]
    assert qc.compare(night, q) == []
    q["ignored"] = []
    assert qc.compare(night, q)[0].startswith("ignored:")
    john = rows["calls from John"]
    q = qc.expected_query(john).to_dict()
    q["extra"] = {}
    q["filters"].append({"match": {"field": "agent", "values": ["John Carter"]}})
    diffs = qc.compare(john, q)
    assert any(d.startswith("ambiguous:") for d in diffs) and any(
        d.startswith("filters:") for d in diffs
    )


def test_load_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "q.tsv"
    bad.write_text('calls today\t{"view": "list"}\nno tab here\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        qc.load(bad)
