"""Front source against the local Front fake: newest-first walk with a watermark."""

from __future__ import annotations

import pytest
from vendors import FrontFake, SleepRecorder

from connectors.chat.front import FrontSource
from connectors.chat.options import FrontOptions
from connectors.http import AuthError
from store import Store, quarantine, sync
from store import interactions as iq


def _source(fake: FrontFake, sleeps: SleepRecorder | None = None, **kw: object) -> FrontSource:
    opts = FrontOptions(name="acme", base_url=fake.url,
                        api_token=str(kw.pop("api_token", fake.token)), **kw)  # type: ignore[arg-type]
    return FrontSource(opts, sleep=sleeps or SleepRecorder())


def _seed(fake: FrontFake, n: int = 7) -> None:
    alex = fake.teammate("tea_1", "Alex", "Rivera", "alex@acme.example")
    fake.add_conversation("cnv_sms", subject="Refund again", handle="+14155550142",
                          assignee=alex, tags=["billing"])
    fake.add_message("cnv_sms", inbound=True, body="Second time asking about my refund!",
                     sender_name="Rita Repeat")
    fake.add_message("cnv_sms", inbound=False, body="<p>Auto-reply: we got your message.</p>")
    fake.add_message("cnv_sms", inbound=False, body="<div>Hi Rita, checking now.</div>",
                     author=alex)
    fake.populate(n - 1, start_id=2)


def _count(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0]


def test_walk_pages_roles_and_fields(store: Store, front: FrontFake) -> None:
    front.messages_per_page = 2  # messages page too
    _seed(front)
    report = _source(front, page_size=3).sync(store)
    assert (report.inserted, report.errors) == (7, [])
    lists = [p for _, p in front.requests if p.startswith("/conversations?")]
    assert len(lists) == 3  # 3 + 3 + 1
    it = iq.get(store, iq.existing_hashes(store, "front:acme", ["cnv_sms"])["cnv_sms"][0])
    assert it is not None
    assert [t.speaker for t in it.turns] == ["customer", "bot", "agent"]  # oldest first
    assert it.turns[2].text == "Hi Rita, checking now." and it.turns[2].speaker_name == "Alex Rivera"
    assert (it.customer, it.customer_key, it.queue, it.agent) == (
        "Rita Repeat", "+14155550142", "billing", "Alex Rivera")
    assert sync.get_cursor(store, "front:acme")["next"] is None


def test_second_run_stops_at_loaded_data_and_picks_up_new_activity(store: Store,
                                                                   front: FrontFake) -> None:
    _seed(front, 20)
    src = _source(front, page_size=5)
    assert src.sync(store).inserted == 20
    before = len(front.requests)
    again = src.sync(store)
    assert (again.inserted, again.updated) == (0, 0)
    second_run = front.requests[before:]
    assert sum(p.startswith("/conversations?") for _, p in second_run) == 1  # only the top page
    mate = front.teammate("tea_2", "Jo", "Chen", "jo@acme.example")
    front.add_message("cnv_4", inbound=True, body="Hello? Any news?", sender_name="Client 4")
    front.add_conversation("cnv_new", subject="New", handle="new@example.com", assignee=mate)
    front.add_message("cnv_new", inbound=True, body="Hi there")
    third = src.sync(store)
    assert (third.inserted, third.updated) == (1, 1)
    it = iq.get(store, iq.existing_hashes(store, "front:acme", ["cnv_4"])["cnv_4"][0])
    assert it is not None and it.version == 2 and it.turns[-1].text == "Hello? Any news?"
    assert _count(store) == 21


def test_interrupted_walk_resumes_from_the_saved_next_link(store: Store, front: FrontFake) -> None:
    _seed(front, 9)
    src = _source(front, page_size=3)
    front.fail_next("page_token=", "malformed", times=2)  # the second page of the walk, still bad when re-asked
    first = src.sync(store)
    assert (first.inserted, first.quarantined) == (3, 1)
    cur = sync.get_cursor(store, "front:acme")
    assert cur["next"] and cur["watermark"] == 0
    second = src.sync(store)
    assert (second.inserted, second.errors) == (6, [])
    assert quarantine.list_items(store, "front:acme") == []
    assert sync.get_cursor(store, "front:acme")["next"] is None
    assert src.sync(store).inserted == 0


def test_429_and_500(store: Store, front: FrontFake) -> None:
    _seed(front, 4)
    sleeps = SleepRecorder()
    front.fail_next("/conversations?", "429", headers={"Retry-After": "5"})
    front.fail_next("cnv_2/messages", "500")
    report = _source(front, sleeps).sync(store)
    assert (report.inserted, report.errors) == (4, [])
    assert 5.0 in sleeps.waits and len(sleeps.waits) == 2


def test_wrong_token_is_a_clear_error(store: Store, front: FrontFake) -> None:
    _seed(front, 1)
    with pytest.raises(AuthError, match=r"front:acme.*\(401\)"):
        _source(front, api_token="bad").sync(store)


def test_an_expired_next_link_walks_again_from_the_top(store: Store, front: FrontFake) -> None:
    _seed(front, 9)
    src = _source(front, page_size=3)
    front.fail_next("page_token=", "malformed", times=2)  # interrupted after the first page
    assert src.sync(store).inserted == 3
    front.expire_tokens()  # the saved `next` link no longer works
    resumed = src.sync(store)
    assert (resumed.inserted, resumed.errors) == (6, [])
    assert [s for _, s in front.requests].count("/conversations?limit=3") == 2
    assert _count(store) == 9 and sync.get_cursor(store, "front:acme")["next"] is None
