"""Evidence you can hear: the clip is the call's audio around the evidence span, silenced
where PII was spoken, cached, and refused clearly where there is nothing to play."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analysis.clips import ClipError, make_clip
from store import Store
from store import flags as store_flags
from store import interactions as store_interactions
from store.records import Flag, Interaction, Turn, Word, content_hash

SR = 16000
TEXT = "my card is 4111 1111 1111 1111 please cancel it"
TIMES = [(0.5, 0.8), (0.8, 1.1), (1.1, 1.3), (1.4, 2.0), (2.0, 2.6), (2.6, 3.2), (3.2, 3.8),
         (4.0, 4.5), (4.6, 5.2), (5.2, 5.4)]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "clips.duckdb")
    yield s  # type: ignore[misc]
    s.close()


def _call(store: Store, tmp_path: Path) -> tuple[int, np.ndarray, Path]:
    rng = np.random.default_rng(1)
    audio = (0.3 * rng.standard_normal(SR * 8)).astype(np.float32)  # 8 s of "speech"
    wav = tmp_path / "call.wav"
    sf.write(wav, audio, SR, subtype="PCM_16")
    audio = sf.read(wav, dtype="float32")[0]  # what the file holds (16-bit)
    words = [Word(w, a, b, 0.9) for w, (a, b) in zip(TEXT.split(), TIMES, strict=True)]
    it = Interaction(channel="call", source="t", external_id="call-1", content_hash=content_hash("c"),
                     started_at=datetime(2026, 3, 2, 10, tzinfo=UTC), raw_ref=str(wav), status="analysed",
                     turns=[Turn(seq=0, speaker="customer", text=TEXT, start=0.5, end=5.4, words=words)])
    store_interactions.upsert(store, [it])
    assert it.id is not None
    (fid,) = store_flags.replace_for_interaction(store, it.id, [Flag(
        interaction_id=it.id, kind="churn_risk", rule="cancel", severity=3,
        evidence=[{"seq": 0, "start": 4.6, "end": 5.2, "matched": "cancel", "score": 100.0}])])
    return fid, audio, wav


def test_clip_is_the_evidence_window_silenced_where_pii_was_spoken(store: Store, tmp_path: Path) -> None:
    fid, original, _wav = _call(store, tmp_path)
    clip = make_clip(store, fid, tmp_path / "clips", pad_seconds=3.0)
    assert (clip.start, clip.evidence) == (pytest.approx(1.6), (4.6, 5.2))
    got, sr = sf.read(clip.path, dtype="float32")
    assert sr == SR and len(got) == pytest.approx((clip.end - clip.start) * SR, abs=1)
    i0 = round(clip.start * SR)
    ref = original[i0: i0 + len(got)]
    # the card number (1.4-3.8 s, padded 0.25 s) is silence in the clip, the evidence is not ...
    ((x, y),) = clip.silenced
    assert x == 0.0 and 3.8 + 0.25 <= clip.start + y <= 4.6
    assert np.all(got[: int(y * SR) - 1] == 0.0)
    assert np.abs(ref[: int(y * SR) - 1]).max() > 0.1  # ... where the recording was not
    # ... and everything after it is the recording, sample for sample (16-bit both ways)
    rest = slice(int(y * SR) + 1, len(got))
    assert np.allclose(got[rest], ref[rest], atol=1 / 32768)
    # the evidence itself is in the clip, audible
    e0, e1 = int((4.6 - clip.start) * SR), int((5.2 - clip.start) * SR)
    assert np.allclose(got[e0:e1], original[int(4.6 * SR): int(4.6 * SR) + (e1 - e0)], atol=1 / 32768)


def test_clips_are_cached_and_refused_without_audio(store: Store, tmp_path: Path) -> None:
    fid, _original, wav = _call(store, tmp_path)
    first = make_clip(store, fid, tmp_path / "clips")
    mtime = first.path.stat().st_mtime_ns
    again = make_clip(store, fid, tmp_path / "clips")
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime
    assert len(list((tmp_path / "clips").iterdir())) == 1
    chat = Interaction(channel="chat", source="t", external_id="chat-1", content_hash=content_hash("h"),
                       turns=[Turn(seq=0, speaker="customer", text="cancel it")])
    store_interactions.upsert(store, [chat])
    (cf,) = store_flags.replace_for_interaction(store, chat.id or 0, [Flag(
        interaction_id=chat.id or 0, kind="churn_risk", rule="cancel", severity=3, evidence=[{"seq": 0}])])
    with pytest.raises(ClipError, match="not on a call"):
        make_clip(store, cf, tmp_path / "clips")
    wav.unlink()
    with pytest.raises(ClipError, match="not available"):
        make_clip(store, fid, tmp_path / "other")
    with pytest.raises(KeyError):
        make_clip(store, 999_999, tmp_path / "clips")
