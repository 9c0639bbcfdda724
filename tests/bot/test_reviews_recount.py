"""Dismiss a flag and every number moves; reopen it and they come back.

The numbers: the QA scorecard (a flag question), the question engine's counts and lists,
the daily flag counts behind trend detection, an agent's summary, the digest, the TUI's
dashboard, agents screen and row badges, and the alert dispatcher's pending list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from slackhttp import TZ

from analysis import digest as digest_mod
from analysis.patterns import job
from analysis.patterns.options import PatternsOptions
from bot.questions import Engine
from convoscope import config
from store import alerts as store_alerts
from store import browse, reviews
from store import patterns as sp
from store import query_views as qv
from store import questions as sq
from store.db import Store
from store.permissions import Identity
from store.query import Match, Query, Span

KIND = "compliance_missing_disclosure"
FORM = {"name": "QA", "sections": [{"name": "Compliance", "questions": [
    {"id": "disclosure", "text": "Disclosure given", "flag": KIND, "expect": "absent"},
    {"id": "ends_well", "text": "Customer ends positive", "sentiment": "overall", "pass_min": 100},
]}]}  # fmt: skip
SUP = Identity("slack:U_SUP", "supervisor")


def _numbers(store: Store, iid: int, agent: str, day_start: datetime, now: datetime) -> dict[str, Any]:
    """Every number a dismissal must move, as the surfaces compute them."""
    forms = config.from_dict({"scorecards": [FORM]}).scorecards
    job.run_scorecards(store, PatternsOptions(), forms, now=now, ids=[iid])
    eng = Engine(store, TZ, page_size=50, clock=lambda: now, redactor=None)
    week = (now - timedelta(days=7), now + timedelta(minutes=1))
    summary = sq.agent_summary(store, agent, *week)
    card = next(c for c in browse.agents(store, now, days=7).agents if c.agent == agent)
    local_day = day_start.astimezone(TZ).date()
    counts = {(d, k): n for d, dim, k, n in sp.compute_daily_counts(store, *week, TZ.key) if dim == "flag"}
    page = browse.page(store, browse.Filter(ids=[iid]))
    dash = browse.dashboard(store, now, TZ.key)
    return {
        "scorecard": sp.interaction_scorecards(store, iid)[0].score,
        "count": qv.count(store, Query(period=Span(*week, ""), filters=(Match("flag", (f"kind:{KIND}",)),))),
        "bot_count": eng.ask("how many compliance violations in the last 7 days").total,
        "bot_list": eng.ask("compliance violations in the last 7 days").total,
        "bot_agent": eng.ask(f"how is agent {agent} doing in the last 7 days").text,
        "summary": next((f["count"] for f in summary["flags"] if f["kind"] == KIND), 0),
        "tui_agent_flags": card.flags,
        "tui_badge": page.rows[0].flags,
        "tui_dashboard": sum(dash.series.flags),
        "trend": counts.get((local_day, KIND), 0),
        "digest": digest_mod.build(store, local_day, TZ).reviews,
        "digest_text": "\n".join(digest_mod.summary_lines(digest_mod.build(store, local_day, TZ))),
        "alerts": [f["id"] for f in store_alerts.pending_flags(store, 1, now - timedelta(days=30))],
    }


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_dismissing_a_flag_moves_every_number_and_reopening_restores_them(
    store: Store, seeded: Any, now: datetime
) -> None:
    fid = seeded.flag_ids[KIND][0]
    st = reviews.state(store, fid)
    iid, agent = st.interaction_id, st.agent
    started = seeded.by_id[iid]["started_at"]
    before = _numbers(store, iid, agent, started, now)
    assert fid in before["alerts"]

    st = reviews.review(store, fid, "dismiss", SUP, "disclosure was read", expected_rev=st.review_rev)
    after = _numbers(store, iid, agent, started, now)
    assert after["scorecard"] > before["scorecard"]  # the flag question now answers "absent"
    assert after["count"] == before["count"] - 1
    assert after["bot_count"] == before["bot_count"] - 1
    assert after["bot_list"] == before["bot_list"] - 1
    assert after["summary"] == before["summary"] - 1
    assert after["bot_agent"] != before["bot_agent"]
    assert after["tui_agent_flags"] == before["tui_agent_flags"] - 1
    assert after["tui_badge"] == before["tui_badge"] - 1
    assert after["tui_dashboard"] == before["tui_dashboard"] - 1
    assert after["trend"] == before["trend"] - 1
    assert after["digest"]["dismissed"] == before["digest"]["dismissed"] + 1
    assert after["digest"]["open"] == before["digest"]["open"] - 1
    assert after["digest_text"] != before["digest_text"] and "dismissed by reviewers" in after["digest_text"]
    assert fid not in after["alerts"]

    # "dismissed" and "unreviewed" questions see it where it now is
    eng = Engine(store, TZ, page_size=50, clock=lambda: now, redactor=None)
    dismissed = eng.ask("dismissed compliance violations in the last 7 days")
    assert dismissed.total == 1 and dismissed.items[0]["id"] == iid
    assert "dismissed" in dismissed.text
    unreviewed = eng.ask("unreviewed compliance violations in the last 7 days")
    assert unreviewed.total == before["bot_list"] - 1

    st = reviews.review(store, fid, "reopen", SUP, expected_rev=st.review_rev)
    again = _numbers(store, iid, agent, started, now)
    for key in ("scorecard", "count", "bot_count", "bot_list", "summary", "tui_agent_flags", "tui_badge",
                "tui_dashboard", "trend", "digest"):
        assert again[key] == before[key], key

    # a confirmed flag counts, and is shown as confirmed
    reviews.review(store, fid, "confirm", SUP, expected_rev=st.review_rev)
    confirmed = _numbers(store, iid, agent, started, now)
    assert confirmed["count"] == before["count"] and confirmed["scorecard"] == before["scorecard"]
    assert confirmed["digest"]["confirmed"] == before["digest"]["confirmed"] + 1
    listed = eng.ask("confirmed compliance violations in the last 7 days")
    assert listed.total == 1 and "confirmed" in listed.text
    assert "1 confirmed" in eng.ask(f"how is agent {agent} doing in the last 7 days").text


def test_the_scorecard_moves_at_once_when_the_service_watches_reviews(
    store: Store, seeded: Any, now: datetime
) -> None:
    from convoscope.wiring import watch_reviews

    cfg = config.from_dict({"scorecards": [FORM]})
    fid = seeded.flag_ids[KIND][1]
    iid = reviews.state(store, fid).interaction_id
    job.run_scorecards(store, cfg.patterns, cfg.scorecards, now=now, ids=[iid])
    before = sp.interaction_scorecards(store, iid)[0].score
    watch_reviews(cfg, store)
    reviews.review(store, fid, "dismiss", SUP, "not a disclosure call", expected_rev=0)
    assert sp.interaction_scorecards(store, iid)[0].score > before  # no patterns run in between
