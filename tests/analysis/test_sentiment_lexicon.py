"""Recipe v6: VADER lexicon features fused with the pooled MiniLM layers in the sentiment head.

The fast tests check the wiring with the real VADER lexicon and a real scikit-learn fit:
the head reads the lexicon columns after the pooled ones, they change a verdict when the
pooled input is the same, the penalty scale reaches the fit, and a v6 model has its own
recipe, cache key and model file. The slow test trains a small v6 model for real and
serves it from head.npz (no flair twin).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from analysis.sentiment import (
    SentimentOptions,
    ensure_model,
    fit,
    lexicon,
    load_turn_classifier,
    training,
)
from analysis.sentiment.corpus import LABELS
from analysis.sentiment.head import HEAD_FILE, SentimentHead, SharedTurnClassifier, head_features

V5 = {"trainer": "head", "general": "hutto2014-tweets,hutto2014-nyt"}


def test_vader_features_read_polarity_negation_and_emphasis() -> None:
    good, bad, negated = (lexicon.vader_features(t) for t in ("The service was great", "The service was awful",
                                                               "The service was not great"))
    assert len(good) == len(lexicon.NAMES)
    assert good[0] > 0.3 and bad[0] < -0.3 and negated[0] < 0  # compound; negation flips "great"
    assert good[4] > 0 and good[5] == 0 and bad[5] > 0 and bad[4] == 0  # log(1 + valence sums)
    # capitals and "!" are VADER's emphasis: more positive valence than the plain sentence
    assert lexicon.vader_features("The service was GREAT!!")[4] > good[4]
    assert lexicon.vader_features("   ") == (0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    assert lexicon.features("vader", ["a", "b"]).shape == (2, len(lexicon.NAMES))
    with pytest.raises(ValueError, match="unknown sentiment lexicon"):
        lexicon.features("afinn", ["a"])


def _head(path: Path, lex_weight: float) -> SentimentHead:
    """A head whose pooled weights are all zero, whose VADER-compound weight is `lex_weight`
    and whose intercept leans neutral (a text VADER finds nothing in stays neutral)."""
    layers = [-1, -2]
    w = np.zeros((3, 384 * len(layers) + len(lexicon.NAMES)), dtype=np.float32)
    w[LABELS.index("positive"), 384 * len(layers)] = lex_weight
    w[LABELS.index("negative"), 384 * len(layers)] = -lex_weight
    b = np.zeros(3, dtype=np.float32)
    b[LABELS.index("neutral")] = 1.0
    fit.write_head(path, w, b, layers, "vader")
    return SentimentHead(path)


def test_lexicon_features_are_wired_into_the_served_head_and_change_a_verdict(tmp_path: Path) -> None:
    head = _head(tmp_path / HEAD_FILE, 8.0)
    assert head.lexicon == "vader"
    clf = SharedTurnClassifier(encoder=None, head=head, name="test")  # type: ignore[arg-type]
    texts = ["I love this, thank you so much", "This is awful, I hate it", "@united the flight is at noon", ""]
    pooled = np.zeros((len(texts), 7, 384), dtype=np.float32)  # the same encoder output for every turn
    out = clf.from_pooled(texts, pooled, ["customer"] * len(texts))
    assert [o.label for o in out] == ["positive", "negative", "neutral", "neutral"]
    assert out[0].score > 0.5 and out[1].score < -0.5
    # the same pooled input with the lexicon weight at zero: no evidence either way
    flat = SharedTurnClassifier(encoder=None, head=_head(tmp_path / "flat.npz", 0.0), name="flat")  # type: ignore[arg-type]
    assert [(o.label, o.score) for o in flat.from_pooled(texts[:2], pooled[:2])] == [("neutral", 0.0)] * 2
    # without the texts a lexicon head cannot run (it must not silently drop the columns)
    with pytest.raises(ValueError, match="needs each turn's text"):
        head.probs(pooled)
    # a v5 head (no lexicon entry) reads the pooled layers only
    fit.write_head(tmp_path / "v5.npz", np.zeros((3, 768), dtype=np.float32), np.zeros(3, dtype=np.float32), [-1, -2])
    v5 = SentimentHead(tmp_path / "v5.npz")
    assert v5.lexicon == "" and v5.probs(pooled).shape == (len(texts), 3)
    assert head_features(pooled, [-1], "vader", texts).shape == (len(texts), 384 + len(lexicon.NAMES))


def test_lexicon_scale_lowers_the_penalty_on_the_scaled_columns() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5))
    y = np.where(x[:, 4] + 0.5 * rng.normal(size=600) > 0, "positive", "negative")
    y[::7] = "neutral"
    plain, _ = fit.fit_linear(x, y, np.ones(len(y)), c=0.001)
    scaled, _ = fit.fit_linear(x, y, np.ones(len(y)), c=0.001, scale=np.array([1, 1, 1, 1, 10.0]))
    pos = LABELS.index("positive")
    # a strongly penalised fit shrinks the informative column; scaling it up lets it speak
    assert abs(scaled[pos, 4]) > 3 * abs(plain[pos, 4])
    # the scale is folded back: W applies to the raw features, so probabilities stay sane
    p = fit.probs(x, scaled, np.zeros(3))
    assert np.allclose(p.sum(axis=1), 1.0)


def test_v6_recipe_has_its_own_key_model_file_and_option_checks() -> None:
    v5 = SentimentOptions(**V5)
    v6 = SentimentOptions(**V5, lexicon="vader", lexicon_scale=4.0)
    assert training.recipe(v5) == training.HEAD_RECIPE and training.recipe(v6) == training.LEXICON_RECIPE
    assert training.recipe(SentimentOptions(trainer="flair")) == training.RECIPE
    assert training.model_file(v5) == "final-model.pt" and training.model_file(v6) == HEAD_FILE
    k5, k6 = training.cache_key(v5, "c", "t"), training.cache_key(v6, "c", "t")
    assert k5 != k6
    assert k6 != training.cache_key(dataclasses.replace(v6, lexicon_scale=1.0), "c", "t")
    # v5's key is untouched by the new knobs while they are unused
    assert k5 == training.cache_key(dataclasses.replace(v5, lexicon_scale=3.0), "c", "t")
    with pytest.raises(ValueError, match='need trainer = "head"'):
        SentimentOptions(trainer="flair", lexicon="vader")
    with pytest.raises(ValueError, match="lexicon must be one of"):
        SentimentOptions(**V5, lexicon="afinn")
    with pytest.raises(ValueError, match="lexicon_scale"):
        SentimentOptions(**V5, lexicon="vader", lexicon_scale=0)


@pytest.mark.slow
def test_small_v6_model_trains_serves_from_head_npz_and_reads_the_lexicon(tmp_path: Path) -> None:
    options = SentimentOptions(max_examples=600, held_out_fraction=0.05, turns="", trainer="head",
                               lexicon="vader", lexicon_scale=4.0)
    messages: list[str] = []
    path = ensure_model(options, tmp_path, progress=messages.append)
    assert path.name == HEAD_FILE
    assert sorted(p.name for p in path.parent.iterdir()) == [HEAD_FILE, "meta.json"]  # no flair twin
    meta = json.loads((path.parent / "meta.json").read_text())
    assert meta["recipe"] == training.LEXICON_RECIPE and meta["options"]["lexicon"] == "vader"
    assert any("vader lexicon features" in m for m in messages)
    head = SentimentHead(path)
    assert head.weight.shape == (3, 384 * 4 + len(lexicon.NAMES))
    # the fit gave the lexicon columns weight: compound pushes towards positive, away from negative
    comp = 384 * 4
    assert head.weight[LABELS.index("positive"), comp] > head.weight[LABELS.index("negative"), comp]
    # no encoder given: the v6 model runs over its own encoder pass (there is no flair file)
    clf = load_turn_classifier(options, tmp_path)
    out = clf.predict(["Thank you so much, that was wonderful!", "This is the worst service ever, I'm furious"])
    assert [o.label for o in out] == ["positive", "negative"]


@pytest.mark.slow  # builds the shared encoder (loads MiniLM) before the captured fit
def test_head_trainer_asks_for_lexicon_columns_and_scales_only_them(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    seen: dict = {}

    class Stop(Exception):
        pass

    def capture(x, y, weights, c, max_iter=500, scale=None):  # type: ignore[no-untyped-def]
        seen["shape"], seen["scale"] = x.shape, scale
        raise Stop

    def feats(texts, encoder, layers, lex=""):  # type: ignore[no-untyped-def]
        seen["lexicon"] = lex
        return np.ones((len(texts), 384 * len(layers) + (len(lexicon.NAMES) if lex else 0)))

    monkeypatch.setattr(fit, "fit_linear", capture)
    monkeypatch.setattr(fit, "features", feats)
    options = SentimentOptions(max_examples=100, turns="", trainer="head", lexicon="vader", lexicon_scale=4.0)
    with pytest.raises(Stop):
        training.train_model(options, tmp_path / "m")
    assert seen["lexicon"] == "vader"
    scale = seen["scale"]
    assert scale.shape == (seen["shape"][1],) == (384 * 4 + len(lexicon.NAMES),)
    assert set(scale[: 384 * 4]) == {1.0} and set(scale[384 * 4:]) == {4.0}
