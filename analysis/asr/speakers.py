"""The transcriber's bridge to diarization (analysis/diarization/): mono and mixed calls.

Kept apart from transcriber.py so the Whisper code stays about Whisper: this module
decides when a call is diarized (mono, or stereo whose sides both carry both voices),
runs it, and enrols the agent's voiceprint from real two-channel calls. The diarization
package (numpy only since issue 15: no torch or scikit-learn) is imported only when a call
needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.asr.audio import Audio
from analysis.asr.options import AsrOptions
from analysis.diarization.call import CallContext, SpeakerResult
from store.records import Word

__all__ = ["CallContext", "diarize_mono", "enrol", "mixed_stereo", "preload_diarization", "speaker_extra"]


def preload_diarization() -> None:
    """Import the diarization code and load the speaker network (and threadpoolctl's scan
    of the BLAS libraries) now, so the first mono call of a process does not pay for them
    (~0.2-0.3 CPU s: code, weights, mel filters, the overlap classifier; the Transcriber
    does this while its Whisper model loads)."""
    import numpy.random  # noqa: F401  (numpy loads it lazily; k-means seeds from it)

    from analysis.diarization import diarize  # noqa: F401  (the import is the point)
    from analysis.diarization.encoder import VoiceEncoder, _blas, _mel_basis
    from analysis.diarization.overlap import load_model

    VoiceEncoder.shared()
    _blas()
    _mel_basis()
    load_model()


def diarize_options(opts: AsrOptions) -> Any:
    from analysis.diarization.diarize import DiarizeOptions

    return DiarizeOptions(min_speakers=opts.min_speakers, max_speakers=opts.max_speakers,
                          overlap_detect=opts.overlap_detection)  # fmt: skip


def diarize_mono(samples: np.ndarray, segments: Sequence[list[Word]], context: CallContext | None,
                 opts: AsrOptions) -> SpeakerResult:  # fmt: skip
    """Turns of a one-channel call with speakers found from their voices."""
    from analysis.diarization.call import speaker_turns

    return speaker_turns(samples, segments, context, diarize_options(opts), gap=opts.turn_gap_seconds)


def speaker_extra(res: SpeakerResult, audio: Audio) -> dict[str, Any]:
    """What the ASR job stores about the assignment (Transcript.extra["speakers"])."""
    ev = dict(res.evidence, diarization_seconds=round(res.seconds, 3))
    if audio.source_channels == 2 and not audio.dual_mono:
        ev["mixed_stereo"] = True
    return {"speakers": {"method": "diarization", "speakers": res.speakers,
                         "confidence": res.confidence, "evidence": ev}}  # fmt: skip


def mixed_stereo(audio: Audio, opts: AsrOptions) -> Audio | None:
    """The call as one mixed channel when its two sides both carry both voices, else None."""
    if opts.diarization == "off" or len(audio.channels) != 2:
        return None
    from analysis.diarization.call import is_mixed_stereo

    left, right = audio.channels
    mixed, _stats = is_mixed_stereo(left, right)
    if not mixed:
        return None
    n = min(len(left), len(right))
    return Audio([(left[:n] + right[:n]) / 2], audio.source_channels, dual_mono=False)


def enrol(agent_channel: np.ndarray, context: CallContext | None, opts: AsrOptions) -> dict[str, Any]:
    """{"agent_voiceprint": (agent, model, vector, seconds)} from a stereo call's agent side,
    when enrolment is on and the context asks for it; {} otherwise."""
    if not (opts.voiceprint_enrolment and context is not None and context.enrol and context.agent):
        return {}
    from analysis.diarization.call import MODEL, agent_voiceprint

    got = agent_voiceprint(agent_channel, diarize_options(opts), max_seconds=opts.voiceprint_call_seconds or None)
    if got is None:
        return {}
    return {"agent_voiceprint": (context.agent, MODEL, got[0], got[1])}
