"""A local fake of Slack's Web API (and Socket Mode endpoint) that records every call.

It speaks the documented shapes the bot uses: `auth.test`, `chat.postMessage`,
`chat.update`, `views.open`, `usergroups.users.list`, the external file upload flow
(`files.getUploadURLExternal` → POST bytes to the returned `upload_url` →
`files.completeUploadExternal`), `apps.connections.open` (returning a ws:// URL of a
local websocket server) and `response_url` posts. Point `slack_sdk.WebClient(base_url=
fake.api_url)` at it. Everything binds 127.0.0.1 on a free port.

Messages posted with `chat.postMessage` are kept per channel (`fake.messages`), with their
`metadata` (event_type + event_payload), and served back by `conversations.history` as
Slack does: newest first, `oldest`/`latest`/`inclusive` bounds, `limit` (Slack's cap 999,
lower with `history_limit_max`), cursor pagination (`response_metadata.next_cursor`,
`has_more`), metadata only with `include_all_metadata`. Message ts are real epoch times
(unique, increasing), so `oldest` bounds work as in Slack.

Faults for the alert delivery tests:
* `rate_limit(method, times, retry_after)`: the next `times` calls answer HTTP 429 with
  `Retry-After` and `{"ok": false, "error": "ratelimited"}`;
* `post_fault(kind, times)` for the next `chat.postMessage` calls: `hang_before` (the
  request arrives, nothing is stored, no answer until the fake closes: the process dies
  before Slack acted), `hang_after` (stored, then no answer), `drop_before` / `drop_after`
  (the connection is closed without an answer, before or after storing). `held` counts
  requests currently hanging; `release()` ends them (closing their connections).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""


class FakeSlack:
    """Start with `with FakeSlack() as fake:`; `fake.calls` is the list of recorded calls."""

    def __init__(self, *, bot_user_id: str = "UBOT", usergroups: dict[str, list[str]] | None = None,
                 fail_methods: set[str] | None = None) -> None:  # fmt: skip
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.bot_user_id = bot_user_id
        self.usergroups = usergroups or {}
        self.fail_methods = fail_methods or set()
        #: method -> Slack error code to answer with (e.g. "channel_not_found")
        self.errors: dict[str, str] = {}
        self._ts = itertools.count(1)
        #: channel id -> messages posted there, oldest first (as stored by chat.postMessage)
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.history_limit_max = 999
        self._last_ts = 0.0
        self._rate_limits: dict[str, list[int]] = {}  # method -> [times left, retry_after]
        self._post_faults: list[str] = []
        self._unblock = threading.Event()
        self.held = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.ws: FakeSocketModeServer | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                args: dict[str, Any] = dict(parse_qsl(url.query))
                ctype = self.headers.get("Content-Type", "")
                if url.path.startswith("/upload/"):
                    fake._record(Call("upload", {"file_id": url.path.rsplit("/", 1)[-1]},
                                      dict(self.headers), raw))  # fmt: skip
                    fake.uploads[url.path.rsplit("/", 1)[-1]] = raw
                    self._send(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                    return
                if raw and "json" in ctype:
                    args.update(json.loads(raw))
                elif raw and "x-www-form-urlencoded" in ctype:
                    args.update(dict(parse_qsl(raw.decode())))
                if url.path.startswith("/response/"):
                    fake._record(Call("response_url", {"path": url.path, **args}, dict(self.headers), raw))
                    self._send(200, b"ok", "text/plain")
                    return
                method = url.path.removeprefix("/api/").strip("/")
                fake._record(Call(method, args, dict(self.headers), raw))
                retry_after = fake._rate_limited(method)
                if retry_after is not None:
                    self._send(429, json.dumps({"ok": False, "error": "ratelimited"}).encode(),
                               "application/json; charset=utf-8", {"Retry-After": str(retry_after)})
                    return
                fault = fake._post_fault() if method == "chat.postMessage" else None
                if fault is not None:
                    if fault.endswith("_after"):
                        fake._reply(method, args)  # Slack stored the message ...
                    if fault.startswith("hang"):  # ... and no answer ever comes
                        with fake._cond:
                            fake.held += 1
                            fake._cond.notify_all()
                        fake._unblock.wait()
                    self.close_connection = True
                    with contextlib.suppress(OSError):  # the client may have gone already
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = fake._reply(method, args)
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

            def _send(self, status: int, body: bytes, ctype: str,
                      headers: dict[str, str] | None = None) -> None:  # fmt: skip
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)  # fmt: skip

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        if self.ws is not None:
            self.ws.close()

    # -- recording -----------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls of `method` arrived (or fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [c for c in self.calls if c.method == method]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"expected {count} {method} call(s); saw {seen}")
                self._cond.wait(left)

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base}/response/{name}"

    # -- faults and the stored messages ----------------------------------------------------

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` answer 429 with `Retry-After: retry_after`."""
        with self._lock:
            self._rate_limits[method] = [times, retry_after]

    def _rate_limited(self, method: str) -> int | None:
        with self._lock:
            left = self._rate_limits.get(method)
            if not left or left[0] <= 0:
                return None
            left[0] -= 1
            return left[1]

    def post_fault(self, kind: str, times: int = 1) -> None:
        """The next `times` chat.postMessage calls fail as `kind` (see the module docstring)."""
        if kind not in ("hang_before", "hang_after", "drop_before", "drop_after"):
            raise ValueError(f"unknown post fault {kind!r}")
        with self._lock:
            self._post_faults += [kind] * times

    def _post_fault(self) -> str | None:
        with self._lock:
            return self._post_faults.pop(0) if self._post_faults else None

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until `count` chat.postMessage requests are hanging."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.held >= count, timeout):
                raise AssertionError(f"expected {count} hanging post(s); {self.held} hang")

    def release(self) -> None:
        """End the hanging requests (their connections are closed without an answer)."""
        self._unblock.set()

    def alert_messages(self, channel: str | None = None,
                       event_type: str = "convoscope_alert") -> list[dict[str, Any]]:  # fmt: skip
        """Stored messages carrying metadata of `event_type` (all channels unless named)."""
        with self._lock:
            chans = [channel] if channel else list(self.messages)
            return [m for c in chans for m in self.messages.get(c, [])
                    if (m.get("metadata") or {}).get("event_type") == event_type]  # fmt: skip

    def _next_ts(self) -> str:
        """A real epoch ts, unique and increasing (Slack's ts identify messages)."""
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def _store_message(self, channel: str, args: dict[str, Any], ts: str) -> None:
        meta = args.get("metadata")
        if isinstance(meta, str):  # form-encoded posts carry it as a JSON string
            meta = json.loads(meta)
        msg: dict[str, Any] = {"type": "message", "user": self.bot_user_id, "bot_id": "B1",
                               "app_id": "A1", "text": args.get("text") or "", "ts": ts}  # fmt: skip
        if args.get("blocks"):
            msg["blocks"] = args["blocks"]
        if meta:
            msg["metadata"] = {"event_type": meta.get("event_type"),
                               "event_payload": meta.get("event_payload") or {}}  # fmt: skip
        with self._lock:
            self.messages.setdefault(channel, []).append(msg)

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: newest first, bounded, cursor-paged."""

        def flag(name: str) -> bool:
            return str(args.get(name, "")).lower() in ("1", "true")

        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or time.time() + 1)
        inclusive = flag("inclusive")
        with self._lock:
            stored = list(self.messages.get(channel, []))
        msgs = [m for m in reversed(stored)
                if (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"]))
                and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)]  # fmt: skip
        limit = max(1, min(int(args.get("limit") or 100), self.history_limit_max))
        offset = 0
        if args.get("cursor"):
            try:
                offset = int(json.loads(base64.b64decode(str(args["cursor"])))["offset"])
            except (ValueError, KeyError, TypeError):
                return {"ok": False, "error": "invalid_cursor"}
        page = msgs[offset: offset + limit]
        more = offset + limit < len(msgs)
        if not flag("include_all_metadata"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        nxt = base64.b64encode(json.dumps({"offset": offset + limit}).encode()).decode() if more else ""
        return {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
                "channel_actions_ts": None, "channel_actions_count": 0,
                "response_metadata": {"next_cursor": nxt}}  # fmt: skip

    # -- replies -------------------------------------------------------------------------

    def _reply(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in self.fail_methods:
            return {"ok": False, "error": "internal_error"}
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        ts = self._next_ts()
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "convoscope",
                    "team_id": "T1", "user_id": self.bot_user_id, "bot_id": "B1"}  # fmt: skip
        if method == "chat.postMessage":
            self._store_message(str(args.get("channel")), args, ts)
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"text": args.get("text"), "ts": ts}}  # fmt: skip
        if method == "conversations.history":
            return self._history(args)
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"),
                    "text": args.get("text")}  # fmt: skip
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        if method == "usergroups.users.list":
            group = args.get("usergroup", "")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._ts)}"
            return {"ok": True, "upload_url": f"{self.base}/upload/{fid}", "file_id": fid}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            if isinstance(files, str):
                files = json.loads(files)
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}
        if method == "apps.connections.open":
            if self.ws is None:
                self.ws = FakeSocketModeServer()
            return {"ok": True, "url": self.ws.url}
        return {"ok": False, "error": "unknown_method"}


class FakeSocketModeServer:
    """A local websocket server playing Slack's Socket Mode side: it says hello, lets the
    test send envelopes, and records what the app sends back (acks with payloads)."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.received: list[dict[str, Any]] = []
        self._conns: list[Any] = []
        self._cond = threading.Condition()
        self.server = serve(self._handler, "127.0.0.1", 0)
        port = self.server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/link"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self, conn: Any) -> None:
        with self._cond:
            self._conns.append(conn)
            self._cond.notify_all()
        conn.send(json.dumps({"type": "hello", "num_connections": 1,
                              "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A1"}}))  # fmt: skip
        try:
            for message in conn:
                with self._cond:
                    self.received.append(json.loads(message))
                    self._cond.notify_all()
        except Exception:
            pass

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._conns, timeout):
                raise AssertionError("the app never opened the Socket Mode connection")

    def send(self, envelope: dict[str, Any]) -> None:
        self.wait_connected()
        self._conns[-1].send(json.dumps(envelope))

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(m.get("envelope_id") == envelope_id for m in self.received), timeout
            )
            if not ok:
                raise AssertionError(f"no ack for envelope {envelope_id}; got {self.received}")
            return next(m for m in self.received if m.get("envelope_id") == envelope_id)

    def close(self) -> None:
        self.server.shutdown()
