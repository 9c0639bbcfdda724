"""Short out-of-domain customer text (#11, sentiment v9): domain gate + lexicon fusion.

The fast tests check the fusion's arithmetic, the options' validation, that the gate reads
training data only, and (with a two-feature head and gate over hand-made pooled rows, no
model) that only customer text moves. The slow test serves the packaged v4 head over the
shared encoder pass with and without the fusion: agent turns score bit for bit as before,
a customer's out-of-domain product remark moves the way its words point.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from analysis.sentiment import SentimentOptions
from analysis.sentiment.domain import DomainGate, Fusion

LABELS = ("negative", "neutral", "positive")
PRIOR = {"negative": 0.6, "neutral": 0.25, "positive": 0.15}
SHIFT = np.asarray([-np.log(PRIOR[c]) for c in LABELS])


def _logit_gap(p: np.ndarray) -> np.ndarray:
    return np.log(p[:, 2]) - np.log(p[:, 0])


def test_the_fusion_moves_the_polar_logits_by_gate_and_lexicon() -> None:
    p = np.asarray([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2]])
    c = np.asarray([0.8, -0.4])
    f = Fusion(None, lexicon_in=1.0, lexicon_out=3.0, prior_shift=SHIFT)
    # in domain (g = 0): only the in-domain weight acts, on the positive-vs-negative logits
    q0 = f.apply(p, c, np.zeros(2))
    assert _logit_gap(q0) == pytest.approx(_logit_gap(p) + 1.0 * c)
    # the neutral logit is untouched: neutral / negative moves by half the lexicon term
    assert np.log(q0[:, 1] / q0[:, 0]) == pytest.approx(np.log(p[:, 1] / p[:, 0]) + c / 2)
    # out of domain (g = 1): the out weight, and the flat prior (p / training prior, renormalised)
    q1 = f.apply(p, c, np.ones(2))
    flat = p / np.asarray([PRIOR[x] for x in LABELS])
    assert _logit_gap(q1) == pytest.approx(_logit_gap(flat) + 3.0 * c)
    # halfway: halfway in logit space
    qh = f.apply(p, c, np.full(2, 0.5))
    assert _logit_gap(qh) == pytest.approx(_logit_gap(p) + 0.5 * (SHIFT[2] - SHIFT[0]) + 2.0 * c)
    assert np.allclose(qh.sum(axis=1), 1.0)
    # nothing to do: the same probabilities
    assert Fusion(None, 0.0, 0.0, None).apply(p, c, np.zeros(2)) == pytest.approx(p)


def test_the_gate_is_a_logistic_regression_over_the_heads_layers() -> None:
    pooled = np.zeros((2, 7, 384), np.float32)
    pooled[0, -1, 0] = 2.0
    pooled[1, -2, 0] = 2.0
    w = np.zeros(768)
    w[0] = 1.5  # layer -1, first value
    gate = DomainGate(w, -1.0, (-1, -2))
    assert gate.probability(pooled) == pytest.approx(1 / (1 + np.exp(-np.asarray([2.0, -1.0]))))
    assert gate.probability(np.zeros((0, 7, 384))).shape == (0,)


def test_v9_options_are_validated() -> None:
    SentimentOptions(polarity_lexicon=1.0, domain_gate="general", ood_lexicon=2.0, ood_prior="flat")
    with pytest.raises(ValueError, match="domain_gate must be"):
        SentimentOptions(domain_gate="films")
    with pytest.raises(ValueError, match="through the domain gate"):
        SentimentOptions(ood_lexicon=2.0)
    with pytest.raises(ValueError, match="through the domain gate"):
        SentimentOptions(ood_prior="flat")
    with pytest.raises(ValueError, match="ood_prior must be"):
        SentimentOptions(domain_gate="general", ood_prior="uniform")
    with pytest.raises(ValueError, match="polarity_lexicon must be"):
        SentimentOptions(polarity_lexicon=-1.0)
    with pytest.raises(ValueError, match="trained head"):
        SentimentOptions(backend="vader", polarity_lexicon=1.0)


def test_the_gate_reads_training_data_only_and_weighs_both_sides_alike() -> None:
    from analysis.sentiment import turnset
    from analysis.sentiment.corpus import split
    from analysis.sentiment.domain import gate_data

    opts = SentimentOptions()
    texts, y, w = gate_data(opts)
    assert len(texts) == len(y) == len(w) and set(np.unique(y)) == {0.0, 1.0}
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum())
    seen = set(texts)
    held_tweets = {e.text for e in split(opts.corpus, opts.held_out_fraction, opts.seed).held_out}
    held_turns = {t.text for t in turnset.load(part="held_out")}
    # a held-out text may equal a training one word for word (retweets); none is added for itself
    train_texts = {e.text for e in split(opts.corpus, opts.held_out_fraction, opts.seed).train}
    assert not (seen & held_tweets) - train_texts
    assert not (seen & held_turns)


class _Head:
    """Two-feature stand-in for SentimentHead over hand-made pooled rows (layer -1, values 0, 1)."""

    def __init__(self) -> None:
        self.labels = list(LABELS)
        self.lexicon = ""

    def probs(self, pooled: np.ndarray, inputs=None) -> np.ndarray:
        z = np.stack([pooled[:, -1, 0], np.zeros(len(pooled)), pooled[:, -1, 1]], axis=1).astype(np.float64)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_only_customer_text_moves() -> None:
    from analysis.sentiment.head import SharedTurnClassifier

    pooled = np.zeros((4, 7, 384), np.float32)
    pooled[:, -1, 0] = 1.0  # every row leans negative
    pooled[:, -1, 2] = [4.0, 4.0, 4.0, -4.0]  # the gate's input: rows 0-2 out of domain, row 3 in
    w = np.zeros(384)
    w[2] = 1.0
    fusion = Fusion(DomainGate(w, 0.0, (-1,)), 0.0, 2.0, SHIFT)
    ratio = {"negative": 0.5, "neutral": 2.0, "positive": 1.0}
    plain = SharedTurnClassifier(None, _Head(), "t", ratio)  # type: ignore[arg-type]
    v9 = SharedTurnClassifier(None, _Head(), "t", ratio, fusion=fusion)  # type: ignore[arg-type]
    assert "ood:lex0,gate:lex2+flat" in v9.name
    texts = ["The screen is gorgeous and the battery is great.", "Thank you, that is great.",
             "The screen is gorgeous and the battery is great.", "The screen is gorgeous and the battery is great."]
    speakers = ["customer", "agent", None, "customer"]
    a, b = plain.from_pooled(texts, pooled, speakers), v9.from_pooled(texts, pooled, speakers)
    assert (a[1].label, a[1].score, a[1].probs) == (b[1].label, b[1].score, b[1].probs)  # the agent: as before
    for i in (0, 2):  # a customer (or unknown speaker) out of domain with positive words: moved to positive
        assert a[i].label == "negative" and b[i].label == "positive"
    # in domain with no in-domain lexicon weight: (almost exactly) as before
    assert b[3].probs == pytest.approx(a[3].probs, abs=0.02) and b[3].label == a[3].label


@pytest.mark.slow
def test_v4_agent_turns_stay_bit_for_bit_and_a_product_remark_reads_its_words() -> None:
    from analysis.encoder import EncoderOptions, TextEncoder
    from analysis.sentiment.head import load_shared
    from analysis.sentiment.training import agent_ratio, cached_model, label_priors

    cache = Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    opts = SentimentOptions()
    path = cached_model(opts, cache)
    if path is None:
        pytest.fail("the packaged sentiment model is missing: run `convoscope models prepare` (make models) first")
    enc = TextEncoder(EncoderOptions(), cache)
    priors = label_priors(opts)
    ratio = agent_ratio(priors)
    shift = np.asarray([-np.log(priors["train"][c]) for c in LABELS])
    always_out = DomainGate(np.zeros(1536), 50.0, (-1, -2, -3, -4))
    plain = load_shared(path, enc, ratio, False)
    v9 = load_shared(path, enc, ratio, False, fusion=Fusion(always_out, 1.0, 2.0, shift))
    texts = ["This call may be recorded for training purposes.", "I'm afraid we can't refund that fee.",
             "The zoom is sharp and the pictures come out beautifully.",
             "The zoom is sharp and the pictures come out beautifully."]
    speakers = ["agent", "agent", "customer", "agent"]
    a, b = plain.predict(texts, speakers), v9.predict(texts, speakers)
    for i in (0, 1, 3):
        assert (a[i].label, a[i].score, a[i].probs) == (b[i].label, b[i].score, b[i].probs)
    assert b[2].score > a[2].score and b[2].label == "positive"


def test_a_missing_gate_is_a_clear_not_prepared_error(tmp_path: Path) -> None:
    from analysis.sentiment import ModelNotPrepared
    from analysis.sentiment.domain import fusion

    opts = SentimentOptions(domain_gate="general", ood_lexicon=2.0)
    with pytest.raises(ModelNotPrepared, match="models prepare"):
        fusion(opts, None, tmp_path)
    assert fusion(SentimentOptions(), None, tmp_path) is None  # v9 keys unset: no fusion at all
    only_lexicon = fusion(SentimentOptions(polarity_lexicon=1.0), None, tmp_path)
    assert only_lexicon is not None and only_lexicon.gate is None  # no gate needed, none read


@pytest.mark.slow
def test_a_quick_gate_builds_once_and_loads(tmp_path: Path) -> None:
    from analysis.sentiment.domain import GATE_FILE, ensure_gate, fusion, gate_dir

    # a quick build (150 tweets, 150 general sentences, the turn set's train part) into a fresh cache
    opts = SentimentOptions(domain_gate="general", ood_lexicon=2.0, ood_prior="flat", max_examples=150)
    messages: list[str] = []
    path = ensure_gate(opts, tmp_path, messages.append)
    assert path == gate_dir(opts, tmp_path) / GATE_FILE and path is not None and path.is_file()
    assert any("domain gate fitted" in m for m in messages)
    assert not list(path.parent.parent.glob(f".{path.parent.name}-*"))  # no half-built folder left
    stamp = path.stat().st_mtime_ns
    assert ensure_gate(opts, tmp_path, messages.append) == path and path.stat().st_mtime_ns == stamp  # not rebuilt
    priors = {"train": {"negative": 0.6, "neutral": 0.25, "positive": 0.15}}
    f = fusion(opts, priors, tmp_path)
    assert f is not None and f.gate is not None and f.gate.layers == (-1, -2, -3, -4)
    assert f.prior_shift == pytest.approx(SHIFT)
