"""Reading call audio: what a file holds, and its samples split one array per channel.

Decoding goes through PyAV (FFmpeg, bundled in its wheel), the same decoder faster-whisper
uses, so every container FFmpeg reads (wav, mp3, flac, ogg/opus, m4a, ...) works without
system packages. Samples come back as 16 kHz float32, Whisper's input format.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


class AudioError(RuntimeError):
    """The file is not readable audio; the message says why."""


@dataclass(slots=True)
class Audio:
    """A decoded call: one float32 array per channel (index 0 = left)."""

    channels: list[np.ndarray]
    source_channels: int
    #: True when a stereo file carried the same signal on both sides (treated as mono)
    dual_mono: bool = False

    @property
    def duration(self) -> float:
        return max((len(c) for c in self.channels), default=0) / SAMPLE_RATE


def source_channel_count(path: str | Path) -> int:
    """Channels of the first audio stream (raises AudioError if there is none)."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream")
            return int(container.streams.audio[0].codec_context.channels)
    except av.FFmpegError as exc:
        raise AudioError(f"{path}: not readable audio ({exc})") from None


def _is_dual_mono(left: np.ndarray, right: np.ndarray) -> bool:
    """Both sides carry the same signal (a mono recording stored as stereo)."""
    n = min(len(left), len(right))
    if n == 0:
        return True
    diff = float(np.abs(left[:n] - right[:n]).mean())
    level = float(np.abs(left[:n]).mean() + np.abs(right[:n]).mean()) / 2
    return level == 0.0 or diff < 0.02 * level


def suppress_crosstalk(left: np.ndarray, right: np.ndarray, db: float) -> tuple[np.ndarray, np.ndarray]:
    """Silence the parts of each channel that are `db` quieter than the other channel.

    Stereo call recordings carry some of each speaker on the other side (line echo, a
    headset's sidetone, low-bitrate joint-stereo codecs). VAD does not care about level,
    so that faint copy would be transcribed a second time under the wrong speaker. Frames
    (25 ms) where one side is more than `db` below the other are zeroed on the quiet
    side; a 200 ms hold keeps the edges of real words. Both people talking at once stay
    (both sides are loud). `db <= 0` turns this off.
    """
    if db <= 0:
        return left, right
    n = min(len(left), len(right))
    frame = SAMPLE_RATE // 40
    nf = n // frame
    if nf == 0:
        return left, right
    lf = left[: nf * frame].reshape(nf, frame)
    rf = right[: nf * frame].reshape(nf, frame)
    l_rms = np.sqrt((lf.astype(np.float64) ** 2).mean(axis=1))
    r_rms = np.sqrt((rf.astype(np.float64) ** 2).mean(axis=1))
    k = 10 ** (db / 20)
    hold = np.ones(2 * 8 + 1)

    def keep(own: np.ndarray, other: np.ndarray) -> np.ndarray:
        # frames where this side really speaks: loud enough and not the other side's echo;
        # silence on both sides must not count, or the hold would spread it over echo
        floor = max(1e-4, float(own.max()) * 1e-3)
        active = ((own * k >= other) & (own > floor)).astype(np.float64)
        return np.convolve(active, hold, mode="same") > 0

    out = []
    for data, own, other in ((left, l_rms, r_rms), (right, r_rms, l_rms)):
        gate = np.repeat(keep(own, other), frame)
        cleaned = data.copy()
        cleaned[: nf * frame] *= gate
        out.append(cleaned)
    return out[0], out[1]


@contextlib.contextmanager
def _young_gc_only() -> Iterator[None]:
    """Make the full `gc.collect()` faster-whisper's `decode_audio` runs (to free PyAV's
    resampler) look only at objects made during decoding.

    In a process that has loaded Whisper, torch and the store, that collection walks every
    tracked object: ~0.1-0.2 CPU s per call file (issue 15: 7 % of a short phone call's
    transcription). `gc.freeze()` sets the objects that existed before aside for the
    duration (O(1)); `gc.unfreeze()` hands them back to the oldest generation, so nothing
    is kept alive longer than the next ordinary collection would keep it.
    """
    if gc.get_freeze_count():  # someone else froze objects: leave their choice alone
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def load(path: str | Path) -> Audio:
    """Decode `path`: stereo files as [left, right], everything else as one mono array."""
    import av
    from faster_whisper.audio import decode_audio

    n_src = source_channel_count(path)
    try:
        with _young_gc_only():
            if n_src == 2:
                left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            else:
                mono = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except av.FFmpegError as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from None
    if n_src == 2:
        if _is_dual_mono(left, right):
            return Audio([(left + right) / 2], n_src, dual_mono=True)
        return Audio([left, right], n_src)
    if mono.size == 0:
        raise AudioError(f"{path}: the audio stream has no samples")
    return Audio([mono], n_src)
