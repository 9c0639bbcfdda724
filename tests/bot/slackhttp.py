"""Signed Slack HTTP requests for the bot tests (a plain module: test files import it,
which they cannot safely do with `conftest`, a name every test folder shares)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
import urllib.error
import urllib.request
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
