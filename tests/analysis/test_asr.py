"""ASR: model resolution, audio decoding, speaker turns, the real Whisper model end to end,
and the transcription job over a real DuckDB file."""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from asr_helpers import options

from analysis.asr import AsrOptions, ModelError, ensure_model, transcribe_pending
from analysis.asr.audio import load
from analysis.asr.model import PACKAGED_MODEL_SIZE
from analysis.asr.turns import mono_turns, stereo_turns
from store import Store
from store import interactions as interactions_q
from store.records import Interaction, Word

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "calls"


# -- model resolution -----------------------------------------------------------------


def test_packaged_model_is_joined_once_and_reused(tmp_path: Path) -> None:
    path = ensure_model(AsrOptions(), tmp_path)
    model_bin = path / "model.bin"
    assert path == tmp_path / "whisper-base"
    assert model_bin.stat().st_size == PACKAGED_MODEL_SIZE
    assert {p.name for p in path.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    before = model_bin.stat()
    assert ensure_model(AsrOptions(), tmp_path) == path
    after = model_bin.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # a damaged (truncated) join is detected and redone
    with model_bin.open("r+b") as f:
        f.truncate(1000)
    ensure_model(AsrOptions(), tmp_path)
    assert model_bin.stat().st_size == PACKAGED_MODEL_SIZE


def test_configured_local_path_wins(tmp_path: Path) -> None:
    local = tmp_path / "my-model"
    local.mkdir()
    (local / "model.bin").write_bytes(b"x")
    (local / "config.json").write_text("{}")
    assert ensure_model(AsrOptions(model=str(local)), tmp_path / "cache") == local
    assert not (tmp_path / "cache" / "whisper-base").exists()  # nothing joined


def test_bad_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        ensure_model(AsrOptions(model=str(tmp_path / "missing")), tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"missing model\.bin, config\.json"):
        ensure_model(AsrOptions(model=str(empty)), tmp_path)


def test_hub_name_offline_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="offline machines should use"):
        ensure_model(AsrOptions(model="Systran/faster-whisper-tiny"), tmp_path)


def test_device_auto_follows_ctranslate2s_gpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """`device = "auto"` asks CTranslate2 how many CUDA devices it sees (none here) and
    picks the compute type to match; explicit settings are kept."""
    import ctranslate2

    from analysis.asr.transcriber import resolve_device

    expected = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    assert resolve_device(AsrOptions())[0] == expected
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert resolve_device(AsrOptions()) == ("cpu", "int8")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    assert resolve_device(AsrOptions()) == ("cuda", "float16")
    assert resolve_device(AsrOptions(compute_type="int8_float16")) == ("cuda", "int8_float16")
    assert resolve_device(AsrOptions(device="cpu")) == ("cpu", "int8")


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="stereo_agent_channel"):
        AsrOptions(stereo_agent_channel="centre")
    with pytest.raises(ValueError, match="device"):
        AsrOptions(device="tpu")
    with pytest.raises(ValueError, match="mono_fallback"):
        AsrOptions(mono_fallback="guess")


# -- audio ------------------------------------------------------------------------------


def test_stereo_mono_and_dual_mono_files(tmp_path: Path) -> None:
    import soundfile as sf

    stereo = load(SAMPLES / "call_01_angry_refund.opus")
    assert len(stereo.channels) == 2 and stereo.duration == pytest.approx(35.0, abs=0.3)
    assert load(SAMPLES / "call_08_mono_password.opus").channels.__len__() == 1
    # the same signal on both sides is a mono recording stored as stereo
    t = np.arange(16000 * 2) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(tmp_path / "dual.wav", np.stack([tone, tone], axis=1), 16000)
    dual = load(tmp_path / "dual.wav")
    assert dual.dual_mono and len(dual.channels) == 1


def test_crosstalk_is_silenced_but_double_talk_kept() -> None:
    from analysis.asr.audio import suppress_crosstalk

    sr = 16000
    t = np.arange(sr * 3) / sr
    burst = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    left = np.zeros(sr * 3, np.float32)
    right = np.zeros(sr * 3, np.float32)
    left[: sr] = burst[: sr]  # agent alone, echoed 40 dB down on the right
    right[: sr] = 0.01 * burst[: sr]
    left[2 * sr :] = burst[2 * sr :]  # both talk at once
    right[2 * sr :] = 0.5 * burst[2 * sr :]
    cl, cr = suppress_crosstalk(left, right, db=30)
    assert np.abs(cr[int(0.3 * sr) : int(0.7 * sr)]).max() == 0.0  # echo gone
    assert np.array_equal(cl, left)  # the loud side is untouched
    assert np.array_equal(cr[2 * sr + 4000 :], right[2 * sr + 4000 :])  # double talk stays
    off_l, off_r = suppress_crosstalk(left, right, db=0)
    assert off_r is right and off_l is left


def test_packing_shares_windows_and_maps_words_back() -> None:
    from analysis.asr.audio import suppress_crosstalk
    from analysis.asr.packing import GAP_S, WINDOW_S, Packed, Piece, pack

    audio = load(SAMPLES / "call_01_angry_refund.opus")
    packed = pack(list(suppress_crosstalk(*audio.channels, db=30)))
    assert {p.channel for p in packed.pieces} == {0, 1}
    assert [p.orig_start for p in packed.pieces] == sorted(p.orig_start for p in packed.pieces)
    assert all(w["end"] - w["start"] <= WINDOW_S for w in packed.windows)
    # both speakers share windows: fewer windows than each side on its own would need
    assert len(packed.windows) < 2 * 2
    speech = sum(p.length for p in packed.pieces)
    assert speech < audio.duration * 1.1
    assert len(packed.audio) / 16000 == pytest.approx(packed.windows[-1]["end"], abs=0.01)
    # a word is mapped to its piece's channel and back to call time
    pieces = [Piece(0, 10.0, 0.0, 2.0), Piece(1, 11.0, 2.0 + GAP_S, 3.0)]
    pk = Packed(np.zeros(1), [{"start": 0.0, "end": 5.3}], pieces)
    assert pk.locate(_w("hi", 0.5, 0.9)) == (0, Word(" hi", 10.5, 10.9, 0.9))
    p1 = 2.0 + GAP_S
    ch, w = pk.locate(_w("yes", p1 + 0.2, p1 + 0.6)) or (None, None)
    assert ch == 1 and w and (w.start, w.end) == pytest.approx((11.2, 11.6))
    ch, w = pk.locate(_w("edge", 1.9, 2.1)) or (None, None)  # mostly in piece 0 and the gap
    assert ch == 0 and w and w.end <= 12.0


def test_packing_trims_digital_silence_only_when_it_saves_a_window(monkeypatch) -> None:
    """Issue 15 round 5: call_04's packed speech (31.3 s) needs two windows; its pieces'
    crosstalk-silenced edges (exact zeros) trimmed, it fits one. Only zeros are cut: every
    non-zero sample of each piece is still in the packed audio."""
    from analysis.asr import packing
    from analysis.asr.audio import suppress_crosstalk

    audio = load(SAMPLES / "call_04_churn_threat.opus")
    channels = list(suppress_crosstalk(*audio.channels, db=30))
    monkeypatch.setattr(packing, "TRIM_TO_FIT", False)
    plain = packing.pack(channels)
    monkeypatch.setattr(packing, "TRIM_TO_FIT", True)
    fitted = packing.pack(channels)
    assert (len(plain.windows), len(fitted.windows)) == (2, 1)
    assert len(fitted.audio) < len(plain.audio) and fitted.windows[0]["end"] <= packing.WINDOW_S
    for a, b in zip(plain.pieces, fitted.pieces, strict=True):
        assert a.channel == b.channel and a.orig_start <= b.orig_start
        assert b.orig_start + b.length <= a.orig_start + a.length + 1e-9
        src = channels[a.channel]
        whole = src[round(a.orig_start * 16000) : round((a.orig_start + a.length) * 16000)]
        kept = src[round(b.orig_start * 16000) : round((b.orig_start + b.length) * 16000)]
        assert np.count_nonzero(whole) == np.count_nonzero(kept)
    # a call that fits one window as it is (call_06) is packed exactly as before
    six = list(suppress_crosstalk(*load(SAMPLES / "call_06_prohibited_promise.opus").channels, db=30))
    monkeypatch.setattr(packing, "TRIM_TO_FIT", False)
    before = packing.pack(six)
    monkeypatch.setattr(packing, "TRIM_TO_FIT", True)
    assert np.array_equal(packing.pack(six).audio, before.audio)


def test_trimmed_pieces_are_packed_in_time_order(monkeypatch) -> None:
    """A piece whose leading zeros are trimmed can start after the other channel's next
    piece; the trimmed layout is still in time order (the customer's piece, which now starts
    first, comes first in the packed audio)."""
    from analysis.asr import packing

    sr, n = 16000, 16000 * 40
    agent, customer = np.zeros(n, np.float32), np.zeros(n, np.float32)
    agent[sr * 6 : sr * 20] = 0.1  # agent piece 0-20 s: 6 s of exact zeros, then speech
    customer[sr * 1 : sr * 16] = 0.2  # customer piece 1-16 s
    pieces = [[(0, sr * 20)], [(sr * 1, sr * 16)]]  # what VAD reports (padded into the zeros)
    monkeypatch.setattr("analysis.asr.vad.speech_timestamps_each", lambda chans, fn: pieces)
    monkeypatch.setattr(packing, "KEEP_ZERO_S", (0.0,))
    got = packing.pack([agent, customer])
    assert len(got.windows) == 1  # 35 s of pieces untrimmed (two windows), 29 s trimmed
    starts = [p.orig_start for p in got.pieces]
    assert starts == sorted(starts) and [p.channel for p in got.pieces] == [1, 0]


# -- turns (pure) -----------------------------------------------------------------------


def _w(text: str, start: float, end: float) -> Word:
    return Word(f" {text}", start, end, 0.9)


def test_stereo_turns_merge_in_time_order_and_keep_overlap() -> None:
    agent = [_w("Hello", 0.0, 0.4), _w("there", 0.5, 0.9), _w("how", 3.0, 3.2), _w("can", 3.3, 3.5),
             _w("I", 3.6, 3.7), _w("help", 3.8, 4.4)]  # fmt: skip
    customer = [_w("Hi", 1.2, 1.5), _w("wait", 4.0, 4.3), _w("stop", 4.4, 4.8)]
    turns = stereo_turns([("agent", 0, agent), ("customer", 1, customer)], gap=1.5)
    assert [(t.seq, t.speaker, t.text) for t in turns] == [
        (0, "agent", "Hello there"),
        (1, "customer", "Hi"),
        (2, "agent", "how can I help"),
        (3, "customer", "wait stop"),  # cut in: starts before the agent's turn ends
    ]
    assert turns[3].start < turns[2].end
    assert (turns[2].start, turns[2].end) == (3.0, 4.4)
    assert turns[0].channel_index == 0 and turns[1].channel_index == 1
    assert all(t.meta["speaker_source"] == "channel" for t in turns)


def test_long_pause_in_one_channel_starts_a_new_turn() -> None:
    agent = [_w("one", 0.0, 0.5), _w("two", 3.0, 3.5)]
    turns = stereo_turns([("agent", 0, agent), ("customer", 1, [])], gap=1.5)
    assert [t.text for t in turns] == ["one", "two"]


def test_mono_fallback_alternates_on_pauses() -> None:
    segs = [[_w("Hello", 0.0, 0.5), _w("caller", 0.6, 1.0)], [_w("hi", 2.0, 2.3)],
            [_w("yes", 2.5, 2.8)], [_w("bye", 4.0, 4.3)]]  # fmt: skip
    turns = mono_turns(segs, turn_gap=0.8)
    assert [(t.speaker, t.text) for t in turns] == [
        ("agent", "Hello caller"), ("customer", "hi yes"), ("agent", "bye"),
    ]
    assert all(t.meta["speaker_source"] == "mono_fallback" for t in turns)
    first_customer = mono_turns(segs, turn_gap=0.8, first_speaker="customer")
    assert first_customer[0].speaker == "customer"
    one = mono_turns(segs, fallback="customer", turn_gap=0.8)
    assert {t.speaker for t in one} == {"customer"}


# -- the real model (slow) --------------------------------------------------------------


def _text(turns, speaker: str | None = None) -> str:
    return " ".join(t.text for t in turns if speaker is None or t.speaker == speaker).lower()


@pytest.mark.slow
def test_angry_sample_call_end_to_end(asr_transcriber) -> None:
    tr = asr_transcriber.transcribe(SAMPLES / "call_01_angry_refund.opus")
    assert tr.language == "en" and tr.duration == pytest.approx(35.0, abs=0.3)
    assert tr.speaker_source == "channel"
    customer, agent = _text(tr.turns, "customer"), _text(tr.turns, "agent")
    for words in ("refund", "manager", "ridiculous", "unacceptable"):
        assert words in customer, (words, customer)
    assert "recorded for quality" in agent
    assert "refund" in agent and "supervisor" in agent
    assert tr.turns[0].speaker == "agent"
    assert [t.seq for t in tr.turns] == list(range(len(tr.turns)))
    starts = [t.start for t in tr.turns]
    assert starts == sorted(starts)
    # the customer cuts in on "I want to speak to your manager": overlap kept
    cut_in = next(t for t in tr.turns if "manager" in t.text.lower())
    before = tr.turns[cut_in.seq - 1]
    assert before.speaker == "agent" and cut_in.start < before.end
    for t in tr.turns:
        assert t.words and t.words[0].start == pytest.approx(t.start, abs=0.01)
        assert all(t.start - 0.01 <= w.start <= w.end <= t.end + 0.01 for w in t.words)


@pytest.mark.slow
def test_agent_channel_right_swaps_speakers(asr_transcriber) -> None:
    with options(asr_transcriber, stereo_agent_channel="right", language="en"):
        tr = asr_transcriber.transcribe(SAMPLES / "call_02_calm_billing.opus")
    assert "recorded for quality" in _text(tr.turns, "customer")
    assert "invoice" in _text(tr.turns, "agent")


@pytest.mark.slow
def test_sequential_and_batched_modes_agree_on_key_words(asr_transcriber) -> None:
    path = SAMPLES / "call_04_churn_threat.opus"
    with options(asr_transcriber, stereo_batched_min_seconds=1000.0):
        seq = asr_transcriber.transcribe(path)
    with options(asr_transcriber, stereo_batched_min_seconds=0.0):
        bat = asr_transcriber.transcribe(path)
    assert (seq.batched, bat.batched) == (False, True)
    for tr in (seq, bat):
        assert "cancel my account" in _text(tr.turns, "customer")
        assert "technician" in _text(tr.turns, "agent")


@pytest.mark.slow
def test_mono_sample_uses_the_documented_fallback(asr_transcriber) -> None:
    asr_transcriber.options.diarization = "off"
    try:
        tr = asr_transcriber.transcribe(SAMPLES / "call_08_mono_password.opus")
    finally:
        asr_transcriber.options.diarization = "auto"
    assert tr.speaker_source == "mono_fallback" and tr.channels == 1
    assert [t.speaker for t in tr.turns[:4]] == ["agent", "customer", "agent", "customer"]
    assert "password" in tr.turns[1].text.lower()
    assert "recorded" in tr.turns[0].text.lower()


@pytest.mark.slow
def test_mono_sample_is_diarized_by_default(asr_transcriber) -> None:
    from analysis.asr.speakers import CallContext

    tr = asr_transcriber.transcribe(SAMPLES / "call_08_mono_password.opus",
                                    context=CallContext(agent="1077", direction="inbound"))  # fmt: skip
    assert tr.speaker_source == "diarization" and tr.channels == 1
    assert [t.speaker for t in tr.turns] == ["agent", "customer"] * 3
    assert "password" in tr.turns[1].text.lower() and "recorded" in tr.turns[0].text.lower()
    got = tr.extra["speakers"]
    assert got["speakers"] == 2 and got["confidence"] > 0.8
    assert all(t.meta["speaker_confidence"] == got["confidence"] for t in tr.turns)


@pytest.mark.slow
@pytest.mark.espeak
def test_language_is_detected_or_configured(asr_transcriber, synth_call) -> None:
    path = synth_call(
        "de.opus",
        [("agent", "Guten Tag, hier ist der Kundendienst. Wie kann ich Ihnen helfen?"),
         ("customer", "Ich möchte meine Rechnung bezahlen, aber die Überweisung funktioniert nicht.")],
        voice_lang="de",
    )
    assert asr_transcriber.transcribe(path).language == "de"
    with options(asr_transcriber, language="de"):
        tr = asr_transcriber.transcribe(path)
    assert tr.language == "de" and "ihnen helfen" in _text(tr.turns, "agent")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["call_08_mono_password.opus", "call_06_prohibited_promise.opus"])
def test_language_is_detected_once_from_the_decoding_pass(asr_transcriber, name: str) -> None:
    """Detecting the language costs no encoder pass of its own (issue 15): a short call
    (mono, or stereo whose packed speech fits one window) runs as many encoder passes with
    detection as with a configured language, and a configured language skips detection."""
    path = SAMPLES / name
    with options(asr_transcriber, language=""):
        detected = asr_transcriber.transcribe(path)
    with options(asr_transcriber, language="en"):
        configured = asr_transcriber.transcribe(path)
    assert detected.language == "en" and detected.extra["language_detections"] == 1
    assert configured.language == "en" and configured.extra["language_detections"] == 0
    assert detected.extra["encoder_passes"] == configured.extra["encoder_passes"]
    # a short mono call is decoded sequentially; a stereo call's packed window goes to the
    # batched pipeline (stereo_batched_min_seconds = 0), which reuses the detection's pass
    assert detected.batched == ("mono" not in name)
    if "mono" not in name:  # both sides' speech packed into one window: one pass for the call
        assert detected.extra["encoder_passes"] == 1
        assert {t.speaker for t in detected.turns} == {"agent", "customer"}
    assert ("password" if "mono" in name else "guarantee") in _text(detected.turns)


@pytest.mark.slow
def test_a_long_call_reads_its_language_from_the_first_batched_window(asr_transcriber) -> None:
    """A call past `batched_min_seconds` goes to the batched pipeline whole; the language
    comes from its first window's encoder output, which the batch reuses: as many encoder
    passes as with a configured language, and the same words (issue 15)."""
    from analysis.asr.audio import Audio

    calls = [load(SAMPLES / f"{n}.opus") for n in ("call_01_angry_refund", "call_04_churn_threat",
                                                    "call_06_prohibited_promise")]
    audio = Audio([np.concatenate([c.channels[i] for c in calls]) for i in (0, 1)], 2)
    with options(asr_transcriber, language=""):
        detected = asr_transcriber.transcribe_audio(audio)
    with options(asr_transcriber, language="en"):
        configured = asr_transcriber.transcribe_audio(audio)
    assert detected.batched and detected.language == "en" and detected.language_probability > 0.5
    assert (detected.extra["language_detections"], configured.extra["language_detections"]) == (1, 0)
    # no window encoded twice: the detection's run is the batch's first row
    assert detected.extra["encoder_windows"] == configured.extra["encoder_windows"] >= 2
    assert [t.text for t in detected.turns] == [t.text for t in configured.turns]
    assert "cancel my account" in _text(detected.turns, "customer")


@pytest.mark.slow
@pytest.mark.espeak
def test_synthesised_call_words_and_speakers(asr_transcriber, synth_call) -> None:
    path = synth_call(
        "s.opus",
        [("agent", "Welcome to Acme support, how can I help you?"),
         ("customer", "My order number seven seven two never arrived.", 1.0),
         ("agent", "I will send a replacement today.", 1.0)],
    )
    tr = asr_transcriber.transcribe(path)
    assert [t.speaker for t in tr.turns] == ["agent", "customer", "agent"]
    assert "replacement" in tr.turns[2].text.lower()
    assert "order" in tr.turns[1].text.lower()


# -- the job over the store (slow: it holds a real Transcriber) ------------------------


def _add_call(store: Store, raw_ref: str, ext: str) -> int:
    res = interactions_q.upsert(
        store, [Interaction("call", "test", ext, ext, raw_ref=raw_ref, status="new")]
    )
    return res.ids[0]


@pytest.mark.slow
def test_transcribe_pending_new_to_transcribed_or_failed(asr_transcriber, tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "p.duckdb"))
    good = tmp_path / "good.opus"
    shutil.copyfile(SAMPLES / "call_06_prohibited_promise.opus", good)
    bad = tmp_path / "bad.wav"
    # fixed bytes: random ones can, rarely, hold an MP3 frame sync that FFmpeg decodes
    bad.write_bytes(random.Random(7).randbytes(2048))
    gid = _add_call(store, str(good), "g")
    bid = _add_call(store, str(bad), "b")
    mid = _add_call(store, str(tmp_path / "gone.wav"), "m")
    now = datetime.now(UTC)
    rep = transcribe_pending(store, asr_transcriber, max_attempts=2, backoff_seconds=60, now=now)
    assert (rep.transcribed, rep.failed) == (1, 2)
    ok = interactions_q.get(store, gid)
    assert ok and ok.status == "transcribed" and ok.language == "en"
    assert ok.duration == pytest.approx(27.8, abs=0.3)
    assert "guarantee" in _text(ok.turns, "agent")
    assert ok.turns[0].words and ok.turns[0].speaker == "agent"
    failed = interactions_q.get(store, bid, with_turns=False)
    assert failed and failed.status == "failed" and "not readable audio" in (failed.status_reason or "")
    missing = interactions_q.get(store, mid, with_turns=False)
    assert missing and "not found" in (missing.status_reason or "")
    # back-off: not retried right away, retried once the time has come, then given up
    assert transcribe_pending(store, asr_transcriber, max_attempts=2, now=now).failed == 0
    later = now + timedelta(hours=1)
    assert transcribe_pending(store, asr_transcriber, max_attempts=2, now=later).failed == 2
    much_later = now + timedelta(days=1)
    again = transcribe_pending(store, asr_transcriber, max_attempts=2, now=much_later)
    assert (again.transcribed, again.failed) == (0, 0)
    attempts = store.cursor().execute(
        "SELECT attempts FROM interactions WHERE id = ?", [bid]
    ).fetchone()
    assert attempts == (2,)
    # a transcribed call is not transcribed again; turns are stored once
    n_turns = store.cursor().execute(
        "SELECT count(*) FROM turns WHERE interaction_id = ?", [gid]
    ).fetchone()
    assert n_turns == (len(ok.turns),)
    store.close()


@pytest.mark.slow
def test_transcribe_command_json_and_bad_file(tmp_path: Path, capsys, monkeypatch) -> None:
    from convoscope.cli import main

    cache = os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")
    monkeypatch.setenv("CONVOSCOPE_CACHE", str(Path(cache).expanduser()))
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    rc = main(["transcribe", "--json", str(SAMPLES / "call_03_no_disclosure.opus"), str(bad)])
    out, err = capsys.readouterr()
    assert rc == 1
    (line,) = out.strip().splitlines()
    obj = json.loads(line)
    assert set(obj) == {"file", "duration", "language", "turns"}
    assert obj["language"] == "en" and obj["duration"] == pytest.approx(24.3, abs=0.3)
    assert set(obj["turns"][0]) == {"speaker", "start", "end", "text"}
    assert "upgrade" in " ".join(t["text"] for t in obj["turns"] if t["speaker"] == "customer").lower()
    assert "notes.wav" in err and "not readable audio" in err
    assert not list(tmp_path.glob("*.duckdb"))  # stores nothing


def test_heldout_calls_share_no_words_source_with_the_phone_set_or_each_other() -> None:
    """bench/asr.py's held-out calls (issue 15) are a check of choices made on the sample
    calls: their sentences come from tweets the phone set does not use, none twice, and
    they are shaped like the samples (7-9 alternating turns, agent first, one mono call)."""
    import sys

    sys.path.insert(0, str(ROOT / "bench" / "data"))
    from make_heldout_calls import N_CALLS, PHONE_TEXTS, scripts
    from make_phone_calls import texts

    calls = scripts()
    assert len(calls) == N_CALLS and sum(mono for _n, _l, mono in calls) == 1
    said = [ln.text for _n, lines, _m in calls for ln in lines]
    assert len(said) == len(set(said))
    phone = texts()[:PHONE_TEXTS]
    assert not any(s.rstrip(".!?") in t for s in said for t in phone)
    for _name, lines, _mono in calls:
        assert 7 <= len(lines) <= 9
        assert [ln.speaker for ln in lines] == [("agent", "customer")[i % 2] for i in range(len(lines))]
    def plain(cs: list) -> list:
        return [(n, [(ln.speaker, ln.text, ln.pause, ln.speed) for ln in lines], m) for n, lines, m in cs]

    assert plain(scripts()) == plain(calls)  # seeded: the same set every time


def test_decoding_leaves_the_garbage_collector_as_it_found_it() -> None:
    """`load` sets older objects aside while faster-whisper's decoder runs its full
    collection (issue 15), and hands them back: cyclic garbage made before is still
    collected afterwards, and a freeze someone else made is left alone."""
    import gc
    import weakref

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a reference cycle: only the cycle collector frees it
    gone = weakref.ref(a)
    del a, b
    gc.disable()  # no automatic collection may free it in between
    try:
        audio = load(SAMPLES / "call_08_mono_password.opus")
        assert gc.get_freeze_count() == 0
        assert gone() is not None  # the decoder's collection did not look at it
        gc.collect()
        assert gone() is None
        gc.freeze()  # an application that froze its start-up objects keeps them frozen
        frozen = gc.get_freeze_count()
        assert load(SAMPLES / "call_08_mono_password.opus").channels[0].shape == audio.channels[0].shape
        # Left alone: not unfrozen (0) nor frozen again (more). A frozen object can still
        # be freed by its reference count (another thread's, CI run 26), so fewer is fine.
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
        gc.enable()
    assert len(audio.channels) == 1 and audio.duration == pytest.approx(25.9, abs=0.1)
