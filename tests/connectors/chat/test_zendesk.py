"""Zendesk source against the local Zendesk fake: paging, roles, versions, faults."""

from __future__ import annotations

import pytest
from vendors import SleepRecorder, ZendeskFake

from connectors.chat.options import ZendeskOptions
from connectors.chat.zendesk import ZendeskSource
from connectors.http import AuthError
from store import Store, quarantine, sync
from store import interactions as iq


def _source(fake: ZendeskFake, sleeps: SleepRecorder | None = None, **kw: object) -> ZendeskSource:
    opts = ZendeskOptions(name="acme", base_url=fake.url, email=fake.email,
                          api_token=str(kw.pop("api_token", fake.token)), **kw)  # type: ignore[arg-type]
    return ZendeskSource(opts, sleep=sleeps or SleepRecorder())


def _seed(fake: ZendeskFake, tickets: int = 5) -> None:
    """Ticket 1 is hand-written (roles, notes, HTML, phone); the rest are generated."""
    fake.add_user(100, "Dana Agent", "agent", "dana@acme.example")
    fake.add_user(7, "Rita Repeat", "end-user", "Rita.Repeat@Example.com", "+1 (415) 555-0142")
    fake.add_ticket(1, subject="Refund still missing", requester_id=7, assignee_id=100,
                    group_id=360001)
    fake.add_comment(1, 7, "Where is my refund? I asked last week.", channel="chat")
    fake.add_comment(1, -1, "Here is an article about refunds.", channel="answer_bot")
    fake.add_comment(1, 100, "<p>Sorry Rita, I have <b>re-issued</b> it.</p>", channel="chat")
    fake.add_comment(1, 100, "customer called twice already", public=False)
    fake.add_comment(1, 7, "Thanks.", channel="chat")
    fake.populate(tickets - 1, start_id=2)
    # an outbound ticket: the requester has not written (yet); known from the export's sideload
    fake.add_user(8, "Quiet Quinn", "end-user", "Quinn@Example.org")
    fake.add_ticket(99, subject="We owe you a refund", requester_id=8, assignee_id=100)
    fake.add_comment(99, 100, "Hi Quinn, we noticed a double charge and refunded it.")


def test_initial_sync_pages_and_normalises(store: Store, zendesk: ZendeskFake) -> None:
    zendesk.comments_per_page = 2  # comments come in several pages too
    _seed(zendesk)
    report = _source(zendesk, page_size=2).sync(store)
    assert (report.inserted, report.updated, report.quarantined, report.errors) == (6, 0, 0, [])
    export_calls = [p for _, p in zendesk.requests if "incremental" in p]
    assert len(export_calls) == 3  # 2 + 2 + 2 tickets
    outbound = iq.get(store, iq.existing_hashes(store, "zendesk:acme", ["99"])["99"][0])
    assert outbound is not None and outbound.customer_key == "quinn@example.org"
    assert [t.speaker for t in outbound.turns] == ["agent"]
    assert (outbound.direction, it_direction(store)) == ("outbound", "inbound")
    it = iq.get(store, iq.existing_hashes(store, "zendesk:acme", ["1"])["1"][0])
    assert it is not None
    assert (it.channel, it.subject, it.agent, it.queue) == ("chat", "Refund still missing",
                                                            "Dana Agent", "Billing")
    assert it.customer == "Rita Repeat" and it.customer_key == "rita.repeat@example.com"
    assert [t.speaker for t in it.turns] == ["customer", "bot", "agent", "customer"]
    assert it.turns[2].text == "Sorry Rita, I have re-issued it."
    assert all(t.sent_at is not None for t in it.turns)
    assert it.turns[0].sent_at < it.turns[-1].sent_at
    assert it.metadata["internal_notes"] == 1
    assert sync.get_cursor(store, "zendesk:acme")["after_cursor"]


def it_direction(store: Store) -> str | None:
    got = iq.get(store, iq.existing_hashes(store, "zendesk:acme", ["1"])["1"][0])
    return got.direction if got else None


def test_resync_adds_nothing_and_an_update_is_version_2(store: Store, zendesk: ZendeskFake) -> None:
    _seed(zendesk)
    src = _source(zendesk)
    assert src.sync(store).inserted == 6
    again = src.sync(store)
    assert (again.inserted, again.updated) == (0, 0)
    zendesk.add_comment(3, 500003, "Actually it broke again.", channel="chat")
    third = src.sync(store)
    assert (third.inserted, third.updated) == (0, 1)
    iid = iq.existing_hashes(store, "zendesk:acme", ["3"])["3"][0]
    it = iq.get(store, iid)
    assert it is not None and it.version == 2 and it.turns[-1].text == "Actually it broke again."
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 6


def test_rate_limit_and_server_error_mid_sync(store: Store, zendesk: ZendeskFake) -> None:
    _seed(zendesk)
    sleeps = SleepRecorder()
    zendesk.fail_next("incremental", "429", headers={"Retry-After": "2"})
    zendesk.fail_next("tickets/2/comments", "500")
    report = _source(zendesk, sleeps).sync(store)
    assert (report.inserted, report.errors) == (6, [])
    assert 2.0 in sleeps.waits and len(sleeps.waits) == 2


def test_malformed_page_is_quarantined_and_the_next_run_resumes(store: Store,
                                                                zendesk: ZendeskFake) -> None:
    _seed(zendesk)
    zendesk.fail_next("cursor.json?cursor=", "malformed", times=2)  # the second export page, twice
    src = _source(zendesk, page_size=2)
    first = src.sync(store)
    assert (first.inserted, first.quarantined) == (2, 1)
    [item] = quarantine.list_items(store, "zendesk:acme")
    assert item.item_key.startswith("page:") and item.excerpt.startswith('{"tickets": [')
    second = src.sync(store)
    assert (second.inserted, second.quarantined, second.errors) == (4, 0, [])
    assert quarantine.list_items(store, "zendesk:acme") == []  # it went through after all
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 6


def test_a_poisoned_ticket_is_retried_then_given_up_without_losing_others(
    store: Store, zendesk: ZendeskFake
) -> None:
    _seed(zendesk)
    zendesk.fail_next("tickets/3/comments", "malformed", times=4)  # bad on both runs, re-asks included
    src = _source(zendesk, max_attempts=2)
    first = src.sync(store)  # the page waits for ticket 3: nothing committed, nothing skipped
    assert (first.inserted, first.quarantined) == (0, 1)
    assert sync.get_cursor(store, "zendesk:acme") is None
    second = src.sync(store)  # second failure: give up on 3, keep going
    assert (second.inserted, second.quarantined) == (5, 1)
    assert "gave up on ticket:3" in second.errors[0]
    [item] = quarantine.list_items(store, "zendesk:acme")
    assert item.item_key == "ticket:3" and item.attempts == 2 and item.excerpt
    zendesk.add_comment(3, 500003, "Hello again?", channel="chat")  # it changes: it comes back
    assert src.sync(store).inserted == 1


def test_wrong_token_is_a_clear_error(store: Store, zendesk: ZendeskFake) -> None:
    _seed(zendesk, 1)
    with pytest.raises(AuthError, match=r"zendesk:acme.*refused the credentials \(401\)"):
        _source(zendesk, api_token="wrong").sync(store)
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 0


def test_oauth_bearer_token(store: Store) -> None:
    with ZendeskFake(oauth_token="oauth-123") as fake:
        _seed(fake, 2)
        src = ZendeskSource(ZendeskOptions(name="acme", base_url=fake.url,
                                           oauth_token="oauth-123"))
        assert src.sync(store).inserted == 3


def test_a_ticket_gone_between_list_and_fetch_does_not_wedge_the_source(
    store: Store, zendesk: ZendeskFake
) -> None:
    _seed(zendesk)
    zendesk.fail_next("tickets/2/comments", "404", times=5)
    src = _source(zendesk, max_attempts=2)
    assert src.sync(store).inserted == 0  # retried next run first
    second = src.sync(store)
    assert second.inserted == 5 and "gave up on ticket:2" in second.errors[0]
    assert "404" in quarantine.list_items(store, "zendesk:acme")[0].reason
