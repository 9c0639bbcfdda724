"""Reading call audio: what a file holds, and its samples split one array per channel.

Decoding goes through PyAV (FFmpeg, bundled in its wheel), the same decoder faster-whisper
uses, so every container FFmpeg reads (wav, mp3, flac, ogg/opus, m4a, ...) works without
system packages. Samples come back as 16 kHz float32, Whisper's input format.
"""

from __future__ import annotations

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


def load(path: str | Path) -> Audio:
    """Decode `path`: stereo files as [left, right], everything else as one mono array."""
    import av
    from faster_whisper.audio import decode_audio

    n_src = source_channel_count(path)
    try:
        if n_src == 2:
            left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            if _is_dual_mono(left, right):
                return Audio([(left + right) / 2], n_src, dual_mono=True)
            return Audio([left, right], n_src)
        mono = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except av.FFmpegError as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from None
    if mono.size == 0:
        raise AudioError(f"{path}: the audio stream has no samples")
    return Audio([mono], n_src)
