"""ASR overheads (issue 15): one VAD pass per stretch of audio, both stereo channels' VAD at
once, first-call loads done with the model, and the shared [asr] options swap."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from analysis.asr import AsrOptions, vad
from analysis.asr.audio import load
from analysis.asr.options import options_changed
from analysis.asr.packing import speech_pieces
from analysis.asr.speakers import diarize_mono

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "calls"


def _padded(samples: np.ndarray) -> np.ndarray:
    """The array faster-whisper's `get_speech_timestamps` hands the network."""
    return np.pad(samples, (0, 512 - samples.shape[0] % 512))


def test_vad_memo_returns_what_the_network_computes() -> None:
    from faster_whisper.vad import SileroVADModel, get_assets_path

    mono = load(SAMPLES / "call_08_mono_password.opus").channels[0]
    plain = SileroVADModel(str(Path(get_assets_path()) / "silero_vad_v6.onnx"))
    expected = plain(_padded(mono))
    model = vad.vad_model()
    hits, misses = type(model).hits, type(model).misses
    first = model(_padded(mono))
    first[:] = 0.0  # a caller changing its copy must not change what the next one gets
    again = model(_padded(mono))
    np.testing.assert_array_equal(again, expected)
    assert (type(model).hits - hits, type(model).misses - misses) in {(1, 1), (2, 0)}
    # other samples are computed, not served from the memo
    other = mono.copy()
    other[: 16000] *= 0.5
    got = model(_padded(other))
    assert type(model).misses - misses >= 1
    np.testing.assert_array_equal(got, plain(_padded(other)))
    assert not np.array_equal(got, expected)


def test_both_channels_are_searched_on_vad_worker_threads_with_the_same_result() -> None:
    left, right = load(SAMPLES / "call_01_angry_refund.opus").channels
    one_by_one = [speech_pieces(left), speech_pieces(right)]
    threads: list[str] = []

    def find(ch: np.ndarray) -> list[tuple[int, int]]:
        threads.append(threading.current_thread().name)
        return speech_pieces(ch)

    assert vad.speech_timestamps_each([left, right], find) == one_by_one
    assert len(threads) == 2 and all(t.startswith("vad") for t in threads)
    assert one_by_one[0] and one_by_one[1] and one_by_one[0] != one_by_one[1]
    # a single channel needs no thread
    threads.clear()
    assert vad.speech_timestamps_each([left], find) == one_by_one[:1]
    assert threads == [threading.current_thread().name]


def test_options_changed_restores_the_options_also_on_error() -> None:
    class Holder:
        options = AsrOptions()

    h = Holder()
    before = h.options
    with pytest.raises(RuntimeError), options_changed(h, beam_size=2, language="en"):
        assert (h.options.beam_size, h.options.language) == (2, "en")
        assert before.beam_size == 5  # the original is not mutated
        raise RuntimeError("boom")
    assert h.options is before
    with pytest.raises(TypeError), options_changed(h, beam=2):  # a misspelt option is an error
        pass


@pytest.mark.slow
def test_transcriber_loads_first_call_pieces_with_the_model(asr_transcriber) -> None:
    from faster_whisper.vad import get_vad_model

    from analysis.diarization.encoder import VoiceEncoder

    assert asr_transcriber.options.diarization == "auto"
    assert type(get_vad_model()).__name__ == "MemoSileroVAD"
    assert VoiceEncoder._shared is not None
    assert {"onnxruntime", "multiprocessing", "analysis.diarization.diarize", "numpy.random"} <= set(sys.modules)


@pytest.mark.slow
def test_mono_call_runs_the_vad_network_once_and_diarizes_as_before(asr_transcriber, monkeypatch) -> None:
    audio = load(SAMPLES / "call_08_mono_password.opus")
    model = vad.vad_model()
    model.__dict__.get("_memo", {}).clear()
    hits, misses = type(model).hits, type(model).misses
    with options_changed(asr_transcriber, language="en"):
        memo = asr_transcriber.transcribe_audio(audio)
        # the network ran once, for Whisper's VAD; diarization's reused its probabilities
        assert (type(model).hits - hits, type(model).misses - misses) == (1, 1)
        monkeypatch.setattr(vad, "_MEMO_SIZE", 0)  # no memo: every caller runs the network
        model.__dict__.get("_memo", {}).clear()
        misses = type(model).misses
        fresh = asr_transcriber.transcribe_audio(audio)
        assert type(model).misses - misses == 2
    assert memo.speaker_source == fresh.speaker_source == "diarization"
    turns = [(t.speaker, t.start, t.end, t.text) for t in memo.turns]
    assert turns == [(t.speaker, t.start, t.end, t.text) for t in fresh.turns]
    # diarizing the finished words again, outside the Transcriber, gives the same turns
    words = [w for t in memo.turns for w in t.words or []]
    after = diarize_mono(audio.channels[0], [words], None, asr_transcriber.options)
    assert [(t.speaker, t.start, t.end, t.text) for t in after.turns] == turns
    assert memo.extra["speakers"]["evidence"]["diarization_seconds"] > 0


def test_a_silent_channel_is_not_searched() -> None:
    """Digital silence has no speech: the network agrees, and is not run over it."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    silent = np.zeros(16000 * 20, dtype=np.float32)
    assert get_speech_timestamps(silent, VadOptions()) == []  # what the network says
    model = vad.vad_model()
    hits, misses = type(model).hits, type(model).misses
    assert speech_pieces(silent) == []
    assert (type(model).hits, type(model).misses) == (hits, misses)
    # a channel with sound in it still goes through the network
    left = load(SAMPLES / "call_01_angry_refund.opus").channels[0]
    assert speech_pieces(left) and type(model).hits + type(model).misses > hits + misses
