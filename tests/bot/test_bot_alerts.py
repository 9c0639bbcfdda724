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
