"""An ambiguous name is a choice, not a guess: the bot answers with one button per
candidate, and a press asks the question again with that name (real Bolt app over HTTP,
fake Slack API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botdata import add_interaction
from slackhttp import TZ

from bot.questions import Engine
from bot.questions.choices import CHOICE_ACTION, rewrite
from store import entities
from store.query import Query


def _two_johns(store: Any) -> None:
    # "today" is the bot's day (TZ): the calls lie between its midnight and now, whatever the
    # hour the suite runs (an hour back from 00:30 Berlin is yesterday; CI ran at 23:26 UTC)
    now = datetime.now(TZ)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for i, agent in enumerate(["John Carter", "John Okafor", "John Okafor"]):
        started = midnight + (now - midnight) * (3 - i) / 4
        add_interaction(store, channel="call", started_at=started.astimezone(UTC), agent=agent,
                        queue="billing", topic="refund", sentiment=0.1, anger=0.1, ext=f"john-{i}")  # fmt: skip
    entities.forget(store)


def test_rewrite_keeps_the_rest_of_the_question() -> None:
    assert rewrite("john's chats yesterday", "john's", "John Carter's") == "John Carter's chats yesterday"
    assert rewrite("calls from John today", "John", "John Okafor") == "calls from John Okafor today"


def test_ambiguous_name_gets_buttons_and_a_press_answers(bot_http: Any, fake: Any, store: Any) -> None:
    _deps, slack = bot_http
    _two_johns(store)
    slack.command("calls from John today")
    (first,) = fake.wait_for("response_url")
    assert "which did you mean" in first.args["text"] and "John Carter" in first.args["text"]
    actions = [b for b in first.args["blocks"] if b.get("type") == "actions"]
    (buttons,) = [b["elements"] for b in actions]
    assert [b["text"]["text"] for b in buttons] == ["John Carter", "John Okafor"]
    okafor = buttons[1]
    assert okafor["action_id"].startswith(CHOICE_ACTION)
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_SUPER"}, "trigger_id": "t",
        "response_url": fake.response_url("choice"),
        "container": {"type": "message", "channel_id": "C_OPS", "message_ts": "1.9", "is_ephemeral": True},
        "actions": [{"action_id": okafor["action_id"], "block_id": actions[0]["block_id"], "type": "button",
                     "value": okafor["value"], "action_ts": "1"}],
    })  # fmt: skip
    second = fake.wait_for("response_url", 2)[1]
    assert second.args["replace_original"] is True
    head, body = second.args["text"].split("\n", 1)
    assert head.startswith("Calls · agent John Okafor · today")
    assert body.startswith("2 calls")  # John Okafor's two, not John Carter's
    # a mangled button value is the help, never an error
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_SUPER"}, "trigger_id": "t",
        "response_url": fake.response_url("choice2"),
        "container": {"type": "message", "channel_id": "C_OPS", "message_ts": "1.9", "is_ephemeral": True},
        "actions": [{"action_id": okafor["action_id"], "block_id": "x", "type": "button",
                     "value": "{not json", "action_ts": "1"}],
    })  # fmt: skip
    third = fake.wait_for("response_url", 3)[2]
    assert "You can ask me things like" in third.args["text"]


def test_engine_records_the_candidates(store: Any) -> None:
    _two_johns(store)
    a = Engine(store, TZ, redactor=None).ask("angry calls by john this week")
    assert a.intent == "choose" and a.items == []
    q = Query.from_dict(a.query or {})
    assert q.extra["ambiguous"] == {"agent": ["John Carter", "John Okafor"]}
    assert not q.matches("agent")  # never a guess


def test_candidates_are_named_only_to_supervisors(store: Any) -> None:
    _two_johns(store)
    eng = Engine(store, TZ, redactor=None)
    for role in ("viewer", "analyst"):
        a = eng.ask("calls from john today", role=role)
        assert a.intent == "choose" and "Carter" not in a.text and "Okafor" not in a.text
        assert not [b for b in a.blocks if b.get("type") == "actions"]
    assert "John Carter" in eng.ask("calls from john today", role="supervisor").text
