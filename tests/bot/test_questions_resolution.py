"""Questions about resolution and incorrect information (#19), answered from a store the
real analysis job filled: "unresolved issues ...", "incorrect information ...", first-contact
resolution per queue, and promised follow-ups that came due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis.anger import AngerOptions
from analysis.facts import FactOptions, FactsOptions
from analysis.options import AnalysisOptions
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.sentiment import SentimentOptions
from analysis.topics import TopicOptions
from bot.questions import Engine, parse
from store import interactions as istore
from store.db import Store
from store.records import Interaction, Turn, content_hash

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday
NOW = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)


def _chat(ext: str, queue: str, customer: str, *msgs: tuple[str, str]) -> Interaction:
    turns = [Turn(i, s, t, sent_at=T0 + timedelta(minutes=i)) for i, (s, t) in enumerate(msgs)]
    return Interaction("chat", "test", ext, content_hash(ext, [t for _s, t in msgs]), started_at=T0,
                       queue=queue, agent="1042", customer_key=customer, turns=turns)  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    store = Store.open(tmp_path / "q.duckdb")
    istore.upsert(store, [
        _chat("unres", "billing", "a", ("customer", "I was charged twice"), ("agent", "I've reversed it."),
              ("customer", "The charge is still there, this is useless.")),
        _chat("ok", "billing", "b", ("customer", "I was charged twice"), ("agent", "I've reversed it."),
              ("customer", "Perfect, thanks, that's all I needed.")),
        _chat("wrong", "billing", "c", ("customer", "When is my refund?"),
              ("agent", "Your refund will be on your card within 24 hours."), ("customer", "Great, thanks!")),
        _chat("promise", "tech", "d", ("customer", "no internet"),
              ("agent", "A technician will visit tomorrow morning."), ("customer", "Okay.")),
    ])  # fmt: skip
    Analyzer(
        AnalysisOptions(transcribe=False), sentiment=SentimentOptions(backend="vader"), anger=AngerOptions(),
        topics=TopicOptions(taxonomy=[]), rules=[], redaction=RedactionOptions(), cache_dir="/nonexistent",
        facts=[FactOptions(subject="refund processing time", value="3-5 business days", hints=["refund"])],
        fact_check=FactsOptions(semantic_threshold=None),
    ).run(store)  # fmt: skip
    yield Engine(store, TZ, clock=lambda: NOW, redactor=None)
    store.close()


def _ids(engine: Engine, ext: str) -> int:
    return istore.existing_hashes(engine.store, "test", [ext])[ext][0]


def test_parse_resolution_intents() -> None:
    from store.entities import EntityValues
    from store.query import Match

    q = parse("unresolved issues in the last 14 days", TZ, NOW)
    assert (q.view, q.filters) == ("list", (Match("flag", ("unresolved",)),))
    assert parse("incorrect information this week", TZ, NOW).filters == (Match("flag", ("incorrect_information",)),)
    fcr = parse("how many billing calls were resolved first time?", TZ, NOW, EntityValues(queues=("billing",)))
    assert (fcr.view, set(fcr.filters)) == ("fcr", {Match("queue", ("billing",)), Match("channel", ("call",))})
    assert parse("follow-ups due today", TZ, NOW).view == "followups"


def test_unresolved_and_incorrect_information_list_interactions(engine: Engine) -> None:
    a = engine.ask("unresolved issues in the last 14 days")
    assert a.intent == "list" and [it["id"] for it in a.items] == [_ids(engine, "unres")]
    b = engine.ask("incorrect information in the last 14 days")
    assert [it["id"] for it in b.items] == [_ids(engine, "wrong")]
    assert any(f["kind"] == "incorrect_information" for f in b.items[0]["flags"])


def test_first_contact_resolution_and_follow_ups(engine: Engine) -> None:
    a = engine.ask("how many billing chats were resolved first time this week?")
    assert a.intent == "fcr"
    assert a.items == [{"first_contacts": 3, "resolved": 2, "with_verdict": 3}]
    assert "2 of 3" in a.text
    due = engine.ask("follow-ups due today")
    assert due.intent == "followups" and [it["id"] for it in due.items] == [_ids(engine, "promise")]
    assert "technician will visit" in due.items[0]["commitment"]
    viewer = engine.ask("follow-ups due today", role="viewer")
    assert viewer.items == [{"count": 1}]


def test_digest_carries_fcr_and_follow_ups(engine: Engine) -> None:
    from analysis.digest import build, summary_lines

    day3 = build(engine.store, T0.astimezone(TZ).date(), TZ)
    assert day3.resolution == {"first_contacts": 4, "resolved_first_time": 2, "with_verdict": 4}
    day4 = build(engine.store, NOW.astimezone(TZ).date(), TZ)
    assert day4.follow_ups_due == [_ids(engine, "promise")]
    assert any(line.startswith("Follow-ups due today") for line in summary_lines(day4))
