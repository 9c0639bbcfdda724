"""Contact-centre sentiment: the labelled turn set and its held-out part, agent phrasing
with the real packaged model, per-speaker scores in the store, the overall score following
the customer."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.anger import AngerOptions
from analysis.options import AnalysisOptions
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.sentiment import SentimentOptions, TurnSentiment, summarise, training, turnset
from analysis.sentiment.corpus import LABELS
from analysis.topics import TopicOptions
from store import interactions as istore
from store import scores as score_store
from store.db import Store
from store.records import Interaction, Turn, content_hash

ROOT = Path(__file__).resolve().parents[2]


# ---- the turn set -----------------------------------------------------------------------

def test_turn_set_is_big_varied_and_its_split_is_fixed_by_hash() -> None:
    rows = turnset.load()
    assert len(rows) >= 600
    assert {r.speaker for r in rows} == {"agent", "customer"}
    assert {r.label for r in rows} == set(LABELS)
    assert {"chat", "email", "speech", "asr"} <= {r.style for r in rows}
    assert len({r.text for r in rows}) == len(rows)  # no duplicate turns
    src = {}
    for r in rows:
        if not r.noisy:
            src[r.group] = r.text
    groups: dict[str, set[str]] = {}
    for r in rows:
        groups.setdefault(r.group, set()).add(r.split)
        # the side is decided by the hand-written text's hash, for the noisy copy too
        assert r.split == ("held_out" if turnset.held_out_group(src[r.group]) else "train")
    assert all(len(sides) == 1 for sides in groups.values())  # a group never straddles
    held = [r for r in rows if r.split == "held_out"]
    assert 0.2 < len(held) / len(rows) < 0.4
    for who in ("agent", "customer"):
        assert {r.label for r in held if r.speaker == who} == set(LABELS)
    assert turnset.load(part="train") == [r for r in rows if r.split == "train"]


def test_generator_reproduces_the_committed_file() -> None:
    from scriptload import load_script

    mod = load_script("bench/data/make_contact_turns.py")
    built = mod.build(ROOT / "bench/data/contact_turns_src.txt")
    committed = [json.loads(x) for x in (ROOT / "bench/data/contact_turns.jsonl").read_text().splitlines() if x]
    assert built == committed
    noisy = [r for r in built if r["noisy"]]
    assert noisy and all(r["text"] == r["text"].lower() and "," not in r["text"] and "." not in r["text"] for r in noisy)


def test_training_reads_the_train_part_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What reaches the trainer: corpus train split + the turn set's train part, never a
    held-out turn (nor a noisy copy of one)."""
    seen: dict[str, list] = {}

    class Stop(Exception):
        pass

    def capture(options, train, dev, work):  # type: ignore[no-untyped-def]
        seen["train"], seen["dev"] = train, dev
        raise Stop

    monkeypatch.setattr(training, "_train_flair", capture)
    options = SentimentOptions(max_examples=200, turn_weight=3, trainer="flair", general="")
    with pytest.raises(Stop):
        training.train_model(options, tmp_path / "m")
    texts = [e.text for e in seen["train"]]
    held = {t.text for t in turnset.load(part="held_out")}
    train_turns = turnset.load(part="train")
    assert not held & set(texts) and not held & {e.text for e in seen["dev"]}
    assert all(texts.count(t.text) >= 3 for t in train_turns[:50])  # each train turn x turn_weight
    assert len(texts) == 200 - len(seen["dev"]) + 3 * len(train_turns)
    assert not list(tmp_path.iterdir()) or not (tmp_path / "m").exists()  # nothing half-written


@pytest.mark.slow  # builds the shared encoder (loads MiniLM) before the captured fit
def test_head_trainer_reads_train_parts_and_general_sets_only(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    """The v5 head trainer: corpus train split (dev slice kept out), the turn set's train
    part (weighted, not copied) and the general-domain sets; never a held-out turn or tweet."""
    from analysis.sentiment import fit, general
    from analysis.sentiment.corpus import split

    seen: dict[str, list] = {}

    class Stop(Exception):
        pass

    def capture(x, y, weights, c, max_iter=500, scale=None):  # type: ignore[no-untyped-def]
        seen["y"], seen["w"], seen["scale"] = list(y), list(weights), scale
        raise Stop

    def feats(texts, encoder, layers, lexicon=""):  # type: ignore[no-untyped-def]
        import numpy as np

        seen["texts"], seen["lexicon"] = list(texts), lexicon
        return np.zeros((len(texts), 384 * len(layers)))

    monkeypatch.setattr(fit, "fit_linear", capture)
    monkeypatch.setattr(fit, "features", feats)
    options = SentimentOptions(max_examples=200, turn_weight=3, general_weight=0.5, trainer="head",
                               general="hutto2014-tweets,hutto2014-nyt")
    with pytest.raises(Stop):
        training.train_model(options, tmp_path / "m")
    texts, weights = seen["texts"], seen["w"]
    held_turns = {t.text for t in turnset.load(part="held_out")}
    assert not held_turns & set(texts)
    train_turns = turnset.load(part="train")
    gen = general.examples(options.general)
    n_corpus = len(texts) - len(train_turns) - len(gen)
    assert 150 < n_corpus < 200  # the dev slice is kept out
    # corpus examples come from its train split only (the corpus repeats a few texts on both sides)
    assert set(texts[:n_corpus]) <= {e.text for e in split(options.corpus, options.held_out_fraction, options.seed).train}
    assert texts[n_corpus:n_corpus + len(train_turns)] == [t.text for t in train_turns]
    assert set(weights[n_corpus:n_corpus + len(train_turns)]) == {3.0}
    assert set(weights[n_corpus + len(train_turns):]) == {0.5} and len(gen) > 9000
    assert seen["y"][n_corpus + len(train_turns):] == [e.label for e in gen]
    assert seen["lexicon"] == "" and seen["scale"] is None  # v5: pooled layers only (v6: test_sentiment_lexicon)
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_general_sets_label_by_mean_rating_and_reject_unknown_names() -> None:
    from analysis.sentiment import general

    assert [general.label(m) for m in (-2.0, -0.5, -0.49, 0.0, 0.49, 0.5, 3.1)] == [
        "negative", "negative", "neutral", "neutral", "neutral", "positive", "positive"]
    rows = general.ratings("hutto2014-tweets")
    assert len(rows) > 4000 and all(-4 <= m <= 4 and t for t, m in rows)
    assert {e.label for e in general.examples("hutto2014-nyt")} == set(LABELS)
    with pytest.raises(ValueError, match="unknown general"):
        SentimentOptions(general="hutto2014-movies")  # the film snippets are a test set, never training
    assert general.digest("") is None and general.digest("hutto2014-nyt") != general.digest("hutto2014-tweets")


def test_cache_key_follows_the_turn_set_and_its_weight() -> None:
    base = SentimentOptions()
    key = training.cache_key(base, "c", "t1")
    assert key == training.cache_key(SentimentOptions(), "c", "t1")
    assert key != training.cache_key(base, "c", "t2")
    assert key != training.cache_key(SentimentOptions(turn_weight=2), "c", "t1")
    assert key != training.cache_key(SentimentOptions(turns=""), "c", "t1")
    assert key != training.cache_key(SentimentOptions(speaker_input=True), "c", "t1")
    gen = "hutto2014-tweets,hutto2014-nyt"
    assert key != training.cache_key(SentimentOptions(general=gen), "c", "t1")
    assert training.cache_key(SentimentOptions(general=gen), "c", "t1") != training.cache_key(
        SentimentOptions(general=gen, general_weight=2.0), "c", "t1")
    head = training.cache_key(SentimentOptions(trainer="head"), "c", "t1")
    assert head != key and head != training.cache_key(SentimentOptions(trainer="head", head_c=0.5), "c", "t1")
    # the head trainer reads no epochs / learning rate: changing them does not retrain it
    assert head == training.cache_key(SentimentOptions(trainer="head", epochs=3, learning_rate=0.01), "c", "t1")
    with pytest.raises(ValueError, match="turn_weight"):
        SentimentOptions(turn_weight=0)


# ---- the overall score follows the customer ---------------------------------------------

def ts(label: str) -> TurnSentiment:
    return TurnSentiment(label, {"positive": 1.0, "neutral": 0.0, "negative": -1.0}[label])


def test_overall_is_the_customers_score_not_a_mix() -> None:
    turns = [Turn(seq=i, speaker=s, text="x") for i, s in enumerate(["agent", "customer"] * 4)]
    # a cheerful agent and an unhappy customer: the interaction is negative
    s = summarise(turns, [ts(x) for x in ["positive", "negative"] * 4])
    assert s.agent == 5.0 and s.customer == -5.0 and s.overall == -5.0
    # a neutral customer and a neutral-to-positive agent: neutral, whatever the agent says
    s = summarise(turns, [ts(x) for x in ["positive", "neutral"] * 4])
    assert s.overall == s.customer == 0.0


def _chat(ext: str, *msgs: tuple[str, str]) -> Interaction:
    t0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    turns = [Turn(i, sp, tx, sent_at=t0 + timedelta(minutes=i)) for i, (sp, tx) in enumerate(msgs)]
    return Interaction("chat", "test", ext, content_hash(ext, [m[1] for m in msgs]), started_at=t0, turns=turns)


def test_per_speaker_scores_are_stored_and_overall_follows_customer(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.duckdb")
    try:
        istore.upsert(store, [_chat(
            "mixed",
            ("agent", "Thank you so much for your patience, you are wonderful!"),
            ("customer", "This is terrible, the worst service, I hate it."),
            ("agent", "Great news, I am delighted to help, have a fantastic day!"),
            ("customer", "Awful. Still broken and I am angry."),
        )])
        analyzer = Analyzer(
            AnalysisOptions(transcribe=False), sentiment=SentimentOptions(backend="vader"), anger=AngerOptions(),
            topics=TopicOptions(taxonomy=[]), rules=[], redaction=RedactionOptions(), cache_dir=tmp_path,
        )  # fmt: skip
        assert analyzer.run(store).analysed == 1
        iid = istore.existing_hashes(store, "test", ["mixed"])["mixed"][0]
        s = score_store.get(store, iid)
        assert s is not None and s.sentiment_agent is not None and s.sentiment_customer is not None
        assert s.sentiment_agent > 0 > s.sentiment_customer
        assert s.sentiment == s.sentiment_customer
        assert s.agent_trend and s.customer_trend
    finally:
        store.close()


def test_pipeline_classifies_each_speaker_text_pair_once() -> None:
    calls: list[tuple[list[str], list[str]]] = []

    class Spy:
        name = "spy"

        def predict(self, texts, speakers=None):  # type: ignore[no-untyped-def]
            calls.append((list(texts), list(speakers)))
            return [TurnSentiment("neutral" if s == "agent" else "negative", 0.0) for s in speakers]

    analyzer = Analyzer(
        AnalysisOptions(transcribe=False), sentiment=SentimentOptions(backend="vader"), anger=AngerOptions(),
        topics=TopicOptions(taxonomy=[]), rules=[], redaction=RedactionOptions(), cache_dir="/nonexistent",
    )  # fmt: skip
    analyzer._classifier = Spy()
    out = analyzer.predict(["ok", "ok", "ok"], ["agent", "customer", "agent"])
    assert calls == [(["ok", "ok"], ["agent", "customer"])]
    assert [o.label for o in out] == ["neutral", "negative", "neutral"]


# ---- the real packaged model on agent phrasing -------------------------------------------

AGENT_TURNS = [
    "This call may be recorded. How can I help?",
    "Thank you for calling Acme billing, my name is Daniel. This call may be recorded for quality "
    "and training purposes. How can I help you today?",
    "Good morning, Acme billing, this is Maria. This call may be recorded for quality and training purposes.",
    "I am sorry to hear that. Let me look at your account.",
    "I'm sorry to hear that, let me look into this for you.",
    "I understand your frustration. I am sending a technician tomorrow morning.",
    "thanks for calling this is dev um this call is being recorded how can i help",
    "Please hold while I check with my supervisor.",
]


@pytest.fixture(scope="module")
def packaged():
    from analysis.sentiment import cached_model, load_turn_classifier

    cache = Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    if cached_model(SentimentOptions(), cache) is None:
        pytest.fail("the packaged sentiment model is not prepared: run `convoscope models prepare` (make test does)")
    return load_turn_classifier(SentimentOptions(), cache)


@pytest.mark.slow
def test_agent_greetings_disclosures_and_apologies_are_not_negative(packaged) -> None:
    out = packaged.predict(AGENT_TURNS, ["agent"] * len(AGENT_TURNS))
    bad = [(t, o.label, o.probs) for t, o in zip(AGENT_TURNS, out, strict=True) if o.label == "negative"]
    assert not bad, bad
    # ... and a real complaint is still negative, from either side
    worse = packaged.predict(["Unfortunately there is nothing I can do, your claim was rejected.",
                              "This is the third time I have called and it is still broken, awful service."],
                             ["agent", "customer"])
    assert [o.label for o in worse] == ["negative", "negative"]


@pytest.mark.slow
def test_demo_calm_calls_score_neutral_or_better(packaged) -> None:
    """The calm sample calls' scripts (their transcripts, as labelled in bench/data) score >= 0."""
    rows = json.loads((ROOT / "bench/data/sample_turns.json").read_text())
    calm = {"call_02_calm_billing", "call_03_no_disclosure", "call_05_happy_resolution",
            "call_06_prohibited_promise", "call_08_mono_password"}
    for name in sorted(calm & {r["interaction"] for r in rows}):
        mine = [r for r in rows if r["interaction"] == name]
        turns = [Turn(seq=i, speaker=r["speaker"], text=r["text"]) for i, r in enumerate(mine)]
        s = summarise(turns, packaged.predict([t.text for t in turns], [t.speaker for t in turns]))
        assert s.overall is not None and s.overall >= 0, (name, s)
        assert s.agent is not None and s.agent >= 0, (name, s)


def test_agent_prior_is_counted_on_training_data_only_and_reweights() -> None:
    from analysis.sentiment.classifier import _reweight

    priors = training.label_priors(SentimentOptions(max_examples=300))
    agents = [t for t in turnset.load(part="train") if t.speaker == "agent"]
    n = len(agents) + len(LABELS)  # add-one smoothing
    for lab in LABELS:
        assert priors["agent"][lab] == pytest.approx((sum(t.label == lab for t in agents) + 1) / n, abs=1e-6)
    assert sum(priors["train"].values()) == pytest.approx(1.0)
    assert priors["agent"]["negative"] < priors["train"]["negative"]  # agents are rarely negative
    ratio = {c: priors["agent"][c] / priors["train"][c] for c in LABELS}
    shifted = _reweight({"negative": 0.55, "neutral": 0.35, "positive": 0.10}, ratio)
    assert max(shifted, key=shifted.__getitem__) == "neutral" and sum(shifted.values()) == pytest.approx(1.0)
    sure = _reweight({"negative": 0.97, "neutral": 0.02, "positive": 0.01}, ratio)
    assert max(sure, key=sure.__getitem__) == "negative"  # a clearly negative agent turn stays negative
