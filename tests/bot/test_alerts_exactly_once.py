"""Alerts exactly once: claims in doubt (no answer from Slack, or a process that died
between claim and answer) are settled from the channel's history via message metadata.

Every test checks the channel itself (the fake's stored messages): each flag appears in
exactly one message."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slackhttp import TZ
from test_bot_alerts import _client, _flags

from bot.alerts import Alerter
from bot.options import AlertOptions
from bot.reconcile import alert_metadata
from store import Store
from store import alerts as store_alerts

# Run on both store backends (the DuckLake on a real PostgreSQL: tests/store/backends.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from backends import BACKENDS, lake_template, pg, target_for  # noqa: F401  (fixtures)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = Store.open(target_for(request, request.param, tmp_path, "bot"))
    yield s
    s.close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _opts(**kw: Any) -> AlertOptions:
    base = {"default_channel": "C_ALERTS", "reconcile_grace_seconds": 5, "reconcile_interval_seconds": 60}
    return AlertOptions(**{**base, **kw})


def _flags_in_slack(fake: Any) -> Counter[int]:
    """How many messages in the channel cover each flag (from their metadata)."""
    seen: Counter[int] = Counter()
    for m in fake.alert_messages():
        for f in m["metadata"]["event_payload"]["flags"]:
            seen[int(f["flag_id"])] += 1
    return seen


def test_alert_carries_metadata_with_the_flag_and_interaction(store: Store, fake: Any) -> None:
    [fid] = _flags(store, 1)
    assert Alerter(_opts(), _client(fake), TZ).dispatch(store) == 1
    [msg] = fake.alert_messages("C_ALERTS")
    payload = msg["metadata"]["event_payload"]
    row = store_alerts.sent(store)[0]
    assert payload["flag_id"] == fid and payload["post_key"] == row["post_key"]
    iid = store.conn.execute("SELECT interaction_id FROM flags WHERE id = ?", [fid]).fetchone()[0]
    assert payload["interaction_id"] == iid and payload["flags"] == [{"flag_id": fid, "interaction_id": iid}]
    assert (row["state"], row["settled_by"], row["message_ts"]) == ("posted", "reply", msg["ts"])


@pytest.mark.parametrize("fault", ["drop_after", "drop_before"])
def test_lost_answer_is_settled_from_history_not_posted_twice(store: Store, fake: Any, fault: str) -> None:
    """Slack closes the connection without an answer, after storing the message or before.
    No transport retry (the SDK's default would re-send), no release: the claim waits for
    the history check, which keeps the stored message or posts the missing one."""
    ids = _flags(store, 2)
    clock = Clock()
    alerter = Alerter(_opts(), _client(fake), TZ, clock=clock)
    fake.post_fault(fault)
    assert alerter.dispatch(store) == 1  # the first post lost its answer; the second went fine
    states = Counter(r["state"] for r in store_alerts.sent(store))
    assert states == {"unknown": 1, "posted": 1}
    assert len(fake.of("chat.postMessage")) == 2  # not re-sent by the client
    clock.advance(3)  # still within the grace: nothing is decided yet
    assert alerter.dispatch(store) == 0 and not fake.of("conversations.history")
    clock.advance(4)
    alerted = alerter.dispatch(store)
    assert fake.of("conversations.history")[0].args["include_all_metadata"] in ("1", "true", True)
    assert alerter.last_reconcile is not None
    if fault == "drop_after":
        assert (alerted, alerter.last_reconcile.found, alerter.last_reconcile.reposted) == (0, 1, 0)
    else:
        assert (alerted, alerter.last_reconcile.found, alerter.last_reconcile.reposted) == (1, 0, 1)
    assert _flags_in_slack(fake) == {i: 1 for i in ids}
    rows = store_alerts.sent(store)
    assert {r["state"] for r in rows} == {"posted"}
    ts_by_flag = {int(f["flag_id"]): m["ts"] for m in fake.alert_messages()
                  for f in m["metadata"]["event_payload"]["flags"]}  # fmt: skip
    assert {r["flag_id"]: r["message_ts"] for r in rows} == ts_by_flag
    settled = {r["settled_by"] for r in rows}
    assert settled == ({"reply", "history"} if fault == "drop_after" else {"reply"})


def test_claims_of_a_dead_process_are_reconciled_at_start(store: Store, fake: Any) -> None:
    """A previous process claimed two alerts and died: one message had reached Slack, the
    other had not. The next process keeps the first and posts only the second."""
    ids = _flags(store, 2)
    claimed_at = datetime.now(UTC) - timedelta(minutes=2)
    keys = [store_alerts.new_post_key() for _ in ids]
    for fid, key in zip(ids, keys, strict=True):
        store_alerts.claim(store, [fid], "C_ALERTS", claimed_at, key)
    f0 = {"id": ids[0], "interaction_id": 1}
    _client(fake).chat_postMessage(channel="C_ALERTS", text="the dead process's post",
                                   metadata=alert_metadata(keys[0], [f0]))  # fmt: skip
    fake.calls.clear()
    alerter = Alerter(_opts(), _client(fake), TZ)
    assert alerter.dispatch(store) == 1
    assert alerter.last_reconcile is not None
    assert (alerter.last_reconcile.found, alerter.last_reconcile.reposted) == (1, 1)
    assert _flags_in_slack(fake) == {ids[0]: 1, ids[1]: 1}
    [hist] = fake.of("conversations.history")
    oldest = float(hist.args["oldest"])
    assert claimed_at.timestamp() - 301 < oldest < claimed_at.timestamp() - 299  # claim time - margin
    assert alerter.dispatch(store) == 0 and len(fake.of("chat.postMessage")) == 1


def test_history_is_paged_and_rate_limits_are_waited_out(store: Store, fake: Any) -> None:
    ids = _flags(store, 1)
    key = store_alerts.new_post_key()
    store_alerts.claim(store, ids, "C_ALERTS", datetime.now(UTC) - timedelta(minutes=1), key)
    client = _client(fake)
    client.chat_postMessage(channel="C_ALERTS", text="alert",
                            metadata=alert_metadata(key, [{"id": ids[0], "interaction_id": 1}]))  # fmt: skip
    for i in range(23):  # newer chatter (and other apps' metadata) on top of it
        client.chat_postMessage(channel="C_ALERTS", text=f"chatter {i}",
                                metadata={"event_type": "other_app", "event_payload": {"post_key": key}}
                                if i % 5 == 0 else None)  # fmt: skip
    fake.history_limit_max = 5  # Slack caps pages (15 for some apps)
    fake.rate_limit("conversations.history", times=2, retry_after=3)
    waits: list[float] = []
    alerter = Alerter(_opts(), client, TZ, sleep=waits.append)
    assert alerter.dispatch(store) == 0
    assert waits == [3.0, 3.0]
    hist = fake.of("conversations.history")
    assert len(hist) == 2 + 5  # two 429s, then 24 messages in pages of 5
    assert [bool(c.args.get("cursor")) for c in hist[2:]] == [False, True, True, True, True]
    [row] = store_alerts.sent(store)
    assert (row["state"], row["settled_by"]) == ("posted", "history")
    assert len(fake.alert_messages()) == 1


def test_unreadable_history_leaves_claims_in_doubt_never_posts_twice(
    store: Store, fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _flags(store, 1)
    store_alerts.claim(store, ids, "C_ALERTS", datetime.now(UTC) - timedelta(minutes=1))
    fake.errors["conversations.history"] = "missing_scope"
    alerter = Alerter(_opts(), _client(fake), TZ)
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        assert alerter.dispatch(store) == 0
    assert "channels:history" in caplog.text and "groups:history" in caplog.text
    assert alerter.last_reconcile is not None and alerter.last_reconcile.unresolved == 1
    assert fake.of("chat.postMessage") == []
    assert store_alerts.sent(store)[0]["state"] == "claimed"


def test_old_claims_without_metadata_are_given_up(store: Store, fake: Any) -> None:
    """Rows from before this version have no post_key: they cannot be looked up, and
    re-sending might duplicate them, so they stay at most once."""
    ids = _flags(store, 1)
    store_alerts.claim(store, ids, "C_ALERTS", datetime.now(UTC) - timedelta(minutes=5))
    store.conn.execute("UPDATE alerts_sent SET post_key = NULL")
    assert Alerter(_opts(), _client(fake), TZ).dispatch(store) == 0
    assert store_alerts.sent(store)[0]["state"] == "given_up"
    assert fake.of("chat.postMessage") == [] and fake.of("conversations.history") == []


def test_burst_summary_in_doubt_is_settled_by_its_one_message(store: Store, fake: Any) -> None:
    ids = _flags(store, 8)
    clock = Clock()
    alerter = Alerter(_opts(burst_threshold=5), _client(fake), TZ, clock=clock)
    fake.post_fault("drop_after")
    assert alerter.dispatch(store) == 0
    [msg] = fake.alert_messages()
    payload = msg["metadata"]["event_payload"]
    assert payload["count"] == 8 and sorted(f["flag_id"] for f in payload["flags"]) == sorted(ids)
    assert "flag_id" not in payload  # a summary names its flags only in the list
    clock.advance(10)
    assert alerter.dispatch(store) == 0
    assert alerter.last_reconcile is not None and alerter.last_reconcile.found == 8
    rows = store_alerts.sent(store)
    assert {(r["state"], r["message_ts"]) for r in rows} == {("posted", msg["ts"])}
    assert _flags_in_slack(fake) == {i: 1 for i in ids}


def test_reconciliation_also_runs_periodically(store: Store, fake: Any) -> None:
    """A claim left in doubt while the service runs (e.g. the store failed right after
    Slack answered) is settled at the next reconcile interval, not on every tick."""
    clock = Clock()
    alerter = Alerter(_opts(reconcile_interval_seconds=60), _client(fake), TZ, clock=clock)
    assert alerter.dispatch(store) == 0  # start-up check: nothing in doubt
    ids = _flags(store, 1)
    store_alerts.claim(store, ids, "C_ALERTS", clock.now - timedelta(seconds=10))
    clock.advance(30)
    assert alerter.dispatch(store) == 0
    assert fake.of("conversations.history") == [] and fake.of("chat.postMessage") == []
    clock.advance(31)
    assert alerter.dispatch(store) == 1
    assert len(fake.of("conversations.history")) == 1
    assert _flags_in_slack(fake) == {ids[0]: 1}
