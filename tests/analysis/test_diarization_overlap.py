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
from analysis.diarization.words import overlapped_words, turns_from_words, word_speakers
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


def test_an_overlapped_first_word_or_one_after_the_floor_went_quiet_takes_the_floor() -> None:
    d = _diar(300, (0, 300))  # everything marked overlapped
    ov = overlapped_words(WORDS, d)
    turns = turns_from_words(WORDS, SPK, NAMES, gap=0.8, meta={}, overlapped=ov)
    assert not turns[0].meta.get("talk_over") and turns[0].speaker == "agent"
    # the customer never speaks alone, so the agent keeps the floor; a pause of 1 s splits
    # the customer's words in two turns, and only the first starts inside the agent's
    assert [t.text for t in turns] == ["so the refund takes days", "wait", "no really"]
    assert turns[1].meta.get("talk_over") and not turns[2].meta.get("talk_over")  # "no" starts after "days"


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
def overlap_call(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An overlap-heavy call from the bench generator, diarized with detection on and off."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are needed (make sysdeps-test installs them)")
    from analysis.asr.audio import load
    from analysis.diarization.diarize import DiarizeOptions, diarize
    from bench import diarization_data as data

    out = tmp_path_factory.mktemp("ovl")
    # a seed of neither bench split (the classifier never saw this call), dev voices
    call = data.make_call("t", "dev_overlap", 9100, 16000, out, overlap=True)
    samples = load(out / "t.wav").channels[0]
    return {"samples": samples, "ref": [tuple(r) for r in call.reference], "utts": call.utts,
            "on": diarize(samples, DiarizeOptions(overlap_detect=True)),
            "off": diarize(samples, DiarizeOptions(overlap_detect=False))}  # fmt: skip


@pytest.mark.slow
@pytest.mark.espeak
def test_an_overlap_heavy_call_gets_both_speakers_where_both_talk(overlap_call) -> None:
    from analysis.diarization.der import _grid, der

    ref, on, off = overlap_call["ref"], overlap_call["on"], overlap_call["off"]
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

    a = diarize(overlap_call["samples"], DiarizeOptions(overlap_detect=False), keep_features=True)
    b = overlap_call["on"]
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


def _utt_words(utts) -> tuple[list[Word], list[str]]:
    """Each utterance's words spread evenly over its time (as Whisper would time them)."""
    words, who = [], []
    for u in utts:
        toks = u.text.split()
        step = (u.end - u.start) / len(toks)
        for i, tok in enumerate(toks):
            words.append(Word(" " + tok, round(u.start + i * step, 3), round(u.start + (i + 0.9) * step, 3)))
            who.append(u.speaker)
    return words, who


@pytest.mark.slow
@pytest.mark.espeak
def test_a_talk_over_becomes_its_own_overlapping_turn_and_off_keeps_the_old_turns(overlap_call) -> None:
    from analysis.diarization.call import CallContext, speaker_turns
    from analysis.diarization.diarize import DiarizeOptions

    words, _who = _utt_words(overlap_call["utts"])
    ctx = CallContext(direction="inbound")
    on = speaker_turns(overlap_call["samples"], [words], ctx, DiarizeOptions(), gap=1.5,
                       diarization=overlap_call["on"])  # fmt: skip
    off = speaker_turns(overlap_call["samples"], [words], ctx, DiarizeOptions(overlap_detect=False), gap=1.5,
                        diarization=overlap_call["off"])  # fmt: skip
    # off: exactly the turns of the code before overlap handling (cut at every change)
    spk = word_speakers(sorted(words, key=lambda w: w.start), overlap_call["off"])
    names = off.evidence["names"]
    old = turns_from_words(sorted(words, key=lambda w: w.start), spk, names, gap=1.5,
                           meta={"speaker_source": "diarization", "speaker_confidence": off.confidence})  # fmt: skip
    assert [(t.speaker, t.text, t.start, t.end) for t in off.turns] == [(t.speaker, t.text, t.start, t.end) for t in old]
    assert "overlap_seconds" not in off.evidence and not any(t.meta.get("talk_over") for t in off.turns)
    # on: the same words with the same speakers, fewer turns, and talk-overs that overlap
    # a turn of the other speaker in time
    def said(turns):
        return sorted((w.start, t.speaker) for t in turns for w in t.words)

    assert said(on.turns) == said(off.turns)
    assert on.evidence["overlap_seconds"] > 1.0
    talk = [t for t in on.turns if t.meta.get("talk_over")]
    assert talk and not on.turns[0].meta.get("talk_over")  # the first word takes the floor
    for t in talk:
        assert any(o.speaker != t.speaker and o.start < t.end and t.start < o.end for o in on.turns)
    assert [t.seq for t in on.turns] == list(range(len(on.turns)))
    assert [t.start for t in on.turns] == sorted(t.start for t in on.turns)
