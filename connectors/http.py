"""The HTTP layer every API connector shares: timeouts, rate limits, retries, typed errors.

Vendors throttle (429) and fail transiently (5xx, dropped connections). A connector should
not hand-roll a loop for each; it asks `HttpClient.get_json` / `post_json` and gets either
parsed JSON or one of the typed errors below:

* `AuthError` — 401/403: retrying will not help; the message names the source.
* `MalformedResponse` — a 2xx whose body is not the JSON object we expected, again on
  `malformed_retries` immediate re-asks (a body garbled by a proxy or cut short is
  usually a one-off; one that stays bad is the vendor's); carries the URL and an excerpt
  of the body so the connector can quarantine it and stop *without* moving its cursor
  past data it has not seen.
* `RetriesExhausted` — 429/5xx/network errors kept coming past the attempt cap or the
  maximum total wait.
* `HttpStatusError` — any other non-2xx (404, 400...): a bug or a misconfiguration.

Retries use tenacity: 429 waits what the server says (`Retry-After` in seconds or as an
HTTP date — Zendesk and Front — or Intercom's `X-RateLimit-Reset` epoch seconds), 5xx and
network errors back off exponentially with full jitter, capped. A proactive
`requests_per_minute` spacing keeps a well-behaved client under a vendor's published limit.
The sleep function and the clock are injectable so tests exercise real waits without
spending them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity

log = logging.getLogger(__name__)

EXCERPT_CHARS = 1000


@dataclass
class RetryOptions:
    """How patient a connector is with a vendor (one `[[chat.*]]` entry's `http` keys)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: seconds for connect/read/write of a single request
    timeout_seconds: float = 30.0
    #: attempts per request, the first included
    max_attempts: int = 6
    #: first backoff (seconds) after a 5xx or network error; doubles each time, with jitter
    backoff_initial_seconds: float = 1.0
    #: the cap of one backoff wait
    backoff_max_seconds: float = 60.0
    #: the most one request may spend waiting in total (backoffs and Retry-After) before giving up
    max_total_wait_seconds: float = 300.0
    #: space requests to stay under this rate (0 = no proactive limit)
    requests_per_minute: float = 0.0
    #: ask again (at once) this many times when a 2xx body is not the JSON object expected
    malformed_retries: int = 1

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be > 0")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_initial_seconds < 0 or self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ValueError("need 0 <= backoff_initial_seconds <= backoff_max_seconds")
        if self.max_total_wait_seconds < 0:
            raise ValueError("max_total_wait_seconds must be >= 0")
        if self.requests_per_minute < 0:
            raise ValueError("requests_per_minute must be >= 0")
        if not 0 <= self.malformed_retries <= 5:
            raise ValueError("malformed_retries must be 0..5")


class HttpError(RuntimeError):
    """Base of the layer's errors; `url` names the request that failed."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class AuthError(HttpError):
    """The vendor refused our credentials (401/403)."""


class HttpStatusError(HttpError):
    """A non-retryable, non-auth error status (4xx other than 401/403/429)."""


class RetriesExhausted(HttpError):
    """Transient failures (429, 5xx, network) outlasted the retry budget."""


class MalformedResponse(HttpError):
    """A successful status with a body that is not the JSON we expected."""

    def __init__(self, message: str, *, url: str, status: int | None, excerpt: str) -> None:
        super().__init__(message, url=url, status=status)
        self.excerpt = excerpt


class _BadBody(Exception):
    """Internal: a 2xx with an unusable body; re-asked `malformed_retries` times."""

    def __init__(self, error: MalformedResponse) -> None:
        super().__init__(str(error))
        self.error = error


class _Retryable(Exception):
    """Internal: a failure worth retrying, with the server's requested wait if it gave one."""

    def __init__(self, message: str, *, url: str, status: int | None, wait: float | None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.wait = wait


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks us to wait, from `Retry-After` or `X-RateLimit-Reset`.

    `Retry-After` is either delta-seconds or an HTTP date (RFC 9110); Intercom instead
    sends `X-RateLimit-Reset`, the epoch second at which the window resets.
    """
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


class HttpClient:
    """A JSON API client for one vendor account (thread-safe: connectors fetch in parallel).

    `sleep` and `clock` default to the real ones; tests pass their own to record waits.
    `transport` lets a test or bench plug an httpx transport in.
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        options: RetryOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 10,
    ) -> None:
        self.name = name
        self.options = options or RetryOptions()
        self._sleep = sleep
        self._clock = clock
        self._rate_lock = threading.Lock()
        self._next_slot = 0.0
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/json", **(headers or {})},
            auth=auth,
            timeout=httpx.Timeout(self.options.timeout_seconds),
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        self.requests_made = 0
        self.waited_seconds = 0.0
        self._retrying = self._build_retrying()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -------------------------------------------------------------------------

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET `url` (relative to the base URL, or absolute for vendors' `next` links)."""
        return self._request("GET", url, params=params)

    def post_json(self, url: str, body: Any) -> dict[str, Any]:
        return self._request("POST", url, json_body=body)

    def url_for(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """The full URL a GET would use (names a page in the quarantine)."""
        return str(self._client.build_request("GET", url, params=params).url)

    # -- internals ----------------------------------------------------------------------

    def _build_retrying(self) -> tenacity.Retrying:
        """The retry policy, built once (tenacity keeps per-call state thread-local)."""
        opts = self.options
        backoff = tenacity.wait_random_exponential(
            multiplier=opts.backoff_initial_seconds, max=opts.backoff_max_seconds
        )

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.wait is not None:
                return exc.wait
            if isinstance(exc, _BadBody):
                return 0.0
            return float(backoff(state))

        def retry(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _BadBody):
                state.bad_bodies = getattr(state, "bad_bodies", 0) + 1  # type: ignore[attr-defined]
                return state.bad_bodies <= opts.malformed_retries  # type: ignore[attr-defined]
            return isinstance(exc, _Retryable)

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= opts.max_attempts:
                return True
            # tenacity computes the wait before asking stop (upcoming_sleep is set)
            return state.idle_for + state.upcoming_sleep > opts.max_total_wait_seconds

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            nxt = state.next_action.sleep if state.next_action else 0.0
            self.waited_seconds += nxt
            log.warning("%s: %s; retrying in %.1fs (attempt %d)", self.name, exc, nxt,
                        state.attempt_number)

        return tenacity.Retrying(
            retry=retry,
            wait=wait,
            stop=stop,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=False,
        )

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        try:
            return self._retrying(self._once, method, url, params, json_body)
        except _BadBody as bad:  # still bad after the re-asks
            raise bad.error from None
        except tenacity.RetryError as err:
            last = err.last_attempt.exception()
            if isinstance(last, _BadBody):  # the attempt cap came first
                raise last.error from None
            assert isinstance(last, _Retryable)
            raise RetriesExhausted(
                f"{self.name}: giving up on {method} {last.url} after "
                f"{err.last_attempt.attempt_number} attempts: {last}",
                url=last.url,
                status=last.status,
            ) from None

    def _pace(self) -> None:
        """Wait for this request's slot: `requests_per_minute` spacing, and the window reset
        announced by a response that said no requests remain (shared by all threads)."""
        rpm = self.options.requests_per_minute
        with self._rate_lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            if rpm > 0:
                self._next_slot = slot + 60.0 / rpm
        if slot > now:
            self.waited_seconds += slot - now
            self._sleep(slot - now)

    def _note_quota(self, headers: httpx.Headers) -> None:
        """Intercom and Front announce `X-RateLimit-Remaining` and the epoch second of the
        reset (`X-RateLimit-Reset`): at 0 remaining, hold the next request until the reset
        (at most `max_total_wait_seconds`) instead of spending a 429 on it."""
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            if float(remaining) > 0:
                return
        except ValueError:
            return
        now = self._clock()
        wait = retry_after_seconds({"x-ratelimit-reset": reset}, now)
        if wait:
            wait = min(wait, self.options.max_total_wait_seconds)
            log.info("%s: rate-limit quota used up; pausing %.1fs until it resets", self.name, wait)
            with self._rate_lock:
                self._next_slot = max(self._next_slot, now + wait)

    def _once(
        self, method: str, url: str, params: Mapping[str, Any] | None, json_body: Any
    ) -> dict[str, Any]:
        self._pace()
        self.requests_made += 1
        try:
            resp = self._client.request(method, url, params=params, json=json_body)
        except httpx.TransportError as exc:  # connect/read timeouts, resets, refused
            raise _Retryable(
                f"network error: {type(exc).__name__}: {exc}", url=self.url_for(url, params),
                status=None, wait=None,
            ) from exc
        full_url = str(resp.request.url)
        status = resp.status_code
        self._note_quota(resp.headers)
        if status == 429:
            wait = retry_after_seconds(resp.headers, self._clock())
            raise _Retryable("rate limited (429)", url=full_url, status=status, wait=wait)
        if status >= 500:
            raise _Retryable(f"server error {status}", url=full_url, status=status, wait=None)
        if status in (401, 403):
            raise AuthError(
                f"{self.name}: the vendor refused the credentials ({status}) for {method} "
                f"{full_url}; check the token/email configured for this source",
                url=full_url,
                status=status,
            )
        if status >= 400:
            raise HttpStatusError(
                f"{self.name}: {method} {full_url} answered {status}: {resp.text[:200]}",
                url=full_url,
                status=status,
            )
        try:
            data = json.loads(resp.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _BadBody(MalformedResponse(
                f"{self.name}: {method} {full_url} returned a body that is not JSON ({exc})",
                url=full_url,
                status=status,
                excerpt=resp.text[:EXCERPT_CHARS],
            )) from None  # fmt: skip
        if not isinstance(data, dict):
            raise _BadBody(MalformedResponse(
                f"{self.name}: {method} {full_url} returned JSON that is not an object",
                url=full_url,
                status=status,
                excerpt=resp.text[:EXCERPT_CHARS],
            ))  # fmt: skip
        return data


def utc_from_epoch(value: float | int | None) -> datetime | None:
    """Vendors send epoch seconds (Intercom ints, Front floats)."""
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), UTC)
