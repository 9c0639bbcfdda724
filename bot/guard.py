"""The guard in front of Bolt on the Slack HTTP endpoint: verify first, parse after.

Bolt's WSGI adapter reads the whole body, decodes and parses it, and only then checks
the signature; its refusal logs the entire body at INFO. So an unauthenticated client
could make the service parse arbitrary JSON (a 500 and a traceback) or fill the disk
through the log. The guard does, in this order, and refuses at the first failure:

1. path and method (404/405), without reading the body;
2. `Content-Length` present and at most `max_body_bytes` (411/413), still without reading;
3. signature headers well-formed, timestamp an integer within ±`max_skew_seconds` (401);
4. the body read in chunks up to exactly `Content-Length` (400 when short);
5. HMAC-SHA256 of `v0:{ts}:{body}` compared in constant time (401);
6. the signature not seen before (401 "replayed": see `bot.replay`);
7. the body UTF-8, parsed as Bolt parses it, and shaped as Bolt expects (400);
8. an `event_id` already handled (Slack's retry, `X-Slack-Retry-Num`): 200 without
   running the handler again;

and then hands the request to Bolt. Nothing about an unverified request is logged but
one short line (source address, reason), and those lines are rate-limited. A refused
request's unread body is drained (read and discarded, bounded in bytes and time) after
the answer, so ordinary HTTP clients see the 413 instead of a reset connection.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bot.payloads import check_shape
from bot.replay import ReplayCache

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_048_576
MAX_SKEW_SECONDS = 300
_CHUNK = 65_536
_TS = re.compile(r"^[0-9]{1,12}$")
_SIG = re.compile(r"^v0=[0-9a-f]{64}$")
_DRAIN_BYTES = 64 * 1_048_576
_DRAIN_SECONDS = 2.0


class LogLimiter:
    """At most `per_window` refusal lines per `window` seconds; the rest are counted and
    summed up in one line when the next window opens (a flood costs a few lines)."""

    def __init__(self, per_window: int = 20, window: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self._start = clock()
        self._count = 0
        self._suppressed = 0
        self._lock = threading.Lock()

    def warn(self, msg: str, *args: Any) -> None:
        with self._lock:
            now = self.clock()
            if now - self._start >= self.window:
                if self._suppressed:
                    log.warning("slack http: %d more refused requests in the last %.0f s "
                                "(not logged one by one)", self._suppressed, self.window)  # fmt: skip
                self._start, self._count, self._suppressed = now, 0, 0
            self._count += 1
            if self._count > self.per_window:
                self._suppressed += 1
                return
        log.warning(msg, *args)


class _Answer:
    """A WSGI response body that, once written, drains what is left of the request body."""

    def __init__(self, body: bytes, stream: Any, unread: int) -> None:
        self.body = body
        self.stream = stream
        self.unread = unread

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    def close(self) -> None:
        left = min(self.unread, _DRAIN_BYTES)
        deadline = time.monotonic() + _DRAIN_SECONDS
        try:
            while left > 0 and time.monotonic() < deadline:
                got = self.stream.read(min(_CHUNK, left))
                if not got:
                    break
                left -= len(got)
        except OSError:
            pass  # the client went away: nothing left to be polite to


class SlackGuard:
    """A WSGI app: the checks above, then Bolt's `App.dispatch`."""

    def __init__(
        self,
        app: Any,
        signing_secret: str,
        *,
        path: str = EVENTS_PATH,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_skew_seconds: int = MAX_SKEW_SECONDS,
        replay: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_secret:
            raise ValueError("the Slack guard needs the signing secret")
        self.app = app
        self.secret = signing_secret.encode()
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.max_skew = max_skew_seconds
        # A signature is valid until its timestamp is max_skew old; a timestamp may be up
        # to max_skew in the future: remember signatures for twice the skew.
        self.replay = replay if replay is not None else ReplayCache(ttl_seconds=2 * max_skew_seconds)
        self.clock = clock
        self.limiter = LogLimiter()
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, headers, body, unread = self._handle(environ)
        start_response(status, headers)
        if unread:
            return _Answer(body, environ.get("wsgi.input"), unread)
        return [body]

    def _handle(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes, int]:
        peer = str(environ.get("REMOTE_ADDR") or "?")
        length_raw = str(environ.get("CONTENT_LENGTH") or "").strip()
        length = int(length_raw) if length_raw.isdigit() and len(length_raw) < 16 else None
        unread = length or 0

        def refuse(code: int, reason: str, *, signed: bool = False,
                   kind: str | None = None) -> tuple[str, list[tuple[str, str]], bytes, int]:  # fmt: skip
            self._count(f"{code} {kind or reason}")
            if signed:
                self.limiter.warn("slack http: signed request from %s rejected: %s", peer, reason)
            else:
                self.limiter.warn("slack http: refused request from %s: %s", peer, reason)
            return _status(code), _plain(), f"{reason}\n".encode(), unread

        if environ.get("PATH_INFO") != self.path:
            return refuse(404, "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return refuse(405, "method not allowed")
        if length is None:
            return refuse(411 if not length_raw else 400, "missing or invalid Content-Length")
        if length > self.max_body_bytes:
            return refuse(413, f"body of {length} bytes is over the {self.max_body_bytes}-byte limit",
                          kind="body over the size limit")
        ts = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        sig = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        if not ts or not sig:
            return refuse(401, "missing signature headers")
        if not _TS.match(ts):
            return refuse(401, "timestamp is not an integer")
        skew = int(self.clock()) - int(ts)
        if abs(skew) > self.max_skew:
            return refuse(401, "stale timestamp" if skew > 0 else "timestamp in the future")
        if not _SIG.match(sig):
            return refuse(401, "malformed signature")
        raw = _read(environ.get("wsgi.input"), length)
        unread = 0  # read (or the client stopped sending): nothing left to drain
        if raw is None or len(raw) != length:
            return refuse(400, "body shorter than Content-Length")
        expected = "v0=" + hmac.new(self.secret, b"v0:" + ts.encode() + b":" + raw,
                                    hashlib.sha256).hexdigest()  # fmt: skip
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            return refuse(401, "bad signature")
        if not self.replay.first_seen(f"sig:{sig}"):
            return refuse(401, "replayed request (signature already used)")
        # Verified: from here on the body may be decoded and parsed.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return refuse(400, "body is not UTF-8", signed=True)
        ctype = str(environ.get("CONTENT_TYPE") or "")
        try:
            from slack_bolt.request.internals import parse_body

            parsed = parse_body(text, ctype.split(";")[0] or None)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError; nesting too deep
            return refuse(400, f"malformed payload ({type(exc).__name__})", signed=True)
        bad = check_shape(parsed)
        if bad:
            return refuse(400, f"malformed payload: {bad}", signed=True, kind="malformed payload shape")
        event_id = parsed.get("event_id") if parsed.get("type") == "event_callback" else None
        if event_id and not self.replay.first_seen(f"event:{event_id}"):
            retry = environ.get("HTTP_X_SLACK_RETRY_NUM") or "-"
            log.info("slack http: event %r already handled; acknowledged without re-running "
                     "(retry %r, reason %r)", event_id[:40], str(retry)[:8],
                     str(environ.get("HTTP_X_SLACK_RETRY_REASON") or "-")[:40])  # fmt: skip
            self._count("200 duplicate event")
            return _status(200), [*_plain(), ("X-Slack-No-Retry", "1")], b"", 0
        return self._dispatch(environ, text)

    def _dispatch(self, environ: dict[str, Any], text: str) -> tuple[str, list[tuple[str, str]], bytes, int]:
        from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
        from slack_bolt.request import BoltRequest

        headers = WsgiHttpRequest(environ).get_headers()
        try:
            req = BoltRequest(body=text, query=str(environ.get("QUERY_STRING") or ""),
                              headers=headers)  # fmt: skip
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            self._count("400 unreadable by Bolt")
            self.limiter.warn("slack http: signed request from %s rejected: Bolt cannot read it (%s)",
                              environ.get("REMOTE_ADDR") or "?", type(exc).__name__)  # fmt: skip
            return _status(400), _plain(), b"malformed payload\n", 0
        resp = self.app.dispatch(req)
        self._count(f"{resp.status} dispatched")
        out_headers = [(k, v) for k, vs in resp.headers.items() for v in vs]
        body = resp.body.encode() if isinstance(resp.body, str) else bytes(resp.body or b"")
        return _status(resp.status), out_headers, body, 0

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1


def _read(stream: Any, length: int) -> bytes | None:
    """Up to `length` bytes in chunks (never more); None when the stream is missing."""
    if stream is None:
        return None
    buf = io.BytesIO()
    left = length
    try:
        while left > 0:
            got = stream.read(min(_CHUNK, left))
            if not got:
                break
            buf.write(got)
            left -= len(got)
    except OSError:
        pass  # a timeout or reset: the short body is refused below
    return buf.getvalue()


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 411: "Length Required", 413: "Content Too Large"}  # fmt: skip


def _status(code: int) -> str:
    from http import HTTPStatus

    try:
        phrase = _REASONS.get(code) or HTTPStatus(code).phrase
    except ValueError:
        phrase = "Status"
    return f"{code} {phrase}"


def _plain() -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8")]
