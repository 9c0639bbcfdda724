"""Anger: text evidence, the flag's severity and evidence, and the sample calls for real.

Fast tests build sentiments by hand so they exercise the scorer alone; the slow test
transcribes the angry and the calm sample calls with the packaged Whisper model and scores
them with the packaged flair classifier and the call audio (voice evidence included).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from analysis.anger import AngerOptions, AngerScorer
from analysis.sentiment import SentimentOptions, TurnSentiment, ensure_model, load_turn_classifier
from store.records import SEVERITIES, Interaction, Turn, Word

ROOT = Path(__file__).resolve().parents[2]
NEG = TurnSentiment("negative", -0.9, {"negative": 0.95, "neutral": 0.04, "positive": 0.01})
NEU = TurnSentiment("neutral", 0.0, {"negative": 0.05, "neutral": 0.9, "positive": 0.05})
POS = TurnSentiment("positive", 0.9, {"negative": 0.01, "neutral": 0.04, "positive": 0.95})


def chat(*lines: tuple[str, str], channel: str = "chat") -> Interaction:
    turns = [
        Turn(seq=i, speaker=spk, text=text, sent_at=datetime(2026, 11, 24, 9, i, tzinfo=UTC))
        for i, (spk, text) in enumerate(lines)
    ]
    return Interaction(channel, "test", "x1", "h", turns=turns, id=42)


@pytest.fixture(scope="module")
def scorer() -> AngerScorer:
    return AngerScorer()


def test_escalation_plus_negative_is_angry_and_flagged(scorer: AngerScorer) -> None:
    inter = chat(("agent", "How can I help?"),
                 ("customer", "This is ridiculous, I want to speak to your manager"))
    r = scorer.score(inter, [NEU, NEG])
    assert r.per_turn[0] is None
    assert r.per_turn[1] is not None and r.per_turn[1] > 0.85
    assert r.flag is not None and r.flag.kind == "angry_customer" and r.flag.interaction_id == 42
    assert r.flag.severity == SEVERITIES["high"]  # one angry turn above high_threshold
    ev = r.flag.evidence[0]
    assert ev["seq"] == 1 and ev["sent_at"].startswith("2026-11-24T09:01")
    assert "this is ridiculous" in ev["words"] and "speak to your manager" in ev["words"]
    assert "escalation" in ev["reason"] and "negative sentiment" in ev["reason"]


def test_negative_but_calm_is_not_flagged(scorer: AngerScorer) -> None:
    inter = chat(("customer", "My parcel is late and there is a fee on my invoice."),
                 ("agent", "Sorry about that, I removed the fee."),
                 ("customer", "Thanks, that helps."))
    r = scorer.score(inter, [NEG, NEU, POS])
    assert r.flag is None
    # not even an angry turn ("late" and "fee" are NRC anger words but on the ignore list);
    # with the fitted weights a confidently negative, calm turn scores about 0.44
    assert r.overall < AngerOptions().turn_threshold
    assert r.details[0].features["lexicon"] == 0.0


def test_nrc_anger_words_profanity_and_shouting(scorer: AngerScorer) -> None:
    calm = scorer.score(chat(("customer", "I am annoyed about this.")), [NEG]).overall
    sweary = scorer.score(chat(("customer", "I am annoyed about this damn bullshit.")), [NEG]).overall
    shouted = scorer.score(chat(("customer", "I am annoyed about this. FIX IT NOW!!")), [NEG]).overall
    assert calm < sweary and calm < shouted
    # the same shouting in a call transcript is not evidence (ASR decides the case and "!")
    spoken = scorer.score(chat(("customer", "I am annoyed about this. FIX IT NOW!!"), channel="call"), [NEG])
    assert spoken.details[0].features["shouting"] == 0.0


def test_fuzzy_escalation_survives_asr_errors(scorer: AngerScorer) -> None:
    r = scorer.score(chat(("customer", "no i want to speek to your manger right now")), [NEG])
    assert r.details[0].features["escalation"] == 1.0
    assert r.details[0].words == ["speak to your manager"]
    plain = scorer.score(chat(("customer", "please speak slowly, my manager is listening")), [NEU])
    assert plain.details[0].features["escalation"] == 0.0


def test_repetition_and_severity_with_several_angry_turns(scorer: AngerScorer) -> None:
    inter = chat(
        ("customer", "I have called three times about this refund and it is unacceptable"),
        ("agent", "I understand."),
        ("customer", "This is ridiculous, I am furious!"),
        ("agent", "Let me check."),
        ("customer", "Unacceptable. I want to speak to a manager. How many times do I have to ask!"),
    )
    r = scorer.score(inter, [NEG, NEU, NEG, NEU, NEG])
    assert r.details[0].features["repetition"] == 1.0
    assert r.flag is not None and r.flag.severity == SEVERITIES["critical"]
    assert [e["seq"] for e in r.flag.evidence] == [0, 2, 4]
    assert r.overall == max(p for p in r.per_turn if p is not None)
    assert r.emotions[2].get("anger", 0) > 0


def test_thresholds_are_configurable_and_validated() -> None:
    # a polite request for a manager: escalation evidence alone stays under the default flag
    inter = chat(("customer", "Could I speak to a manager please"))
    default = AngerScorer().score(inter, [NEU])
    assert default.flag is None and 0.2 < default.overall < 0.6
    lenient = AngerScorer(AngerOptions(turn_threshold=0.2, flag_threshold=0.2)).score(inter, [NEU])
    assert lenient.flag is not None and lenient.flag.severity == SEVERITIES["low"]
    assert lenient.overall == default.overall
    with pytest.raises(ValueError, match="flag <= medium"):
        AngerOptions(flag_threshold=0.8, medium_threshold=0.7)
    with pytest.raises(ValueError, match="stereo_agent_channel"):
        AngerOptions(stereo_agent_channel="middle")


def _voiced(seconds: float, amp: float, f0: float = 140.0, sr: int = 16000) -> np.ndarray:
    """A buzzy harmonic tone: Praat tracks its pitch, BS.1770 measures its level."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (amp * wave / np.max(np.abs(wave))).astype(np.float32)


def test_voice_evidence_from_a_constructed_stereo_call(scorer: AngerScorer) -> None:
    sr = 16000
    left = np.zeros(sr * 16, dtype=np.float32)
    right = np.zeros(sr * 16, dtype=np.float32)
    # agent (left) at a normal level; the customer (right) speaks twice calmly, then 4x louder
    left[0: sr * 3] = _voiced(3, 0.05)
    right[sr * 4: sr * 7] = _voiced(3, 0.05, 180)
    left[sr * 8: sr * 9] = _voiced(1, 0.05)
    right[sr * 9: sr * 11] = _voiced(2, 0.05, 180)
    right[sr * 12: sr * 15] = _voiced(3, 0.2, 180)

    def turn(seq: int, spk: str, a: float, b: float, ch: int, n: int) -> Turn:
        words = [Word(f"w{i}", a + i * (b - a) / n, a + (i + 1) * (b - a) / n) for i in range(n)]
        return Turn(seq=seq, speaker=spk, text=" ".join(w.word for w in words), start=a, end=b,
                    words=words, channel_index=ch)

    turns = [turn(0, "agent", 0, 3, 0, 7), turn(1, "customer", 4, 7, 1, 7), turn(2, "agent", 8, 9, 0, 2),
             turn(3, "customer", 9, 11, 1, 5), turn(4, "customer", 12, 15, 1, 12)]
    inter = Interaction("call", "test", "c1", "h", turns=turns, id=7)
    r = scorer.score(inter, [NEU] * 5, channels=[left, right])
    assert r.loudness[4] is not None and r.loudness[4] > 90  # +12 dB over the caller's own level
    assert r.loudness[1] is not None and 35 < r.loudness[1] < 65
    d = {x.seq: x for x in r.details}
    assert d[4].features["voice"] > d[1].features["voice"]
    assert d[4].probability > d[1].probability
    assert any("dB vs own level" in reason for reason in d[4].reasons)


# ---- the sample calls, end to end on real models ---------------------------------------

@pytest.fixture(scope="module")
def sample_results() -> dict[str, object]:
    from analysis.asr.options import AsrOptions
    from analysis.asr.transcriber import Transcriber

    cache = Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    ensure_model(SentimentOptions(), cache)  # a no-op once `convoscope models prepare` ran
    clf = load_turn_classifier(SentimentOptions(), cache)
    tr = Transcriber(AsrOptions(language="en"), cache)
    out = {}
    for name in ("call_01_angry_refund", "call_02_calm_billing"):
        path = ROOT / "samples" / "calls" / f"{name}.opus"
        turns = tr.transcribe(path).turns
        inter = Interaction("call", "samples", name, "h", turns=turns, id=1)
        out[name] = AngerScorer().score(inter, clf.predict([t.text for t in turns]), str(path))
    return out


@pytest.mark.slow
def test_angry_sample_call_is_flagged_and_calm_one_is_not(sample_results: dict) -> None:
    angry = sample_results["call_01_angry_refund"]
    calm = sample_results["call_02_calm_billing"]
    assert angry.flag is not None and angry.flag.severity >= SEVERITIES["high"]
    assert len(angry.flag.evidence) >= 2
    for ev in angry.flag.evidence:
        assert ev["start"] is not None and ev["end"] > ev["start"] and ev["reason"]
    assert any(ev["word_times"] for ev in angry.flag.evidence)
    # Not flagged, and far below the angry call. No fixed bound: int8 Whisper hears the calm
    # customer's "can the late fee be waived" as "... be waiting" on some CPUs (AMD EPYC here),
    # and the head reads that turn as mildly negative (calm overall 0.36 there, < 0.3 on others)
    assert calm.flag is None and calm.overall < 0.5 * angry.overall, (calm.overall, angry.overall)
    assert all(x is None or 0 <= x <= 100 for x in angry.loudness)


def test_unreadable_audio_falls_back_to_text(scorer: AngerScorer, tmp_path: Path) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really audio")
    turns = [Turn(seq=0, speaker="customer", text="This is ridiculous", start=0.0, end=2.0)]
    r = scorer.score(Interaction("call", "test", "c2", "h", turns=turns, id=3), [NEG], str(bad))
    assert r.flag is not None and r.loudness == [None]
    assert r.details[0].features["voice"] == 0.0
