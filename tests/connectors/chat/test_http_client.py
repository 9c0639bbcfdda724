"""The shared HTTP layer against a real local server: rate limits, retries, typed errors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from vendors import SleepRecorder, ZendeskFake

from connectors.http import (
    AuthError,
    HttpClient,
    HttpStatusError,
    MalformedResponse,
    RetriesExhausted,
    RetryOptions,
    retry_after_seconds,
)

GROUPS = "/api/v2/groups.json"


def _client(fake: ZendeskFake, sleeps: SleepRecorder, token: str | None = None,
            **opts: float) -> HttpClient:
    auth = base64.b64encode(f"{fake.email}/token:{token or fake.token}".encode()).decode()
    return HttpClient(fake.url, name="zendesk:test", headers={"Authorization": f"Basic {auth}"},
                      options=RetryOptions(**opts), sleep=sleeps)


def test_retry_after_forms() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds({"retry-after": "7"}, now) == 7.0
    date = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now) == pytest.approx(30.0)
    assert retry_after_seconds({"x-ratelimit-reset": str(int(now) + 12)}, now) == 12.0
    assert retry_after_seconds({"retry-after": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None


def test_429_waits_what_retry_after_says(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    zendesk.fail_next("groups", "429", headers={"Retry-After": "3"})
    with _client(zendesk, sleeps) as client:
        data = client.get_json(GROUPS)
    assert [g["name"] for g in data["groups"]] == ["Billing", "Support"]
    assert sleeps.waits == [3.0]


def test_429_with_http_date(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    when = datetime.now(UTC).timestamp() + 20
    zendesk.fail_next("groups", "429",
                      headers={"Retry-After": format_datetime(datetime.fromtimestamp(when, UTC),
                                                              usegmt=True)})
    with _client(zendesk, sleeps) as client:
        client.get_json(GROUPS)
    assert len(sleeps.waits) == 1 and 15 <= sleeps.waits[0] <= 21


def test_5xx_then_success_backs_off_with_jitter_and_cap(zendesk: ZendeskFake,
                                                        sleeps: SleepRecorder) -> None:
    zendesk.fail_next("groups", "500", times=3)
    with _client(zendesk, sleeps, backoff_initial_seconds=2, backoff_max_seconds=5) as client:
        client.get_json(GROUPS)
    assert len(sleeps.waits) == 3
    assert all(0 <= w <= 5 for w in sleeps.waits)
    assert sum(1 for m, p in zendesk.requests if p.startswith(GROUPS)) == 4


def test_dropped_connection_is_retried(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    zendesk.fail_next("groups", "drop")
    with _client(zendesk, sleeps) as client:
        assert client.get_json(GROUPS)["count"] == 2
    assert len(sleeps.waits) == 1


def test_attempt_cap_gives_a_clear_error(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    zendesk.fail_next("groups", "500", times=10)
    with _client(zendesk, sleeps, max_attempts=3) as client, \
            pytest.raises(RetriesExhausted, match="after 3 attempts: server error 500"):
        client.get_json(GROUPS)
    assert len(sleeps.waits) == 2


def test_total_wait_cap_stops_before_a_long_retry_after(zendesk: ZendeskFake,
                                                        sleeps: SleepRecorder) -> None:
    zendesk.fail_next("groups", "429", headers={"Retry-After": "600"})
    with _client(zendesk, sleeps, max_total_wait_seconds=60) as client, \
            pytest.raises(RetriesExhausted, match="rate limited"):
        client.get_json(GROUPS)
    assert sleeps.waits == []


def test_malformed_json_carries_an_excerpt(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    zendesk.fail_next("groups", "malformed", times=2)  # bad, and bad again when re-asked
    with _client(zendesk, sleeps) as client, pytest.raises(MalformedResponse) as info:
        client.get_json(GROUPS)
    assert info.value.excerpt.startswith('{"groups": [')
    assert info.value.url.endswith(GROUPS)
    assert sum(1 for _m, p in zendesk.requests if p.startswith(GROUPS)) == 2
    assert all(w == 0 for w in sleeps.waits)  # re-asked at once, no backoff


def test_a_single_garbled_body_is_asked_again(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    """A 200 whose body is cut short or not JSON (a proxy's page) is usually a one-off:
    one immediate re-ask, instead of quarantining a page for the next run."""
    zendesk.fail_next("groups", "malformed")
    with _client(zendesk, sleeps) as client:
        assert client.get_json(GROUPS)["count"] == 2
    with _client(zendesk, sleeps, malformed_retries=0) as client:
        zendesk.fail_next("groups", "malformed")
        with pytest.raises(MalformedResponse):
            client.get_json(GROUPS)


def test_wrong_credentials_are_an_auth_error(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    with _client(zendesk, sleeps, token="stale") as client, pytest.raises(AuthError, match=r"zendesk:test.*401"):
        client.get_json(GROUPS)
    assert sleeps.waits == []


def test_other_4xx_is_not_retried(zendesk: ZendeskFake, sleeps: SleepRecorder) -> None:
    with _client(zendesk, sleeps) as client, pytest.raises(HttpStatusError, match="404"):
        client.get_json("/api/v2/nothing.json")
    assert len(zendesk.requests) == 1


def test_requests_per_minute_spaces_requests(zendesk: ZendeskFake) -> None:
    clock = [1000.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    auth = base64.b64encode(f"{zendesk.email}/token:{zendesk.token}".encode()).decode()
    with HttpClient(zendesk.url, name="z", headers={"Authorization": f"Basic {auth}"},
                    options=RetryOptions(requests_per_minute=10), sleep=sleep,
                    clock=lambda: clock[0]) as client:
        for _ in range(3):
            client.get_json(GROUPS)
    assert waits == [pytest.approx(6.0), pytest.approx(6.0)]


def test_quota_used_up_holds_the_next_request_until_the_reset() -> None:
    """Intercom's X-RateLimit-Remaining: 0 + X-RateLimit-Reset: wait before asking again."""
    from vendors import IntercomFake

    clock = [2_000_000_000.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    with IntercomFake() as fake, HttpClient(
        fake.url, name="intercom:test", headers={"Authorization": f"Bearer {fake.token}"},
        sleep=sleep, clock=lambda: clock[0],
    ) as client:
        fake.rate_remaining, fake.rate_reset = 0, int(clock[0]) + 7
        client.get_json("/teams")
        assert waits == []
        fake.rate_remaining = 500
        client.get_json("/teams")
        assert waits == [7.0]
        client.get_json("/teams")
        assert waits == [7.0]
