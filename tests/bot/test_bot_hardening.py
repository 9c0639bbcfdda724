"""Issue #18: the Slack HTTP endpoint driven as an attacker would (each row of the issue's
table), Slack's retries, and the guard's parts (replay cache, log limiter). The real Bolt
app behind `bot.guard.SlackGuard`, served over loopback; Slack's Web API is the local fake.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slackhttp import SECRET, post, raw_post, sign, sign_bytes

from bot.guard import LogLimiter
from bot.listeners.actions import BAD_BUTTON, REVIEW_REFUSAL
from bot.questions.answers import MAX_QUESTION_CHARS
from bot.replay import ReplayCache
from store import audit, replay
from store import flags as store_flags
from store.db import Store

FORM = "application/x-www-form-urlencoded"
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def service_log(tmp_path: Path) -> Iterator[Path]:
    """The service's log as `convoscope serve` configures it (root at INFO, to a file),
    set up before the Bolt app is built (Bolt copies the root level into its loggers)."""
    path = tmp_path / "service.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old)


@pytest.fixture
def slack(service_log: Path, bot_http: Any) -> Any:
    return bot_http[1]


def _size(path: Path) -> int:
    for h in logging.getLogger().handlers:
        h.flush()
    return path.stat().st_size if path.exists() else 0


def _flag(store: Store, seeded: Any) -> tuple[int, int]:
    for iid, info in seeded.by_id.items():
        if info["flags"]:
            return iid, int(store_flags.for_interaction(store, iid)[0].id)  # type: ignore[arg-type]
    raise AssertionError("no flag seeded")


def _button(user: str, channel: str, action_id: str, value: Any, fake: Any, **extra: Any) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": action_id, "block_id": "review_x", "type": "button",
                              "action_ts": "1"}  # fmt: skip
    if value is not None:
        action["value"] = value
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": "t.9", "team": {"id": "T1"},
            "container": {"type": "message", "channel_id": channel, "message_ts": "1.5"},
            "response_url": fake.response_url("btn"), "actions": [action], **extra}  # fmt: skip


def _command_body(fake: Any, text: str, user: str = "U_SUPER") -> str:
    return urllib.parse.urlencode({
        "team_id": "T1", "channel_id": "C_OPS", "user_id": user, "command": "/convoscope",
        "text": text, "trigger_id": "t.1", "response_url": fake.response_url("cmd"),
    })  # fmt: skip


def _posted(fake: Any) -> list[str]:
    """Web API methods the bot called (auth.test at start-up excluded)."""
    return [c.method for c in fake.calls if c.method != "auth.test"]


# -- the table -------------------------------------------------------------------


def test_replayed_request_is_refused_and_runs_once(slack: Any, fake: Any, seeded: Any,
                                                   store: Store) -> None:  # fmt: skip
    body = _command_body(fake, "calls today")
    headers = sign(body)
    assert post(slack.url, body, FORM, headers)[0] == 200
    fake.wait_for("response_url")
    status, text = post(slack.url, body, FORM, headers)  # the same bytes, within 5 minutes
    assert status == 401 and "replayed" in text
    time.sleep(0.3)
    assert len(fake.of("response_url")) == 1
    assert len(audit.recent(store, action="ask")) == 1
    assert replay.count(store) >= 1  # the signature is in the shared table too


def test_replay_is_refused_by_another_instance_on_the_same_store(store: Store, fake: Any,
                                                                 seeded: Any) -> None:  # fmt: skip
    """Two bot instances sharing one store: a request one accepted, the other refuses."""
    from slack_sdk import WebClient
    from slackhttp import TZ

    from bot.app import build_app
    from bot.options import AccessOptions, RoleGrant, SlackOptions
    from bot.service import serve_http

    opts = SlackOptions(enabled=True, mode="http", bot_token="x", signing_secret=SECRET,
                        api_base_url=fake.api_url)  # fmt: skip
    access = AccessOptions(supervisors=RoleGrant(users=["U_SUPER"]))
    urls, servers = [], []
    for _ in range(2):
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        app, _deps = build_app(store, opts, access, TZ, web_client=client)
        server, _t, url = serve_http(app, "127.0.0.1", 0, signing_secret=SECRET, store=store)
        urls.append(url)
        servers.append(server)
    try:
        body = _command_body(fake, "calls today")
        headers = sign(body)
        assert post(urls[0], body, FORM, headers)[0] == 200
        status, text = post(urls[1], body, FORM, headers)
        assert status == 401 and "replayed" in text
        time.sleep(0.3)
        assert len(fake.of("response_url")) == 1
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
            s.get_app().replay.close()


def test_malformed_unsigned_payload_is_401_and_never_parsed(slack: Any, fake: Any, service_log: Path) -> None:
    body = "payload=" + urllib.parse.quote('{"type": "block_actions", "actions": [{"action_id"')
    for headers in ({}, {"X-Slack-Signature": "v0=" + "0" * 64,
                         "X-Slack-Request-Timestamp": str(int(time.time()))}):  # fmt: skip
        status, _ = post(slack.url, body, FORM, headers)
        assert status == 401
    log = service_log.read_text()
    assert "Traceback" not in log and "JSONDecodeError" not in log and "block_actions" not in log
    lines = [ln for ln in log.splitlines() if "slack http" in ln]
    assert len(lines) == 2 and all("127.0.0.1" in ln and len(ln) < 200 for ln in lines)
    assert "missing signature headers" in lines[0] and "bad signature" in lines[1]
    assert _posted(fake) == []


@pytest.mark.parametrize("body,ctype", [
    ("payload=" + urllib.parse.quote('{"type": "block_actions", "actions": [{'), FORM),
    ("payload=" + urllib.parse.quote('[{"type": "block_actions"}]'), FORM),
    ("payload=" + urllib.parse.quote('"just a string"'), FORM),
    ('[{"type": "event_callback"}]', "application/json"),
    ('{"type": "event_callback", "event": "not an object"}', "application/json"),
    ('{"type": "block_actions", "actions": "x", "user": {"id": "U_SUPER"}}', "application/json"),
    ('{"type": "block_actions", "team": 5, "actions": [{"action_id": "flag_confirm"}]}', "application/json"),
    ("payload=" + urllib.parse.quote('{"type": "view_submission", "view": {"callback_id": null}}'), FORM),
])  # fmt: skip
def test_malformed_or_array_signed_payload_is_400_with_a_clear_log_line(
    slack: Any, fake: Any, service_log: Path, body: str, ctype: str
) -> None:
    status, text = post(slack.url, body, ctype, sign(body))
    assert status == 400 and "malformed payload" in text
    log = service_log.read_text()
    assert "Traceback" not in log
    (line,) = [ln for ln in log.splitlines() if "slack http" in ln]
    assert "signed request from 127.0.0.1 rejected: malformed payload" in line
    time.sleep(0.2)
    assert _posted(fake) == []


@pytest.mark.parametrize("ts", ["abc", "1e9", "12.5", "-5", "+1700000000", " 1700000000",
                                "9" * 40, "１２３"])  # fmt: skip
def test_non_numeric_timestamp_is_401(slack: Any, fake: Any, ts: str) -> None:
    body = _command_body(fake, "calls today")
    headers = sign(body)  # a correct signature over the real timestamp...
    headers["X-Slack-Request-Timestamp"] = ts  # ...and a timestamp that is not an integer
    status, text = raw_post(slack.url, body.encode(), {"Content-Type": FORM, **headers})[0::2]
    assert status == 401 and b"timestamp" in text
    assert _posted(fake) == []


def test_future_and_stale_timestamps_are_401(slack: Any, fake: Any) -> None:
    body = _command_body(fake, "calls today")
    for skew, why in ((+301, "future"), (-301, "stale")):
        status, text = post(slack.url, body, FORM, sign(body, ts=int(time.time()) + skew))
        assert status == 401 and why in text
    status, _ = post(slack.url, body, FORM, sign(body, ts=int(time.time()) + 200))  # within ±5 min
    assert status == 200


@pytest.mark.parametrize("value", ["not json", '{"flag": "x"}', "[1, 2]", '{"flag": -3}',
                                   '{"flag": true}', '{"interaction": 4}', None, "{" * 5000])  # fmt: skip
def test_mangled_confirm_value_gets_an_ephemeral_error_and_an_audit_row(
    slack: Any, fake: Any, seeded: Any, store: Store, value: str | None
) -> None:
    status, _ = slack.interactive(_button("U_SUPER", "C_OPS", "flag_confirm", value, fake))
    assert status == 200
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["user"] == "U_SUPER" and eph.args["text"] == BAD_BUTTON
    (row,) = audit.recent(store, action="review.malformed")
    assert row["actor"] == "slack:U_SUPER" and len(row["detail"]["value"]) <= 200
    assert not fake.of("chat.update") and not fake.of("views.open")


def test_outsiders_mangled_confirm_is_refused_first_and_audited(slack: Any, fake: Any, seeded: Any,
                                                                store: Store) -> None:  # fmt: skip
    iid, fid = _flag(store, seeded)
    for value in ("garbage", json.dumps({"flag": fid, "interaction": iid})):
        slack.interactive(_button("U_STRANGER", "C_RANDOM", "flag_confirm", value, fake))
    ephs = fake.wait_for("chat.postEphemeral", 2)
    assert all(e.args["text"] == REVIEW_REFUSAL for e in ephs)
    refused = audit.recent(store, action="review.refused")
    assert len(refused) == 2 and {r["actor"] for r in refused} == {"slack:U_STRANGER"}
    assert audit.recent(store, action="review.malformed") == []  # nothing learnt about the value
    assert store_flags.get(store, fid).review_status == "open"  # type: ignore[union-attr]


def test_button_without_user_is_audited_and_answered_through_response_url(
    slack: Any, fake: Any, seeded: Any, store: Store
) -> None:
    payload = _button("U_SUPER", "C_OPS", "flag_confirm", '{"flag": 1}', fake)
    del payload["user"]
    assert slack.interactive(payload)[0] == 200
    (resp,) = fake.wait_for("response_url")
    assert resp.args["text"] == BAD_BUTTON and resp.args["response_type"] == "ephemeral"
    assert audit.recent(store, action="review.malformed")[0]["actor"] == "slack:unknown"


def test_dismiss_on_a_flag_that_does_not_exist(slack: Any, fake: Any, seeded: Any, store: Store) -> None:
    status, _ = slack.interactive(_button("U_SUPER", "C_OPS", "flag_dismiss",
                                          json.dumps({"flag": 987654, "interaction": 1}), fake))  # fmt: skip
    assert status == 200
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["text"] == "Flag 987654 no longer exists."
    assert not fake.of("views.open")
    row = audit.recent(store, action="review.missing")[0]
    assert row["target"] == "flag:987654" and row["actor"] == "slack:U_SUPER"


def test_dismiss_modal_with_mangled_metadata_shows_an_error_in_the_modal(
    slack: Any, fake: Any, seeded: Any, store: Store
) -> None:
    status, text = slack.interactive({
        "type": "view_submission", "user": {"id": "U_SUPER"}, "team": {"id": "T1"},
        "view": {"id": "V1", "type": "modal", "callback_id": "flag_dismiss_modal",
                 "private_metadata": "{{{", "state": {"values": {}}},
    })  # fmt: skip
    assert status == 200
    assert json.loads(text)["response_action"] == "errors"
    assert audit.recent(store, action="review.malformed")[0]["detail"]["why"].startswith("modal")


def test_unknown_action_id_is_answered_and_audited(slack: Any, fake: Any, seeded: Any,
                                                   store: Store) -> None:  # fmt: skip
    status, _ = slack.interactive(_button("U_SUPER", "C_OPS", "delete_everything", "1", fake))
    assert status == 200
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["text"] == BAD_BUTTON
    assert audit.recent(store, action="action.unknown")[0]["detail"]["action_id"] == "delete_everything"


def test_five_mb_unsigned_body_is_refused_unread_and_never_logged(slack: Any, fake: Any,
                                                                  service_log: Path) -> None:  # fmt: skip
    before = _size(service_log)
    marker = b"payload=" + b"A" * FIVE_MB
    for headers in ({"Content-Type": FORM},
                    {"Content-Type": FORM, **sign_bytes(marker)}):  # signed, too: size comes first
        status, _h, text = raw_post(slack.url, marker, headers)
        assert status == 413 and b"body of 5242888 bytes is over the 1048576-byte limit" in text
    grown = _size(service_log) - before
    assert grown < 1000, f"the log grew by {grown} bytes"
    assert "AAAA" not in service_log.read_text()
    assert slack.guard.counts.get("413 body over the size limit") == 2
    assert _posted(fake) == []
    # and the endpoint still answers
    body = _command_body(fake, "calls today")
    assert post(slack.url, body, FORM, sign(body))[0] == 200


def test_content_length_is_required(slack: Any, fake: Any) -> None:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(slack.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("POST", parts.path)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"5\r\nhello\r\n0\r\n\r\n")
    assert conn.getresponse().status == 411
    conn.close()


def test_five_mb_signed_question_is_refused_and_a_long_one_capped(slack: Any, fake: Any, seeded: Any,
                                                                  store: Store) -> None:  # fmt: skip
    huge = _command_body(fake, "angry calls " + "x" * FIVE_MB)
    status, _ = post(slack.url, huge, FORM, sign(huge))
    assert status == 413
    # Under the body cap but over the question cap: a short note, and a capped audit row.
    long_q = "angry calls today " + "and more " * 100_000  # ~900 KB
    body = _command_body(fake, long_q)
    assert len(body) < 1_048_576
    assert post(slack.url, body, FORM, sign(body))[0] == 200
    (resp,) = fake.wait_for("response_url")
    assert f"limited to {MAX_QUESTION_CHARS}" in resp.args["text"]
    row = audit.recent(store, action="ask")[0]
    assert row["detail"]["length"] == len(long_q.strip())
    assert len(row["detail"]["question"]) < MAX_QUESTION_CHARS + 30
    stored = store.cursor().execute("SELECT max(length(detail)) FROM audit_log").fetchone()[0]
    assert stored < 2000


# -- Slack's retries -----------------------------------------------------------------------


def _event_body(event_id: str, text: str) -> str:
    return json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()),
                       "authorizations": [{"user_id": "UBOT", "team_id": "T1", "is_bot": True}],
                       "event": {"type": "app_mention", "user": "U_SUPER", "channel": "C_SUPERS",
                                 "text": f"<@UBOT> {text}", "ts": "1.1"}})  # fmt: skip


def test_slack_retry_of_an_event_is_acknowledged_without_running_twice(
    slack: Any, fake: Any, seeded: Any, store: Store
) -> None:
    body = _event_body("Ev0001", "calls today")
    assert post(slack.url, body, "application/json", sign(body))[0] == 200
    fake.wait_for("chat.postMessage")
    # Slack's retry: the same event, signed afresh (new timestamp), with the retry headers
    retry = {**sign(body, ts=int(time.time()) + 1), "X-Slack-Retry-Num": "1",
             "X-Slack-Retry-Reason": "http_timeout"}  # fmt: skip
    status, headers, _ = raw_post(slack.url, body.encode(), {"Content-Type": "application/json", **retry})
    assert status == 200 and headers.get("x-slack-no-retry") == "1"
    time.sleep(0.4)
    assert len(fake.of("chat.postMessage")) == 1
    assert len(audit.recent(store, action="ask")) == 1
    # a retry of an event we never saw (the first delivery was lost) is handled
    other = _event_body("Ev0002", "calls today")
    status, _ = post(slack.url, other, "application/json", {**sign(other), "X-Slack-Retry-Num": "2"})
    assert status == 200
    fake.wait_for("chat.postMessage", 2)


# -- the guard's parts ------------------------------------------------------------------------


def test_replay_cache_is_bounded_and_expires() -> None:
    now = [0.0]
    cache = ReplayCache(ttl_seconds=10, max_entries=3, clock=lambda: now[0])
    assert cache.first_seen("a") and not cache.first_seen("a")
    for k in "bcd":
        assert cache.first_seen(k)
    assert len(cache) == 3  # "a" was evicted to stay within the bound
    now[0] = 11.0
    assert cache.first_seen("b")  # expired, so new again
    assert len(cache) == 1


def test_store_replay_keys_expire(store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime.now(UTC)
    assert replay.remember(store, "sig:x", 60, now=t0)
    assert not replay.remember(store, "sig:x", 60, now=t0 + timedelta(seconds=30))
    assert replay.remember(store, "sig:x", 60, now=t0 + timedelta(seconds=61))
    assert replay.purge_expired(store, now=t0 + timedelta(seconds=500)) == 1
    assert replay.count(store) == 0


def test_a_flood_of_bad_requests_costs_a_few_log_lines(slack: Any, service_log: Path) -> None:
    for i in range(60):
        post(slack.url, f"junk {i}", FORM, {"X-Slack-Signature": "nope", "X-Slack-Request-Timestamp": "1"})
    lines = [ln for ln in service_log.read_text().splitlines() if "slack http" in ln]
    assert len(lines) == 20  # LogLimiter's default: 20 per 10 s window; the rest counted


def test_log_limiter_summarises_what_it_suppressed(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    lim = LogLimiter(per_window=2, window=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.guard"):
        for i in range(5):
            lim.warn("refused %d", i)
        now[0] = 10.5
        lim.warn("refused %d", 99)
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs[:2] == ["refused 0", "refused 1"]
    assert "3 more refused requests" in msgs[2] and msgs[3] == "refused 99"


def test_a_body_shorter_than_its_content_length_is_400_without_reaching_bolt() -> None:
    """What a client that stops sending gets once the handler's read times out (the
    socket read returns short): a 400 and no dispatch."""
    import io

    from bot.guard import SlackGuard

    class NoBolt:
        def dispatch(self, req: Any) -> Any:
            raise AssertionError("a short body reached Bolt")

    body = b"command=%2Fconvoscope&text=hi"
    guard = SlackGuard(NoBolt(), SECRET)
    environ = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "REMOTE_ADDR": "10.0.0.9",
               "CONTENT_LENGTH": str(len(body) + 10), "CONTENT_TYPE": FORM,
               "wsgi.input": io.BytesIO(body),
               **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in sign_bytes(body).items()}}  # fmt: skip
    got: list[str] = []
    out = b"".join(guard(environ, lambda status, headers: got.append(status)))
    assert got == ["400 Bad Request"] and b"shorter" in out


def test_audit_log_caps_any_long_text(store: Store) -> None:
    audit.log(store, "api", "review.dismissed", "flag:1", {"reason": "r" * 50_000, "n": 3})
    row = audit.recent(store, action="review.dismissed")[0]
    assert len(row["detail"]["reason"]) < audit.MAX_DETAIL_TEXT + 30 and row["detail"]["n"] == 3
    assert row["detail"]["reason"].endswith("[+48000 chars]")


@pytest.mark.parametrize("body,ctype,expect", [
    ('{"token": "x", "challenge": "c-123", "type": "url_verification"}', "application/json", "c-123"),
    ("ssl_check=1&token=x", FORM, ""),
])  # fmt: skip
def test_slacks_own_setup_requests_still_pass_the_guard(slack: Any, fake: Any, body: str, ctype: str,
                                                         expect: str) -> None:  # fmt: skip
    status, text = post(slack.url, body, ctype, sign(body))
    assert status == 200 and expect in text


def test_limits_are_validated() -> None:
    from bot.options import SlackOptions

    with pytest.raises(ValueError, match="max_body_bytes"):
        SlackOptions(max_body_bytes=10)
    with pytest.raises(ValueError, match="max_question_chars"):
        SlackOptions(max_question_chars=0)


def test_requests_do_not_accumulate_store_cursors(slack: Any, fake: Any, seeded: Any,
                                                  store: Store) -> None:  # fmt: skip
    """The HTTP server starts a thread per request and the store keeps a cursor per
    thread: the replay table must be written from one thread, not from each request's."""
    for i in range(40):
        body = _command_body(fake, f"calls today {i}")
        assert post(slack.url, body, FORM, sign(body))[0] == 200
    fake.wait_for("response_url", 40)
    # Bolt's listener pool (10 threads at most) and the replay writer: not one per request
    assert len(store._cursors) <= 12
