"""Alerts: posted once (across restarts and failures), routed, bursts summarised, quiet hours."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botdata import add_interaction
from slackhttp import TZ

from bot.alerts import Alerter, in_window
from bot.options import AlertOptions, AlertRoute
from store import Store
from store import alerts as store_alerts


def _client(fake: Any) -> Any:
    from slack_sdk import WebClient

    return WebClient(token="xoxb-test", base_url=fake.api_url)


def _flags(store: Store, n: int, *, kind: str = "angry_customer", severity: int = 3,
           queue: str = "support", start: int = 0) -> list[int]:  # fmt: skip
    ids = []
    for k in range(start, start + n):
        _iid, fids = add_interaction(
            store, channel="call", started_at=datetime.now(UTC) - timedelta(minutes=5), agent="1042",
            queue=queue, topic="refund", sentiment=-3, anger=0.9, flags=[(kind, severity)],
            ext=f"al-{kind}-{queue}-{k}",
        )  # fmt: skip
        ids += fids
    return ids


def test_each_flag_is_alerted_once_even_across_a_restart(tmp_path: Path, fake: Any) -> None:
    path = tmp_path / "a.duckdb"
    store = Store.open(path)
    ids = _flags(store, 3)
    _flags(store, 1, severity=2, start=10)  # below min_severity: never alerted
    opts = AlertOptions(default_channel="C_ALERTS", burst_threshold=5)
    alerter = Alerter(opts, _client(fake), TZ)
    assert alerter.dispatch(store) == 3
    assert alerter.dispatch(store) == 0
    store.close()
    store = Store.open(path)  # a restarted service: new process state, same file
    assert Alerter(opts, _client(fake), TZ).dispatch(store) == 0
    posts = fake.of("chat.postMessage")
    assert len(posts) == 3 and {p.args["channel"] for p in posts} == {"C_ALERTS"}
    assert all("angry_customer" in p.args["text"] for p in posts)
    assert all(any(b["type"] == "actions" for b in p.args["blocks"]) for p in posts)
    sent = store_alerts.sent(store)
    assert sorted(r["flag_id"] for r in sent) == sorted(ids)
    assert all(r["message_ts"] for r in sent)
    store.close()


def test_routes_by_kind_and_queue(store: Store, fake: Any) -> None:
    _flags(store, 1, kind="compliance_missing_disclosure", severity=4)
    _flags(store, 1, kind="angry_customer", queue="billing")
    _flags(store, 1, kind="angry_customer", queue="sales")
    opts = AlertOptions(routes=[AlertRoute(channel="C_COMP", kind="compliance*"),
                                AlertRoute(channel="C_BILL", kind="*", queue="billing")])  # fmt: skip
    assert Alerter(opts, _client(fake), TZ).dispatch(store) == 2  # sales has no route, no default
    assert sorted(p.args["channel"] for p in fake.of("chat.postMessage")) == ["C_BILL", "C_COMP"]


def test_refused_post_is_released_and_retried(store: Store, fake: Any) -> None:
    ids = _flags(store, 2)
    opts = AlertOptions(default_channel="C_ALERTS")
    fake.fail_methods.add("chat.postMessage")  # Slack answers ok: false: nothing was posted
    alerter = Alerter(opts, _client(fake), TZ)
    assert alerter.dispatch(store) == 0
    assert store_alerts.sent(store) == []  # claims released
    fake.fail_methods.clear()
    assert alerter.dispatch(store) == 2
    assert len(fake.of("chat.postMessage")) == 4  # two refused attempts + the two real posts
    assert sorted(int(m["metadata"]["event_payload"]["flag_id"]) for m in fake.alert_messages()) == sorted(ids)


def test_burst_becomes_one_summary(store: Store, fake: Any) -> None:
    _flags(store, 8)
    now = datetime.now(UTC)
    clock = [now]
    alerter = Alerter(AlertOptions(default_channel="C_ALERTS", burst_threshold=5, burst_window_minutes=10),
                      _client(fake), TZ, clock=lambda: clock[0])  # fmt: skip
    assert alerter.dispatch(store) == 8
    (summary,) = fake.of("chat.postMessage")
    assert summary.args["text"].startswith("8 new flags: 8 angry_customer")
    assert len({r["message_ts"] for r in store_alerts.sent(store)}) == 1
    # Two more while the burst lasts: held for a minute, then one more summary.
    _flags(store, 2, start=100)
    assert alerter.dispatch(store) == 0 and alerter.last is not None and alerter.last.held == 2
    clock[0] = now + timedelta(seconds=61)
    assert alerter.dispatch(store) == 2
    assert fake.of("chat.postMessage")[-1].args["text"].startswith("2 new flags")
    # After the window a single flag is an ordinary alert again.
    _flags(store, 1, start=200)
    clock[0] = now + timedelta(minutes=11)
    assert alerter.dispatch(store) == 1
    assert fake.of("chat.postMessage")[-1].args["text"].startswith("High flag angry_customer")


def test_quiet_hours_hold_alerts_until_they_end(store: Store, fake: Any) -> None:
    now = datetime.now(UTC)
    local = now.astimezone(TZ)
    window = f"{(local - timedelta(hours=1)):%H:%M}-{(local + timedelta(hours=1)):%H:%M}"
    clock = [now]
    opts = AlertOptions(default_channel="C_ALERTS", quiet_hours=window, burst_threshold=3)
    alerter = Alerter(opts, _client(fake), TZ, clock=lambda: clock[0])
    _flags(store, 5)
    assert alerter.dispatch(store) == 0
    assert alerter.last is not None and alerter.last.held == 5
    assert fake.of("chat.postMessage") == [] and store_alerts.sent(store) == []
    clock[0] = now + timedelta(hours=2)
    assert alerter.dispatch(store) == 5
    (summary,) = fake.of("chat.postMessage")
    assert summary.args["text"].startswith("5 new flags")


def test_quiet_window_wraps_midnight() -> None:
    from datetime import time

    w = (time(22, 0), time(7, 0))
    assert in_window(time(23, 30), w) and in_window(time(6, 59), w)
    assert not in_window(time(7, 0), w) and not in_window(time(12, 0), w)
    assert in_window(time(12, 0), (time(9, 0), time(17, 0)))


def test_permanent_slack_error_is_recorded_not_retried_forever(store: Store, fake: Any,
                                                               caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    _flags(store, 1)
    fake.errors["chat.postMessage"] = "channel_not_found"
    alerter = Alerter(AlertOptions(default_channel="C_GONE"), _client(fake), TZ)
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        assert alerter.dispatch(store) == 0
    assert "channel_not_found" in caplog.text
    assert store_alerts.sent(store)[0]["message_ts"] == "failed:channel_not_found"
    assert alerter.dispatch(store) == 0
    assert len(fake.of("chat.postMessage")) == 1  # not retried every tick


def test_running_scheduler_posts_a_new_flag_without_a_trigger(store: Store, fake: Any) -> None:
    """The interval job alone delivers: the service needs no call from the pipeline."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.options import AccessOptions, SlackOptions
    from bot.service import attach

    sched = BackgroundScheduler(timezone=TZ)
    handle = attach(sched, store, slack=SlackOptions(api_base_url=fake.api_url),
                    alerts=AlertOptions(default_channel="C_ALERTS", interval_seconds=0.5),
                    digests=[], access=AccessOptions(), tz=TZ, web_client=_client(fake),
                    start_listener=False)  # fmt: skip
    sched.start()
    try:
        _flags(store, 1, severity=4)
        (msg,) = fake.wait_for("chat.postMessage", timeout=15)
        assert msg.args["text"].startswith("Critical flag angry_customer")
    finally:
        sched.shutdown(wait=True)
        handle.stop()


def _call_with_audio(store: Store, tmp_path: Path, ext: str, *, recording: bool = True) -> int:
    """A call whose high-severity flag has timed evidence; its recording is real WAV noise
    (or missing: the clip cannot be made)."""
    import numpy as np
    import soundfile as sf

    from store import flags as store_flags
    from store import interactions as store_interactions
    from store.records import Flag, Interaction, Turn, Word, content_hash

    wav = tmp_path / f"{ext}.wav"
    if recording:
        sf.write(wav, (0.3 * np.random.default_rng(int(ext.rsplit('-', 1)[-1])).standard_normal(16000 * 6)).astype(np.float32), 16000,
                 subtype="PCM_16")  # fmt: skip
    text = "you can cancel anytime"
    words = [Word(w, 0.5 + k, 1.3 + k, 0.9) for k, w in enumerate(text.split())]
    it = Interaction(channel="call", source="t", external_id=ext, content_hash=content_hash(ext),
                     started_at=datetime.now(UTC) - timedelta(minutes=5), raw_ref=str(wav), status="analysed",
                     turns=[Turn(seq=0, speaker="agent", text=text, start=0.5, end=4.3, words=words)])  # fmt: skip
    store_interactions.upsert(store, [it])
    assert it.id is not None
    (fid,) = store_flags.replace_for_interaction(store, it.id, [Flag(
        interaction_id=it.id, kind="prohibited_phrase", rule="cancel", severity=3,
        evidence=[{"seq": 0, "start": 2.5, "end": 4.3, "matched": "cancel anytime", "score": 100.0}])])  # fmt: skip
    return fid


def test_attach_clips_posts_the_redacted_clip_in_the_alert_thread(
    tmp_path: Path, fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """`[alerts] attach_clips`: the clip goes into the alert's thread where the channel may hear
    calls; nowhere else; a clip that cannot be made is a warning and the alert stands."""
    from analysis.clips import make_clip
    from bot.access import AccessControl
    from bot.clips import channel_may_hear
    from bot.options import AccessOptions, RoleGrant

    store = Store.open(tmp_path / "a.duckdb")
    access = AccessControl(AccessOptions(supervisors=RoleGrant(channels=["C_SUPERS"]),
                                         viewers=RoleGrant(channels=["C_WALL"])))  # fmt: skip
    may_hear = lambda ch: channel_may_hear(access, ch)  # noqa: E731
    fid = _call_with_audio(store, tmp_path, "clip-1")
    # off by default: the alert only
    assert Alerter(AlertOptions(default_channel="C_SUPERS"), _client(fake), TZ, may_hear=may_hear).dispatch(store) == 1
    assert not fake.of("files.getUploadURLExternal")
    # on, in a supervisors' channel: the clip lands in the alert's thread
    fid2 = _call_with_audio(store, tmp_path, "clip-2")
    opts = AlertOptions(default_channel="C_SUPERS", attach_clips=True)
    assert Alerter(opts, _client(fake), TZ, may_hear=may_hear).dispatch(store) == 1
    (post,) = fake.of("chat.postMessage")[1:]
    (upload,) = fake.wait_for("upload")
    assert upload.raw == make_clip(store, fid2).path.read_bytes() != make_clip(store, fid).path.read_bytes()
    (done,) = fake.wait_for("files.completeUploadExternal")
    ts = next(r["message_ts"] for r in store_alerts.sent(store) if r["flag_id"] == fid2)
    assert done.args["channel_id"] == "C_SUPERS" and done.args["thread_ts"] == ts
    assert f"flag {fid2}" in done.args["initial_comment"] and post.args["channel"] == "C_SUPERS"
    # on, but a viewers' wall may not hear calls: the alert, no clip
    _call_with_audio(store, tmp_path, "clip-3")
    wall = AlertOptions(default_channel="C_WALL", attach_clips=True)
    assert Alerter(wall, _client(fake), TZ, may_hear=may_hear).dispatch(store) == 1
    assert fake.of("chat.postMessage")[-1].args["channel"] == "C_WALL"
    assert len(fake.of("upload")) == 1
    # no recording: a warning, the alert is posted and recorded all the same
    fid4 = _call_with_audio(store, tmp_path, "clip-4", recording=False)
    with caplog.at_level(logging.WARNING, logger="bot.alerts"):
        assert Alerter(opts, _client(fake), TZ, may_hear=may_hear).dispatch(store) == 1
    assert any(f"no clip attached to the alert of flag {fid4}" in r.getMessage() for r in caplog.records)
    assert len(fake.of("upload")) == 1
    assert {r["flag_id"] for r in store_alerts.sent(store) if r["message_ts"]} >= {fid, fid2, fid4}
    store.close()
