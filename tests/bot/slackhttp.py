"""Signed Slack HTTP requests for the bot tests (a plain module: test files import it,
which they cannot safely do with `conftest`, a name every test folder shares)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

SECRET = "test-signing-secret"
TZ = ZoneInfo("Europe/Berlin")


def sign(body: str, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    base = f"v0:{ts}:{body}".encode()
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig}


def post(url: str, body: str, ctype: str, headers: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": ctype, **headers})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sign_bytes(body: bytes, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """`sign` for a body that need not be text."""
    ts = int(time.time()) if ts is None else ts
    base = f"v0:{ts}:".encode() + body
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig}


def raw_post(url: str, body: bytes, headers: dict[str, str] | list[tuple[str, str]],
             timeout: float = 15.0) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """POST exactly these bytes and headers with http.client (no header validation by
    urllib): (status, response headers, response body); status 0 when the server closed
    the connection without an answer."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest("POST", parts.path or "/", skip_accept_encoding=True)
        items = headers.items() if isinstance(headers, dict) else headers
        names = {k.lower() for k, _ in items}
        for k, v in items:
            conn.putheader(k, v if v.isascii() else v.encode())  # raw UTF-8 bytes on the wire
        if "content-length" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        # The server may answer (413) and stop reading before the whole body is sent.
        with contextlib.suppress(OSError):
            conn.send(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except (OSError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        conn.close()


class SlackDriver:
    """Sends correctly signed Slack requests to the bot's HTTP endpoint."""

    def __init__(self, url: str, fake: Any, guard: Any = None) -> None:
        self.url = url
        self.fake = fake
        self.guard = guard  # bot.guard.SlackGuard in front of Bolt (its `counts` per outcome)

    def command(self, text: str, user: str = "U_SUPER", channel: str = "C_OPS", **kw: Any) -> tuple[int, str]:
        body = urllib.parse.urlencode({
            "token": "x", "team_id": "T1", "channel_id": channel, "user_id": user,
            "command": "/convoscope", "text": text, "trigger_id": "t.1",
            "response_url": self.fake.response_url("cmd"), "api_app_id": "A1",
        })  # fmt: skip
        return post(self.url, body, "application/x-www-form-urlencoded", kw.get("headers") or sign(body))

    def event(self, event: dict[str, Any]) -> tuple[int, str]:
        body = json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": f"Ev{time.monotonic_ns()}", "event_time": int(time.time()),
                           "authorizations": [{"user_id": "UBOT", "team_id": "T1", "is_bot": True}],
                           "event": event})  # fmt: skip
        return post(self.url, body, "application/json", sign(body))

    def interactive(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return post(self.url, body, "application/x-www-form-urlencoded", sign(body))
