"""Intercom source against the local Intercom fake, whose every exchange is checked
against Intercom's published OpenAPI description (shared/specs/intercom-2.11.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from vendors import IntercomFake, SleepRecorder

from connectors.chat.intercom import IntercomSource
from connectors.chat.options import IntercomOptions
from connectors.http import AuthError
from store import Store, quarantine, sync
from store import interactions as iq

SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "intercom-2.11.yaml"
PUBLIC_HOST = "https://api.intercom.io"


@pytest.fixture(scope="module")
def openapi() -> Any:
    """Intercom's spec, loaded once. The published 2.11 file references a schema it never
    defines (`custom_attributes`); it is added as a free-form object, which is what the
    API returns there, so that the rest of the document can be used as published."""
    import yaml
    from openapi_core import OpenAPI

    path = SPEC if SPEC.exists() else Path("/work/shared/specs/intercom-2.11.yaml")
    spec = yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schemas = spec["components"]["schemas"]
    schemas.setdefault("custom_attributes", {"type": "object"})
    return OpenAPI.from_dict(spec)


def _validate_exchanges(openapi: Any, fake: IntercomFake) -> int:
    """Validate every recorded request and answer; returns how many were checked."""
    import requests
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    checked = 0
    for ex in fake.exchanges:
        url = PUBLIC_HOST + ex.path + (f"?{ex.query}" if ex.query else "")
        headers = {k: v for k, v in ex.headers.items() if k in ("authorization", "intercom-version",
                                                                 "content-type", "accept")}
        req = requests.Request(ex.method, url, headers=headers, data=ex.body or None).prepare()
        resp = requests.Response()
        resp.status_code = ex.status
        resp._content = ex.response_body
        resp.headers.update(ex.response_headers)
        oreq = RequestsOpenAPIRequest(req)
        if ex.status < 400:
            openapi.validate_request(oreq)
        openapi.validate_response(oreq, RequestsOpenAPIResponse(resp))
        checked += 1
    return checked


def _source(fake: IntercomFake, sleeps: SleepRecorder | None = None, **kw: Any) -> IntercomSource:
    opts = IntercomOptions(name="acme", base_url=fake.url,
                           access_token=kw.pop("access_token", fake.token), **kw)
    return IntercomSource(opts, sleep=sleeps or SleepRecorder())


def _seed(fake: IntercomFake, n: int = 6) -> None:
    user = fake.author("user", "c-77", "Rita Repeat", "Rita.Repeat@Example.com")
    bot = fake.author("bot", "b-1", "Fin", None)
    admin = fake.author("admin", "991", "Sam Admin", "sam@acme.example")
    fake.add_conversation("1", author=user, body="<p>My <b>refund</b> never arrived.</p>",
                          contact_id="c-77", admin_assignee_id=991, team_assignee_id=4501,
                          title="Refund")
    fake.add_part("1", bot, "<p>I can help with refunds! Did you try our help center?</p>")
    fake.add_part("1", user, "<p>I want a human.</p>")
    fake.add_part("1", admin, None, part_type="assignment")
    fake.add_part("1", admin, "<p>internal: VIP</p>", part_type="note")
    fake.add_part("1", admin, "<p>Hi Rita, I&#39;m on it.</p>")
    fake.populate(n - 1, start_id=2)


def test_sync_pages_roles_and_matches_the_published_spec(store: Store, intercom: IntercomFake,
                                                          openapi: Any) -> None:
    _seed(intercom)
    report = _source(intercom, page_size=2).sync(store)
    assert (report.inserted, report.quarantined, report.errors) == (6, 0, [])
    searches = [ex for ex in intercom.exchanges if ex.path == "/conversations/search"]
    assert len(searches) == 3
    assert json.loads(searches[1].body)["pagination"]["starting_after"]
    it = iq.get(store, iq.existing_hashes(store, "intercom:acme", ["1"])["1"][0])
    assert it is not None
    assert [t.speaker for t in it.turns] == ["customer", "bot", "customer", "agent"]
    assert [t.text for t in it.turns][::3] == ["My refund never arrived.", "Hi Rita, I'm on it."]
    assert (it.agent, it.queue, it.subject) == ("Sam Admin", "Tier 1", "Refund")
    assert it.customer_key == "rita.repeat@example.com" and it.customer == "Rita Repeat"
    assert it.metadata["internal_notes"] == 1
    assert _validate_exchanges(openapi, intercom) == len(intercom.exchanges) >= 10


def test_the_validator_rejects_a_wrong_shape(intercom: IntercomFake, openapi: Any) -> None:
    """The spec check is not vacuous: a conversation missing required keys fails it."""
    from openapi_core.validation.response.exceptions import InvalidData

    _seed(intercom, 1)
    intercom.conversations["1"].pop("source")
    src = _source(intercom)
    src.client.get_json("/conversations/1")
    src.close()
    with pytest.raises(InvalidData):
        _validate_exchanges(openapi, intercom)


def test_resync_adds_nothing_and_a_new_part_is_version_2(store: Store, intercom: IntercomFake,
                                                          openapi: Any) -> None:
    _seed(intercom)
    src = _source(intercom)
    assert src.sync(store).inserted == 6
    watermark = sync.get_cursor(store, "intercom:acme")["updated_since"]
    again = src.sync(store)
    assert (again.inserted, again.updated) == (0, 0)
    intercom.add_part("1003", intercom.author("user", "u3", "User 3", "user3@example.com"),
                      "<p>still broken</p>")
    third = src.sync(store)
    assert (third.inserted, third.updated) == (0, 1)
    it = iq.get(store, iq.existing_hashes(store, "intercom:acme", ["1003"])["1003"][0])
    assert it is not None and it.version == 2 and it.turns[-1].text == "still broken"
    assert sync.get_cursor(store, "intercom:acme")["updated_since"] > watermark
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 6
    _validate_exchanges(openapi, intercom)


def test_rate_limit_reset_header_and_500(store: Store, intercom: IntercomFake) -> None:
    _seed(intercom)
    sleeps = SleepRecorder()
    import time

    intercom.fail_next("/conversations/search", "429",
                       headers={"X-RateLimit-Reset": str(int(time.time()) + 10)})
    intercom.fail_next("/conversations/1004", "500")
    report = _source(intercom, sleeps).sync(store)
    assert (report.inserted, report.errors) == (6, [])
    assert len(sleeps.waits) == 2 and 8 <= max(sleeps.waits) <= 10


def test_malformed_search_page_then_resume(store: Store, intercom: IntercomFake) -> None:
    _seed(intercom)
    src = _source(intercom, page_size=2)
    intercom.fail_next("/conversations/search", "malformed", times=2)  # bad again when re-asked
    first = src.sync(store)
    assert (first.inserted, first.quarantined) == (0, 1)
    [item] = quarantine.list_items(store, "intercom:acme")
    assert '"conversations"' in item.excerpt and "not JSON" in item.reason
    second = src.sync(store)
    assert (second.inserted, second.errors) == (6, [])
    assert quarantine.list_items(store, "intercom:acme") == []  # it went through after all


def test_wrong_token_is_a_clear_error(store: Store, intercom: IntercomFake) -> None:
    _seed(intercom, 1)
    with pytest.raises(AuthError, match=r"intercom:acme.*\(401\)"):
        _source(intercom, access_token="nope").sync(store)


def test_an_expired_page_token_restarts_the_search(store: Store, intercom: IntercomFake) -> None:
    _seed(intercom)
    src = _source(intercom, page_size=2)
    assert src.sync(store).inserted == 6
    # an interrupted run left a page token in the cursor, and the token has since expired
    intercom.add_part("1004", intercom.author("user", "u4", "User 4", "user4@example.com"),
                      "<p>one more thing</p>")
    cur = sync.get_cursor(store, "intercom:acme")
    sync.save_cursor(store, "intercom:acme", {**cur, "starting_after": intercom.page_token(2)})
    intercom.expire_tokens()
    resumed = src.sync(store)
    assert (resumed.inserted, resumed.updated, resumed.errors) == (0, 1, [])
    assert [ex.status for ex in intercom.exchanges].count(400) == 1
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 6
