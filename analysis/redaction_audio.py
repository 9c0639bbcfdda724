"""A redacted copy of a call's audio: the seconds where PII was spoken become silence.

Why a copy: the original recording belongs to the telephony system (Convoscope reads it
from the drop folder and never modifies it); supervisors who may listen to calls get the
copy. Times come from the redaction spans in each turn's text (found over the whole
conversation, so a card read over five turns is silenced in all five), mapped to seconds
through the ASR words overlapping each span (`analysis.redaction.word_times`), padded by `pad_seconds`
on both sides because ASR word boundaries are approximate. Every channel is silenced in
those stretches. The copy is 16 kHz FLAC (the decoded rate), written atomically, so
re-running the job rewrites the same file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis.redaction import RedactionResult, word_times
from store.records import Turn


def spans_in_time(
    turns: Sequence[Turn], results: Sequence[RedactionResult], pad_seconds: float = 0.25
) -> list[tuple[float, float]]:
    """(start, end) seconds of every redacted span of a call, merged where they overlap."""
    out: list[tuple[float, float]] = []
    for turn, res in zip(turns, results, strict=True):
        if not res.spans or turn.start is None or turn.end is None:
            continue
        for sp in res.spans:
            got = word_times(turn, sp.start, sp.end)
            if got is None:
                continue
            out.append((max(0.0, got[0] - pad_seconds), got[1] + pad_seconds))
    out.sort()
    merged: list[tuple[float, float]] = []
    for a, b in out:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def write_silenced_copy(src: str | Path, dst: str | Path, spans: Sequence[tuple[float, float]]) -> Path:
    """Decode `src`, silence `spans` on every channel, write FLAC to `dst` (atomically)."""
    import soundfile as sf

    from analysis.asr.audio import SAMPLE_RATE, load

    audio = load(src)
    n = max(len(c) for c in audio.channels)
    data = np.zeros((n, len(audio.channels)), dtype=np.float32)
    for i, ch in enumerate(audio.channels):
        data[: len(ch), i] = ch
    for a, b in spans:
        data[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] = 0.0
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".redacting-", suffix=".flac", dir=dst.parent)
    os.close(fd)
    try:
        sf.write(tmp, data, SAMPLE_RATE, format="FLAC")
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dst
