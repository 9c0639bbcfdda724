"""Silero VAD (the one faster-whisper ships), run once per stretch of audio and per channel.

Issue 15 (ASR overheads): a call's audio went through the VAD network more than once.
A mono call is cut into speech by faster-whisper's `vad_filter` and again by diarization
(`analysis/diarization/diarize.speech_regions`, other thresholds); a stereo call's agent
channel is searched by the packer and again by the voiceprint enrolment. The thresholds
differ, but they only act on the network's per-frame speech probabilities, which depend
on the samples alone. So the shared VAD model is given a small memo: the probabilities of
the last few arrays it saw, keyed by their bytes (a BLAKE2 digest, ~1 ms for a minute of
16 kHz audio against ~4 ms of network per second of it). Every caller still applies its
own thresholds; what it gets is exactly what the network would have computed again.

The two channels of a stereo call are searched at the same time (`speech_timestamps_each`):
ONNX Runtime releases the GIL and faster-whisper's session uses one thread, so on two
cores the second channel's VAD costs no wall time.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

_MEMO_SIZE = 4  # arrays remembered: a call's channels and their mix, with room to spare
#: search a stereo call's channels at once (bench/asr_ab.py's `serial` variant turns it off)
PARALLEL = True
_T = TypeVar("_T")


def _memo_class(base: type) -> type:
    """`base` (faster-whisper's SileroVADModel) whose `__call__` remembers recent results."""

    class MemoSileroVAD(base):  # type: ignore[misc, valid-type]
        """Speech probabilities per 512-sample frame, computed once per distinct array."""

        hits = 0
        misses = 0

        def __call__(self, audio: np.ndarray, num_samples: int = 512, context_size_samples: int = 64) -> Any:
            # the key is taken before the base call, which overwrites the input's last samples
            key = (audio.shape, audio.dtype.str, num_samples, context_size_samples,
                   hashlib.blake2b(np.ascontiguousarray(audio).view(np.uint8), digest_size=16).digest())  # fmt: skip
            memo: OrderedDict = self.__dict__.setdefault("_memo", OrderedDict())
            lock: threading.Lock = self.__dict__.setdefault("_memo_lock", threading.Lock())
            with lock:
                if key in memo:
                    memo.move_to_end(key)
                    type(self).hits += 1
                    return memo[key].copy()
            out = super().__call__(audio, num_samples, context_size_samples)
            with lock:
                type(self).misses += 1
                memo[key] = out
                while len(memo) > _MEMO_SIZE:
                    memo.popitem(last=False)
            return out.copy()

    return MemoSileroVAD


_install_lock = threading.Lock()


def vad_model() -> Any:
    """faster-whisper's shared VAD model (loaded once per process), with the memo.

    faster-whisper's `get_speech_timestamps` fetches the model through its own
    `get_vad_model()` (an `lru_cache`), so the memo goes on that very object: every
    caller in the process, ours or faster-whisper's `vad_filter`, shares it.
    """
    from faster_whisper.vad import SileroVADModel, get_vad_model

    with _install_lock:  # the first call loads the model; two threads must not both do it
        model = get_vad_model()
        if type(model) is SileroVADModel:
            model.__class__ = _memo_class(SileroVADModel)
    return model


def speech_timestamps_each(channels: Sequence[np.ndarray], find: Callable[[np.ndarray], _T]) -> list[_T]:
    """`find(channel)` for every channel, the channels at the same time (one thread each).

    `find` is expected to run the VAD (`get_speech_timestamps` and its post-processing);
    the model is loaded before the threads start, so they share one session.
    """
    vad_model()
    if len(channels) < 2 or not PARALLEL:
        return [find(c) for c in channels]
    with ThreadPoolExecutor(max_workers=len(channels), thread_name_prefix="vad") as pool:
        return list(pool.map(find, channels))
