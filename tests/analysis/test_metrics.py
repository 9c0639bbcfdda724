"""Conversation metrics on hand-built turns (fast) and on a synthesised stereo call (slow)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis import metrics
from store.records import Interaction, Turn, Word


def _words(text: str, start: float, end: float) -> list[Word]:
    toks = text.split()
    step = (end - start) / len(toks)
    return [Word(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(toks)]


def _turn(seq: int, speaker: str, text: str, start: float, end: float) -> Turn:
    return Turn(seq, speaker, text, start=start, end=end, words=_words(text, start, end))


def _call() -> Interaction:
    # agent 0-2 | silence 2-6 | agent 6-9, customer cuts in 8-10 | silence 10-14 |
    # customer 14-15 | agent 15.5-16 | silence 16-20 (end of call)
    turns = [
        _turn(0, "agent", "Hello thanks for calling. How can I help?", 0.0, 2.0),
        _turn(1, "agent", "Let me check that for you now", 6.0, 9.0),
        _turn(2, "customer", "No wait I already told you that", 8.0, 10.0),
        _turn(3, "customer", "Hello are you there", 14.0, 15.0),
        _turn(4, "agent", "Yes sorry", 15.5, 16.0),
    ]
    return Interaction("call", "test", "c1", "h", duration=20.0, turns=turns)


def test_call_metrics_on_known_timings() -> None:
    m = metrics.compute(_call())
    assert m["kind"] == "call"
    assert m["duration_seconds"] == 20.0
    assert m["talk_seconds"] == {"agent": 5.5, "customer": 3.0}
    assert m["agent_talk_ratio"] == pytest.approx(5.5 / 20, abs=1e-3)
    assert m["agent_talk_share"] == pytest.approx(5.5 / 8.5, abs=1e-3)
    assert m["non_talk_spans"] == [[2.0, 6.0], [10.0, 14.0], [16.0, 20.0]]
    assert m["non_talk_seconds"] == pytest.approx(12.0)
    assert m["non_talk_pct"] == pytest.approx(60.0)
    assert m["interruptions"] == 1
    assert m["interruptions_by"] == {"agent": 0, "customer": 1}
    assert m["interruption_list"][0]["at"] == pytest.approx(8.0)
    assert m["interruption_seconds"] == pytest.approx(1.0)
    assert m["overlap_seconds"] == pytest.approx(1.0)
    assert m["longest_monologue_seconds"] == {"agent": 3.0, "customer": 2.0}
    # agent: 8 + 7 + 2 words in 5.5 s of talk
    assert m["words_per_minute"]["agent"] == pytest.approx(17 / 5.5 * 60, abs=0.1)
    assert m["agent_questions"] == 1


def test_short_gaps_are_not_non_talk_and_short_overlaps_not_interruptions() -> None:
    turns = [
        _turn(0, "agent", "one two three", 0.0, 3.0),
        _turn(1, "customer", "four five", 2.8, 5.0),  # 0.2 s overlap: a backchannel
        _turn(2, "agent", "six seven", 7.5, 9.0),  # 2.5 s gap: under 3 s
    ]
    m = metrics.compute(Interaction("call", "t", "c2", "h", duration=9.0, turns=turns))
    assert m["non_talk_seconds"] == 0.0
    assert m["interruptions"] == 0
    assert m["overlap_seconds"] == pytest.approx(0.2)


def test_turn_times_are_used_without_words() -> None:
    turns = [Turn(0, "agent", "hello there", start=0.0, end=2.0), Turn(1, "customer", "hi", start=6.0, end=7.0)]
    m = metrics.compute(Interaction("call", "t", "c3", "h", duration=7.0, turns=turns))
    assert m["talk_seconds"] == {"agent": 2.0, "customer": 1.0}
    assert m["non_talk_seconds"] == pytest.approx(4.0)


def test_question_counting() -> None:
    assert metrics.count_questions("Can I have your account number? Thanks. And the zip code?") == 2
    assert metrics.count_questions("what is your name") == 1  # unpunctuated ASR text
    assert metrics.count_questions("I will check that.") == 0


def test_chat_metrics() -> None:
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def at(s: int) -> datetime:
        return t0 + timedelta(seconds=s)

    turns = [
        Turn(0, "customer", "hi, my order is late", sent_at=at(0)),
        Turn(1, "customer", "hello??", sent_at=at(60)),
        Turn(2, "agent", "Sorry! What is the order number?", sent_at=at(120)),
        Turn(3, "customer", "A-123", sent_at=at(150)),
        Turn(4, "agent", "It ships today.", sent_at=at(210)),
        Turn(5, "customer", "thanks", sent_at=at(300)),
    ]
    m = metrics.compute(Interaction("chat", "t", "x1", "h", turns=turns))
    assert m["kind"] == "text"
    assert m["first_response_seconds"] == 120.0  # from the first unanswered message
    assert m["mean_response_seconds"] == 90.0  # (120 + 60) / 2
    assert m["turns"] == 6
    assert m["unanswered"] is True
    assert m["time_to_close_seconds"] == 300.0
    assert m["agent_questions"] == 1


# -- a real stereo call: espeak-ng + sox, transcribed by the real Whisper model ----------



def _say(path: Path, text: str, voice: str) -> None:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
    # trim espeak's leading/trailing silence so the clip's length is its speech
    subprocess.run(
        ["sox", str(path), "-r", "16000", "-c", "1", str(path) + ".wav",
         "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"],
        check=True,
    )  # fmt: skip
    Path(str(path) + ".wav").replace(path)


def _duration(path: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def _channel(tmp: Path, name: str, pieces: list[tuple[float, Path]], total: float) -> Path:
    """A mono track with each clip placed at its start time (silence elsewhere)."""
    parts = []
    for i, (start, clip) in enumerate(pieces):
        padded = tmp / f"{name}_{i}.wav"
        after = total - start - _duration(clip)
        subprocess.run(["sox", str(clip), str(padded), "pad", f"{start}", f"{max(after, 0)}"], check=True)
        parts.append(padded)
    out = tmp / f"{name}.wav"
    if len(parts) == 1:
        parts[0].replace(out)
    else:
        subprocess.run(["sox", "-m", *map(str, parts), str(out)], check=True)
    return out


@pytest.mark.slow
@pytest.mark.espeak
def test_metrics_on_a_synthesised_stereo_call(tmp_path: Path) -> None:
    from analysis.asr.options import AsrOptions
    from analysis.asr.transcriber import Transcriber

    a1, a2, c1 = tmp_path / "a1.wav", tmp_path / "a2.wav", tmp_path / "c1.wav"
    _say(a1, "Thank you for calling. How can I help you today?", "en-us")
    _say(a2, "Let me look at your account and the last invoice we sent you.", "en-us")
    _say(c1, "No, wait, I already told your colleague about this problem.", "en-us+f3")
    d_a1, d_a2, d_c1 = _duration(a1), _duration(a2), _duration(c1)
    # agent: 0.5 .. 0.5+d_a1 ; silence of 5 s ; agent again ; the customer cuts in 1.5 s
    # before the agent is done ; then 6 s of silence to the end
    a2_start = 0.5 + d_a1 + 5.0
    c1_start = a2_start + d_a2 - 1.5
    total = c1_start + d_c1 + 6.0
    left = _channel(tmp_path, "left", [(0.5, a1), (a2_start, a2)], total)
    right = _channel(tmp_path, "right", [(c1_start, c1)], total)
    call = tmp_path / "call.wav"
    subprocess.run(["sox", "-M", str(left), str(right), str(call)], check=True)

    transcript = Transcriber(AsrOptions(language="en"), Path.home() / ".cache" / "convoscope").transcribe(call)
    it = Interaction("call", "test", "synth", "h", duration=transcript.duration, turns=transcript.turns)
    m = metrics.compute(it)

    (gap1, gap2) = m["non_talk_spans"]
    assert gap1 == pytest.approx([0.5 + d_a1, a2_start], abs=0.5)
    assert gap2 == pytest.approx([c1_start + d_c1, total], abs=0.5)
    assert m["non_talk_seconds"] == pytest.approx(5.0 + 6.0, abs=0.5)
    assert m["interruptions_by"]["customer"] == 1
    assert m["interruption_list"][0]["at"] == pytest.approx(c1_start, abs=0.5)
    assert m["interruption_seconds"] == pytest.approx(1.5, abs=0.5)
    assert m["talk_seconds"]["agent"] == pytest.approx(d_a1 + d_a2, abs=0.5)
    assert m["talk_seconds"]["customer"] == pytest.approx(d_c1, abs=0.5)
    assert m["longest_monologue_seconds"]["customer"] == pytest.approx(d_c1, abs=0.5)
    assert m["agent_questions"] == 1
