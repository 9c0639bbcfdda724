"""From frame-level speaker scores to each word's speaker, and from words to turns.

Every word takes the speaker that scores best over the word's own 10 ms frames (its time
overlap with the diarization); a word the VAD left out takes the nearest scored frame.
Turns are then cut at word boundaries: a new turn starts where the speaker changes or a
pause reaches `gap` seconds, so a change of speaker inside a Whisper segment (no pause
between them) still splits, and a long pause mid-turn by the same voice does not hand the
floor to anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.diarization.diarize import FRAME, Diarization
from store.records import Turn, Word


def word_speakers(words: Sequence[Word], d: Diarization) -> list[int]:
    """Speaker index of each word (0..n_speakers-1); [] if nothing was diarized."""
    if d.n_speakers == 0:
        return []
    scored = np.flatnonzero(~np.isnan(d.scores).any(axis=1))
    if len(scored) == 0:
        return []
    out: list[int] = []
    for w in words:
        a = max(0, int(w.start / FRAME))
        b = min(len(d.scores), max(a + 1, int(np.ceil(w.end / FRAME))))
        block = d.scores[a:b]
        block = block[~np.isnan(block).any(axis=1)]
        if len(block) == 0:
            mid = (a + b) // 2
            j = np.searchsorted(scored, mid)
            near = [scored[i] for i in (j - 1, j) if 0 <= i < len(scored)]
            block = d.scores[[min(near, key=lambda f: abs(f - mid))]]
        out.append(int(np.argmax(block.mean(axis=0))))
    return out


def turns_from_words(
    words: Sequence[Word], speakers: Sequence[int], names: Sequence[str], *, gap: float, meta: dict
) -> list[Turn]:
    """Turns of consecutive same-speaker words (see the module docstring); numbered 0..n-1."""
    turns: list[Turn] = []
    current: list[Word] = []
    cur_spk = -1

    def close() -> None:
        if current:
            turns.append(Turn(
                seq=len(turns), speaker=names[cur_spk],
                text="".join(w.word for w in current).strip(),
                start=round(current[0].start, 3), end=round(max(w.end for w in current), 3),
                words=list(current), channel_index=0, meta=dict(meta, diarized_speaker=cur_spk),
            ))  # fmt: skip

    for w, spk in zip(words, speakers, strict=True):
        if current and (spk != cur_spk or w.start - current[-1].end >= gap):
            close()
            current = []
        cur_spk = spk
        current.append(w)
    close()
    return turns
