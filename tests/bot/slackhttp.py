"""Signed Slack HTTP requests for the bot tests (a plain module: test files import it,
which they cannot safely do with `conftest`, a name every test folder shares)."""

from __future__ import annotations

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
