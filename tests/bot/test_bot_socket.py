"""Socket Mode round trip: `attach` opens the connection through the fake
`apps.connections.open`, a local websocket server plays Slack and sends envelopes."""

from __future__ import annotations

import re
from typing import Any

from slackhttp import TZ

from bot.options import AccessOptions, AlertOptions, RoleGrant, SlackOptions
from bot.service import ALERT_JOB_ID, attach
from store.db import Store


def test_socket_mode_round_trip(store: Store, fake: Any, seeded: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_sdk import WebClient

    scheduler = BackgroundScheduler(timezone=TZ)
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    handle = attach(
        scheduler, store,
        slack=SlackOptions(enabled=True, mode="socket", bot_token="xoxb-test", app_token="xapp-test",
                           api_base_url=fake.api_url),
        alerts=AlertOptions(default_channel="C_ALERTS"), digests=[],
        access=AccessOptions(supervisors=RoleGrant(users=["U_SUPER"])), tz=TZ, web_client=client,
    )  # fmt: skip
    try:
        (opened,) = fake.wait_for("apps.connections.open")
        assert opened.headers.get("Authorization") == "Bearer xapp-test"
        assert scheduler.get_job(ALERT_JOB_ID) is not None
        ws = fake.ws
        ws.wait_connected()
        ws.send({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
                 "payload": {"command": "/convoscope", "text": "how many calls this week",
                             "user_id": "U_SUPER", "channel_id": "C_OPS", "team_id": "T1",
                             "response_url": fake.response_url("sock"), "trigger_id": "t"}})  # fmt: skip
        ack = ws.wait_ack("env-1")
        assert ack["envelope_id"] == "env-1"
        (resp,) = fake.wait_for("response_url")
        assert re.match(r"\d+ calls?\.", resp.args["text"].split("\n", 1)[1])
        ws.send({"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": False,
                 "payload": {"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                             "event_id": "Ev2", "event_time": 1,
                             "event": {"type": "app_mention", "user": "U_SUPER", "channel": "C_OPS",
                                       "text": "<@UBOT> top topics this week", "ts": "1.5"}}})  # fmt: skip
        ws.wait_ack("env-2")
        (msg,) = fake.wait_for("chat.postMessage")
        assert msg.args["channel"] == "C_OPS" and msg.args["thread_ts"] == "1.5"
        assert msg.args["text"].split("\n", 1)[1].startswith(("Top topics", "No topics"))
    finally:
        handle.stop()
    assert scheduler.get_job(ALERT_JOB_ID) is None


def test_bad_token_is_a_clear_start_error(store: Store, fake: Any) -> None:
    import pytest
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_sdk import WebClient

    from bot.service import BotStartError

    fake.errors["auth.test"] = "invalid_auth"
    with pytest.raises(BotStartError, match="invalid_auth"):
        attach(BackgroundScheduler(timezone=TZ), store,
               slack=SlackOptions(enabled=True, bot_token="xoxb-bad", app_token="xapp", api_base_url=fake.api_url),
               alerts=AlertOptions(), digests=[], access=AccessOptions(), tz=TZ,
               web_client=WebClient(token="xoxb-bad", base_url=fake.api_url))  # fmt: skip
