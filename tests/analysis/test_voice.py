"""Voice features on constructed audio with known level, pitch and timing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from analysis.voice import SAMPLE_RATE, load_channels, measure
from store.records import Turn, Word

SR = SAMPLE_RATE


def buzz(seconds: float, amp: float, f0: float, glide: float = 0.0) -> np.ndarray:
    """Harmonic tone (optionally gliding by `glide` Hz): Praat tracks it as voiced speech."""
    t = np.arange(int(seconds * SR)) / SR
    f = f0 + glide * t / seconds
    phase = 2 * np.pi * np.cumsum(f) / SR
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (amp * wave / np.max(np.abs(wave))).astype(np.float32)


def place(total: float, *parts: tuple[float, np.ndarray]) -> np.ndarray:
    out = np.zeros(int(total * SR), dtype=np.float32)
    for start, sig in parts:
        a = int(start * SR)
        out[a: a + len(sig)] = sig
    return out


def turn(seq: int, speaker: str, a: float, b: float, n_words: int, ch: int | None = None) -> Turn:
    step = (b - a) / n_words
    words = [Word(f"w{i}", a + i * step, a + (i + 1) * step) for i in range(n_words)]
    return Turn(seq=seq, speaker=speaker, text=" ".join(w.word for w in words), start=a, end=b,
                words=words, channel_index=ch)


def test_level_pitch_and_rate_against_the_speakers_baseline() -> None:
    mono = place(12.0, (0.0, buzz(2, 0.05, 120)), (3.0, buzz(2, 0.05, 120)), (6.0, buzz(2, 0.2, 120, glide=120)),
                 (9.0, buzz(2, 0.05, 200)))
    turns = [turn(0, "customer", 0, 2, 4), turn(1, "customer", 3, 5, 4), turn(2, "customer", 6, 8, 8),
             turn(3, "agent", 9, 11, 5)]
    v = measure([mono], turns)
    c0, c1, c2, a = v
    assert c0 and c1 and c2 and a
    assert c0.pitch_median_hz == pytest.approx(120, rel=0.05)
    assert a.pitch_median_hz == pytest.approx(200, rel=0.05)
    # the third turn is 4x the amplitude: +12 dB over the customer's median turn
    assert c2.loudness_delta_db == pytest.approx(12.04, abs=0.5)
    assert c2.loudness == 100.0 and c0.loudness == pytest.approx(50.0, abs=1)
    # a one-octave glide gives ~12 semitones between the 10th and 90th percentile of F0 (~10)
    assert c2.pitch_range_st is not None and c2.pitch_range_st > 7
    assert c0.pitch_range_st is not None and c0.pitch_range_st < 1
    assert c2.speech_rate == pytest.approx(4.0) and c0.speech_rate == pytest.approx(2.0)
    assert c2.rate_ratio == pytest.approx(2.0)
    # the agent is its own baseline: one turn, exactly its own level
    assert a.loudness_delta_db == 0.0 and a.baseline_turns == 1


def test_stereo_turns_are_measured_on_their_own_channel() -> None:
    left = place(6.0, (0.0, buzz(2, 0.05, 110)))
    right = place(6.0, (3.0, buzz(2, 0.1, 220)))
    turns = [turn(0, "agent", 0, 2, 4), turn(1, "customer", 3, 5, 4)]
    by_default = measure([left, right], turns)  # no channel_index: agent = left
    assert by_default[0].pitch_median_hz == pytest.approx(110, rel=0.05)  # type: ignore[union-attr]
    assert by_default[1].pitch_median_hz == pytest.approx(220, rel=0.05)  # type: ignore[union-attr]
    swapped = measure([right, left], turns, agent_channel="right")
    assert swapped[0].pitch_median_hz == pytest.approx(110, rel=0.05)  # type: ignore[union-attr]
    explicit = measure([left, right], [turn(0, "customer", 3, 5, 4, ch=1)])
    assert explicit[0].loudness_lufs is not None  # type: ignore[union-attr]


def test_turns_without_times_or_sound_give_nothing() -> None:
    silence = np.zeros(SR * 4, dtype=np.float32)
    v = measure([silence], [Turn(seq=0, speaker="customer", text="hi"), turn(1, "customer", 0, 3, 3),
                            turn(2, "agent", 3.0, 3.2, 1)])
    assert v[0] is None
    assert v[1] is not None and v[1].loudness_lufs is None and v[1].pitch_median_hz is None
    assert v[2] is not None and v[2].loudness_lufs is None  # shorter than one 400 ms block


@pytest.mark.espeak
def test_decodes_a_stereo_file_into_channels(tmp_path: Path) -> None:
    path = tmp_path / "st.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "2", str(path), "synth", "1", "sine", "300", "sine", "500"],
                   check=True)
    chans = load_channels(path)
    assert len(chans) == 2 and all(len(c) == SR for c in chans)
