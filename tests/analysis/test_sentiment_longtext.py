"""Long customer text read whole (#11, sentiment v8): sentences scored and aggregated.

The fast tests check the splitter and the aggregation weights on their own (segtok, numpy;
no model). The slow test loads the packaged head over the shared encoder pass twice, with
and without `long_text`, and checks that short turns score exactly as before while a long
review is read from all of its sentences, by the same head, in the aggregation's weights.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from analysis.sentiment import SentimentOptions
from analysis.sentiment.longtext import aggregate, split_units, unit_weights

LABELS = ["negative", "neutral", "positive"]


def test_a_long_text_splits_into_its_sentences_in_order() -> None:
    text = "I had migraines for years.  Dr. Smith gave me 50 mg. It worked!\nNo side effects\n\nGreat"
    assert split_units(text) == ["I had migraines for years.", "Dr. Smith gave me 50 mg.", "It worked!",
                                 "No side effects", "Great"]
    # packing: consecutive sentences share a unit while it stays within unit_chars
    packed = split_units(text, unit_chars=60)
    assert packed == ["I had migraines for years. Dr. Smith gave me 50 mg.", "It worked! No side effects Great"]
    assert all(len(u) <= 60 for u in packed)


def test_an_overlong_sentence_is_cut_between_words() -> None:
    sentence = " ".join(f"word{i}" for i in range(300))  # ~2,100 characters, no full stop
    units = split_units(sentence, max_chars=600)
    assert len(units) == 4 and all(len(u) <= 600 for u in units)
    assert " ".join(units) == sentence  # nothing lost, no word split
    assert split_units("x" * 1300, max_chars=600) == ["x" * 600, "x" * 600, "x" * 100]


def test_the_aggregations_weigh_units_as_documented() -> None:
    units = ["It started badly.", "Then it got worse and worse for weeks.", "ok", "In the end it fixed everything!"]
    probs = np.asarray([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.05, 0.05, 0.9]])
    assert np.allclose(unit_weights("mean", units, probs, LABELS), 0.25)
    length = unit_weights("length", units, probs, LABELS)
    assert length[2] == length.min() and length[1] == length.max()
    last = unit_weights("last", units, probs, LABELS)
    assert np.allclose(last, np.arange(1, 5) / 10)
    polar = unit_weights("polar", units, probs, LABELS)
    assert polar[2] < 0.01 and polar[3] == polar.max()  # a flat unit hardly counts
    # the verdict at the end decides under "last" but not under "mean"
    mean, ramp = aggregate("mean", units, probs, LABELS), aggregate("last", units, probs, LABELS)
    assert mean[0] > mean[2] and ramp[2] > ramp[0]
    for mode in ("mean", "length", "last", "polar", "last-polar"):
        assert aggregate(mode, units, probs, LABELS).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="long_text"):
        unit_weights("first", units, probs, LABELS)
    with pytest.raises(ValueError, match="units"):
        aggregate("mean", units[:2], probs, LABELS)


def test_long_text_options_are_validated() -> None:
    with pytest.raises(ValueError, match="long_text"):
        SentimentOptions(long_text="median")
    with pytest.raises(ValueError, match="long_prior"):
        SentimentOptions(long_text="mean", long_prior="uniform")
    with pytest.raises(ValueError, match="long_chars"):
        SentimentOptions(long_text="mean", long_chars=10)


def test_the_long_text_reader_takes_a_named_head_and_its_own_priors(tmp_path: Path) -> None:
    from analysis.sentiment.longtext import reader

    folder = tmp_path / "sentiment" / "abc"
    folder.mkdir(parents=True)
    np.savez(folder / "head.npz", weight=np.zeros((3, 8), np.float32), bias=np.zeros(3, np.float32),
             layers=np.asarray([-1]), labels=np.asarray(LABELS))
    priors = {"train": {"negative": 0.5, "neutral": 0.3, "positive": 0.2},
              "agent": {"negative": 0.1, "neutral": 0.7, "positive": 0.2}}
    (folder / "meta.json").write_text(json.dumps({"label_priors": priors}))
    served = {"train": {"negative": 0.6, "neutral": 0.2, "positive": 0.2}, "agent": priors["agent"]}
    off = reader(SentimentOptions(), served)
    assert not off.mode and not off.is_long("x" * 5000)  # long_text "" reads the first 600 as ever
    # a long-text setting without long_text would be ignored: it is refused instead
    with pytest.raises(ValueError, match="only apply with long_text"):
        SentimentOptions(long_model=str(folder))
    with pytest.raises(ValueError, match="only apply with long_text"):
        SentimentOptions(long_prior="flat", unit_chars=300)
    with pytest.raises(ValueError, match="VADER"):
        SentimentOptions(backend="vader", long_text="last")
    lt = reader(SentimentOptions(long_text="last", long_prior="flat", long_chars=300, long_model=str(folder)), served)
    assert lt.head is not None and lt.head.labels == LABELS and lt.source == "abc"
    assert lt.is_long("x" * 301) and not lt.is_long("x" * 300)
    # the named head's own training priors, not the served model's
    assert lt.ratio_for("customer") == pytest.approx({"negative": 2.0, "neutral": 1 / 0.3, "positive": 5.0})
    assert lt.ratio_for("agent") == pytest.approx({"negative": 0.2, "neutral": 0.7 / 0.3, "positive": 1.0})
    same = reader(SentimentOptions(long_text="mean"), served)  # the served head, its priors, no flat prior
    assert same.head is None and same.ratio_for("customer") is None
    assert same.ratio_for("bot") == pytest.approx({"negative": 0.1 / 0.6, "neutral": 3.5, "positive": 1.0})
    with pytest.raises(FileNotFoundError, match="long_model"):
        reader(SentimentOptions(long_text="last", long_model=str(tmp_path / "missing")), served)


SHORT = ["Thanks, that sorted it.", "This call may be recorded for training purposes.",
         "I've been on hold for an hour and nobody can tell me where my parcel is!", ""]
#: narration first, the verdict last; ~690 characters: past 600, so the first 600 miss the verdict
REVIEW = ("The first week was awful: I had headaches every morning, my stomach hurt after every meal "
          "and I was tired all day. I almost stopped taking it twice because the nausea was so bad, and "
          "my doctor had to lower the dose once. I also had trouble sleeping for about ten days. "
          "My old medicine never gave me any of this, and I was angry that nobody had warned me. "
          "I missed two weeks of work and my family had to look after me while I waited for it to pass. "
          "But after a month everything settled down and the side effects went away completely. "
          "Now my pain is gone, I sleep well and I feel like myself again. "
          "I am so glad I stuck with it, this medicine changed my life and I would recommend it to anyone.")


@pytest.mark.slow
def test_short_turns_score_as_before_and_a_long_review_is_read_whole() -> None:
    from analysis.encoder import EncoderOptions, TextEncoder
    from analysis.sentiment import load_turn_classifier
    from analysis.sentiment.head import SharedTurnClassifier, sentiment_input
    from analysis.sentiment.longtext import aggregate as agg
    from analysis.sentiment.training import cached_model

    cache = Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    if cached_model(SentimentOptions(), cache) is None:
        pytest.fail("the packaged sentiment model is missing: run `convoscope models prepare` (make models) first")
    enc = TextEncoder(EncoderOptions(), cache)
    plain = load_turn_classifier(SentimentOptions(), cache, enc)
    opts = dataclasses.replace(SentimentOptions(), long_text="last", long_chars=300)
    long = load_turn_classifier(opts, cache, enc)
    assert isinstance(long, SharedTurnClassifier) and "long:last>300" in long.name
    texts = [*SHORT, REVIEW]
    speakers = ["customer", "agent", "customer", "customer", "customer"]
    before, after = plain.predict(texts, speakers), long.predict(texts, speakers)
    for a, b in zip(before[:-1], after[:-1], strict=True):  # short turns: bit for bit the same
        assert (a.label, a.score, a.probs) == (b.label, b.score, b.probs)
    # the long review: the same head over each of its sentences, on a ramp to the last
    units = split_units(REVIEW)
    assert len(units) >= 6 and len(REVIEW) > 600
    head = long.head
    per = head.probs(enc.pooled([sentiment_input(u) for u in units]))
    want = agg("last", units, per.astype(np.float64), head.labels)
    got = after[-1].probs
    assert [got[lab] for lab in head.labels] == pytest.approx(list(want), abs=1e-6)
    assert got != before[-1].probs  # the first 600 characters alone read otherwise
    assert after[-1].score > before[-1].score  # the verdict at the end weighs more
