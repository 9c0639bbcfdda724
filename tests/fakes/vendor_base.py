"""The plumbing every local vendor fake shares (see vendors.py for the fakes themselves):
a real HTTP server per fake (stdlib `ThreadingHTTPServer`, HTTP/1.1 keep-alive, on
127.0.0.1 with an OS-assigned port), auth and routing hooks, scripted faults
(`fail_next`), chaos mode (`chaos`) and the recording of every exchange.

Chaos mode (`fake.chaos(seed, rate, max_faults, ...)`) makes random requests fail the
way networks and vendors do: 500/502/503/504 (503 with an HTML body), 429 with
Retry-After, slow answers, answers slower than the client's timeout, bodies cut off
mid-transfer (the Content-Length promises more, then the connection closes), 200s whose
body is not JSON or is truncated JSON, and connections dropped without an answer. It is
seeded (the sequence of draws repeats; which request gets which fault depends on thread
timing when the client fetches in parallel) and bounded: at most `max_faults` faults, each
delaying an answer by at most `hang_seconds`, and none after `max_seconds` if given.
`fake.chaos_faults` counts what was injected.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: the fakes' clock starts here (vendor timestamps are reproducible)
BASE_TIME = int(datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp())

@dataclass
class Fault:
    fragment: str
    kind: str  # an HTTP status ("429", "500", "404"...) | "malformed" | "drop"
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


#: what chaos mode injects (see the module docstring)
CHAOS_KINDS = ("500", "502", "503", "504", "429", "slow", "timeout", "cut", "nonjson", "badjson", "drop")


@dataclass
class Chaos:
    """Random faults, seeded and bounded (`VendorFake.chaos`)."""

    seed: int = 0
    #: probability that a request gets a fault (until `max_faults` were injected)
    rate: float = 0.25
    max_faults: int = 40
    kinds: tuple[str, ...] = CHAOS_KINDS
    #: how long a `timeout` fault holds the answer (make it longer than the client's timeout)
    hang_seconds: float = 0.5
    #: how long a `slow` answer takes at most (shorter than the client's timeout)
    slow_seconds: float = 0.1
    #: seconds sent in Retry-After with a 429
    retry_after: int = 1
    #: chaos ends this many seconds after it was turned on (None: only `max_faults` bounds it)
    max_seconds: float | None = None
    rng: random.Random = field(init=False, repr=False)
    injected: int = 0
    started: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(CHAOS_KINDS)
        if unknown:
            raise ValueError(f"unknown chaos kinds: {sorted(unknown)}")
        self.rng = random.Random(self.seed)
        self.started = time.monotonic()

    def over(self) -> bool:
        """The fault budget (count or time) is spent."""
        return self.injected >= self.max_faults or (
            self.max_seconds is not None and time.monotonic() - self.started > self.max_seconds)


@dataclass
class Exchange:
    """One request and the answer the fake gave (for spec validation in tests)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without this, Nagle + delayed ACK add
    # ~40 ms to every keep-alive answer
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `fake.exchanges` instead of the server log."""

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        chaos, delay = fake.chaos_pick()
        if chaos is not None and self._chaos_before(fake, chaos, delay, method, url, headers, body):
            return
        result = fake.dispatch(method, url.path, url.query, headers, body)
        if result is None:  # drop the connection without an answer
            self._drop()
            return
        status, resp_headers, resp_body = result
        if chaos in ("nonjson", "badjson") and status == 200:
            resp_body = (b"<html><body><h1>Upstream hiccup</h1></body></html>" if chaos == "nonjson"
                         else resp_body[: max(1, len(resp_body) // 2)])
            if chaos == "nonjson":
                resp_headers = {**resp_headers, "Content-Type": "text/html"}
        if chaos == "cut":  # the headers promise the whole body; half arrives, then EOF
            self.send_response(status)
            for k, v in resp_headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp_body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(resp_body[: len(resp_body) // 2])
                self.wfile.flush()
            self._drop()
            return
        try:
            self._answer(fake, method, url, headers, body, status, resp_headers, resp_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a chaos `timeout`)

    def _chaos_before(self, fake: VendorFake, kind: str, delay: float, method: str, url: Any,
                      headers: dict[str, str], body: bytes) -> bool:
        """Faults decided before the request is served; True when the answer is given."""
        if kind == "drop":
            self._drop()
            return True
        if kind in ("slow", "timeout"):
            time.sleep(delay)
            return False
        if kind.isdigit():
            status = int(kind)
            hdrs = {"Content-Type": "application/json"}
            if status == 429:
                hdrs["Retry-After"] = str(int(delay))
            body_out = fake.error_body(status, {429: "rate limited"}.get(status, "server error"))
            if status == 503:  # a load balancer's page, not the vendor's JSON
                hdrs["Content-Type"] = "text/html"
                body_out = b"<html><body>503 Service Unavailable</body></html>"
            try:
                self._answer(fake, method, url, headers, body, status, hdrs, body_out)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return True
        return False

    def _answer(self, fake: VendorFake, method: str, url: Any, headers: dict[str, str], body: bytes,
                status: int, resp_headers: dict[str, str], resp_body: bytes) -> None:
        if fake.record:  # before answering: a test may read the exchanges as soon as it has the reply
            with fake.lock:
                fake.exchanges.append(Exchange(method, url.path, url.query, headers, body, status,
                                               resp_headers, resp_body))
        self.send_response(status)
        for k, v in resp_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp_body)))
        self.end_headers()
        self.wfile.write(resp_body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: VendorFake


class VendorFake:
    """Shared plumbing: the server thread, auth, fault injection, recording."""

    vendor = ""

    def __init__(self, *, record: bool = True) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.exchanges: list[Exchange] = []
        self.requests: list[tuple[str, str]] = []
        self.record = record
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.clock = BASE_TIME
        self.token_epoch = 0  # page tokens carry it; expire_tokens() invalidates old ones
        self._chaos: Chaos | None = None
        #: faults injected by chaos mode, by kind
        self.chaos_faults: Counter[str] = Counter()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> VendorFake:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True,
                                        name=f"fake-{self.vendor}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> VendorFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def expire_tokens(self) -> None:
        """Page tokens handed out so far stop working (as vendors' tokens do after a while)."""
        with self.lock:
            self.token_epoch += 1

    def page_token(self, offset: int) -> str:
        return _b64([self.token_epoch, offset])

    def read_token(self, token: str) -> int | None:
        """The offset in a page token, or None if it is unknown or expired."""
        try:
            epoch, offset = _unb64(token)
        except (ValueError, TypeError):
            return None
        return int(offset) if epoch == self.token_epoch else None

    def tick(self, seconds: int = 60) -> int:
        self.clock += seconds
        return self.clock

    # -- faults --------------------------------------------------------------------------

    def chaos(self, seed: int = 0, **kw: Any) -> Chaos:
        """Turn chaos mode on (see `Chaos` for the knobs); `chaos_off()` ends it."""
        with self.lock:
            self._chaos = Chaos(seed=seed, **kw)
            return self._chaos

    def chaos_off(self) -> None:
        with self.lock:
            self._chaos = None

    def chaos_pick(self) -> tuple[str | None, float]:
        """The fault this request gets, if any, and its delay or Retry-After (one draw per
        request, under the lock, so the seeded sequence repeats)."""
        with self.lock:
            c = self._chaos
            if c is None or c.over() or c.rng.random() >= c.rate:
                return None, 0.0
            kind = c.rng.choice(c.kinds)
            c.injected += 1
            self.chaos_faults[kind] += 1
            if kind == "slow":
                return kind, c.rng.uniform(0, c.slow_seconds)
            return kind, {"timeout": c.hang_seconds, "429": float(c.retry_after)}.get(kind, 0.0)

    def fail_next(self, fragment: str, kind: str, times: int = 1,
                  headers: dict[str, str] | None = None) -> None:
        """The next `times` requests whose path+query contain `fragment` fail as `kind`."""
        with self.lock:
            self.faults.append(Fault(fragment, kind, times, dict(headers or {})))

    def _fault_for(self, target: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.fragment in target and f.times > 0:
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
                    return f
        return None

    # -- dispatch ------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, query: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        with self.lock:
            self.requests.append((method, f"{path}?{query}" if query else path))
        if not self.authorized(headers):
            return self.unauthorized()
        fault = self._fault_for(f"{path}?{query}")
        if fault is not None:
            if fault.kind == "drop":
                return None
            if fault.kind.isdigit():  # "429", "500", "404", ...: that status with an error body
                status = int(fault.kind)
                return status, {"Content-Type": "application/json", **fault.headers}, \
                    self.error_body(status, {429: "rate limited", 500: "internal error"}.get(
                        status, "error"))
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return 400, {"Content-Type": "application/json"}, self.error_body(400, "bad json")
        with self.lock:
            status, data = self.route(method, path, params, payload)
        raw = json.dumps(data).encode()
        if fault is not None and fault.kind == "malformed":
            raw = raw[: max(1, len(raw) // 2)]  # truncated mid-document
        return status, {"Content-Type": "application/json", **self.extra_headers()}, raw

    # -- for subclasses ------------------------------------------------------------------

    def authorized(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> tuple[int, dict[str, str], bytes]:
        return 401, {"Content-Type": "application/json"}, self.error_body(401, "unauthorized")

    def error_body(self, status: int, message: str) -> bytes:
        return json.dumps({"error": message}).encode()

    def extra_headers(self) -> dict[str, str]:
        return {}

    def route(self, method: str, path: str, params: dict[str, str],
              payload: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def _not_found(self) -> tuple[int, Any]:
        return 404, {"error": "not found"}


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode()


def _unb64(token: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(token.encode()))
