"""The guard in front of the local API: bearer token, rate limits, body size.

The API is loopback-only by default, but anything on the machine can reach it, and it
can be opened to the network (`allow_remote`). So, as for the Slack endpoint:

* the service token is compared in constant time (SHA-256 of both sides, then
  `hmac.compare_digest`, so not even the length leaks); any other token is resolved by
  `people` (a person's token, stored hashed) and the identity it stands for goes to
  `request.state.identity`;
* each token has a token bucket (`rate_per_second`, `burst`): a client that asks faster
  gets 429 with `Retry-After` instead of occupying the service's thread pool; failed
  authentications have their own, much smaller bucket per client address, so guessing
  tokens is slow and cannot starve the real token's bucket;
* request bodies are capped at `max_body_bytes`: a larger `Content-Length` is refused
  with 413 before reading, and a body without one (chunked) is read only up to the cap.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class ApiLimits:
    """Limits of the local API (`[service] api_*` keys)."""

    max_body_bytes: int = 1_048_576
    rate_per_second: float = 50.0
    burst: int = 200
    #: failed authentications allowed per client address: a burst, then five per second
    #: (a 32-character random token cannot be guessed anyway; this keeps a flood of bad
    #: tokens from costing more than a counter)
    auth_failure_burst: int = 100
    auth_failure_rate: float = 5.0


class TokenBucket:
    """`capacity` tokens, refilled at `rate` per second; `take()` spends one."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def take(self, now: float) -> float:
        """0.0 when a token was spent; else the seconds until one will be available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """One bucket per key, at most `max_keys` buckets (the least recently used go)."""

    def __init__(self, capacity: float, rate: float, *, max_keys: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        if capacity < 1 or rate <= 0:
            raise ValueError("a rate limit needs capacity >= 1 and rate > 0")
        self.capacity = capacity
        self.rate = rate
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.capacity, self.rate, now)
                while len(self._buckets) > self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
            return bucket.take(now)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


class _TooLarge(Exception):
    pass


class ApiGuard:
    """ASGI middleware: token, then rate limit, then body size; then the app."""

    def __init__(self, app: ASGIApp, token: str, limits: ApiLimits | None = None,
                 clock: Callable[[], float] = time.monotonic, *,
                 people: Callable[[bytes], Any] | None = None,
                 service_identity: Any = None) -> None:  # fmt: skip
        """`people` resolves a token that is not the service token to an identity (None
        when unknown; it runs in the thread pool, as it reads the store);
        `service_identity` is what the service token stands for."""
        if not token:
            raise ValueError("the API needs a token")
        self.app = app
        self.people = people
        self.service_identity = service_identity
        self.limits = limits or ApiLimits()
        self._token_digest = _digest(token.encode())
        self.per_token = RateLimiter(self.limits.burst, self.limits.rate_per_second, clock=clock)
        self.failures = RateLimiter(self.limits.auth_failure_burst, self.limits.auth_failure_rate,
                                    clock=clock)  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        scheme, _, given = auth.partition(b" ")
        given = given.strip() if scheme.lower() == b"bearer" else b""
        digest = _digest(given)
        ok, who = False, None
        if given and hmac.compare_digest(digest, self._token_digest):
            ok, who = True, self.service_identity
        elif given and self.people is not None:
            who = await run_in_threadpool(self.people, given)
            ok = who is not None
        if not ok:
            client = (scope.get("client") or ("?", 0))[0]
            wait = self.failures.take(f"addr:{client}")
            if wait:
                await _too_many(wait)(scope, receive, send)
                return
            await JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                               headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)  # fmt: skip
            return
        wait = self.per_token.take(f"token:{digest.hex()[:16]}")
        if wait:
            await _too_many(wait)(scope, receive, send)
            return
        cap = self.limits.max_body_bytes
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            await _too_large(cap)(scope, receive, send)
            return
        try:
            body = await _read_body(receive, cap)
        except _TooLarge:
            await _too_large(cap)(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = who
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # disconnected: the app will see an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app once, then defers."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _too_many(wait: float) -> Any:
    seconds = max(1, math.ceil(wait))
    return JSONResponse({"error": "too many requests", "retry_after_seconds": seconds},
                        status_code=429, headers={"Retry-After": str(seconds)})  # fmt: skip


def _too_large(cap: int) -> Any:
    return JSONResponse({"error": f"request body over the {cap}-byte limit"}, status_code=413)
