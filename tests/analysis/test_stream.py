"""Streaming, prioritised analysis (issue 15) on a real DuckDB file: text and the newest
call first; each call transcribed (real Whisper), scored, committed and alerted before the
next call's transcription starts; another writer commits between two interactions and a
call it adds goes ahead of the older backlog."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analysis.anger import AngerOptions
from analysis.asr import AsrOptions
from analysis.options import AnalysisOptions
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.rules import RuleOptions
from analysis.sentiment import SentimentOptions
from analysis.topics import TopicOptions
from store import calls as call_store
from store import interactions as istore
from store import scores as score_store
from store.db import Store
from store.records import Interaction, Turn, content_hash

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "calls"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RULES = [{"name": "escalation_request", "flag": "escalation_request",
          "when": {"near": ["manager", "speak"], "distance": 4, "speaker": "customer"}}]  # fmt: skip


def _call(ext: str, sample: str, minutes: int) -> Interaction:
    return Interaction("call", "drop", ext, content_hash(ext, [sample]), started_at=T0 + timedelta(minutes=minutes),
                       raw_ref=str(SAMPLES / f"{sample}.opus"), status="new")  # fmt: skip


def _chat(ext: str, minutes: int, text: str) -> Interaction:
    turns = [Turn(0, "customer", text, sent_at=T0), Turn(1, "agent", "Let me check that for you.", sent_at=T0)]
    return Interaction("chat", "zd", ext, content_hash(ext, [text]), started_at=T0 + timedelta(minutes=minutes),
                       turns=turns)  # fmt: skip


def _analyzer(transcriber: Any = None, hooks: list | None = None) -> Analyzer:
    an = Analyzer(
        AnalysisOptions(batch_size=8, transcribe=True, backoff_seconds=0.0),
        sentiment=SentimentOptions(backend="vader"), anger=AngerOptions(), topics=TopicOptions(taxonomy=[]),
        rules=[RuleOptions(**r) for r in RULES], redaction=RedactionOptions(),
        cache_dir="/nonexistent-cache", asr=AsrOptions(), on_flags=hooks or [],
    )  # fmt: skip
    an._transcriber = transcriber
    return an


def _statuses(store: Store) -> dict[str, str]:
    return {it.external_id: it.status for it in istore.get_many(store, _all_ids(store), with_turns=False)}


def _all_ids(store: Store) -> list[int]:
    return [i for i, _ in call_store.pending_transcription(store, max_attempts=99)] + score_store.pending_ids(
        store, rescore=True, max_attempts=99)  # fmt: skip


def test_waiting_work_is_ordered_text_first_then_newest(tmp_path: Path) -> None:
    """The store's queues in streaming order (no model needed)."""
    with Store.open(tmp_path / "q.duckdb") as store:
        istore.upsert(store, [_call("old", "call_02_calm_billing", 0), _call("new", "call_01_angry_refund", 30),
                              _call("mid", "call_03_no_disclosure", 10), _chat("c_old", 1, "hello"),
                              _chat("c_new", 20, "where is my refund")])  # fmt: skip
        ext = {it.id: it.external_id for it in istore.get_many(store, _all_ids(store), with_turns=False)}
        calls = [ext[i] for i, _ in call_store.pending_transcription(store, max_attempts=3, newest_first=True)]
        assert calls == ["new", "mid", "old"]
        assert [ext[i] for i, _ in call_store.pending_transcription(store, max_attempts=3)] == ["old", "new", "mid"]
        assert [ext[i] for i in score_store.pending_ids(store, newest_first=True)] == ["c_new", "c_old"]


class _Spy:
    """A real Transcriber that notes, as each transcription starts, what the store holds
    (and may run `on_start` first, e.g. another writer committing)."""

    def __init__(self, real: Any, store: Store, on_start: Any = None) -> None:
        self.real, self.store, self.on_start = real, store, on_start
        self.seen: list[tuple[str, dict[str, str]]] = []

    def transcribe(self, path: str | Path) -> Any:
        if self.on_start is not None:
            self.on_start(len(self.seen))
        self.seen.append((Path(path).stem, _statuses(self.store)))
        return self.real.transcribe(path)


@pytest.mark.slow
def test_each_call_is_scored_and_alerted_before_the_next_is_transcribed(asr_transcriber, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        istore.upsert(store, [_call("older", "call_02_calm_billing", 0), _call("angry", "call_01_angry_refund", 30),
                              _chat("chat", 5, "I want to speak to your manager right now")])  # fmt: skip
        alerted: list[tuple[list[int], dict[str, str]]] = []
        spy = _Spy(asr_transcriber, store)
        an = _analyzer(spy, hooks=[lambda ids: alerted.append((ids, _statuses(store)))])
        rep = an.run(store)
        assert (rep.transcribed, rep.analysed, rep.failed) == (2, 3, 0)
        # the newest call first, with the chat already scored; the older call only after
        # the angry one was scored and committed
        assert [name for name, _ in spy.seen] == ["call_01_angry_refund", "call_02_calm_billing"]
        assert spy.seen[0][1] == {"chat": "analysed", "angry": "new", "older": "new"}
        assert spy.seen[1][1] == {"chat": "analysed", "angry": "analysed", "older": "new"}
        # the alert hook fired for the angry call's flags while the older call still waited
        angry_alert = [st for _ids, st in alerted if st["angry"] == "analysed"]
        assert angry_alert and angry_alert[0]["older"] == "new"
        assert _statuses(store) == {"chat": "analysed", "angry": "analysed", "older": "analysed"}
        assert an.run(store).analysed == 0  # re-running finds nothing to do


@pytest.mark.slow
def test_another_writer_commits_between_calls_and_its_call_goes_first(asr_transcriber, tmp_path: Path) -> None:
    """The service's arrangement: analysis holds the write lock only for its commits, so
    an ingest running on another thread commits while a call is being transcribed, and
    the call it adds (the newest) is transcribed before the older backlog."""
    lock = threading.RLock()
    with Store.open(tmp_path / "w.duckdb") as store:
        istore.upsert(store, [_call(f"backlog{i}", "call_03_no_disclosure", i) for i in range(2)])
        committed = threading.Event()

        def ingest() -> None:
            with lock:
                istore.upsert(store, [_call("fresh", "call_06_prohibited_promise", 60)])
            committed.set()

        def on_start(n: int) -> None:
            if n == 0:  # while the first backlog call is being transcribed
                threading.Thread(target=ingest).start()
                assert committed.wait(30), "ingest could not commit while analysis ran"

        spy = _Spy(asr_transcriber, store, on_start)
        rep = _analyzer(spy).run(store, write_lock=lock)
        assert rep.transcribed == 3 and rep.failed == 0
        order = [name for name, _ in spy.seen]
        assert order == ["call_03_no_disclosure", "call_06_prohibited_promise", "call_03_no_disclosure"]
        assert spy.seen[1][1]["fresh"] == "new" and spy.seen[1][1]["backlog1"] == "analysed"
        assert spy.seen[1][1]["backlog0"] == "new"
        assert set(_statuses(store).values()) == {"analysed"}
