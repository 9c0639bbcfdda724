"""From frame-level speaker scores to each word's speaker, and from words to turns.

Every word takes the speaker that scores best over the word's own 10 ms frames (its time
overlap with the diarization); a word the VAD left out takes the nearest scored frame.
Turns are then cut at word boundaries: a new turn starts where the speaker changes or a
pause reaches `gap` seconds, so a change of speaker inside a Whisper segment (no pause
between them) still splits, and a long pause mid-turn by the same voice does not hand the
floor to anyone.

With overlap marked (`Diarization.second`, analysis/diarization/overlap.py) a word still has
one speaker, but a word of the other speaker inside an overlapped stretch is a talk-over,
not a change of floor: it goes to that speaker's own turn while the floor holder's turn
runs on, so the two turns overlap in time (an interruption or a back-channel over the
other's speech, as analysis/metrics.py counts them; such a turn that starts inside the
other speaker's carries `talk_over` in its meta). The floor changes at the first word said
alone (or at any word while nobody holds an open turn).
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


def overlapped_words(words: Sequence[Word], d: Diarization) -> list[bool]:
    """Whether each word lies mostly (half its frames or more) in marked overlap."""
    if d.second is None:
        return [False] * len(words)
    both = d.speech & (d.second >= 0)
    out: list[bool] = []
    for w in words:
        a = max(0, int(w.start / FRAME))
        b = min(len(both), max(a + 1, int(np.ceil(w.end / FRAME))))
        out.append(bool(b > a and both[a:b].mean() >= 0.5))
    return out


def turns_from_words(
    words: Sequence[Word], speakers: Sequence[int], names: Sequence[str], *, gap: float, meta: dict,
    overlapped: Sequence[bool] | None = None,
) -> list[Turn]:
    """Turns of consecutive same-speaker words (see the module docstring); numbered 0..n-1.

    `overlapped`: per word, whether it lies in marked overlap; such a word of another
    speaker than the floor holder's opens or extends that speaker's own (overlapping) turn."""
    if overlapped is not None and any(overlapped):
        return _turns_with_overlap(words, speakers, names, gap=gap, meta=meta, overlapped=overlapped)
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


def _turns_with_overlap(words: Sequence[Word], speakers: Sequence[int], names: Sequence[str], *,
                        gap: float, meta: dict, overlapped: Sequence[bool]) -> list[Turn]:  # fmt: skip
    """`turns_from_words` where talk-over words do not take the floor (module docstring)."""
    done: list[tuple[int, list[Word], bool]] = []  # (speaker, words, talk-over)
    open_: dict[int, list[Word]] = {}
    over: dict[int, bool] = {}
    floor = -1
    for w, spk, ov in zip(words, speakers, overlapped, strict=True):
        cur = open_.get(spk)
        if cur and w.start - cur[-1].end >= gap:
            done.append((spk, open_.pop(spk), over.pop(spk)))
        # said alone, or nobody holds an open turn: the floor changes hands
        if spk != floor and (not ov or floor not in open_):
            for other in [s for s in open_ if s != spk]:
                done.append((other, open_.pop(other), over.pop(other)))
            floor = spk
        if spk not in open_:
            over[spk] = spk != floor
        open_.setdefault(spk, []).append(w)
    done.extend((s, ws, over[s]) for s, ws in open_.items())
    done.sort(key=lambda t: (t[1][0].start, t[1][0].end))
    spans = [(spk, ws[0].start, max(w.end for w in ws)) for spk, ws, _t in done]

    def inside_other(spk: int, start: float) -> bool:
        # a talk-over is one that starts while another speaker's turn is running
        return any(o != spk and a < start < b for o, a, b in spans)

    return [
        Turn(seq=i, speaker=names[spk], text="".join(w.word for w in ws).strip(),
             start=round(ws[0].start, 3), end=round(max(w.end for w in ws), 3), words=list(ws),
             channel_index=0, meta=dict(meta, diarized_speaker=spk,
                                        **({"talk_over": True} if talk and inside_other(spk, ws[0].start) else {})))
        for i, (spk, ws, talk) in enumerate(done)
    ]  # fmt: skip
