"""The real Bolt app over HTTP, driven with signed requests; Slack is a local fake."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from slackhttp import sign

from store import audit
from store import flags as store_flags
from store.db import Store


def _angry_call(store: Store, seeded: Any) -> tuple[int, int]:
    """(interaction id, open angry flag id) of a seeded call."""
    for iid, info in seeded.by_id.items():
        if info["channel"] == "call" and any(k == "angry_customer" for k, _ in info["flags"]):
            flag = next(f for f in store_flags.for_interaction(store, iid) if f.kind == "angry_customer")
            return iid, int(flag.id)  # type: ignore[arg-type]
    raise AssertionError("no angry call seeded")


def test_slash_command_answers_through_response_url(bot_http: Any, fake: Any, seeded: Any,
                                                    store: Store) -> None:  # fmt: skip
    _deps, slack = bot_http
    iid, _fid = _angry_call(store, seeded)
    status, _ = slack.command(f"show call {iid}")
    assert status == 200
    (call,) = fake.wait_for("response_url")
    assert call.args["response_type"] == "ephemeral"
    assert f"Call #{iid}" in call.args["text"]
    assert "[PII]" in call.args["text"] and "4111" not in json.dumps(call.args)
    # review buttons for the supervisor
    actions = [b for b in call.args["blocks"] if b["type"] == "actions"]
    assert actions and actions[0]["elements"][0]["action_id"] == "flag_confirm"
    logged = audit.recent(store, action="ask")
    assert logged[0]["actor"] == "slack:U_SUPER" and logged[0]["detail"]["via"] == "slash"
    assert not fake.of("chat.postMessage")


def test_app_mention_replies_in_thread(bot_http: Any, fake: Any, seeded: Any) -> None:
    _deps, slack = bot_http
    status, _ = slack.event({"type": "app_mention", "user": "U_SUPER", "channel": "C_OPS",
                             "text": "<@UBOT> how many calls this week", "ts": "1700000000.000001",
                             "event_ts": "1700000000.000001"})  # fmt: skip
    assert status == 200
    (call,) = fake.wait_for("chat.postMessage")
    assert call.args["channel"] == "C_OPS"
    assert call.args["thread_ts"] == "1700000000.000001"
    head, body = call.args["text"].split("\n", 1)  # the interpretation, then the answer
    assert head.startswith("Number of calls · this week (")
    assert re.match(r"\d+ calls?\.", body)


def test_direct_message_is_a_question(bot_http: Any, fake: Any, seeded: Any) -> None:
    _deps, slack = bot_http
    slack.event({"type": "message", "channel_type": "im", "user": "U_SUPER", "channel": "D1",
                 "text": "what is the meaning of life", "ts": "1700000000.000002"})  # fmt: skip
    (call,) = fake.wait_for("chat.postMessage")
    assert call.args["channel"] == "D1"
    assert "You can ask me things like" in call.args["text"]


def test_confirm_button_reviews_and_updates_message(bot_http: Any, fake: Any, seeded: Any,
                                                    store: Store) -> None:  # fmt: skip
    _deps, slack = bot_http
    iid, fid = _angry_call(store, seeded)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "angry"}},
              {"type": "actions", "block_id": f"review_{fid}", "elements": []}]  # fmt: skip
    status, _ = slack.interactive({
        "type": "block_actions", "user": {"id": "U_SUPER"}, "api_app_id": "A1", "team": {"id": "T1"},
        "trigger_id": "t.2", "response_url": fake.response_url("btn"),
        "container": {"type": "message", "channel_id": "C_OPS", "message_ts": "1700000000.000100"},
        "channel": {"id": "C_OPS"}, "message": {"ts": "1700000000.000100", "blocks": blocks},
        "actions": [{"action_id": "flag_confirm", "block_id": f"review_{fid}", "type": "button",
                     "value": json.dumps({"flag": fid, "interaction": iid}), "action_ts": "1"}],
    })  # fmt: skip
    assert status == 200
    (upd,) = fake.wait_for("chat.update")
    assert upd.args["channel"] == "C_OPS" and upd.args["ts"] == "1700000000.000100"
    assert all(b.get("block_id") != f"review_{fid}" for b in upd.args["blocks"])
    assert "confirmed by <@U_SUPER>" in json.dumps(upd.args["blocks"])
    flag = store_flags.get(store, fid)
    assert flag is not None and flag.review_status == "confirmed" and flag.reviewer == "slack:U_SUPER"
    entry = audit.recent(store, action="review.confirmed")[0]
    assert entry["target"] == f"flag:{fid}" and entry["detail"]["via"] == "slack"


def test_dismiss_opens_modal_and_submission_records_reason(bot_http: Any, fake: Any, seeded: Any,
                                                           store: Store) -> None:  # fmt: skip
    _deps, slack = bot_http
    iid, fid = _angry_call(store, seeded)
    blocks = [{"type": "actions", "block_id": f"review_{fid}", "elements": []}]
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_GROUPIE"}, "trigger_id": "t.3",
        "container": {"type": "message", "channel_id": "C_OPS", "message_ts": "1700000000.000200"},
        "message": {"ts": "1700000000.000200", "blocks": blocks}, "response_url": fake.response_url("d"),
        "actions": [{"action_id": "flag_dismiss", "block_id": f"review_{fid}", "type": "button",
                     "value": json.dumps({"flag": fid, "interaction": iid}), "action_ts": "1"}],
    })  # fmt: skip
    (opened,) = fake.wait_for("views.open")
    view = opened.args["view"]
    assert opened.args["trigger_id"] == "t.3" and view["callback_id"] == "flag_dismiss_modal"
    assert store_flags.get(store, fid).review_status == "open"  # type: ignore[union-attr]
    status, _ = slack.interactive({
        "type": "view_submission", "user": {"id": "U_GROUPIE"}, "team": {"id": "T1"},
        "view": {"id": "V1", "type": "modal", "callback_id": "flag_dismiss_modal",
                 "private_metadata": view["private_metadata"],
                 "state": {"values": {"reason": {"reason": {"type": "plain_text_input",
                                                            "value": "customer was joking"}}}}},
    })  # fmt: skip
    assert status == 200
    (upd,) = fake.wait_for("chat.update")
    assert "dismissed by <@U_GROUPIE>: customer was joking" in json.dumps(upd.args["blocks"])
    flag = store_flags.get(store, fid)
    assert flag is not None and flag.review_status == "dismissed"
    assert flag.review_reason == "customer was joking"


def test_bad_signature_and_stale_timestamp_get_401_and_nothing_is_posted(
    bot_http: Any, fake: Any, seeded: Any, store: Store
) -> None:
    _deps, slack = bot_http
    body_headers = sign("something else")
    status, _ = slack.command("calls today", headers=body_headers)
    assert status == 401
    import urllib.parse

    body = urllib.parse.urlencode({"command": "/convoscope", "text": "calls today", "user_id": "U_SUPER",
                                   "channel_id": "C_OPS", "response_url": fake.response_url("x")})  # fmt: skip
    from slackhttp import post

    stale = sign(body, ts=int(time.time()) - 10 * 60)
    status, _ = post(slack.url, body, "application/x-www-form-urlencoded", stale)
    assert status == 401
    wrong_secret = sign(body, secret="not-the-secret")
    status, _ = post(slack.url, body, "application/x-www-form-urlencoded", wrong_secret)
    assert status == 401
    time.sleep(0.3)  # give a (wrongly) accepted request's worker time to post
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []
    assert audit.recent(store, action="ask") == []


def test_access_control_refusals(bot_http: Any, fake: Any, seeded: Any, store: Store) -> None:
    _deps, slack = bot_http
    # a stranger in a channel without grants: refused politely, audit-logged
    slack.command("angry calls today", user="U_STRANGER", channel="C_RANDOM")
    (resp,) = fake.wait_for("response_url")
    assert resp.args["text"].startswith("Sorry, you don't have access")
    refused = audit.recent(store, action="ask.refused")
    assert refused and refused[0]["actor"] == "slack:U_STRANGER"
    # a viewer (by channel) gets counts only, no list and no excerpt
    slack.command("angry calls this week", user="U_VIEW", channel="C_COUNTS")
    resp = fake.wait_for("response_url", 2)[1]
    head, body = resp.args["text"].split("\n", 1)
    assert head.startswith("Angry calls · this week")
    assert re.match(r"\d+ calls?\.$", body)  # a count, no list
    slack.command("show call 1", user="U_VIEW", channel="C_COUNTS")
    resp = fake.wait_for("response_url", 3)[2]
    assert "only supervisors" in resp.args["text"]
    # a viewer cannot review
    iid, fid = _angry_call(store, seeded)
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_VIEW"}, "trigger_id": "t",
        "container": {"type": "message", "channel_id": "C_COUNTS", "message_ts": "1.2"},
        "actions": [{"action_id": "flag_confirm", "block_id": f"review_{fid}", "type": "button",
                     "value": json.dumps({"flag": fid, "interaction": iid}), "action_ts": "1"}],
    })  # fmt: skip
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["user"] == "U_VIEW" and "only supervisors" in eph.args["text"]
    assert store_flags.get(store, fid).review_status == "open"  # type: ignore[union-attr]
    assert audit.recent(store, action="review.refused")[0]["actor"] == "slack:U_VIEW"
    assert not fake.of("chat.update")


def test_next_page_button_replaces_the_list(bot_http: Any, fake: Any, seeded: Any) -> None:
    deps, slack = bot_http
    deps.engine.page_size = 3
    slack.command("interactions in the last 3 days")
    (first,) = fake.wait_for("response_url")
    pager = next(b for b in first.args["blocks"] if b.get("block_id") == "convoscope_pager")
    nxt = pager["elements"][-1]
    assert nxt["text"]["text"] == "Next page"
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_SUPER"}, "trigger_id": "t",
        "response_url": fake.response_url("page"),
        "container": {"type": "message", "channel_id": "C_OPS", "message_ts": "1.3", "is_ephemeral": True},
        "actions": [{"action_id": nxt["action_id"], "block_id": "convoscope_pager", "type": "button",
                     "value": nxt["value"], "action_ts": "1"}],
    })  # fmt: skip
    second = fake.wait_for("response_url", 2)[1]
    assert second.args["replace_original"] is True
    assert "(showing 4–6)" in second.args["text"]
    assert "Page 2 of" in json.dumps(second.args["blocks"])


def test_lists_asked_by_mention_stay_with_the_supervisor(bot_http: Any, fake: Any, seeded: Any) -> None:
    """In an ordinary channel a supervisor's list goes to them alone (ephemeral); in a
    supervisors' channel it is posted for everyone."""
    _deps, slack = bot_http
    slack.event({"type": "app_mention", "user": "U_SUPER", "channel": "C_OPS",
                 "text": "<@UBOT> angry calls in the last 3 days", "ts": "1.7"})  # fmt: skip
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["user"] == "U_SUPER" and eph.args["channel"] == "C_OPS"
    assert "angry calls" in eph.args["text"].lower() and "#" in eph.args["text"]
    assert fake.of("chat.postMessage") == []
    slack.event({"type": "app_mention", "user": "U_SUPER", "channel": "C_SUPERS",
                 "text": "<@UBOT> angry calls in the last 3 days", "ts": "1.8"})  # fmt: skip
    (msg,) = fake.wait_for("chat.postMessage")
    assert msg.args["channel"] == "C_SUPERS" and "#" in msg.args["text"]
    # a stranger's mention is refused privately, not in front of the channel
    slack.event({"type": "app_mention", "user": "U_STRANGER", "channel": "C_OPS",
                 "text": "<@UBOT> calls today", "ts": "1.9"})  # fmt: skip
    refusal = fake.wait_for("chat.postEphemeral", 2)[1]
    assert refusal.args["user"] == "U_STRANGER" and refusal.args["text"].startswith("Sorry")
    assert len(fake.of("chat.postMessage")) == 1
