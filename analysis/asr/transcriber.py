"""Transcribing one call: audio in, speaker turns with word timings out.

The Whisper model (faster-whisper on CTranslate2) is loaded once per `Transcriber` and
reused for every call, which is where most of the gain over running the
`whisper-ctranslate2` CLI file by file comes from (it pays the model load per file).

Stereo calls keep one speaker per channel, so speaker labels come from the recording
itself rather than from guessing. With VAD on, the speech of both channels is packed into
shared 30 s windows (analysis.asr.packing), so a stereo call costs about what its mono
mix-down would; each word is mapped back to its channel and its time. Packed calls of at
least `stereo_batched_min_seconds` (default 0: all of them) send every window through
`BatchedInferencePipeline`, the language read from the first window's encoder output,
which the batch reuses (`_language_once_model`: no extra pass); shorter ones decode the
first window sequentially, whose encoder pass also gives the language. Issue 15 round 5
(bench/asr_ab.py, in one process, against `stereoseq30`, the earlier 30 s threshold): the
batched path cost 5 % less CPU on the sample calls and 37 % less on the held-out calls (no
temperature fallbacks), at equal or lower word error rate. Mono calls under
`batched_min_seconds` use the sequential decoder (language from its first window too),
longer ones the batched pipeline; with VAD off each channel is decoded on its own.
`bench/asr.py` measures both modes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.asr.audio import SAMPLE_RATE, Audio, load, suppress_crosstalk
from analysis.asr.model import ensure_model
from analysis.asr.options import AsrOptions
from analysis.asr.packing import pack
from analysis.asr.speakers import (
    CallContext,
    diarize_mono,
    enrol,
    mixed_stereo,
    preload_diarization,
    speaker_extra,
)
from analysis.asr.turns import mono_turns, stereo_turns
from analysis.asr.vad import vad_model
from store.records import Turn, Word

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Transcript:
    """One transcribed call. `turns` are in time order with `seq` 0..n-1."""

    duration: float
    language: str
    turns: list[Turn]
    channels: int = 1
    language_probability: float | None = None
    speaker_source: str = "channel"  # "channel" (stereo), "diarization" or "mono_fallback"
    batched: bool = False
    wall_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The `transcribe --json` shape (plus words)."""
        return {
            "duration": round(self.duration, 3),
            "language": self.language,
            "turns": [
                {
                    "speaker": t.speaker,
                    "start": t.start,
                    "end": t.end,
                    "text": t.text,
                }
                for t in self.turns
            ],
        }


def resolve_device(options: AsrOptions) -> tuple[str, str]:
    """(device, compute_type) after resolving "auto": a GPU with float16 when present."""
    device = options.device
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute = options.compute_type
    if compute == "auto":
        compute = "float16" if device == "cuda" else "int8"
    return device, compute


def _language_once_model(base: type) -> type:
    """`base` (faster-whisper's WhisperModel) whose language detection costs no encoder pass.

    faster-whisper 1.2 detects the language (when none is given) by encoding the first
    30 s window, reading the language token, and throwing that encoder output away;
    decoding then encodes the very same window again. On a short call (one window) that
    is a second full encoder pass, measured at about 0.4 s per file (issue 15). Here the
    detection encodes the first window exactly as `generate_segments` will slice it for
    decoding (`features[:, :min(3000, n_frames - 1)]`, padded to 3000) and keeps the
    output; `encode` hands it back when decoding asks for that same window, so the
    language costs one `detect_language` call on an encoder output decoding needed anyway.
    Everything else (thresholds, several detection segments, raw audio) is faster-whisper's
    own code. `encodes` and `detections` count real encoder runs and detections (tests and
    the bench read them).

    Short speech (issue 15): Whisper reads the language of a window that is mostly padding
    unreliably; on the bench's 8 kHz telephone clips (5-12 s) it said Thai or Latin for
    English a few times, and decoding in the wrong language then ran through every
    temperature fallback (seconds per clip, and 100 % word errors). So when the best
    language is less probable than `recheck_below` and the window held under 15 s of
    speech, the language is read once more from that speech repeated (0.1 s apart) to fill
    the window, and the two looks are combined by their geometric mean (`rechecks` counts them; one encoder pass
    each, only on unsure short calls). `candidates` (`[asr] languages`) restricts the
    choice to a contact centre's own languages.
    """
    from faster_whisper.audio import pad_or_trim

    class LanguageOnceModel(base):  # type: ignore[misc, valid-type]
        device = "cpu"  # set by the Transcriber
        encodes = 0
        windows = 0  # 30 s windows encoded (a batch counts each)
        detections = 0
        rechecks = 0  # second looks at an unsure short window (tiled speech)
        recheck_below = 0.0  # set by the Transcriber from [asr] language_recheck_below
        candidates: tuple[str, ...] = ()  # [asr] languages; () = any
        _first: tuple[np.ndarray, Any] | None = None

        def _language_probs(self, out: Any, features: np.ndarray, content: int) -> list[tuple[str, float]]:
            """(language, probability) best first, from the encoder output `out` of a window
            whose first `content` frames of `features` are speech (see the class docstring)."""
            probs = {t[2:-2]: float(p) for t, p in self.model.detect_language(out)[0]}
            n_max = self.feature_extractor.nb_max_frames
            best = max(self._restrict(probs).values())
            if best < self.recheck_below and 0 < content <= n_max // 2:
                speech = np.asarray(features)[..., :content]
                unit = np.concatenate([speech, np.zeros((*speech.shape[:-1], 10), speech.dtype)], axis=-1)
                tiled = np.tile(unit, (1,) * (unit.ndim - 1) + (-(-n_max // unit.shape[-1]),))[..., :n_max]
                self.rechecks += 1
                self.encodes += 1
                self.windows += 1
                again = self.model.detect_language(super().encode(np.ascontiguousarray(tiled)))[0]
                second = {t[2:-2]: float(p) for t, p in again}
                # geometric mean, renormalised: the looks are two readings of the same speech, so
                # their evidence multiplies; a language one look finds implausible is not carried by
                # the other look's confidence (the arithmetic mean kept Thai 0.61 / 0.08 over English
                # 0.16 / 0.51 on the bench's phone_dev_02 on an AVX2-only CPU)
                joint = {k: math.sqrt(v * second.get(k, 0.0)) for k, v in probs.items()}
                total = sum(joint.values())
                probs = {k: v / total for k, v in joint.items()} if total > 0 else probs
            return sorted(self._restrict(probs).items(), key=lambda kv: -kv[1])

        def _restrict(self, probs: dict[str, float]) -> dict[str, float]:
            """Only the candidate languages, renormalised (all of them when none is set)."""
            if not self.candidates:
                return probs
            kept = {k: v for k, v in probs.items() if k in self.candidates}
            total = sum(kept.values())
            return {k: v / total for k, v in kept.items()} if total > 0 else probs

        def encode(self, features: np.ndarray) -> Any:
            first = self._first
            if first is not None:
                self._first = None
                if first[0].shape == features.shape and np.array_equal(first[0], features):
                    return first[1]
                # a batch of windows (BatchedInferencePipeline) led by the detection's window:
                # encode only the others (on CPU, where the outputs can be joined)
                if (features.ndim == 3 and features.shape[1:] == first[0].shape and self.device == "cpu"
                        and np.array_equal(features[0], first[0])):
                    if len(features) == 1:
                        return first[1]
                    import ctranslate2

                    self.encodes += 1
                    self.windows += len(features) - 1
                    rest = np.asarray(super().encode(np.ascontiguousarray(features[1:])))
                    joined = np.concatenate([np.asarray(first[1]).reshape(1, *rest.shape[1:]), rest])
                    return ctranslate2.StorageView.from_array(np.ascontiguousarray(joined))
            self.encodes += 1
            self.windows += len(features) if features.ndim == 3 else 1
            return super().encode(features)

        def first_window_language(self, features: np.ndarray, content: int | None = None) -> tuple[str, float]:
            """The language of one padded window of features (80 x 3000), whose encoder
            output is kept for the batch that decodes it (see `encode`); `content`: frames
            of it that hold audio (the rest is padding)."""
            self.detections += 1
            self.encodes += 1
            self.windows += 1
            out = super().encode(features)
            self._first = (features, out)
            content = features.shape[-1] if content is None else content
            return self._language_probs(out, features, content)[0]

        def detect_language(self, audio: np.ndarray | None = None, features: np.ndarray | None = None,
                            vad_filter: bool = False, vad_parameters: Any = None,
                            language_detection_segments: int = 1,
                            language_detection_threshold: float = 0.5) -> tuple[str, float, list]:
            self.detections += 1
            if audio is not None or features is None or language_detection_segments != 1:
                return super().detect_language(audio, features, vad_filter, vad_parameters,
                                               language_detection_segments, language_detection_threshold)
            n_max = self.feature_extractor.nb_max_frames
            content = max(1, min(n_max, features.shape[-1] - 1))
            window = pad_or_trim(features[..., :content])
            out = self.encode(window)
            self._first = (window, out)
            probs = self._language_probs(out, window, content)
            return probs[0][0], probs[0][1], probs

    return LanguageOnceModel


def _words(segments: Any) -> list[list[Word]]:
    """faster-whisper segments (a lazy generator) → one word list per segment."""
    out: list[list[Word]] = []
    for seg in segments:
        ws = [
            Word(w.word, float(w.start), float(w.end), float(w.probability))
            for w in (seg.words or [])
            if w.word.strip()
        ]
        if ws:
            out.append(ws)
    return out


def _preload(options: AsrOptions) -> None:
    """Load what a process's first call would otherwise load (see `Transcriber.__init__`)."""
    from tqdm import tqdm

    vad_model()
    # faster-whisper makes a (disabled) tqdm bar per call; tqdm's first bar builds a
    # multiprocessing lock, importing multiprocessing
    tqdm.get_lock()
    if options.diarization == "auto":
        preload_diarization()


class Transcriber:
    """Loads the configured Whisper model once; `transcribe(path)` per call.

    Thread-safe in the sense that concurrent calls are serialised (CTranslate2 already
    uses every configured core for one call).
    """

    def __init__(self, options: AsrOptions, cache_dir: Path) -> None:
        from faster_whisper import WhisperModel

        self.options = options
        self.model_dir = ensure_model(options, cache_dir)
        self.device, self.compute_type = resolve_device(options)
        # What every process paid on its first call is loaded with the model instead, on a
        # second thread while CTranslate2 reads the model (it releases the GIL): the VAD
        # network (onnxruntime's import and session, which carries the memo that spares a
        # call's second VAD pass over the same samples, analysis/asr/vad.py) and, when mono
        # calls are diarized, the speaker network and the diarization code (issue 15).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr-preload") as pool:
            preloaded = pool.submit(_preload, options)
            self.model: WhisperModel = _language_once_model(WhisperModel)(
                str(self.model_dir),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=options.cpu_threads,
            )
            preloaded.result()  # its errors are the caller's, as if loaded here
        self.model.device = self.device
        self._batched: BatchedInferencePipeline | None = None
        self._lock = threading.Lock()

    @property
    def batched(self) -> BatchedInferencePipeline:
        if self._batched is None:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(model=self.model)
        return self._batched

    def transcribe(self, path: str | Path, context: CallContext | None = None) -> Transcript:
        """Transcribe one audio file (raises analysis.asr.audio.AudioError if unreadable).

        `context` (agent id, direction, enrolled voiceprint) helps name a mono call's
        speakers and asks for the agent's voiceprint from a stereo call.
        """
        t0 = time.perf_counter()
        audio = load(path)
        with self._lock:
            tr = self.transcribe_audio(audio, context)
        tr.wall_seconds = time.perf_counter() - t0
        return tr

    # -- internals ------------------------------------------------------------------

    def _common_kwargs(self, language: str | None) -> dict[str, Any]:
        return {
            "language": language or None,
            "beam_size": self.options.beam_size,
            "word_timestamps": True,
        }

    def _sequential(self, samples: np.ndarray, language: str | None) -> tuple[list[list[Word]], str, float]:
        segments, info = self.model.transcribe(
            samples, vad_filter=self.options.vad, **self._common_kwargs(language)
        )
        return _words(segments), info.language, float(info.language_probability)

    def _batched_run(self, samples: np.ndarray, language: str | None) -> tuple[list[list[Word]], str, float]:
        segments, info = self.batched.transcribe(
            samples,
            vad_filter=True,
            batch_size=self.options.batch_size,
            **self._common_kwargs(language),
        )
        return _words(segments), info.language, float(info.language_probability)

    def _detect_language(self, channels: list[np.ndarray]) -> tuple[str, float]:
        """One language for the whole call, detected on the mix of all channels.

        Deciding on one side alone misfires when that side says little (a short
        greeting); the mix holds both speakers, and costs one encoder pass.
        """
        n = max(len(c) for c in channels)
        mix = np.zeros(n, dtype=np.float32)
        for ch in channels:
            mix[: len(ch)] += ch / len(channels)
        _lang, _prob, probs = self.model.detect_language(audio=mix, vad_filter=self.options.vad)
        lang, prob = max(self.model._restrict(dict(probs)).items(), key=lambda kv: kv[1])
        return lang, float(prob)

    def _first_window_language(self, audio: np.ndarray, window: dict[str, float]) -> tuple[str, float]:
        """The language of a packed call from its first window, computed on exactly the
        features `BatchedInferencePipeline` will encode for that window (its slicing and
        padding), so the batch takes the encoder output from here instead of encoding the
        window again (`_language_once_model`)."""
        from faster_whisper.audio import pad_or_trim

        chunk = audio[int(window["start"] * SAMPLE_RATE) : int(window["end"] * SAMPLE_RATE)]
        raw = self.model.feature_extractor(chunk)[..., :-1]
        features = pad_or_trim(raw)
        return self.model.first_window_language(features, min(raw.shape[-1], features.shape[-1]))

    def _packed_run(self, channels: list[np.ndarray], language: str | None,
                    batched: bool) -> tuple[dict[int, list[Word]], str, float]:
        """Both channels' speech packed into shared windows (analysis.asr.packing), decoded.

        Short calls (`batched` False): the first window goes through the sequential
        decoder; when no language is configured, the encoder output it needs anyway also
        gives the call's language (`_language_once_model`), detected on both speakers'
        speech; the other windows are decoded with that language, sequentially. Long calls
        (`batched`): every window goes to `BatchedInferencePipeline`; the language comes
        from the first window's encoder output, which the batch reuses
        (`_first_window_language`). Decoding the first window sequentially there (as
        before) encoded it a second time whenever its segments stopped short of the
        window's end (12 windows for the 11 of the 5-minute bench call; 1-2 % of its CPU).
        """
        packed = pack(channels)
        per_channel: dict[int, list[Word]] = {i: [] for i in range(len(channels))}
        if not packed.windows:
            return per_channel, language or "", 0.0
        first, rest = packed.windows[0], packed.windows[1:]
        prob = 1.0
        if batched:
            # a long call: every window in batches; without a configured language it is
            # read from the first window, whose encoder output the batch then reuses
            if language is None:
                language, prob = self._first_window_language(packed.audio, first)
            first, rest = None, packed.windows
        found: list[list[Word]] = []
        if first is not None:  # `pack` lays the first window from 0 s: its times need no shift
            end = round(first["end"] * SAMPLE_RATE)
            segments, info = self.model.transcribe(
                packed.audio[:end], vad_filter=False, **self._common_kwargs(language)
            )
            found += _words(segments)
            language, prob = info.language, float(info.language_probability)
        if rest and batched:
            segments, _info = self.batched.transcribe(
                packed.audio, clip_timestamps=rest, vad_filter=False,
                batch_size=self.options.batch_size, **self._common_kwargs(language),
            )  # fmt: skip
            found += _words(segments)
        elif rest:
            clips = [t for w in rest for t in (w["start"], w["end"])]
            segments, _info = self.model.transcribe(
                packed.audio, vad_filter=False, clip_timestamps=clips, **self._common_kwargs(language)
            )
            found += _words(segments)
        for seg in found:
            for w in seg:
                located = packed.locate(w)
                if located:
                    per_channel[located[0]].append(located[1])
        return per_channel, language or "", prob

    def transcribe_audio(self, audio: Audio, context: CallContext | None = None) -> Transcript:
        """Transcribe decoded audio (see the module docstring for the strategy).

        `extra` records what it cost: `encoder_passes` (encoder runs; a batch of windows
        counts once), `encoder_windows` (30 s windows encoded), `language_detections`
        (0 when `language` is configured) and `language_rechecks` (second looks at an
        unsure short call's language, each one more window).
        """
        m = self.model
        e0, d0, w0 = getattr(m, "encodes", 0), getattr(m, "detections", 0), getattr(m, "windows", 0)
        r0 = getattr(m, "rechecks", 0)
        m._first = None  # never reuse a window of an earlier call
        m.recheck_below = self.options.language_recheck_below
        m.candidates = tuple(c.lower() for c in self.options.languages)
        tr = self._transcribe_decoded(audio, context)
        tr.extra["encoder_passes"] = getattr(m, "encodes", 0) - e0
        tr.extra["language_detections"] = getattr(m, "detections", 0) - d0
        tr.extra["encoder_windows"] = getattr(m, "windows", 0) - w0
        tr.extra["language_rechecks"] = getattr(m, "rechecks", 0) - r0
        return tr

    def _transcribe_decoded(self, audio: Audio, context: CallContext | None = None) -> Transcript:
        opts = self.options
        language = opts.language or None
        duration = audio.duration
        use_batched = opts.vad and duration >= opts.batched_min_seconds
        mixed = mixed_stereo(audio, opts)
        if mixed is not None:
            audio = mixed
        if len(audio.channels) == 1:
            run = self._batched_run if use_batched else self._sequential
            if opts.diarization == "auto":
                samples = audio.channels[0]
                segs, lang, prob = run(samples, language)
                res = diarize_mono(samples, segs, context, opts)
                return Transcript(duration, lang, res.turns, audio.source_channels, prob,
                                  "diarization", use_batched, extra=speaker_extra(res, audio))
            segs, lang, prob = run(audio.channels[0], language)
            turns = mono_turns(
                segs,
                fallback=opts.mono_fallback,
                first_speaker=opts.mono_first_speaker,
                turn_gap=opts.mono_turn_gap_seconds,
            )
            return Transcript(duration, lang, turns, audio.source_channels, prob,
                              "mono_fallback", use_batched)
        channels = list(suppress_crosstalk(audio.channels[0], audio.channels[1], opts.crosstalk_db))
        agent_idx = 0 if opts.stereo_agent_channel == "left" else 1
        speakers = {agent_idx: "agent", 1 - agent_idx: "customer"}
        if opts.vad:
            use_batched = duration >= opts.stereo_batched_min_seconds
            per_channel, lang, prob = self._packed_run(channels, language, use_batched)
        else:
            if language is None:
                language, prob = self._detect_language(channels)
            else:
                prob = 1.0
            per_channel = {}
            for idx in (0, 1):
                segs, _lang, _prob = self._sequential(channels[idx], language)
                per_channel[idx] = [w for s in segs for w in s]
            lang = language
        turns = stereo_turns(
            [(speakers[i], i, per_channel.get(i, [])) for i in (0, 1)],
            gap=opts.turn_gap_seconds,
        )
        tr = Transcript(duration, lang, turns, audio.source_channels, prob, "channel", use_batched)
        tr.extra.update(enrol(channels[agent_idx], context, opts))
        return tr
