"""A local fake of Slack's Web API (and Socket Mode endpoint) that records every call.

It speaks the documented shapes the bot uses: `auth.test`, `chat.postMessage`,
`chat.update`, `views.open`, `usergroups.users.list`, the external file upload flow
(`files.getUploadURLExternal` → POST bytes to the returned `upload_url` →
`files.completeUploadExternal`), `apps.connections.open` (returning a ws:// URL of a
local websocket server) and `response_url` posts. Point `slack_sdk.WebClient(base_url=
fake.api_url)` at it. Everything binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import itertools
import json
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
                body = fake._reply(method, args)
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
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

    # -- replies -------------------------------------------------------------------------

    def _reply(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in self.fail_methods:
            return {"ok": False, "error": "internal_error"}
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        ts = f"{1700000000 + next(self._ts)}.000100"
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "convoscope",
                    "team_id": "T1", "user_id": self.bot_user_id, "bot_id": "B1"}  # fmt: skip
        if method == "chat.postMessage":
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"text": args.get("text"), "ts": ts}}  # fmt: skip
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
