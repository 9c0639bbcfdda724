"""Packing the speech of both channels of a call into shared 30-second Whisper windows.

Whisper's encoder always processes 30 s windows, however little speech they hold. A
stereo call transcribed channel by channel pays for each side's windows separately
(plus padding), roughly twice the encoder work of the same call in mono. Here VAD finds
each channel's speech pieces, the pieces of *both* channels are laid out in time order
into windows of at most 30 s (a short silence between pieces), and the windows are decoded
together by `BatchedInferencePipeline` (with `clip_timestamps` = the windows). Every
recognised word is then mapped back to the piece it came from, which gives its channel
(= speaker) and its time in the original call. A stereo call so costs about what its
mono mix-down would, while keeping exact speaker labels.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from analysis.asr.audio import SAMPLE_RATE
from store.records import Word

WINDOW_S = 30.0
# Silence added between two pieces inside a window; with VAD's padding on both sides
# (silence on a piece's own channel) about 0.9 s separates them. Issue 15's A/B
# (bench/asr_ab.py): 0.1 s instead of 0.3 s packs the 5-minute call into 10 windows
# instead of 11 and the samples into 12 instead of 13, and changed word error rate from
# 11.1 % to 9.7 % on the sample calls, 17.9 % to 17.0 % on the held-out calls and 8.1 % to
# 8.7 % on the long call (0.6 s: worse on the held-out calls, 21.9 %).
GAP_S = 0.1


@dataclass(slots=True)
class Piece:
    """One stretch of speech of one channel, and where it sits in the packed audio."""

    channel: int
    orig_start: float  # seconds in the call
    packed_start: float  # seconds in the packed array
    length: float

    @property
    def packed_end(self) -> float:
        return self.packed_start + self.length


@dataclass(slots=True)
class Packed:
    audio: np.ndarray
    windows: list[dict[str, float]]  # clip_timestamps for the batched pipeline (seconds)
    pieces: list[Piece]

    def locate(self, word: Word) -> tuple[int, Word] | None:
        """(channel, word in call time) for a word recognised in the packed audio."""
        if not self.pieces:
            return None
        mid = (word.start + word.end) / 2
        starts = [p.packed_start for p in self.pieces]
        i = max(0, bisect.bisect_right(starts, mid) - 1)
        # in a gap (or just past a piece's end): take the nearer neighbour
        best = min(
            (p for p in self.pieces[max(0, i - 1) : i + 2]),
            key=lambda p: 0.0 if p.packed_start <= mid < p.packed_end
            else min(abs(mid - p.packed_start), abs(mid - p.packed_end)),
        )  # fmt: skip
        shift = best.orig_start - best.packed_start

        def clamp(t: float) -> float:
            return min(max(t, best.packed_start), best.packed_end) + shift

        return best.channel, Word(word.word, round(clamp(word.start), 3),
                                  round(clamp(word.end), 3), word.probability)  # fmt: skip


def speech_pieces(
    channel: np.ndarray, min_silence_ms: int = 1000, pad_ms: int = 400
) -> list[tuple[int, int]]:
    """VAD speech stretches (sample indices) of one channel, none longer than a window.

    Pauses under a second stay inside a piece (about one piece per turn, so fewer
    padded edges): on the 5-minute bench call this packs the speech into 11 windows
    instead of 12. (Trimming VAD's 400 ms padding to 200 ms saved one more window but
    clipped the word timings at the edges of overlapping speech.)

    A channel of digital silence (a muted side, or one `suppress_crosstalk` emptied because
    it carried only the other side's echo) has no speech: the network, which finds none
    there either, is not run over it (issue 15 round 5).
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if not channel.any():
        return []
    opts = VadOptions(
        max_speech_duration_s=WINDOW_S - 1.0, min_silence_duration_ms=min_silence_ms,
        speech_pad_ms=pad_ms,
    )  # fmt: skip
    return [(ts["start"], ts["end"]) for ts in get_speech_timestamps(channel, opts)]


#: Issue 15 round 5: when a call's packed speech needs more windows than it would with the
#: silenced (exactly zero) edges of its pieces trimmed, trim them, keeping as much of each
#: edge as still saves the window (the first of `KEEP_ZERO_S` that does), so the call costs
#: one 30 s encoder pass and its decoding fewer. Only calls that save a window change;
#: every other call is packed exactly as before. See `pack`.
TRIM_TO_FIT = True
KEEP_ZERO_S = (0.2, 0.1, 0.0)


def _zero_edges(channel: np.ndarray, start: int, end: int, keep: int) -> tuple[int, int]:
    """(start, end) with the piece's leading and trailing exact zeros cut to `keep` samples.

    `suppress_crosstalk` zeroes a side where only the other side speaks, and VAD's 400 ms
    padding reaches into that stretch: those samples are digital silence, so a shorter run
    of it says the same (a pause) to Whisper. A piece that is all zeros is left as it is.
    """
    nz = np.flatnonzero(channel[start:end])
    if not len(nz):
        return start, end
    return start + max(0, int(nz[0]) - keep), min(end, start + int(nz[-1]) + 1 + keep)


def _layout(channels: list[np.ndarray], found: list[tuple[int, int, int]]) -> Packed:
    """Lay `found` ((start, end, channel) in time order) into windows of at most 30 s."""
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    chunks: list[np.ndarray] = []
    windows: list[dict[str, float]] = []
    pieces: list[Piece] = []
    pos = 0  # samples written so far
    win_start = 0
    for start, end, ch in found:
        n = end - start
        in_window = pos - win_start
        if in_window and in_window + len(gap) + n > WINDOW_S * SAMPLE_RATE:
            windows.append({"start": win_start / SAMPLE_RATE, "end": pos / SAMPLE_RATE})
            win_start = pos
        elif in_window:
            chunks.append(gap)
            pos += len(gap)
        chunks.append(channels[ch][start:end].astype(np.float32, copy=False))
        pieces.append(Piece(ch, start / SAMPLE_RATE, pos / SAMPLE_RATE, n / SAMPLE_RATE))
        pos += n
    if pos > win_start:
        windows.append({"start": win_start / SAMPLE_RATE, "end": pos / SAMPLE_RATE})
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return Packed(audio, windows, pieces)


def pack(channels: list[np.ndarray]) -> Packed:
    """Lay the speech of all channels, in time order, into shared windows.

    With `TRIM_TO_FIT`, a call whose pieces need fewer windows once their digital-silence
    edges are trimmed (`_zero_edges`) is packed trimmed: on the sample calls, two of seven
    stereo calls (31.3 and 31.4 s of packed speech, ~2.3 s of it zeros at piece edges) fit
    one window instead of two. Every other call keeps its untrimmed layout.
    """
    from analysis.asr.vad import speech_timestamps_each

    # both channels' VAD at once (one thread each; analysis/asr/vad.py)
    each = speech_timestamps_each(channels, speech_pieces)
    found = sorted((start, end, ch) for ch, pieces in enumerate(each) for start, end in pieces)
    packed = _layout(channels, found)
    if TRIM_TO_FIT and len(packed.windows) > 1:
        for keep_s in KEEP_ZERO_S:
            keep = int(keep_s * SAMPLE_RATE)
            # sorted again: trimming a piece's leading zeros can move its start past the
            # start of the other channel's next piece, and `_layout` lays pieces in time order
            trimmed = _layout(channels, sorted((*_zero_edges(channels[ch], s, e, keep), ch) for s, e, ch in found))
            if len(trimmed.windows) < len(packed.windows):
                return trimmed
    return packed
