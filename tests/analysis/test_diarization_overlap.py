"""Overlapped speech in mono diarization (#16 round 3): the shipped classifier, its frame
features, talk-over turns, and — on an overlap-heavy call synthesised by the bench's
generator (espeak-ng) through the real GE2E encoder — where it marks both speakers."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from analysis.diarization.diarize import Diarization
from analysis.diarization.overlap import (
    FEATURES,
    MODEL_FILE,
    OverlapModel,
    _change_distance,
    _moving,
    _periodicity,
    load_model,
)  # fmt: skip
from analysis.diarization.words import overlapped_words, turns_from_words
from store.records import Word

# -- the shipped model file ---------------------------------------------------------------


def test_model_file_loads_and_matches_the_features_the_code_computes() -> None:
    m = load_model()
    assert m.features == FEATURES
    assert m.mean.shape == m.scale.shape == (len(FEATURES),)
    assert m.layers[0][0].shape[0] == len(FEATURES) and m.layers[-1][0].shape[1] == 1
    assert 0.0 < m.threshold < 1.0 and m.smooth >= 0
    # what it says about the mean frame is a probability; round-tripping keeps it
    x = np.stack([m.mean, m.mean + m.scale])
    p = m.proba(x)
    assert ((p > 0) & (p < 1)).all()
    again = OverlapModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert np.allclose(again.proba(x), p)


def test_a_model_trained_on_other_features_is_refused(tmp_path: Path) -> None:
    d = json.loads(MODEL_FILE.read_text())
    d["features"] = d["features"][:-1]
    with pytest.raises(ValueError, match="features"):
        OverlapModel.from_dict(d)


def test_detection_smooths_and_stays_inside_speech() -> None:
    m = OverlapModel(np.zeros(1), np.ones(1), ((np.ones((1, 1)), np.zeros(1)),), smooth=2, threshold=0.5,
                     features=("x",))  # fmt: skip
    x = np.array([-5.0] * 10 + [5.0] * 10 + [5.0] + [-5.0] * 10)[:, None]
    speech = np.ones(len(x), dtype=bool)
    speech[15] = False
    both = m.detect(x, speech)
    assert both[12:15].all() and not both[15] and not both[:8].any() and not both[25:].any()


# -- feature helpers ----------------------------------------------------------------------


def test_change_distance_and_moving_mean() -> None:
    lab = np.array([0] * 10 + [1] * 10 + [-1] * 5 + [0] * 5)
    d = _change_distance(lab)
    assert d[10] == 0 and d[9] == pytest.approx(0.01) and d[0] == pytest.approx(0.10)
    assert d[27] == pytest.approx(0.17)  # a change across silence is not a change
    assert np.allclose(_moving(np.array([0.0, 3.0, 0.0, 3.0]), 1), [1.5, 1.0, 2.0, 1.5])


def test_periodicity_tells_one_voice_from_two_and_from_noise() -> None:
    t = np.arange(16000) / 16000
    one = (np.sign(np.sin(2 * np.pi * 130 * t)) * 0.3).astype(np.float32)  # a buzz, one pitch
    two = one + (np.sign(np.sin(2 * np.pi * 217 * t + 1.0)) * 0.3).astype(np.float32)
    noise = np.random.default_rng(0).normal(0, 0.3, 16000).astype(np.float32)
    p1, p2, pn = (float(np.median(_periodicity(x, 100)[5:-5])) for x in (one, two, noise))
    # (the autocorrelation is the biased one: its peak at a 7.7 ms period is ~0.7 of the lag-0 value)
    assert p1 > 0.6 and pn < 0.3 and p2 < p1 - 0.1 and p1 > pn + 0.3


# -- turns with talk-over -----------------------------------------------------------------


def _diar(n_frames: int, both: tuple[int, int] | None) -> Diarization:
    scores = np.tile([0.9, 0.2], (n_frames, 1))
    d = Diarization(2, scores, np.ones(n_frames, dtype=bool), np.eye(2, 256))
    if both:
        d.second = np.full(n_frames, -1, dtype=np.int64)
        d.second[both[0] : both[1]] = 1
    return d


WORDS = [Word(" so", 0.0, 0.3), Word(" the", 0.35, 0.5), Word(" refund", 0.55, 1.0),  # agent
         Word(" wait", 0.6, 0.9),  # customer, over the agent
         Word(" takes", 1.05, 1.4), Word(" days", 1.45, 1.8),  # agent runs on
         Word(" no", 1.9, 2.1), Word(" really", 2.15, 2.5)]  # customer, alone: takes the floor  # fmt: skip
SPK = [0, 0, 0, 1, 0, 0, 1, 1]
NAMES = ["agent", "customer"]


def test_without_overlap_turns_are_as_before() -> None:
    # no marking at all, or marking that no word falls in: the old cut at every change
    for d in (_diar(300, None), _diar(300, (280, 300))):
        ov = overlapped_words(WORDS, d)
        turns = turns_from_words(WORDS, SPK, NAMES, gap=0.8, meta={}, overlapped=ov)
        old = turns_from_words(WORDS, SPK, NAMES, gap=0.8, meta={})
        assert [(t.speaker, t.text, t.start, t.end, t.meta) for t in turns] == [
            (t.speaker, t.text, t.start, t.end, t.meta) for t in old]  # fmt: skip
        assert [t.text for t in old] == ["so the refund", "wait", "takes days", "no really"]


def test_a_word_said_over_the_other_opens_an_overlapping_turn_and_keeps_the_floor() -> None:
    d = _diar(300, (55, 100))  # 0.55-1.0 s: both talk
    ov = overlapped_words(WORDS, d)
    assert ov == [False, False, True, True, False, False, False, False]
    turns = turns_from_words(WORDS, SPK, NAMES, gap=0.8, meta={"m": 1}, overlapped=ov)
    assert [(t.seq, t.speaker, t.text) for t in turns] == [
        (0, "agent", "so the refund takes days"), (1, "customer", "wait"), (2, "customer", "no really")]  # fmt: skip
    assert turns[1].start < turns[0].end  # the two turns overlap in time: a talk-over
    assert turns[1].meta == {"m": 1, "diarized_speaker": 1, "talk_over": True}
    assert "talk_over" not in turns[2].meta
    # every word is kept, once, with its one speaker
    assert sorted(w.start for t in turns for w in t.words) == sorted(w.start for w in WORDS)


# -- real audio (bench generator, espeak-ng) ----------------------------------------------


@pytest.fixture(scope="module")
def overlap_call(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, list]:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are needed (make sysdeps-test installs them)")
    from analysis.asr.audio import load
    from bench import diarization_data as data

    out = tmp_path_factory.mktemp("ovl")
    # a seed of neither bench split (the classifier never saw this call), dev voices
    call = data.make_call("t", "dev_overlap", 9100, 16000, out, overlap=True)
    return load(out / "t.wav").channels[0], [tuple(r) for r in call.reference]


@pytest.mark.slow
@pytest.mark.espeak
def test_an_overlap_heavy_call_gets_both_speakers_where_both_talk(overlap_call) -> None:
    from analysis.diarization.der import _grid, der
    from analysis.diarization.diarize import DiarizeOptions, diarize

    samples, ref = overlap_call
    on = diarize(samples, DiarizeOptions(overlap_detect=True))
    off = diarize(samples, DiarizeOptions(overlap_detect=False))
    _, grid = _grid(ref, len(on.speech))
    truth_both = grid.sum(axis=0) >= 2
    truth_one = grid.sum(axis=0) == 1
    assert truth_both.mean() > 0.03  # the generator made real overlap
    marked = on.speech & (on.second >= 0)
    # marked where both talk far more often than where one does
    assert marked[truth_both].mean() > 0.25
    assert marked[truth_one].mean() < 0.10
    assert marked[truth_both].mean() > 4 * marked[truth_one].mean()
    # the second speaker of a marked frame is never the frame's best one
    assert (on.second[marked] != on.labels()[marked]).all()
    # off: nothing marked, the same best speaker per frame, and less missed overlap with on
    assert off.second is None and off.overlap_features is None and off.overlap_seconds() == 0.0
    assert np.array_equal(off.labels(), on.labels()) and np.allclose(off.scores, on.scores, equal_nan=True)
    assert der(ref, on.segments()).missed < der(ref, off.segments()).missed


@pytest.mark.slow
@pytest.mark.espeak
def test_features_are_computed_the_same_way_every_time(overlap_call) -> None:
    from analysis.diarization.diarize import DiarizeOptions, diarize

    samples, _ref = overlap_call
    a = diarize(samples, DiarizeOptions(overlap_detect=False), keep_features=True)
    b = diarize(samples, DiarizeOptions(overlap_detect=True))
    assert a.overlap_features is not None and a.overlap_features.shape == (len(a.speech), len(FEATURES))
    assert np.allclose(a.overlap_features, b.overlap_features)
    assert a.second is None  # kept, not used: detection off
    x = a.overlap_features[a.speech]
    col = {f: x[:, i] for i, f in enumerate(FEATURES)}
    assert (col["s1"] >= col["s2"]).all() and (col["margin"] >= 0).all()
    assert ((col["periodicity"] >= 0) & (col["periodicity"] <= 1)).all() and not np.isnan(x).any()
    assert (col["narrowband"] == 0).all()  # a 16 kHz call
    # marking more never changes a frame's best speaker, so words keep theirs
    e = dataclasses.replace(b, second=None)
    assert e.segments() == a.segments()
