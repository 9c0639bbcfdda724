"""Call transcription: model resolution, audio decoding, Whisper, speaker turns, the job.

One module per stage: `options` (config), `model` (finding/joining the model), `audio`
(decoding, channel split), `transcriber` (Whisper → words), `turns` (words → speaker turns),
`pending` (the job over the store). Heavy imports (faster_whisper, av) happen inside
functions, so importing this package is cheap.
"""

from analysis.asr.audio import AudioError
from analysis.asr.model import ModelError, ensure_model
from analysis.asr.options import AsrOptions
from analysis.asr.pending import TranscribeReport, transcribe_pending
from analysis.asr.transcriber import Transcriber, Transcript

__all__ = [
    "AsrOptions",
    "AudioError",
    "ModelError",
    "TranscribeReport",
    "Transcriber",
    "Transcript",
    "ensure_model",
    "transcribe_pending",
]
