"""The optional question translator against a local fake OpenAI-compatible endpoint: it is
asked only when the grammar reads nothing, and only a valid typed query is accepted —
prose, SQL, unknown fields, timeouts and HTTP errors all end in the help text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from scriptload import load_script

from bot.questions import Engine
from bot.questions.translate import Translator, TranslatorOptions
from store.db import Store
from store.query import Compare, Match

TZ = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
ODD = "gimme the stuff where folks were cranky on the blower"


FakeChat = load_script("tests/fakes/chat_completions.py", "convoscope_fake_chat").FakeChatCompletions
GOOD = json.dumps({
    "view": "list",
    "period": {"start": "2026-12-02T00:00:00-06:00", "end": "2026-12-02T10:30:00-06:00", "label": "today"},
    "filters": [{"match": {"field": "channel", "values": ["call"]}},
                {"match": {"field": "flag", "values": ["angry"]}},
                {"compare": {"metric": "duration", "op": ">", "value": 600}}],
})  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "t.duckdb")
    yield s
    s.close()


def _engine(store: Store, fake: Any, **kw: Any) -> Engine:
    eng = Engine(store, TZ, clock=lambda: NOW, redactor=None)
    eng.translator = Translator(TranslatorOptions(enabled=True, base_url=fake.base_url, model="tiny", **kw))  # type: ignore[attr-defined]
    return eng


def test_unreadable_question_is_translated_into_a_valid_query(store: Store, monkeypatch: Any) -> None:
    monkeypatch.setenv("CONVOSCOPE_TRANSLATOR_KEY", "sk-local")
    with FakeChat([GOOD], key="sk-local") as fake:
        a = _engine(store, fake).ask(ODD)
        assert a.intent == "list" and a.query is not None and a.query["extra"]["translated"] is True
        assert set(a.query["filters"][i].get("match", {}).get("field", "c") for i in range(3)) == {"channel", "flag", "c"}
        assert a.text.startswith("Angry calls · duration > 10 min · today (")
        (req,) = fake.requests
        body = req["body"]
        assert body["model"] == "tiny" and body["messages"][-1] == {"role": "user", "content": ODD}
        assert "Never write SQL" in body["messages"][0]["content"]
        assert req["headers"]["Authorization"] == "Bearer sk-local"
        # a question the grammar reads never goes to the model
        b = _engine(store, fake).ask("angry calls today")
        assert b.query is not None and "translated" not in b.query["extra"] and len(fake.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        "Sure! Here are the angry calls from today.",  # prose
        json.dumps({"sql": "DROP TABLE interactions"}),  # SQL is not a query key
        json.dumps({"view": "list", "filters": [{"match": {"field": "password", "values": ["x"]}}]}),
        json.dumps({"view": "explode"}),
        json.dumps({"view": "list", "filters": [{"match": {"field": "flag", "values": ["'; DROP TABLE"]}}]}),
        json.dumps({"view": "detail"}),  # no ref
        json.dumps({"view": "list", "period": {"start": "2027-01-01T00:00:00+00:00",
                                               "end": "2027-01-02T00:00:00+00:00"}}),  # the future
        json.dumps({"view": "list", "period": {"start": "2026-12-01T00:00:00", "end": "2026-12-02T00:00:00"}}),
        "[1, 2, 3]",
    ],
)
def test_anything_but_a_valid_query_is_refused(store: Store, reply: str) -> None:
    with FakeChat([reply]) as fake:
        a = _engine(store, fake).ask(ODD)
        assert a.intent == "help" and len(fake.requests) == 1


def test_timeouts_and_http_errors_fall_back_to_help(store: Store) -> None:
    with FakeChat([GOOD], delay_s=1.0) as slow:
        assert _engine(store, slow, timeout_s=0.2).ask(ODD).intent == "help"
    with FakeChat([GOOD], status=500) as broken:
        assert _engine(store, broken).ask(ODD).intent == "help"
    with FakeChat([GOOD], key="right") as locked:  # no key in the environment: 401
        assert _engine(store, locked).ask(ODD).intent == "help"


def test_accepts_a_fenced_json_block() -> None:
    from bot.questions.translate import accept

    q = accept("```json\n" + GOOD + "\n```", ODD, NOW)
    assert Match("flag", ("angry",)) in q.filters and Compare("duration", ">", 600.0) in q.filters
    assert q.text == ODD and q.extra["translated"] is True


def test_off_by_default(store: Store) -> None:
    from convoscope.config import Config

    assert Config().questions.translator.enabled is False
    assert Engine(store, TZ, clock=lambda: NOW, redactor=None).ask(ODD).intent == "help"
