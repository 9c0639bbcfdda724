"""Repeat contacts across channels and first-contact resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest
from patterns_data import NOW, Spec, put

from analysis.patterns import job
from analysis.patterns.options import PatternsOptions, RepeatOptions
from analysis.patterns.repeats import normalise_identifier
from store import Store
from store import flags as store_flags
from store import patterns as sp


@pytest.fixture
def store(store_on_both_backends: Store) -> Store:
    """This module runs on the DuckDB file and on a DuckLake (conftest.py)."""
    return store_on_both_backends


def _active_repeat_flags(store: Store) -> list[tuple[int, str]]:
    return store.conn.execute(
        "SELECT interaction_id, summary FROM flags WHERE kind = 'repeat_contact' AND active "
        "ORDER BY interaction_id"
    ).fetchall()


def test_call_then_email_about_the_same_refund_is_one_repeat_contact(store: Store) -> None:
    t0 = NOW - timedelta(days=3)
    call, email, _other = put(store, [
        Spec(started_at=t0, channel="call", customer_key="+14155550100", topic="refund",
             agent_name="alice", queue="billing", customer=["I still have not got my refund"]),
        Spec(started_at=t0 + timedelta(hours=26), channel="email", customer_key="ann@example.com",
             metadata={"customer_ids": ["(415) 555-0100", "Ann@Example.com"]}, topic="refund",
             agent_name="bob", queue="billing", customer=["Following up on my refund call"]),
        # a different customer with one contact: resolved at first contact
        Spec(started_at=t0, channel="chat", customer_key="zd:42", topic="refund",
             agent_name="alice", queue="billing"),
    ])
    result = job.run_repeats(store, PatternsOptions(), now=NOW)
    assert [(r.interaction_id, r.previous_id, r.first_id) for r in result.repeats] == [(email, call, call)]
    flags = _active_repeat_flags(store)
    assert [f[0] for f in flags] == [email]
    assert flags[0][1] == "Contact #2 in 26 h about refund (call, then email)"
    # the bot's "repeat callers this month"
    customers = sp.repeat_contacts(store, NOW - timedelta(days=30), NOW)
    assert len(customers) == 1
    assert customers[0].contacts == 2 and customers[0].interaction_ids == [call, email]
    assert customers[0].channels == ["call", "email"] and customers[0].topics == ["refund"]
    # FCR: alice had two issues (one came back), so 50 %
    by_agent = {r.key: r for r in sp.fcr_rates(store, "agent")}
    assert (by_agent["alice"].issues, by_agent["alice"].resolved) == (2, 1)
    assert by_agent["alice"].rate == 0.5 and "bob" not in by_agent
    assert [(r.key, r.issues, r.resolved) for r in sp.fcr_rates(store, "topic")] == [("refund", 2, 1)]
    # re-running changes nothing (no second flag, same rows)
    job.run_repeats(store, PatternsOptions(), now=NOW)
    assert [f[0] for f in _active_repeat_flags(store)] == [email]
    assert sp.repeat_of(store, email).contact_number == 2  # type: ignore[union-attr]
    assert sp.repeat_of(store, call) is None


def test_not_a_repeat_when_the_issue_differs_or_the_window_passed(store: Store) -> None:
    t0 = NOW - timedelta(days=20)
    put(store, [
        Spec(started_at=t0, customer_key="c@x.org", topic="refund"),
        Spec(started_at=t0 + timedelta(days=1), customer_key="c@x.org", topic="password"),
        Spec(started_at=t0 + timedelta(days=10), customer_key="c@x.org", topic="refund"),
    ])
    result = job.run_repeats(store, PatternsOptions(), now=NOW)
    assert result.repeats == []
    assert len(result.resolutions) == 3 and all(r.resolved for r in result.resolutions)
    # a longer window makes the third contact a repeat of the first
    opts = PatternsOptions(repeats=RepeatOptions(window_days=14))
    result = job.run_repeats(store, opts, now=NOW)
    assert len(result.repeats) == 1 and result.repeats[0].gap_hours == 240.0


def test_chains_count_contacts_and_a_stale_flag_is_retired(store: Store) -> None:
    t0 = NOW - timedelta(days=5)
    a, b, c = put(store, [
        Spec(started_at=t0 + timedelta(hours=h), customer_key="+4930123456", topic="delivery",
             channel=ch)
        for h, ch in ((0, "chat"), (5, "call"), (30, "call"))
    ])
    job.run_repeats(store, PatternsOptions(), now=NOW)
    assert [f[0] for f in _active_repeat_flags(store)] == [b, c]
    assert "Contact #3" in _active_repeat_flags(store)[1][1]
    # a reviewer dismisses one; with a 1-hour window neither is a repeat any more: the flags
    # retire (inactive), the review stays on record
    flag_id = store.conn.execute(
        "SELECT id FROM flags WHERE kind = 'repeat_contact' AND interaction_id = ?", [b]
    ).fetchone()[0]
    store_flags.set_review(store, flag_id, "dismissed", "qa-lead", "same order, expected")
    job.run_repeats(store, PatternsOptions(repeats=RepeatOptions(window_days=1 / 24)), now=NOW)
    assert _active_repeat_flags(store) == []
    kept = store_flags.get(store, flag_id)
    assert kept is not None and kept.review_status == "dismissed" and a < b


def test_identifiers_normalise_across_channels() -> None:
    assert normalise_identifier("(415) 555-0100") == normalise_identifier("+1 415 555 0100")
    assert normalise_identifier("+14155550100") == "phone:+14155550100"
    assert normalise_identifier(" Ann@Example.COM ") == "email:ann@example.com"
    assert normalise_identifier("zd:42") == "id:zd:42"
    assert normalise_identifier("   ") is None


def _verdict(store: Store, iid: int, verdict: str, analysed: str | None = None) -> None:
    from store import resolution as rs

    rs.save(store, [rs.ResolutionRow(iid, verdict, 0.9, [f"test: {verdict}"], [], analysed_verdict=analysed)])


def test_fcr_needs_a_resolved_verdict_and_no_repeat_and_falls_back_without_a_verdict(store: Store) -> None:
    t0 = NOW - timedelta(days=4)
    ids = put(store, [
        # carol: resolved verdict, no repeat -> resolved first time
        Spec(started_at=t0, customer_key="a@x.org", topic="billing", agent_name="carol"),
        # carol: unresolved verdict, no repeat -> NOT resolved first time (was: resolved)
        Spec(started_at=t0, customer_key="b@x.org", topic="billing", agent_name="carol"),
        # carol: pending (follow-up promised), no repeat -> not resolved first time
        Spec(started_at=t0, customer_key="c@x.org", topic="billing", agent_name="carol"),
        # carol: resolved verdict but the customer came back -> not resolved first time
        Spec(started_at=t0, customer_key="d@x.org", topic="billing", agent_name="carol"),
        Spec(started_at=t0 + timedelta(hours=20), customer_key="d@x.org", topic="billing", agent_name="dan"),
        # dave: no verdict at all -> repeats-only rule: resolved (no repeat) ...
        Spec(started_at=t0, customer_key="e@x.org", topic="billing", agent_name="dave"),
        # ... and not resolved (a repeat followed)
        Spec(started_at=t0, customer_key="f@x.org", topic="billing", agent_name="dave"),
        Spec(started_at=t0 + timedelta(hours=3), customer_key="f@x.org", topic="billing", agent_name="dan"),
    ])
    for iid, v in zip(ids[:5], ("resolved", "unresolved", "pending", "resolved", "resolved"), strict=True):
        _verdict(store, iid, v)
    job.run_repeats(store, PatternsOptions(), now=NOW)
    rates = {r.key: (r.issues, r.resolved) for r in sp.fcr_rates(store, "agent")}
    assert rates["carol"] == (4, 1)
    assert rates["dave"] == (2, 1)
    # the repeat override turned carol's 4th contact to unresolved; a re-run keeps the counts
    job.run_repeats(store, PatternsOptions(), now=NOW)
    assert {r.key: (r.issues, r.resolved) for r in sp.fcr_rates(store, "agent")}["carol"] == (4, 1)


def test_fcr_reads_the_own_verdict_not_a_stale_repeat_override(store: Store) -> None:
    (iid,) = put(store, [Spec(started_at=NOW - timedelta(days=2), customer_key="g@x.org", topic="refund",
                              agent_name="erin")])
    # an earlier run overrode "resolved" after a repeat that no longer counts
    _verdict(store, iid, "unresolved", analysed="resolved")
    job.run_repeats(store, PatternsOptions(), now=NOW)
    assert [(r.key, r.issues, r.resolved) for r in sp.fcr_rates(store, "agent")] == [("erin", 1, 1)]
