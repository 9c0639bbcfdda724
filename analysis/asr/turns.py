"""From recognised words to speaker turns (pure functions, no model).

Stereo calls (one speaker per channel): each channel's words are grouped into turns; a
turn ends when that speaker pauses longer than `gap` seconds or when the other speaker
talks in the pause (they took the floor). Turns of both channels are then merged in time
order and numbered. Overlapping speech stays as it was said: a customer who cuts in gets
a turn starting inside the agent's turn, with start/end taken from the words themselves.

Mono calls (one mixed channel) have no reliable speaker signal without diarization, which
Convoscope does not ship (no offline diarization model is packaged). The documented
fallback: recognised words are joined into turns, and a pause of at least
`mono_turn_gap_seconds` between two words is taken as a change of speaker, alternating
from `mono_first_speaker` (an agent usually answers an inbound call first). It is right on
clean turn-taking and wrong whenever one person pauses mid-thought or both talk at once;
every such turn carries `meta["speaker_source"] = "mono_fallback"` so reports can say so.
With `mono_fallback = "agent"` or `"customer"` every turn gets that one speaker instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from store.records import Turn, Word


def _text(words: Sequence[Word]) -> str:
    return "".join(w.word for w in words).strip()


def _make_turn(speaker: str, words: list[Word], channel: int | None, meta: dict) -> Turn:
    return Turn(
        seq=0,
        speaker=speaker,
        text=_text(words),
        start=round(words[0].start, 3),
        end=round(max(w.end for w in words), 3),
        words=words,
        channel_index=channel,
        meta=dict(meta),
    )


def _number(turns: list[Turn]) -> list[Turn]:
    turns.sort(key=lambda t: (t.start or 0.0, t.end or 0.0))
    for i, t in enumerate(turns):
        t.seq = i
    return turns


def stereo_turns(
    channels: Sequence[tuple[str, int, list[Word]]], gap: float
) -> list[Turn]:
    """Turns from per-channel words: `channels` holds (speaker, channel index, words)."""
    turns: list[Turn] = []
    for speaker, ch, words in channels:
        words = sorted(words, key=lambda w: w.start)
        others = sorted(
            (w.start, w.end) for spk, _c, ws in channels if spk != speaker for w in ws
        )
        current: list[Word] = []
        for w in words:
            if current:
                last_end = current[-1].end
                pause = w.start - last_end
                other_spoke = any(last_end <= s < w.start for s, _e in others)
                if pause > gap or other_spoke:
                    turns.append(_make_turn(speaker, current, ch, {"speaker_source": "channel"}))
                    current = []
            current.append(w)
        if current:
            turns.append(_make_turn(speaker, current, ch, {"speaker_source": "channel"}))
    return _number(turns)


def mono_turns(
    segments: Sequence[list[Word]],
    *,
    fallback: str = "alternate",
    first_speaker: str = "agent",
    turn_gap: float = 0.8,
) -> list[Turn]:
    """Turns from the word lists of a mono call's segments (see module docstring)."""
    words = sorted((w for s in segments for w in s), key=lambda w: w.start)
    meta = {"speaker_source": "mono_fallback"}
    other = {"agent": "customer", "customer": "agent"}
    speaker = first_speaker if fallback == "alternate" else fallback
    turns: list[Turn] = []
    current: list[Word] = []
    for w in words:
        if current and w.start - current[-1].end >= turn_gap:
            turns.append(_make_turn(speaker, current, 0, meta))
            current = []
            if fallback == "alternate":
                speaker = other[speaker]
        current.append(w)
    if current:
        turns.append(_make_turn(speaker, current, 0, meta))
    return _number(turns)
