"""Issue #18, the local API's guard: constant-time token check, a token bucket per token
(429 + Retry-After), failed authentications limited per address, request bodies capped
(413), long questions capped. The real API served by uvicorn on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from convoscope import api
from convoscope.apiguard import ApiLimits, RateLimiter, TokenBucket
from store import audit
from store.db import Store

TOKEN = "guard-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(tmp_path / "api.duckdb")
    yield st
    st.close()


def _serve(store: Store, **limits: float) -> api.ApiHandle:
    return api.serve_api(store, "127.0.0.1", 0, TOKEN, limits=ApiLimits(**limits))  # type: ignore[arg-type]


def test_token_bucket_refills_at_its_rate() -> None:
    b = TokenBucket(capacity=2, rate=0.5, now=0.0)
    assert b.take(0.0) == 0.0 and b.take(0.0) == 0.0
    assert b.take(0.0) == pytest.approx(2.0)  # one token takes 2 s at 0.5/s
    assert b.take(1.0) == pytest.approx(1.0)
    assert b.take(2.0) == 0.0
    assert b.take(100.0) == 0.0 and b.take(100.0) == 0.0 and b.take(100.0) > 0  # capped at 2


def test_rate_limiter_keeps_a_bounded_number_of_buckets() -> None:
    now = [0.0]
    lim = RateLimiter(1, 1.0, max_keys=3, clock=lambda: now[0])
    for k in "abcd":
        assert lim.take(k) == 0.0
    assert lim.take("d") > 0  # d's bucket is empty
    assert lim.take("a") == 0.0  # a's bucket was dropped (least recently used): a fresh one


def test_wrong_tokens_of_any_length_are_401(store: Store) -> None:
    handle = _serve(store)
    try:
        for given in ("x", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "A" * 4000):
            r = httpx.get(f"{handle.url}/api/health", headers={"Authorization": f"Bearer {given}"})
            assert r.status_code == 401
        assert httpx.get(f"{handle.url}/api/health", headers=AUTH).status_code == 200
    finally:
        handle.stop()


def test_rate_limit_per_token_answers_429_with_retry_after(store: Store) -> None:
    handle = _serve(store, burst=3, rate_per_second=0.5)
    try:
        got = [httpx.get(f"{handle.url}/api/health", headers=AUTH) for _ in range(4)]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        assert got[3].headers["retry-after"] == "2"  # one token every 2 s
        assert got[3].json()["error"] == "too many requests"
    finally:
        handle.stop()


def test_a_flood_of_bad_tokens_is_throttled_and_does_not_starve_the_real_token(store: Store) -> None:
    handle = _serve(store, auth_failure_burst=5, auth_failure_rate=0.1)
    try:
        codes = [httpx.get(f"{handle.url}/api/health",
                           headers={"Authorization": f"Bearer guess{i}"}).status_code
                 for i in range(8)]  # fmt: skip
        assert codes == [401] * 5 + [429] * 3
        assert httpx.get(f"{handle.url}/api/health", headers=AUTH).status_code == 200
    finally:
        handle.stop()


def test_request_bodies_are_capped(store: Store) -> None:
    handle = _serve(store, max_body_bytes=4096)
    try:
        big = httpx.post(f"{handle.url}/api/ask", headers=AUTH, json={"question": "x" * 10_000})
        assert big.status_code == 413 and "4096-byte limit" in big.json()["error"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: read only up to the cap
            yield b'{"question": "'
            for _ in range(100):
                yield b"y" * 1000
            yield b'"}'

        chunked = httpx.post(f"{handle.url}/api/ask", headers=AUTH, content=chunks())
        assert chunked.status_code == 413
        ok = httpx.post(f"{handle.url}/api/ask", headers=AUTH, json={"question": "calls today"})
        assert ok.status_code == 200
        assert audit.recent(store, action="ask")[0]["detail"]["question"] == "calls today"
    finally:
        handle.stop()


def test_a_huge_declared_body_is_refused_before_it_is_sent(store: Store) -> None:
    handle = _serve(store)
    try:
        with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as s:
            s.sendall(f"POST /api/ask HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 5242880\r\n\r\n".encode())  # fmt: skip
            head = s.recv(4096).decode()
        assert head.startswith("HTTP/1.1 413")
    finally:
        handle.stop()


def test_long_questions_are_answered_briefly_and_capped_in_the_audit_log(store: Store) -> None:
    handle = _serve(store)
    try:
        q = "angry calls today " + "please " * 2000
        r = httpx.post(f"{handle.url}/api/ask", headers=AUTH, json={"question": q, "actor": "cli"})
        assert r.status_code == 200 and "limited to 500" in r.json()["text"]
        row = audit.recent(store, action="ask")[0]
        assert row["detail"]["length"] == len(q.strip())
        assert len(row["detail"]["question"]) < 540
    finally:
        handle.stop()
