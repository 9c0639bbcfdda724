"""Roles on the Slack surface: what each role sees and may do, agents' own week and
contests, a channel grant never giving review rights, and a stale review refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from slackhttp import SECRET, TZ, SlackDriver

from bot.access import AccessControl
from bot.options import AccessOptions, RoleGrant
from bot.questions import Engine
from store import audit, reviews
from store.db import Store
from store.permissions import Identity, pseudonym

ACCESS = AccessOptions(
    admins=RoleGrant(users=["U_ADMIN"]),
    supervisors=RoleGrant(users=["U_SUPER"], channels=["C_SUPERS"]),
    analysts=RoleGrant(users=["U_ANALYST"]),
    viewers=RoleGrant(users=["U_VIEW"]),
    agents={"U_1042": "1042", "U_ALICE": "alice"},
)


@pytest.fixture
def slack(store: Store, fake: Any) -> Iterator[SlackDriver]:
    from slack_sdk import WebClient

    from bot.app import build_app
    from bot.options import SlackOptions
    from bot.service import serve_http

    opts = SlackOptions(enabled=True, mode="http", bot_token="xoxb-test", signing_secret=SECRET,
                        api_base_url=fake.api_url, http_host="127.0.0.1", http_port=0)  # fmt: skip
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    app, _deps = build_app(store, opts, ACCESS, TZ, web_client=client)
    server, _thread, url = serve_http(app, "127.0.0.1", 0)
    try:
        yield SlackDriver(url, fake)
    finally:
        server.shutdown()
        server.server_close()


def _ask(slack: SlackDriver, fake: Any, text: str, user: str, channel: str = "C_OPS") -> dict[str, Any]:
    n = len(fake.of("response_url"))
    slack.command(text, user=user, channel=channel)
    return dict(fake.wait_for("response_url", n + 1)[n].args)


def test_what_each_role_sees_in_slack(slack: SlackDriver, fake: Any, seeded: Any, store: Store) -> None:
    q = "angry calls in the last 7 days"
    admin = _ask(slack, fake, q, "U_ADMIN")
    sup = _ask(slack, fake, q, "U_SUPER")
    analyst = _ask(slack, fake, q, "U_ANALYST")
    viewer = _ask(slack, fake, q, "U_VIEW")
    agent = _ask(slack, fake, q, "U_1042")
    assert "agent 1042" in sup["text"] and "agent 1042" in admin["text"]
    # analysts get the list with agents pseudonymised
    assert "#" in analyst["text"] and "agent 1042" not in analyst["text"]
    assert pseudonym("1042") in analyst["text"]
    head, body = viewer["text"].split("\n", 1)
    assert head.startswith("Angry calls · in the last 7 days")
    assert re.match(r"\d+ calls?\.$", body)  # a count only
    assert "own work" in agent["text"] and "#" not in agent["text"]  # agents: no team data
    # agent summaries: supervisors only
    assert "Agent 1042" in _ask(slack, fake, "how is agent 1042 doing this week", "U_SUPER")["text"]
    for user in ("U_ANALYST", "U_VIEW"):
        assert "for supervisors" in _ask(slack, fake, "how is agent 1042 doing this week", user)["text"]
    # patterns (phrases) are not for viewers
    assert "Sorry" in _ask(slack, fake, "best phrases for billing", "U_VIEW")["text"]
    # single interactions: not for viewers or agents; review buttons only for reviewers
    iid = seeded.ids[0]
    shown = {u: _ask(slack, fake, f"show call {iid}", u) for u in ("U_SUPER", "U_ANALYST", "U_VIEW", "U_1042")}
    has_buttons = {u: any(b["type"] == "actions" for b in (a.get("blocks") or [])) for u, a in shown.items()}
    assert "only supervisors and analysts" in shown["U_VIEW"]["text"]
    assert "own work" in shown["U_1042"]["text"]
    if seeded.by_id[iid]["flags"]:
        assert has_buttons["U_SUPER"]
    assert not has_buttons["U_ANALYST"] and not has_buttons["U_VIEW"]


def test_a_channel_grant_does_not_give_review_rights(slack: SlackDriver, fake: Any, seeded: Any,
                                                     store: Store) -> None:  # fmt: skip
    ac = AccessControl(ACCESS)
    d = ac.role_for("U_NOBODY", "C_SUPERS")
    assert d.role == "supervisor" and d.acting_role == "none" and not d.supervisor
    fid = seeded.flag_ids["angry_customer"][0]
    iid = reviews.state(store, fid).interaction_id
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_NOBODY"}, "trigger_id": "t",
        "container": {"type": "message", "channel_id": "C_SUPERS", "message_ts": "1.2"},
        "actions": [{"action_id": "flag_confirm", "block_id": f"review_{fid}", "type": "button",
                     "value": json.dumps({"flag": fid, "interaction": iid, "rev": 0}), "action_ts": "1"}],
    })  # fmt: skip
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert "only supervisors" in eph.args["text"] and "channel grant" in eph.args["text"]
    assert reviews.state(store, fid).review_status == "open"


def test_a_stale_slack_review_is_refused_with_the_current_state(slack: SlackDriver, fake: Any,
                                                                seeded: Any, store: Store) -> None:  # fmt: skip
    fid = seeded.flag_ids["angry_customer"][0]
    iid = reviews.state(store, fid).interaction_id
    # the alert's buttons showed revision 0; meanwhile someone dismissed it in the TUI
    reviews.review(store, fid, "dismiss", Identity("local:ana", "supervisor"), "wrong speaker", expected_rev=0)
    slack.interactive({
        "type": "block_actions", "user": {"id": "U_SUPER"}, "trigger_id": "t",
        "container": {"type": "message", "channel_id": "C_OPS", "message_ts": "1.2"},
        "actions": [{"action_id": "flag_confirm", "block_id": f"review_{fid}", "type": "button",
                     "value": json.dumps({"flag": fid, "interaction": iid, "rev": 0}), "action_ts": "1"}],
    })  # fmt: skip
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["user"] == "U_SUPER"
    assert "not applied" in eph.args["text"] and "dismissed by local:ana (wrong speaker)" in eph.args["text"]
    st = reviews.state(store, fid)
    assert st.review_status == "dismissed" and st.reviewer == "local:ana"
    assert audit.recent(store, action="review.stale")[0]["actor"] == "slack:U_SUPER"
    assert not fake.of("chat.update")


def test_agent_sees_only_their_own_week_and_can_contest(slack: SlackDriver, fake: Any, seeded: Any,
                                                        store: Store) -> None:  # fmt: skip
    mine = [i for i, v in seeded.by_id.items() if v["agent"] == "1042" and v["flags"]]
    theirs = [i for i, v in seeded.by_id.items() if v["agent"] != "1042" and v["flags"]]
    week = _ask(slack, fake, "my week", "U_1042")
    text = week["text"]
    # "my week" is this week (the phrasing corpus); the first line says so
    assert text.startswith("Your work · this week") and "coaching, not for punishment" in text
    ids_shown = {int(x) for x in re.findall(r" #(\d+)", text)}
    assert ids_shown and ids_shown <= set(mine)  # only their own interactions
    assert not ids_shown & set(theirs)
    assert "4111" not in json.dumps(week)  # evidence is redacted text only
    # asking about someone else gets their own-work hint, not the other agent's data
    other = _ask(slack, fake, "how is agent alice doing this week", "U_1042")
    assert "own work" in other["text"] and "Agent alice" not in other["text"]
    # contest one of their flags: it goes to the queue first, marked contested
    fid = next(f for f in reviews.agent_flags(store, "1042", seeded.by_id[mine[-1]]["started_at"],
                                               seeded.by_id[mine[0]]["started_at"].replace(year=2100)))["flag_id"]
    got = _ask(slack, fake, f"contest {fid}: I gave the disclosure at the start", "U_1042")
    assert f"Flag {fid} is contested" in got["text"]
    q = reviews.queue(store)
    assert q[0].flag_id == fid and q[0].contested and q[0].contest_reason == "I gave the disclosure at the start"
    assert audit.recent(store, action="review.contest")[0]["actor"] == "slack:U_1042"
    # ... but not someone else's flag, and not as a supervisor
    other_fid = next(f.flag_id for f in q if f.agent != "1042")
    assert "on your interactions" in _ask(slack, fake, f"contest {other_fid}: not me", "U_1042")["text"]
    assert "Only agents" in _ask(slack, fake, f"contest {fid}: x", "U_SUPER")["text"]
    # an unmapped person asking "my week" is told how to get mapped
    assert "map your Slack user" in _ask(slack, fake, "my week", "U_SUPER")["text"]


def test_my_week_is_private_even_in_a_channel(slack: SlackDriver, fake: Any, seeded: Any) -> None:
    slack.event({"type": "app_mention", "user": "U_1042", "channel": "C_SUPERS",
                 "text": "<@UBOT> my week", "ts": "1.7"})  # fmt: skip
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["user"] == "U_1042" and eph.args["text"].startswith("Your work")
    slack.event({"type": "app_mention", "user": "U_SUPER", "channel": "C_OPS",
                 "text": "<@UBOT> how is agent 1042 doing this week", "ts": "1.8"})  # fmt: skip
    second = fake.wait_for("chat.postEphemeral", 2)[1]
    assert second.args["user"] == "U_SUPER" and "Agent 1042" in second.args["text"]
    assert fake.of("chat.postMessage") == []


def test_engine_agent_view_never_takes_a_name_from_the_question(store: Store, seeded: Any, now: Any) -> None:
    eng = Engine(store, TZ, clock=lambda: now, redactor=None)
    a = eng.ask("my week agent alice", role="agent", agent="1042")
    assert a.items[0]["agent"] == "1042"
    assert eng.ask("my week", role="agent", agent=None).items == []


def test_my_week_shows_the_best_phrases_of_my_queue_and_my_scorecard(store: Store, seeded: Any, now: Any) -> None:
    from datetime import timedelta

    from analysis.patterns import job
    from analysis.patterns.options import PatternsOptions
    from convoscope import config
    from store import patterns as sp

    queue = reviews.agent_queue(store, "1042", now - timedelta(days=7), now + timedelta(minutes=1))
    assert queue
    sp.save_phrases(store, [
        sp.PhraseRow(scope=f"queue:{queue}", phrase="let me fix that for you", z=3.1, delta=0.2,
                     count_good=9, count_bad=1, n_good=10, n_bad=10, rank=1),
        sp.PhraseRow(scope="queue:elsewhere", phrase="not for this queue", z=4.0, delta=0.3,
                     count_good=9, count_bad=1, n_good=10, n_bad=10, rank=1),
    ])  # fmt: skip
    form = {"name": "Support QA", "sections": [{"name": "Tone", "questions": [
        {"id": "anger", "text": "No anger", "flag": "angry_customer", "expect": "absent"}]}]}
    cfg = config.from_dict({"scorecards": [form]})
    job.run_scorecards(store, PatternsOptions(), cfg.scorecards, now=now + timedelta(minutes=1))
    a = Engine(store, TZ, clock=lambda: now, redactor=None).ask("my week", role="agent", agent="1042")
    assert f"Phrases that work best in {queue}: “let me fix that for you”" in a.text
    assert "not for this queue" not in a.text
    mine = [c for c in sp.agent_scorecards(store, now - timedelta(days=7), now + timedelta(minutes=1))
            if c.agent == "1042"]
    assert mine and f"QA scorecard “Support QA”: {mine[0].mean_score:.0f}/100" in a.text
    assert a.items[0]["scorecards"][0]["scorecard"] == "Support QA"


def test_default_role_shows_but_never_lets_anyone_review() -> None:
    ac = AccessControl(AccessOptions(default_role="supervisor"))
    d = ac.role_for("U_ANYONE", "C_ANY")
    assert d.role == "supervisor" and d.acting_role == "none" and not d.supervisor
    assert d.may("lists") and not d.may("review")
