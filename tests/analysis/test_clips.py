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


def test_clip_on_every_surface(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """API (per role), TUI source and player, and Slack's Listen button (external upload)."""
    import json
    import sys
    import urllib.parse
    from zoneinfo import ZoneInfo

    import httpx
    from scriptload import load_script

    from convoscope import api
    from store import users
    from store.permissions import Identity
    from tui.data import LocalSource
    from tui.player import play_or_save

    fid, _audio, _wav = _call(store, tmp_path)
    expected = make_clip(store, fid).path.read_bytes()
    assert expected[:4] == b"RIFF"
    # API: supervisors get the WAV, viewers a 403
    _u, sup = users.add(store, "sue", "supervisor")
    _u, view = users.add(store, "vic", "viewer")
    handle = api.serve_api(store, "127.0.0.1", 0, "svc-token")
    try:
        r = httpx.get(f"{handle.url}/api/flags/{fid}/clip", headers={"Authorization": f"Bearer {sup}"})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and r.content == expected
        r = httpx.get(f"{handle.url}/api/flags/{fid}/clip", headers={"Authorization": f"Bearer {view}"})
        assert r.status_code == 403
    finally:
        handle.stop()
    # TUI: the same bytes; played with the system player, or written to a file without one
    src = LocalSource(store, identity=Identity("local:sue", "supervisor"))
    assert src.clip(fid) == expected
    msg = play_or_save(expected, fid, tmp_path / "played", player=("true",))
    assert msg.startswith("playing flag-") and (tmp_path / "played" / f"flag-{fid}.wav").read_bytes() == expected
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert "no audio player found: clip written to" in play_or_save(expected, fid, tmp_path / "saved")

    # Slack: "Listen" posts the clip in the alert's thread through the external upload flow
    from bot.app import build_app
    from bot.options import AccessOptions, RoleGrant, SlackOptions
    from bot.service import serve_http

    fake_mod = load_script("tests/fakes/slack.py", "fake_slack_clips")
    sys.path.insert(0, str(Path(__file__).parents[1] / "bot"))
    from slackhttp import SECRET, post, sign

    monkeypatch.undo()
    with fake_mod.FakeSlack() as fake:
        from slack_sdk import WebClient

        opts = SlackOptions(enabled=True, mode="http", bot_token="xoxb-test", signing_secret=SECRET,
                            api_base_url=fake.api_url, http_host="127.0.0.1", http_port=0)  # fmt: skip
        access = AccessOptions(supervisors=RoleGrant(users=["U_SUP"], channels=["C_SUPERS"]),
                               viewers=RoleGrant(users=["U_VIEW"]))  # fmt: skip
        app, _deps = build_app(store, opts, access, ZoneInfo("UTC"),
                               web_client=WebClient(token="xoxb-test", base_url=fake.api_url))
        server, _t, url = serve_http(app, "127.0.0.1", 0)
        try:
            def press(user: str, channel: str) -> None:
                payload = {"type": "block_actions", "user": {"id": user}, "trigger_id": "t",
                           "container": {"type": "message", "channel_id": channel, "message_ts": "17.5"},
                           "actions": [{"action_id": "flag_listen", "block_id": f"review_{fid}", "type": "button",
                                        "value": json.dumps({"flag": fid, "interaction": 1, "rev": 0}),
                                        "action_ts": "1"}]}  # fmt: skip
                body = urllib.parse.urlencode({"payload": json.dumps(payload)})
                post(url, body, "application/x-www-form-urlencoded", sign(body))

            press("U_VIEW", "C_SUPERS")  # a viewer may not hear calls
            (eph,) = fake.wait_for("chat.postEphemeral")
            assert "Clips are for supervisors" in eph.args["text"]
            press("U_SUP", "C_OPS")  # nor may a channel nobody granted
            fake.wait_for("chat.postEphemeral", 2)
            assert not fake.of("upload")
            press("U_SUP", "C_SUPERS")
            (upload,) = fake.wait_for("upload")
            assert upload.raw == expected
            (done,) = fake.wait_for("files.completeUploadExternal")
            assert done.args["channel_id"] == "C_SUPERS" and done.args["thread_ts"] == "17.5"
            assert "Did you hear it?" in done.args["initial_comment"]
        finally:
            server.shutdown()
            server.server_close()
