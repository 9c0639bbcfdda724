"""Acoustic features of each call turn: loudness, pitch range and speech rate.

Anger in speech shows as a speaker getting louder, wider in pitch and faster than they
usually are, so every feature is also expressed relative to that speaker's own baseline
(the median over their turns in the call): channel gains differ between recordings, and
people differ, but a jump against one's own level is comparable. Measured with maintained
libraries, no hand-written DSP: loudness is ITU-R BS.1770 integrated loudness (pyloudnorm,
gated, in LUFS), pitch is Praat's autocorrelation tracker (parselmouth), speech rate comes
from the ASR word timestamps. Stereo calls are measured on the turn's own channel
(`Turn.channel_index`, else the agent side given by `agent_channel`), mono calls on the
single channel.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from store.records import Turn

SAMPLE_RATE = 16000
LOUDNESS_SPAN_DB = 12.0  # ±12 dB around the speaker's baseline maps to 0..100
MIN_SECONDS = 0.5  # BS.1770 needs at least one 400 ms block


@dataclass(slots=True)
class TurnVoice:
    """What the voice says about one turn; None where it could not be measured."""

    seq: int
    speaker: str
    seconds: float
    loudness_lufs: float | None = None
    pitch_median_hz: float | None = None
    pitch_range_st: float | None = None  # semitones between the 10th and 90th percentile F0
    speech_rate: float | None = None  # words per second
    # relative to the same speaker's median over this call
    loudness: float | None = None  # 0..100, 50 = the speaker's usual level
    loudness_delta_db: float | None = None
    pitch_range_delta_st: float | None = None
    rate_ratio: float | None = None
    baseline_turns: int = 0
    # relative to the other party's median (set by the anger scorer; channel gains may differ)
    loudness_vs_other_db: float | None = None
    rate_ratio_vs_other: float | None = None


def load_channels(path: str | Path) -> list[np.ndarray]:
    """Decoded 16 kHz float32 channels ([left, right] for stereo), via the ASR decoder."""
    from analysis.asr.audio import load

    return load(path).channels


def _channel_for(turn: Turn, n_channels: int, agent_channel: str) -> int:
    if n_channels == 1:
        return 0
    if turn.channel_index is not None and 0 <= turn.channel_index < n_channels:
        return turn.channel_index
    agent_idx = 0 if agent_channel == "left" else 1
    return agent_idx if turn.speaker in ("agent", "bot") else 1 - agent_idx


def _loudness(samples: np.ndarray) -> float | None:
    import pyloudnorm

    if len(samples) < int(MIN_SECONDS * SAMPLE_RATE):
        return None
    value = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(samples.astype(np.float64))
    return float(value) if math.isfinite(value) else None


def _pitch(samples: np.ndarray) -> tuple[float | None, float | None]:
    import parselmouth

    if len(samples) < int(MIN_SECONDS * SAMPLE_RATE):
        return None, None
    snd = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    f0 = snd.to_pitch(time_step=0.01, pitch_floor=75.0, pitch_ceiling=500.0).selected_array["frequency"]
    voiced = f0[f0 > 0]
    if len(voiced) < 10:
        return None, None
    lo, med, hi = np.percentile(voiced, [10, 50, 90])
    return float(med), float(12.0 * math.log2(hi / lo))


def _rate(turn: Turn) -> float | None:
    if turn.words:
        words = [w for w in turn.words if w.word.strip()]
        if words:
            span = max(w.end for w in words) - min(w.start for w in words)
            return len(words) / span if span > 0.3 else None
    if turn.start is not None and turn.end is not None and turn.end - turn.start > 0.3:
        return len(turn.text.split()) / (turn.end - turn.start)
    return None


def measure(
    channels: Sequence[np.ndarray], turns: Sequence[Turn], agent_channel: str = "left",
    min_seconds: float = 1.0,
) -> list[TurnVoice | None]:
    """Per-turn voice features (None for turns without times) plus per-speaker baselines.

    Turns shorter than `min_seconds` are measured but do not count towards a baseline.
    """
    out: list[TurnVoice | None] = []
    for t in turns:
        if t.start is None or t.end is None or t.end <= t.start:
            out.append(None)
            continue
        ch = channels[_channel_for(t, len(channels), agent_channel)]
        a, b = int(t.start * SAMPLE_RATE), int(t.end * SAMPLE_RATE)
        seg = ch[max(0, a): max(0, b)]
        med, rng = _pitch(seg)
        out.append(TurnVoice(
            seq=t.seq, speaker=t.speaker, seconds=round(t.end - t.start, 3),
            loudness_lufs=_loudness(seg), pitch_median_hz=med, pitch_range_st=rng, speech_rate=_rate(t),
        ))
    _relate_to_baseline(out, min_seconds)
    return out


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _relate_to_baseline(voices: list[TurnVoice | None], min_seconds: float) -> None:
    speakers = {v.speaker for v in voices if v}
    for spk in speakers:
        own = [v for v in voices if v and v.speaker == spk]
        base = [v for v in own if v.seconds >= min_seconds]
        loud = _median([v.loudness_lufs for v in base if v.loudness_lufs is not None])
        rng = _median([v.pitch_range_st for v in base if v.pitch_range_st is not None])
        rate = _median([v.speech_rate for v in base if v.speech_rate is not None])
        for v in own:
            v.baseline_turns = len(base)
            if loud is not None and v.loudness_lufs is not None:
                delta = v.loudness_lufs - loud
                v.loudness_delta_db = round(delta, 2)
                v.loudness = round(max(0.0, min(100.0, 50.0 + 50.0 * delta / LOUDNESS_SPAN_DB)), 1)
            if rng is not None and v.pitch_range_st is not None:
                v.pitch_range_delta_st = round(v.pitch_range_st - rng, 2)
            if rate and v.speech_rate is not None:
                v.rate_ratio = round(v.speech_rate / rate, 3)
