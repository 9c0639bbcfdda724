"""Alert follow-ups: a review made elsewhere is said in the alert's thread; the alert's own
buttons update the message instead; a contest is announced too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botdata import add_interaction
from slackhttp import TZ

from bot import followups
from bot.alerts import Alerter
from bot.options import AlertOptions
from store import Store, reviews
from store import alerts as store_alerts
from store.permissions import Identity


def test_reviews_elsewhere_are_posted_in_the_alert_thread(store: Store, fake: Any) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    _iid, (fid,) = add_interaction(
        store, channel="call", started_at=datetime.now(UTC) - timedelta(minutes=5), agent="1042",
        queue="support", topic="refund", sentiment=-3, anger=0.9, flags=[("angry_customer", 3)], ext="fu-1")
    assert Alerter(AlertOptions(default_channel="C_ALERTS"), client, TZ).dispatch(store) == 1
    (sent,) = store_alerts.sent(store)
    ts = sent["message_ts"]
    assert ts
    followups.attach(store, client)

    reviews.review(store, fid, "dismiss", Identity("api:ana", "supervisor"), "customer was joking",
                   expected_rev=0, via="api")
    reply = fake.wait_for("chat.postMessage", 2)[1]
    assert reply.args["channel"] == "C_ALERTS" and reply.args["thread_ts"] == ts
    assert reply.args["text"] == (f"Flag {fid} dismissed by api:ana: customer was joking. "
                                  "It no longer counts in any number.")
    # the alert's own buttons (via slack) update the message: no extra reply
    reviews.review(store, fid, "reopen", Identity("slack:U_SUP", "supervisor"), expected_rev=1, via="slack")
    assert len(fake.of("chat.postMessage")) == 2
    reviews.contest(store, fid, Identity("slack:U_1042", "agent", "1042"), "I was polite", via="slack")
    third = fake.wait_for("chat.postMessage", 3)[2]
    assert "contested by the agent" in third.args["text"] and third.args["thread_ts"] == ts
