"""Anger that uses the voice: synthesised speech with set prosody (espeak-ng + sox), scored
by the real AngerScorer with the shipped (fitted) weights."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from scriptload import load_script

from analysis.anger import FEATURES, AngerOptions, AngerScorer
from analysis.sentiment import TurnSentiment
from store.records import Interaction

ROOT = Path(__file__).resolve().parents[2]
NEUTRAL = TurnSentiment("neutral", 0.0, {"negative": 0.05, "neutral": 0.9, "positive": 0.05})
NEGATIVE = TurnSentiment("negative", -0.9, {"negative": 0.95, "neutral": 0.04, "positive": 0.01})


@pytest.fixture(scope="module")
def av() -> ModuleType:
    """bench/anger_voice.py (the voice set's synthesiser) as a module."""
    return load_script("bench/anger_voice.py", "anger_voice_for_tests")


def _score(av: ModuleType, tmp_path: Path, text: str, prosody: str, sentiment: TurnSentiment, *, voice: bool = True):
    item = av.Item(f"t-{prosody}", text, "train", sentiment.label, False, prosody, "en-us+f3", False)
    channels, turns = av.synth_call(item, tmp_path)
    inter = Interaction("call", "test", item.id, "h", turns=turns, id=1)
    sents = [NEUTRAL] * (len(turns) - 1) + [sentiment]
    return AngerScorer().score(inter, sents, channels=channels if voice else None)


@pytest.mark.espeak
def test_extreme_voice_alone_raises_the_flag(av: ModuleType, tmp_path: Path) -> None:
    text = "I would like to know where my parcel is, it was due on Monday."
    shouted = _score(av, tmp_path, text, "shouted", NEUTRAL)
    assert shouted.flag is not None, shouted.details[-1]
    assert shouted.overall >= AngerOptions().flag_threshold
    evidence = shouted.flag.evidence[-1]
    assert "voice" in evidence["reason"] and evidence["words"] == []  # no angry word: the voice decided
    # the same words read normally, or with no audio at all, raise nothing
    assert _score(av, tmp_path, text, "normal", NEUTRAL).flag is None
    assert _score(av, tmp_path, text, "shouted", NEUTRAL, voice=False).flag is None


@pytest.mark.espeak
def test_strong_words_read_flatly_score_lower_than_read_normally(av: ModuleType, tmp_path: Path) -> None:
    text = "This is ridiculous, I have called four times and nobody has fixed it."
    flat = _score(av, tmp_path, text, "flat", NEGATIVE).details[-1]
    normal = _score(av, tmp_path, text, "normal", NEGATIVE).details[-1]
    shouted = _score(av, tmp_path, text, "shouted", NEGATIVE).details[-1]
    assert flat.features["voice_calm"] > normal.features["voice_calm"]
    assert flat.probability < normal.probability <= shouted.probability
    assert any(r.startswith("voice calm") for r in flat.reasons)


def test_voice_set_split_follows_the_turn_set_and_fitting_reads_train_only(av: ModuleType) -> None:
    text_train, voice_train = av.items("train")
    text_held, voice_held = av.items("held_out")
    assert {i.text for i in text_train}.isdisjoint(i.text for i in text_held)
    assert {i.text for i in voice_train}.isdisjoint(i.text for i in voice_held)
    assert all(i.split == "train" for i in [*text_train, *voice_train])
    assert {i.prosody for i in voice_held} == set(av.PROSODY)
    # the labelling convention, written before any fitting
    assert av.gold("neutral", False, "shouted") and not av.gold("negative", True, "flat")
    assert not av.gold("positive", False, "shouted") and av.gold("negative", False, "raised")


def test_every_feature_has_a_weight() -> None:
    o = AngerOptions()
    assert all(isinstance(getattr(o, f"weight_{n}"), float) for n in FEATURES)
