"""The analysis job end to end on a real DuckDB file: scores, flags, redaction, retries,
resumability after a crash mid-batch, rescore keeping reviews; and (slow) the sample calls
through real Whisper + the flair classifier + MiniLM."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.anger import AngerOptions
from analysis.options import AnalysisOptions
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.rules import RuleOptions, default_rules
from analysis.sentiment import SentimentOptions
from analysis.topics import TopicOptions
from store import flags as flag_store
from store import interactions as istore
from store import scores as score_store
from store.db import Store
from store.records import Interaction, Turn, content_hash

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

TEXT_RULES = [
    {"name": "churn_threat", "flag": "churn_risk", "severity": "high",
     "when": {"phrase": ["cancel my account"], "speaker": "customer"}},
    {"name": "escalation_request", "flag": "escalation_request",
     "when": {"near": ["manager", "speak"], "distance": 4, "speaker": "customer"}},
    {"name": "prohibited_promise", "flag": "prohibited_phrase", "severity": "high",
     "when": {"phrase": "guaranteed", "speaker": "agent"}},
]  # fmt: skip


def _chat(ext: str, *msgs: tuple[str, str]) -> Interaction:
    turns = [Turn(i, sp, tx, sent_at=T0 + timedelta(minutes=i)) for i, (sp, tx) in enumerate(msgs)]
    return Interaction("chat", "test", ext, content_hash(ext, [m[1] for m in msgs]), started_at=T0,
                       queue="billing", agent="1042", turns=turns)


ANGRY = _chat(
    "angry",
    ("customer", "This is ridiculous! You charged my card 4111 1111 1111 1111 twice. I want to speak to your manager."),
    ("agent", "I am sorry. A refund is guaranteed by tomorrow."),
    ("customer", "Useless. Cancel my account now, I am furious."),
)
CALM = _chat(
    "calm",
    ("customer", "Hi, could you tell me when my next invoice is due?"),
    ("agent", "Of course, it is due on the first of next month."),
    ("customer", "Great, thank you so much!"),
)


def _analyzer(rules: list[dict] | None = None, **kw: object) -> Analyzer:
    opts = AnalysisOptions(batch_size=int(kw.pop("batch_size", 8)), transcribe=False, backoff_seconds=0.0)  # type: ignore[arg-type]
    return Analyzer(
        opts,
        sentiment=SentimentOptions(backend="vader"),
        anger=AngerOptions(),
        topics=TopicOptions(taxonomy=[]),
        rules=[RuleOptions(**r) for r in (TEXT_RULES if rules is None else rules)],
        redaction=kw.pop("redaction", RedactionOptions()),  # type: ignore[arg-type]
        cache_dir="/nonexistent-cache",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "t.duckdb")
    istore.upsert(s, [_copy(ANGRY), _copy(CALM)])
    yield s
    s.close()


def _copy(it: Interaction) -> Interaction:
    return Interaction(it.channel, it.source, it.external_id, it.content_hash, started_at=it.started_at,
                       queue=it.queue, agent=it.agent,
                       turns=[Turn(t.seq, t.speaker, t.text, sent_at=t.sent_at) for t in it.turns])


def _id(store: Store, ext: str) -> int:
    return istore.existing_hashes(store, "test", [ext])[ext][0]


def _count(store: Store, table: str, iid: int) -> int:
    return store.conn.execute(f"SELECT count(*) FROM {table} WHERE interaction_id = ?", [iid]).fetchone()[0]


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_run_scores_flags_and_redacts(store: Store) -> None:
    hooked: list[list[int]] = []
    rep = _analyzer(on_flags=[hooked.append]).run(store)
    assert (rep.analysed, rep.failed, rep.turns) == (2, 0, 6)
    angry, calm = _id(store, "angry"), _id(store, "calm")
    assert istore.get(store, angry).status == "analysed"  # type: ignore[union-attr]
    kinds = {f.kind for f in flag_store.for_interaction(store, angry)}
    assert {"churn_risk", "escalation_request", "prohibited_phrase", "angry_customer"} <= kinds
    assert flag_store.for_interaction(store, calm) == []
    assert sorted(rep.new_flag_ids) == sorted(f.id for f in flag_store.for_interaction(store, angry))
    assert hooked == [rep.new_flag_ids]
    s = score_store.get(store, angry)
    assert s is not None and s.anger is not None and s.anger > score_store.get(store, calm).anger  # type: ignore[union-attr]
    assert s.metrics["first_response_seconds"] == 60.0 and s.metrics["turns"] == 3
    assert s.sentiment_customer is not None and s.sentiment_customer < 0
    row = store.conn.execute(
        "SELECT first_response_seconds, analysis_key FROM scores WHERE interaction_id = ?", [angry]
    ).fetchone()
    assert row[0] == 60.0 and row[1]
    safe = score_store.redacted_turns(store, angry)
    assert "[PII:CARD]" in safe[0][2] and "4111" not in safe[0][2]
    assert "4111" in istore.get(store, angry).turns[0].text  # type: ignore[union-attr]  # kept (keep_original)
    # nothing waits any more: a second run does nothing and duplicates nothing
    assert _analyzer().run(store).analysed == 0
    assert _count(store, "scores", angry) == 1 and _count(store, "turn_scores", angry) == 3


def test_keep_original_false_overwrites_turn_text(store: Store) -> None:
    _analyzer(redaction=RedactionOptions(keep_original=False)).run(store)
    text = istore.get(store, _id(store, "angry")).turns[0].text  # type: ignore[union-attr]
    assert "4111" not in text and "[PII:CARD]" in text
    raw = store.conn.execute("SELECT count(*) FROM turns WHERE text LIKE '%4111%'").fetchone()[0]
    assert raw == 0


def test_rescore_after_rule_change_keeps_reviews(store: Store) -> None:
    _analyzer().run(store)
    angry = _id(store, "angry")
    by_kind = {f.kind: f for f in flag_store.for_interaction(store, angry)}
    flag_store.set_review(store, by_kind["churn_risk"].id, "confirmed", "sam", "called back")  # type: ignore[arg-type]
    flag_store.set_review(store, by_kind["escalation_request"].id, "dismissed", "sam")  # type: ignore[arg-type]
    # the escalation rule is dropped, a new rule is added; then --rescore
    rules = [r for r in TEXT_RULES if r["name"] != "escalation_request"]
    rules.append({"name": "furious", "when": {"phrase": "furious", "speaker": "customer"}})
    rep = _analyzer(rules).run(store, rescore=True)
    assert rep.analysed == 2
    after = {f.kind: f for f in flag_store.for_interaction(store, angry)}
    assert after["churn_risk"].id == by_kind["churn_risk"].id
    assert after["churn_risk"].review_status == "confirmed" and after["churn_risk"].reviewer == "sam"
    assert "escalation_request" not in after  # no longer raised: inactive, not deleted
    old = flag_store.get(store, by_kind["escalation_request"].id)  # type: ignore[arg-type]
    assert old is not None and old.review_status == "dismissed"
    assert "rule:furious" in after and [f.id for f in after.values() if f.kind == "rule:furious"] == [
        i for i in rep.new_flag_ids if flag_store.get(store, i).kind == "rule:furious"  # type: ignore[union-attr]
    ]
    assert _count(store, "scores", angry) == 1 and _count(store, "turn_scores", angry) == 3


def test_a_crash_mid_batch_is_finished_by_the_next_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after the first batch committed and inside the second's transaction."""
    real_write = score_store.write
    calls = {"n": 0}

    def dying_write(*args: object, **kw: object) -> None:
        real_write(*args, **kw)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")  # not an Exception: nothing in the job may swallow it

    monkeypatch.setattr(score_store, "write", dying_write)
    with pytest.raises(SystemExit):
        _analyzer(batch_size=1).run(store)
    monkeypatch.setattr(score_store, "write", real_write)
    statuses = sorted(r[0] for r in store.conn.execute("SELECT status FROM interactions").fetchall())
    assert statuses == ["analysed", "new"]
    rep = _analyzer(batch_size=1).run(store)
    assert rep.analysed == 1
    for ext in ("angry", "calm"):
        iid = _id(store, ext)
        assert _count(store, "scores", iid) == 1 and _count(store, "turn_scores", iid) == 3
    dupes = store.conn.execute("SELECT count(*) - count(DISTINCT dedupe_key) FROM flags").fetchone()[0]
    assert dupes == 0


def test_failures_record_the_reason_and_retry_with_backoff_up_to_the_limit(store: Store) -> None:
    class Broken(Analyzer):
        """Fault injection: analysis of the angry chat raises (as a corrupt input would)."""

        def _analyse_one(self, it, sents, vecs, text=None):  # type: ignore[no-untyped-def]
            if it.external_id == "angry":
                raise ValueError("cannot parse this one")
            return super()._analyse_one(it, sents, vecs, text)

    def broken() -> Analyzer:
        b = Broken.__new__(Broken)
        b.__dict__.update(_analyzer().__dict__)
        b.options = AnalysisOptions(transcribe=False, max_attempts=2, backoff_seconds=3600.0)
        return b

    rep = broken().run(store)
    angry = _id(store, "angry")
    assert (rep.analysed, rep.failed) == (1, 1)
    assert rep.failures[0]["reason"] == "ValueError: cannot parse this one"
    row = store.conn.execute(
        "SELECT status, status_reason, attempts, next_attempt_at FROM interactions WHERE id = ?", [angry]
    ).fetchone()
    assert row[0] == "failed" and row[1] == "analysis: ValueError: cannot parse this one" and row[2] == 1
    assert row[3] > datetime.now(UTC) + timedelta(minutes=50)  # back-off: not retried yet
    assert broken().run(store).failed == 0
    # once the back-off has passed it is retried; at max_attempts it stays failed
    store.conn.execute("UPDATE interactions SET next_attempt_at = now() - INTERVAL 1 MINUTE")
    assert broken().run(store).failed == 1
    store.conn.execute("UPDATE interactions SET next_attempt_at = now() - INTERVAL 1 MINUTE")
    assert broken().run(store).failed == 0  # two attempts used up
    # a fixed analyser finishes it once allowed again (attempts reset on success)
    store.conn.execute("UPDATE interactions SET attempts = 0")
    assert _analyzer().run(store).analysed == 1
    assert store.conn.execute("SELECT attempts FROM interactions WHERE id = ?", [angry]).fetchone()[0] == 0


def test_analyse_is_pure_and_keywords_come_from_redacted_text() -> None:
    (a,) = _analyzer().analyse([_copy(ANGRY)])
    assert not isinstance(a, Exception)
    assert a.scores.keywords and all("pii" not in k and "4111" not in k for k in a.scores.keywords)
    assert "[PII:CARD]" in a.redactions[0].text and a.interaction.turns[0].text == ANGRY.turns[0].text
    assert json.dumps(a.scores.metrics)  # JSON-serialisable as stored


def test_an_empty_batch_analyses_to_nothing() -> None:
    assert _analyzer().analyse([]) == []


def _many(n: int) -> list[Interaction]:
    base = [ANGRY, CALM]
    out = []
    for k in range(n):
        it = _copy(base[k % 2])
        it.turns = [Turn(t.seq, t.speaker, f"{t.text} Ticket {k}." if k % 3 else t.text, sent_at=t.sent_at)
                    for t in it.turns]
        it.id = k + 1
        out.append(it)
    return out


def _same(a: object, b: object) -> None:
    assert not isinstance(a, Exception) and not isinstance(b, Exception)
    assert a.scores == b.scores and a.flags == b.flags and a.turn_scores == b.turn_scores  # type: ignore[union-attr]
    assert [r.text for r in a.redactions] == [r.text for r in b.redactions]  # type: ignore[union-attr]


def test_overlapped_encoding_in_slices_gives_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "OVERLAP_SLICE", 2)
    monkeypatch.setattr(pipeline, "EDGE_SLICE", 1)
    items = _many(7)
    plain = _analyzer()
    plain.options = AnalysisOptions(batch_size=8, transcribe=False, encoder_overlap=False)
    sliced = _analyzer()
    ref, got = plain.analyse(items), sliced.analyse(items)
    assert len(got) == 7
    for a, b in zip(ref, got, strict=True):
        _same(a, b)
    assert sliced._pool is not None and plain._pool is None  # the encoder thread was used
    assert "encoder_wait" in sliced.stage_seconds


def test_every_slice_is_encoded_ahead_in_order_and_the_job_thread_helps_while_it_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The encoder thread gets every slice at once (the first whole, the others as halves
    where two batches can run at once) and encodes them in order, ahead of the job's
    thread; when that thread would wait for a slice it asks the encoder for a forward pass
    to run (`TextEncoder.help`). Same results as without overlap."""
    import threading
    import time

    import analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "OVERLAP_SLICE", 4)
    monkeypatch.setattr(pipeline, "EDGE_SLICE", 2)
    items = _many(12)  # slices 2, 4, 4, 2
    plain = _analyzer()
    plain.options = AnalysisOptions(batch_size=16, transcribe=False, encoder_overlap=False)
    ref = plain.analyse(items)

    class Encoder:  # as TextEncoder on 2 CPUs, 1 thread each
        parallel_runs = 2

        def __init__(self) -> None:
            self.helps: list[str] = []
            self.woken = 0

        def help(self, timeout: float) -> bool:
            self.helps.append(threading.current_thread().name)
            time.sleep(min(timeout, 0.01))
            return False

        def wake(self) -> None:
            self.woken += 1

    shared = _analyzer()
    enc = shared._encoder = Encoder()
    real = shared._encode
    calls: list[tuple[str, int]] = []

    def slow(part, need_vectors):  # type: ignore[no-untyped-def]
        calls.append((threading.current_thread().name, len(part)))
        time.sleep(0.03)  # the encoder thread is the bottleneck
        return real(part, need_vectors)

    monkeypatch.setattr(shared, "_encode", slow)
    got = shared.analyse(items)
    for a, b in zip(ref, got, strict=True):
        _same(a, b)
    assert all(name.startswith("convoscope-encoder") for name, _ in calls)
    assert [n for _, n in calls] == [2, 2, 2, 2, 2, 1, 1]  # in order: first slice whole, then halves
    assert enc.helps and set(enc.helps) == {threading.current_thread().name} and enc.woken == 7
    assert shared.stage_cpu["per_interaction"] > 0 and "encoder_wait" in shared.stage_cpu


def test_the_encoder_free_part_is_computed_ahead_and_its_error_fails_only_that_interaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the job's thread waits for the encoder it computes the next interactions'
    metrics, redaction, keywords and resolution (`_text_part`); the results are those of
    the plain run, and an error there fails that interaction alone."""
    import time

    import analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "OVERLAP_SLICE", 4)
    monkeypatch.setattr(pipeline, "EDGE_SLICE", 2)
    items = _many(12)
    plain = _analyzer()
    plain.options = AnalysisOptions(batch_size=16, transcribe=False, encoder_overlap=False)
    ref = plain.analyse(items)
    ahead = _analyzer()
    real_encode, real_text = ahead._encode, ahead._text_part

    def slow(part, need_vectors):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return real_encode(part, need_vectors)

    def text_part(it):  # type: ignore[no-untyped-def]
        if it is items[5]:
            raise ValueError("an unreadable conversation")
        return real_text(it)

    monkeypatch.setattr(ahead, "_encode", slow)
    monkeypatch.setattr(ahead, "_text_part", text_part)
    got = ahead.analyse(items)
    assert isinstance(got[5], ValueError)
    for k, (a, b) in enumerate(zip(ref, got, strict=True)):
        if k != 5:
            _same(a, b)
    assert ahead.stage_seconds.get("text_ahead", 0) > 0  # computed while the encoder worked


def test_a_batch_is_cut_into_short_end_slices_and_overlap_slices_between() -> None:
    from analysis.pipeline import EDGE_SLICE, OVERLAP_SLICE, _slices

    batch = _many(2 * EDGE_SLICE + 2 * OVERLAP_SLICE + 3)
    parts = _slices(batch, overlap=True)
    assert [len(p) for p in parts] == [EDGE_SLICE, OVERLAP_SLICE, OVERLAP_SLICE, 3, EDGE_SLICE]
    assert [it for p in parts for it in p] == batch  # every interaction once, in order
    assert [len(p) for p in _slices(batch[:64], overlap=True)] == [EDGE_SLICE, 64 - 2 * EDGE_SLICE, EDGE_SLICE]
    assert [len(p) for p in _slices(batch[: EDGE_SLICE + 2], overlap=True)] == [EDGE_SLICE, 2]
    assert _slices(batch, overlap=False) == [batch] and _slices(batch[:EDGE_SLICE], overlap=True) == [batch[:EDGE_SLICE]]


def test_speed_only_options_do_not_change_the_analysis_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _analyzer(), _analyzer()
    a.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, encoder_precision="float32")
    b.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, encoder_cache_size=0,
                                encoder_overlap=False, encoder_precision="float32")
    assert a._fingerprint() == b._fingerprint()
    # bfloat16: a batch of one runs other kernels (bfloat16 rounding moves a value), so
    # the cache and overlap count there too
    a.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, encoder_precision="bfloat16")
    b.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, encoder_precision="bfloat16",
                                encoder_overlap=False)
    assert a._fingerprint() != b._fingerprint()
    b.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, keywords=3)
    assert a._fingerprint() != b._fingerprint()
    # int8 activations are scaled per batch: there the cache and overlap change numbers
    a.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, encoder_quantize=True)
    b.options = AnalysisOptions(batch_size=8, transcribe=False, backoff_seconds=0.0, encoder_quantize=True,
                                encoder_overlap=False)
    # ... where int8 runs: without the ONNX export (this cache has none) float32 runs, and
    # the key is float32's
    assert a._fingerprint() == b._fingerprint()
    from analysis import encoder

    monkeypatch.setattr(encoder, "cuda_available", lambda runtime: False)
    (d := encoder.export_dir(tmp_path)).mkdir(parents=True)
    (d / encoder.INT8_FILE).write_bytes(b"")
    (d / encoder.FLOAT_FILE).write_bytes(b"")
    a.cache_dir = b.cache_dir = tmp_path
    assert a._fingerprint() != b._fingerprint()


def test_an_analyzer_copy_pickles_without_its_encoder_thread() -> None:
    """The Ray driver ships a copy (`portable_analyzer`): no thread, no lock travels."""
    import copy
    import pickle

    an = _analyzer()
    an._encoder_thread()
    clone = pickle.loads(pickle.dumps(an))
    assert clone._pool is None and an._pool is not None
    an.analyse(_many(3))
    shallow = copy.copy(an)
    assert shallow._pool is None and shallow._stage_lock is not an._stage_lock
    _same(clone.analyse(_many(1))[0], an.analyse(_many(1))[0])


@pytest.mark.slow
def test_overlap_with_the_shared_encoder_keeps_every_number(monkeypatch: pytest.MonkeyPatch,
                                                             cache_dir: Path) -> None:
    """Real MiniLM (ONNX float32): slices encoded beside the per-interaction work give the
    labels, and the numbers up to float noise, of one pass over the whole batch; in
    bfloat16 (the default where the CPU has it) the same labels, topics and flags, and the
    numbers within bfloat16 rounding."""
    import numpy as np

    import analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "OVERLAP_SLICE", 3)
    items = _many(10)

    def make(overlap: bool, precision: str) -> Analyzer:
        return Analyzer(AnalysisOptions(transcribe=False, encoder_overlap=overlap, encoder_cache_size=0,
                                        encoder_precision=precision),
                        sentiment=SentimentOptions(), anger=AngerOptions(), topics=TopicOptions(),
                        rules=default_rules(), redaction=RedactionOptions(), cache_dir=cache_dir,
                        cluster_model=AnalysisOptions().embedding_model)  # fmt: skip

    for precision, atol_score, atol_vec in (("float32", 1e-4, 1e-5), ("bfloat16", 1e-2, 1e-3)):
        ref, got = make(False, precision).analyse(items), make(True, precision).analyse(items)
        for a, b in zip(ref, got, strict=True):
            assert not isinstance(a, Exception) and not isinstance(b, Exception)
            assert [s.label for s in a.sentiments] == [s.label for s in b.sentiments]
            assert np.allclose([s.score for s in a.sentiments], [s.score for s in b.sentiments], atol=atol_score)
            assert [t["topic"] for t in a.scores.topics] == [t["topic"] for t in b.scores.topics]
            assert {f.kind for f in a.flags} == {f.kind for f in b.flags} and a.scores.keywords == b.scores.keywords
            assert a.cluster_vector is not None and b.cluster_vector is not None
            assert np.allclose(a.cluster_vector[1], b.cluster_vector[1], atol=atol_vec)


# -- slow: the sample calls, real models --------------------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "calls"


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    return Path(__import__("os").environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Store, dict[str, int]]:
    """The sample calls, transcribed by Whisper and analysed with flair + MiniLM, once."""
    from analysis.asr import ensure_model as ensure_whisper
    from analysis.asr.options import AsrOptions
    from analysis.sentiment import cached_model, ensure_model

    asr = AsrOptions(language="en", model=str(ensure_whisper(AsrOptions(), cache_dir)))
    sentiment = SentimentOptions()
    if cached_model(sentiment, cache_dir) is None:
        # `make test` prepares the full classifier (`convoscope models prepare`); where it is
        # not there yet, a smaller flair model trained the same way, in its own cache (the
        # full one may be training right now under the cache's lock)
        sentiment = SentimentOptions(max_examples=1500, epochs=1)
        cache_dir = cache_dir / "tests"
    ensure_model(sentiment, cache_dir, progress=lambda _m: None)  # trains once; cached after
    store = Store.open(tmp_path_factory.mktemp("samples") / "s.duckdb")
    names = ["call_01_angry_refund", "call_02_calm_billing", "call_03_no_disclosure"]
    records = []
    for n in names:
        side = json.loads((SAMPLES / f"{n}.json").read_text())
        audio = SAMPLES / f"{n}.opus"
        records.append(Interaction("call", "dropfolder", n, content_hash(audio.read_bytes()),
                                   agent=side["agent"], queue=side["queue"], raw_ref=str(audio)))
    istore.upsert(store, records)
    analyzer = Analyzer(
        AnalysisOptions(), sentiment=sentiment, anger=AngerOptions(), topics=TopicOptions(),
        rules=default_rules(), redaction=RedactionOptions(), cache_dir=cache_dir, asr=asr,
    )  # fmt: skip
    rep = analyzer.run(store)
    assert rep.transcribed == 3 and rep.analysed == 3, rep
    return store, {n: istore.existing_hashes(store, "dropfolder", [n])[n][0] for n in names}


def _kinds(store: Store, iid: int) -> set[str]:
    return {f.kind for f in flag_store.for_interaction(store, iid)}


@pytest.mark.slow
def test_sample_calls_angry_flagged_calm_not(sample_run: tuple[Store, dict[str, int]]) -> None:
    store, ids = sample_run
    assert "angry_customer" in _kinds(store, ids["call_01_angry_refund"])
    assert "angry_customer" not in _kinds(store, ids["call_02_calm_billing"])
    s = score_store.get(store, ids["call_01_angry_refund"])
    assert s is not None and s.metrics["kind"] == "call"
    assert "refund" in {t["topic"] for t in s.topics}


@pytest.mark.slow
def test_sample_calls_disclosure(sample_run: tuple[Store, dict[str, int]]) -> None:
    store, ids = sample_run
    assert "compliance_missing" in _kinds(store, ids["call_03_no_disclosure"])
    assert "compliance_missing" not in _kinds(store, ids["call_02_calm_billing"])
    (flag,) = [f for f in flag_store.for_interaction(store, ids["call_03_no_disclosure"]) if f.kind == "compliance_missing"]
    assert flag.evidence and "absent" in flag.evidence[0]


@pytest.mark.slow
def test_disclosure_found_when_asr_garbles_a_word(sample_run: tuple[Store, dict[str, int]]) -> None:
    """The calm call's real transcript, with one word of the disclosure garbled, still passes."""
    store, ids = sample_run
    it = istore.get(store, ids["call_02_calm_billing"])
    assert it is not None
    seq = next(t.seq for t in it.turns if "record" in t.text.lower())
    for t in it.turns:
        if t.seq == seq:
            t.text = t.text.replace("recorded", "ricorded")
    engine_rules = default_rules()
    from analysis import embeddings
    from analysis.rules import RuleEngine

    hits = RuleEngine(engine_rules, embeddings.encode).evaluate(it, {})
    assert "compliance_missing" not in {h.rule.kind for h in hits}


def test_a_missing_sentiment_model_fails_the_run_not_the_interactions(store: Store, tmp_path: Path) -> None:
    from analysis.sentiment import ModelNotPrepared

    an = _analyzer()
    an.sentiment_options = SentimentOptions()  # the packaged flair model, not trained in this cache
    an.cache_dir = tmp_path / "empty-cache"
    with pytest.raises(ModelNotPrepared, match="models prepare"):
        an.run(store)
    assert an._encoder is None  # it failed before loading MiniLM, not seconds after
    rows = store.conn.execute("SELECT DISTINCT status, attempts FROM interactions").fetchall()
    assert rows == [("new", 0)]


def test_stale_rescores_only_what_another_configuration_scored(store: Store) -> None:
    _analyzer().run(store)
    assert _analyzer().run(store, stale=True).analysed == 0  # same configuration: nothing stale
    changed = _analyzer([*TEXT_RULES, {"name": "furious", "when": {"phrase": "furious"}}])
    assert changed.analysis_key != _analyzer().analysis_key
    assert changed.run(store, stale=True).analysed == 2
    assert changed.run(store, stale=True).analysed == 0


def test_a_new_version_arriving_during_analysis_is_analysed_again(store: Store) -> None:
    """A connector stores version 2 while version 1 is being scored: v2 must not be lost."""
    an = _analyzer()
    real = an.analyse

    def analyse_then_new_version(batch):  # type: ignore[no-untyped-def]
        out = real(batch)
        newer = _copy(CALM)
        newer.content_hash = "v2"
        newer.turns.append(Turn(3, "customer", "Actually, cancel my account.", sent_at=T0))
        istore.upsert(store, [newer])
        return out

    an.analyse = analyse_then_new_version  # type: ignore[method-assign]
    an.run(store)
    calm = istore.get(store, _id(store, "calm"))
    assert calm is not None and calm.version == 2 and calm.status == "new"
    assert _analyzer().run(store).analysed == 1
    assert "churn_risk" in {f.kind for f in flag_store.for_interaction(store, calm.id)}  # type: ignore[arg-type]
    assert score_store.get(store, calm.id).version == 2  # type: ignore[arg-type, union-attr]


# -- clustering vectors for the patterns job ------------------------------------------------


def test_no_clustering_vector_is_stored_for_another_model(store: Store) -> None:
    # the turns are encoded with the analysis model; a vector from it would lie about the
    # patterns model, so none is stored (and no encoder is loaded for nothing)
    analyzer = _analyzer(cluster_model="some-other-model")
    assert analyzer.cluster_model is None
    assert analyzer.run(store).analysed == 2
    assert store.conn.execute("SELECT count(*) FROM interaction_embeddings").fetchone()[0] == 0


@pytest.mark.slow
def test_clustering_vectors_are_stored_and_current_for_the_patterns_job(store: Store) -> None:
    import numpy as np

    from analysis.embeddings import encode
    from analysis.patterns import job
    from analysis.patterns.options import PatternsOptions
    from store import patterns as sp

    model = PatternsOptions().clusters.model
    analyzer = _analyzer(cluster_model=model, redaction=RedactionOptions(keep_original=False))
    assert analyzer.run(store).analysed == 2
    angry, calm = _id(store, "angry"), _id(store, "calm")
    got, emb = sp.load_embeddings(store, [angry, calm], model)
    assert sorted(got) == sorted([angry, calm])
    # the normalised mean of the customer turns' vectors (encoded before redaction), as
    # sentence-transformers computes it in float32 (the pipeline's encoder may run bfloat16:
    # within cosine 0.9999, README "Throughput, round 3")
    customer = [t.text for t in ANGRY.turns if t.speaker == "customer"]
    want = encode(customer, model).mean(axis=0)
    want /= np.linalg.norm(want)
    vec = emb[got.index(angry)]
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5 and float(vec @ want) >= 0.9999
    if analyzer.options.encoder_options().expected_precision() == "float32":
        assert np.allclose(vec, want, atol=1e-5)

    # the job sees them as current (hashed over the stored, redacted turns): no encode
    def no_encode(texts: object) -> np.ndarray:
        raise AssertionError("the pipeline's vectors should have been reused")

    turns = job.clustering_turns(store, [angry, calm])
    assert "charged my card" in turns[angry][0]  # redacted text, markers dropped
    assert "[PII" not in turns[angry][0] and "4111" not in turns[angry][0]
    assert job.ensure_embeddings(store, turns, model, no_encode) == (0, 0)
