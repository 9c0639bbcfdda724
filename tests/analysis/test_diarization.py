"""Diarization (#16): DER arithmetic, agent assignment, word attribution, and — on audio
synthesised with espeak-ng, through the real GE2E encoder — clustering, mixed-stereo
detection and enrolment into a real DuckDB store."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from analysis.confidence import parts
from analysis.diarization.assign import assign, phrases
from analysis.diarization.der import der
from analysis.diarization.diarize import Diarization
from analysis.diarization.words import turns_from_words, word_speakers
from store.records import Flag, Turn, Word

# -- DER: hand-counted cases --------------------------------------------------------------


def test_der_perfect_and_label_names_do_not_matter() -> None:
    ref = [(0.0, 2.0, "agent"), (2.5, 4.0, "customer")]
    hyp = [(0.0, 2.0, 7), (2.5, 4.0, 3)]
    r = der(ref, hyp)
    assert r.der == pytest.approx(0.0)
    assert r.mapping == {7: "agent", 3: "customer"}


def test_der_counts_missed_false_alarm_and_confusion() -> None:
    ref = [(0.0, 4.0, "a"), (4.0, 6.0, "b")]  # 6 s of reference speech
    # 1 s of a missed, 1 s of b called a (confusion), 0.5 s of silence called speech
    hyp = [(0.0, 3.0, "x"), (4.0, 5.0, "x"), (5.0, 6.5, "y")]
    r = der(ref, hyp)
    assert r.reference == pytest.approx(6.0, abs=0.02)
    assert r.missed == pytest.approx(1.0, abs=0.02)
    assert r.confusion == pytest.approx(1.0, abs=0.02)
    assert r.false_alarm == pytest.approx(0.5, abs=0.02)
    assert r.der == pytest.approx(2.5 / 6.0, abs=0.01)


def test_der_scores_overlap_both_ways() -> None:
    ref = [(0.0, 2.0, "a"), (1.0, 3.0, "b")]  # 1 s of overlap: 4 s of reference speech
    one_voice = [(0.0, 1.5, "x"), (1.5, 3.0, "y")]  # never two at once: 1 s missed
    r = der(ref, one_voice)
    assert r.missed == pytest.approx(1.0, abs=0.02) and r.der == pytest.approx(0.25, abs=0.01)
    assert der(ref, [(0.0, 2.0, "x"), (1.0, 3.0, "y")]).der == pytest.approx(0.0)


def test_der_extra_hypothesis_speaker_is_confusion_not_mapped() -> None:
    ref = [(0.0, 3.0, "a")]
    hyp = [(0.0, 2.0, "x"), (2.0, 3.0, "z")]
    r = der(ref, hyp)
    assert r.confusion == pytest.approx(1.0, abs=0.02) and len(r.mapping) == 1


# -- assignment ---------------------------------------------------------------------------


def test_phrases_find_greetings_and_closings() -> None:
    assert set(phrases("Thank you for calling Acme, how can I help you today?")) == {
        "thanks_for_calling", "how_can_i_help"}  # fmt: skip
    assert phrases("Is there anything else I can help you with?") == ["anything_else"]
    assert phrases("I want a refund right now") == []


def test_assignment_uses_phrases_against_who_spoke_first() -> None:
    texts = ["Hello? Yes, speaking.", "Hi, this is Tom calling from Acme about your order."]
    out = assign(2, texts, first_speaker=0, direction="outbound")
    assert out.agent == 1 and out.confidence > 0.85
    # inbound, no phrases: the first speaker is the agent, but not with high confidence
    plain = assign(2, ["Yes I am here.", "My internet is down."], first_speaker=0, direction="inbound")
    assert plain.agent == 0 and 0.6 < plain.confidence < 0.9
    none = assign(2, ["ok", "ok"], first_speaker=None, direction=None)
    assert none.confidence == pytest.approx(0.5)


def test_voiceprint_outweighs_who_spoke_first() -> None:
    rng = np.random.default_rng(0)
    vp = rng.standard_normal(256)
    vp /= np.linalg.norm(vp)
    other = rng.standard_normal(256)
    other /= np.linalg.norm(other)
    near = vp + 0.3 * other
    cents = np.stack([other, near / np.linalg.norm(near)])
    out = assign(2, ["", ""], first_speaker=0, direction="inbound", centroids=cents, voiceprint=vp)
    assert out.agent == 1 and out.confidence > 0.95
    assert out.evidence["voiceprint_similarity"][1] > out.evidence["voiceprint_similarity"][0]


def test_confidence_is_calibrated_over_the_evidence_margins() -> None:
    from analysis.diarization.assign import CALIBRATION, calibrated

    out = assign(2, ["Thank you for calling, how can I help?", "My internet is down."], first_speaker=0,
                 direction="inbound")
    assert out.margins["phrases"] == 2 and out.margins["first"] == 1 and out.margins["voiceprint_known"] == 0
    assert out.confidence == pytest.approx(calibrated(out.margins), abs=1e-4)
    assert out.evidence["raw_confidence"] > 0.5 and "margins" in out.evidence
    # more evidence for the same speaker never lowers the confidence (no negative weights)
    assert all(CALIBRATION[k] >= 0 for k in ("voiceprint", "first", "phrases", "questions"))
    weaker = dict(out.margins, phrases=0.0)
    assert calibrated(weaker) <= calibrated(out.margins)


# -- words and turns ----------------------------------------------------------------------


def _diar(labels: list[int]) -> Diarization:
    n = len(labels)
    scores = np.full((n, 2), np.nan)
    speech = np.zeros(n, dtype=bool)
    for i, lab in enumerate(labels):
        if lab >= 0:
            scores[i] = [0.9, 0.2] if lab == 0 else [0.2, 0.9]
            speech[i] = True
    return Diarization(2, scores, speech, np.eye(2, 256))


def test_words_take_the_speaker_they_overlap_and_turns_split_at_word_boundaries() -> None:
    # frames (10 ms): speaker 0 for 0-1 s, speaker 1 for 1-2 s (no pause), silence, 1 again
    d = _diar([0] * 100 + [1] * 100 + [-1] * 50 + [1] * 50)
    words = [Word(" hello", 0.1, 0.5), Word(" there", 0.55, 0.98), Word(" mm-hmm", 1.02, 1.4),
             Word(" yes", 1.5, 1.9), Word(" ok", 2.55, 2.8), Word(" far", 2.2, 2.3)]  # fmt: skip
    spk = word_speakers(words, d)
    assert spk == [0, 0, 1, 1, 1, 1]  # "far" sits in silence: the nearest scored frame
    turns = turns_from_words(words[:5], spk[:5], ["agent", "customer"], gap=0.5, meta={"m": 1})
    assert [(t.speaker, t.text) for t in turns] == [
        ("agent", "hello there"), ("customer", "mm-hmm yes"), ("customer", "ok")]  # fmt: skip
    assert turns[1].start == 1.02 and turns[2].meta == {"m": 1, "diarized_speaker": 1}


def test_overlap_is_marked_around_changes_inside_continuous_speech_only() -> None:
    from analysis.diarization.diarize import overlap_at_changes

    # 0 then 1 with no pause (a cut-in), silence, then 0 again after the pause
    lab = np.array([0] * 50 + [1] * 50 + [-1] * 30 + [0] * 40)
    second = overlap_at_changes(lab, 20)
    assert (second[40:50] == 1).all() and (second[50:60] == 0).all()  # 10 frames each side
    assert (second[:40] == -1).all() and (second[60:] == -1).all()  # not across the silence
    d = _diar(list(lab))
    d.second = second
    segs = d.segments()
    assert segs == [(0.0, 0.6, 0), (0.4, 1.0, 1), (1.3, 1.7, 0)]
    r = der([(0.0, 0.6, "a"), (0.4, 1.0, "b")], segs)
    assert r.missed == pytest.approx(0.0, abs=0.02)  # the overlap is no longer missed


def test_low_speaker_confidence_lowers_the_flags_confidence() -> None:
    turns = [Turn(0, "agent", "hi", 0.0, 1.0, words=[Word(" hi", 0.0, 1.0, 0.9)],
                  meta={"speaker_source": "diarization", "speaker_confidence": 0.55})]  # fmt: skip
    present = Flag(interaction_id=1, kind="x", severity=3, summary="", evidence=[{"seq": 0, "start": 0.0, "end": 1.0}])
    absent = Flag(interaction_id=1, kind="y", severity=3, summary="", evidence=[{"absent": True}])
    assert parts(present, turns) == {"asr": pytest.approx(0.9), "speaker": 0.55}
    assert parts(absent, turns)["speaker"] == 0.55
    turns[0].meta = {"speaker_source": "channel"}
    assert "speaker" not in parts(present, turns)


# -- real model, synthesised audio --------------------------------------------------------

AGENT_LINES = [
    "Thank you for calling Acme support, my name is Daniel. How can I help you today?",
    "I can see the charge from last Tuesday on your statement.",
    "I have applied a credit of twenty dollars to your next bill.",
    "Is there anything else I can help you with today?",
]
CUSTOMER_LINES = [
    "Hi, I was charged twice this month and I want to know why.",
    "It was on my credit card, the one ending in four four seven two.",
    "Okay, that sounds fair, thank you very much for sorting it out.",
    "No, that is everything, thanks.",
]


def _two_voices(mc: ModuleType) -> np.ndarray:
    lines = []
    for a, c in zip(AGENT_LINES, CUSTOMER_LINES, strict=True):
        lines += [mc.Line("agent", a, 0.5), mc.Line("customer", c, 0.6)]
    return mc.render(lines, mono=False)  # (2, n): left agent, right customer


def test_mel_features_are_librosas_without_importing_it() -> None:
    """The speaker features' mel filters and the narrowband check's band centres are
    librosa's Slaney ones (what resemblyzer used), computed without librosa (issue 15)."""
    import subprocess
    import sys

    import librosa

    from analysis.diarization.encoder import _mel_basis, mel_frequencies

    for n, fmax in ((42, 8000.0), (40, 8000.0), (10, 900.0), (128, 11025.0)):
        np.testing.assert_allclose(mel_frequencies(n, fmax), librosa.mel_frequencies(n_mels=n, fmax=fmax), rtol=1e-9)
    np.testing.assert_allclose(_mel_basis(), librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), atol=1e-7)
    # a fresh process computing the features and the band check never loads librosa
    code = ("import sys, numpy as np; from analysis.diarization.encoder import mel_frequencies, mel_frames; "
            "from analysis.diarization.diarize import is_narrowband; "
            "mel, _ = mel_frames(np.random.default_rng(0).normal(size=16000).astype(np.float32)); "
            "is_narrowband(mel); print('librosa' in sys.modules)")  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def stereo(make_calls_module: ModuleType) -> np.ndarray:
    import shutil

    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are needed (make sysdeps-test installs them)")
    return _two_voices(make_calls_module)


@pytest.mark.espeak
def test_mixed_stereo_is_told_from_a_real_two_channel_call(stereo: np.ndarray) -> None:
    from analysis.diarization.call import is_mixed_stereo

    left, right = stereo
    echo = np.concatenate([np.zeros(80, np.float32), right[:-80]]) * 0.03  # line echo, -30 dB
    assert not is_mixed_stereo(left + echo, right)[0]
    mix = left + right
    mixed, stats = is_mixed_stereo(mix, 0.8 * mix + 0.1 * left)  # a mix saved on both sides
    assert mixed and stats["correlation"] > 0.9


@pytest.mark.slow
@pytest.mark.espeak
def test_two_voices_are_separated_and_the_agent_found(stereo: np.ndarray) -> None:
    from analysis.diarization.call import CallContext, speaker_turns
    from analysis.diarization.diarize import DiarizeOptions, diarize
    from bench.diarization_data import active_spans

    mono = stereo.sum(axis=0)
    d = diarize(mono)
    assert d.n_speakers == 2
    ref = [(s, e, "agent") for s, e in active_spans(stereo[0], 0.0)]
    ref += [(s, e, "customer") for s, e in active_spans(stereo[1], 0.0)]
    assert der(ref, d.segments()).der < 0.10
    # words placed at the reference times get their speakers and names
    words = [Word(f" w{i}", s + 0.05, min(e, s + 0.4)) for i, (s, e, _w) in enumerate(sorted(ref)) if e - s > 0.2]
    truth = [w for s, e, w in sorted(ref) if e - s > 0.2]
    # give the agent's words its greeting so the assignment has a phrase to go on
    words[0] = Word(" Thank you for calling, how can I help", words[0].start, words[0].end)
    res = speaker_turns(mono, [words], CallContext(direction="inbound"), DiarizeOptions(), gap=1.5)
    said = [t.speaker for t in res.turns for _w in t.words or []]
    assert np.mean([a == b for a, b in zip(said, truth, strict=True)]) > 0.9
    assert res.confidence is not None and res.confidence > 0.8


def _third(mc: ModuleType, voice: str) -> np.ndarray:
    old = mc.AGENT_VOICE
    mc.AGENT_VOICE = voice
    try:
        return mc.render([mc.Line("agent", "Hello, this is the technical team. I have read the notes on your "
                                  "case and we will send an engineer on Thursday morning between eight "
                                  "and noon, and he will call you half an hour before he arrives.")],
                         mono=True)[0]  # fmt: skip
    finally:
        mc.AGENT_VOICE = old


@pytest.mark.slow
@pytest.mark.espeak
def test_a_third_voice_makes_a_third_speaker_a_near_copy_does_not(make_calls_module: ModuleType) -> None:
    from analysis.diarization.diarize import diarize

    mc = make_calls_module
    two = _two_voices(mc).sum(axis=0)
    pause = np.zeros(8000, np.float32)
    assert diarize(two).n_speakers == 2
    # a clearly different voice (its centroid ~0.27 from the nearest, the two others 0.32 apart)
    assert diarize(np.concatenate([two, pause, _third(mc, "en-029+Alicia")])).n_speakers == 3
    # a voice ~0.07 from the customer's (en-us f3 vs en-us-nyc f4) is not a speaker of its own
    assert diarize(np.concatenate([two, pause, _third(mc, "en-us-nyc+f4")])).n_speakers == 2


@pytest.mark.slow
@pytest.mark.espeak
def test_enrolment_stores_a_voiceprint_that_points_at_the_agent(stereo: np.ndarray, tmp_path: Path) -> None:
    from analysis.diarization.call import MODEL, agent_voiceprint
    from analysis.diarization.diarize import diarize
    from store import speakers
    from store.db import Store

    got = agent_voiceprint(stereo[0])
    assert got is not None and got[1] > 5.0
    store = Store.open(tmp_path / "s.duckdb")
    try:
        speakers.enrol(store, "1042", MODEL, got[0], got[1])
        again = speakers.enrol(store, "1042", MODEL, got[0], got[1])
        assert again.calls == 2 and again.seconds == pytest.approx(2 * got[1])
        vp = speakers.voiceprint(store, "1042", MODEL)
        assert vp is not None and speakers.voiceprint(store, "1042", "other-model") is None
        d = diarize(stereo.sum(axis=0))
        sims = d.centroids @ vp.embedding
        agent_cluster = int(np.argmax(sims))
        lab = d.labels()
        left_on = np.zeros(len(lab), dtype=bool)
        for s, e in __import__("bench.diarization_data", fromlist=["x"]).active_spans(stereo[0], 0.0):
            left_on[int(s * 100) : int(e * 100)] = True
        assert (lab[left_on & (lab >= 0)] == agent_cluster).mean() > 0.9
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.espeak
def test_capped_enrolment_reads_only_the_calls_first_speech_and_agrees(stereo: np.ndarray) -> None:
    """`voiceprint_call_seconds` (issue 15): the print from the first few seconds of the
    agent's speech points where the whole call's does, and counts only those seconds; the
    correlation the mixed-stereo check reports is np.corrcoef's."""
    from analysis.diarization import call as call_mod
    from analysis.diarization.call import _correlation, agent_voiceprint

    full = agent_voiceprint(stereo[0])
    computed: list[int] = []
    real_mel = call_mod.mel_frames

    def counting(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        computed.append(len(samples))
        return real_mel(samples)

    call_mod.mel_frames = counting  # type: ignore[assignment]
    try:
        capped = agent_voiceprint(stereo[0], max_seconds=6.0)
    finally:
        call_mod.mel_frames = real_mel  # type: ignore[assignment]
    assert full is not None and capped is not None
    # the first stretch held the 6 s: its mel served the print too (computed once)
    assert computed == [min(len(stereo[0]), int(3 * 6.0 * 16000))]
    assert 6.0 <= capped[1] < full[1] and capped[1] < 6.0 + 5.0  # whole regions, stopping past the cap
    assert float(capped[0] @ full[0]) > 0.95
    assert agent_voiceprint(stereo[0], max_seconds=1e6)[1] == pytest.approx(full[1])  # type: ignore[index]
    left, right = stereo
    assert _correlation(left, right) == pytest.approx(float(np.corrcoef(left, right)[0, 1]), abs=1e-9)
