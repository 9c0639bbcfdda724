"""`[asr]` options: which Whisper model, where it runs, and how calls become turns."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PACKAGED_BASE = "packaged:base"
_DEVICES = ("auto", "cpu", "cuda")
_COMPUTE = (
    "auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16",
    "int16", "float16", "bfloat16", "float32",
)  # fmt: skip
_CHANNELS = ("left", "right")
_MONO = ("alternate", "agent", "customer")
_SPEAKERS = ("agent", "customer")
_DIARIZATION = ("auto", "off")


@dataclass
class AsrOptions:
    """How calls are transcribed (config section `[asr]`).

    `model`: "packaged:base" (Whisper base shipped in PyPI packages, joined once into the
    cache), a local CTranslate2 model directory, or a hub name/id (needs a network once).
    Stereo calls are transcribed one channel per speaker (`stereo_agent_channel`); mono
    calls are diarized from the speakers' voices (`diarization = "auto"`, analysis/diarization/)
    or, with `diarization = "off"`, get speakers by `mono_fallback` (analysis/asr/turns.py).
    """

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012

    model: str = PACKAGED_BASE
    device: str = "auto"  # auto = cuda when CTranslate2 sees a GPU, else cpu
    compute_type: str = "auto"  # auto = int8 on cpu, float16 on cuda
    cpu_threads: int = 0  # 0 = all cores
    language: str = ""  # "" = detect per call; else an ISO code such as "en"
    # detection only chooses among these ISO codes (e.g. ["en", "es"]); [] = any language
    languages: list[str] = field(default_factory=list)
    # a detected language less probable than this, read from a short stretch of speech
    # (under 15 s), is looked at again with that speech repeated to fill Whisper's 30 s
    # window, and the two looks are averaged (one more encoder pass; 0 = never)
    language_recheck_below: float = 0.7
    vad: bool = True
    beam_size: int = 5
    batch_size: int = 8
    batched_min_seconds: float = 30.0  # mono calls at least this long use BatchedInferencePipeline
    # stereo calls (both sides' speech packed, needs vad) at least this long use it; 0 = all
    # (issue 15 round 5: cheaper than the sequential decoder on packed windows, same WER)
    stereo_batched_min_seconds: float = 0.0
    stereo_agent_channel: str = "left"
    mono_fallback: str = "alternate"
    mono_first_speaker: str = "agent"
    mono_turn_gap_seconds: float = 0.8
    turn_gap_seconds: float = 1.5  # a pause this long inside one channel starts a new turn
    crosstalk_db: float = 30.0  # stereo: silence a side this much quieter than the other (0 = off)
    # mono calls (and stereo files whose two sides both carry both voices): "auto" = find
    # the speakers from their voices (analysis/diarization/), "off" = the pause heuristic
    diarization: str = "auto"
    min_speakers: int = 2
    max_speakers: int = 4
    # mark overlapped speech (both speakers talking) in diarized calls: the classifier in
    # analysis/diarization/overlap.py; words keep one speaker, talk-overs get their own turn
    overlap_detection: bool = True
    # enrol each agent's voiceprint from their stereo calls (an embedding, never audio),
    # up to this many seconds of their speech; the print helps tell agent from customer
    voiceprint_enrolment: bool = True
    voiceprint_max_seconds: float = 600.0
    # speech taken from one stereo call towards the print (from its start; 0 = all of it):
    # 60 s gives a print within cosine 0.999 of the whole call's at a third of the cost
    voiceprint_call_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise ValueError("model must not be empty (use \"packaged:base\")")
        if self.device not in _DEVICES:
            raise ValueError(f"device must be one of {', '.join(_DEVICES)}; got {self.device!r}")
        if self.compute_type not in _COMPUTE:
            raise ValueError(
                f"compute_type must be one of {', '.join(_COMPUTE)}; got {self.compute_type!r}"
            )
        if self.cpu_threads < 0:
            raise ValueError("cpu_threads must be >= 0 (0 = all cores)")
        if self.language and not self.language.isalpha():
            raise ValueError(f"language must be an ISO code like 'en' or empty; got {self.language!r}")
        bad = [c for c in self.languages if not (isinstance(c, str) and c.isalpha())]
        if bad:
            raise ValueError(f"languages must be ISO codes like 'en'; got {bad!r}")
        if not 0 <= self.language_recheck_below <= 1:
            raise ValueError("language_recheck_below must be between 0 and 1 (0 = never)")
        if self.beam_size < 1 or self.batch_size < 1:
            raise ValueError("beam_size and batch_size must be >= 1")
        if self.batched_min_seconds < 0 or self.stereo_batched_min_seconds < 0:
            raise ValueError("batched_min_seconds and stereo_batched_min_seconds must be >= 0")
        if self.stereo_agent_channel not in _CHANNELS:
            raise ValueError(
                f"stereo_agent_channel must be 'left' or 'right'; got {self.stereo_agent_channel!r}"
            )
        if self.mono_fallback not in _MONO:
            raise ValueError(f"mono_fallback must be one of {', '.join(_MONO)}; got {self.mono_fallback!r}")
        if self.mono_first_speaker not in _SPEAKERS:
            raise ValueError(
                f"mono_first_speaker must be 'agent' or 'customer'; got {self.mono_first_speaker!r}"
            )
        if self.crosstalk_db < 0:
            raise ValueError("crosstalk_db must be >= 0 (0 = off)")
        if self.diarization not in _DIARIZATION:
            raise ValueError(f"diarization must be 'auto' or 'off'; got {self.diarization!r}")
        if not 1 <= self.min_speakers <= self.max_speakers <= 8:
            raise ValueError("need 1 <= min_speakers <= max_speakers <= 8")
        if self.voiceprint_max_seconds < 0 or self.voiceprint_call_seconds < 0:
            raise ValueError("voiceprint_max_seconds and voiceprint_call_seconds must be >= 0")
        if self.mono_turn_gap_seconds <= 0 or self.turn_gap_seconds <= 0:
            raise ValueError("mono_turn_gap_seconds and turn_gap_seconds must be > 0")


@contextmanager
def options_changed(holder: Any, **changes: Any) -> Iterator[None]:
    """Run a block with some [asr] options changed on `holder` (a Transcriber, or anything
    with an `options` AsrOptions), and put them back after, also when the block fails.

    One loaded model can so be run under several configurations in turn: the tests
    (tests/asr_helpers.py) and `bench/asr_ab.py`'s variants both use it, so a Whisper
    model loads once per process instead of once per configuration.
    """
    old = holder.options
    holder.options = dataclasses.replace(old, **changes)
    try:
        yield
    finally:
        holder.options = old
