"""Settling alerts whose delivery is in doubt, from the channel's own history.

Every alert message carries Slack message metadata (`event_type` `convoscope_alert`, and
in `event_payload` a `post_key` naming that one attempt plus the flags it covers). When a
process dies between claiming an alert and Slack's answer — or the answer never comes
(timeout, dropped connection) — the claim is *in doubt*: the message may or may not be in
the channel. `find_posts` reads `conversations.history` with `include_all_metadata`,
from a little before the oldest doubtful claim (the `oldest` bound keeps the scan short
in a busy channel), page by page through `response_metadata.next_cursor`, and returns the
ts of each post_key it finds. The dispatcher then marks found claims posted and releases
the rest, which are posted again: each alert reaches the channel exactly once, as long as
the bot may read the channel's history (`channels:history`, `groups:history` for private
channels) and the message was not deleted by hand.

Slack's 429 answers carry `Retry-After`; they are waited out here (bounded), as a missing
answer must not turn into a missing or duplicated alert.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

log = logging.getLogger(__name__)

EVENT_TYPE = "convoscope_alert"
#: flags listed in one message's metadata; the post_key alone settles all of them
MAX_FLAGS_IN_METADATA = 100
HISTORY_PAGE = 200
MAX_PAGES = 100
MAX_RATE_LIMIT_WAITS = 5
MAX_RETRY_AFTER = 120.0


class HistoryUnavailable(RuntimeError):
    """The channel's history could not be read (missing scope, not in channel, network)."""


def alert_metadata(post_key: str, flags: list[dict[str, Any]]) -> dict[str, Any]:
    """The `metadata` argument of chat.postMessage for one alert message.

    Slack's event_payload values are strings, numbers, booleans, objects or arrays of
    objects, so the flags are a list of `{flag_id, interaction_id}` objects. A burst
    summary lists at most MAX_FLAGS_IN_METADATA of them (with `count` the full number):
    reconciliation matches the `post_key`, which stands for every flag of the message.
    """
    listed = [{"flag_id": int(f["id"]), "interaction_id": int(f["interaction_id"])}
              for f in flags[:MAX_FLAGS_IN_METADATA]]  # fmt: skip
    payload: dict[str, Any] = {"post_key": post_key, "count": len(flags), "flags": listed}
    if len(flags) == 1:
        payload["flag_id"] = listed[0]["flag_id"]
        payload["interaction_id"] = listed[0]["interaction_id"]
    return {"event_type": EVENT_TYPE, "event_payload": payload}


def without_transport_retry(client: Any) -> Any:
    """A copy of a slack_sdk WebClient that does not re-send a request whose connection
    failed. The SDK's default ConnectionErrorRetryHandler posts again after a reset or a
    dropped connection, which duplicates an alert whenever Slack had stored the first
    one; here such a failure leaves the claim in doubt for the reconciliation instead.
    Other handlers (429) are kept: Slack did not act on a rate-limited request."""
    handlers = getattr(client, "retry_handlers", None)
    if not handlers:
        return client
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

    kept = [h for h in handlers if not isinstance(h, ConnectionErrorRetryHandler)]
    if len(kept) == len(handlers):
        return client
    clone = copy.copy(client)
    clone.retry_handlers = kept
    return clone


def _status(exc: Exception) -> int | None:
    resp = getattr(exc, "response", None)
    return getattr(resp, "status_code", None)


def _retry_after(exc: Exception) -> float:
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None) or {}
    for k, v in headers.items():
        if k.lower() == "retry-after":
            value = v[0] if isinstance(v, list) else v
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 1.0


def _error_code(exc: Exception) -> str | None:
    resp = getattr(exc, "response", None)
    try:
        return resp.get("error") if resp is not None else None  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        return None


def find_posts(
    client: Any,
    channel: str,
    oldest: float,
    keys: Collection[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    page_size: int = HISTORY_PAGE,
    max_pages: int = MAX_PAGES,
) -> dict[str, str]:
    """post_key -> message ts for those of `keys` found in `channel` since `oldest`.

    Stops early once every key is found. Raises HistoryUnavailable when the history
    cannot be read, so the caller leaves the claims in doubt rather than re-posting.
    """
    wanted = set(keys)
    found: dict[str, str] = {}
    cursor: str | None = None
    waits = 0
    pages = 0
    while True:
        try:
            resp = client.conversations_history(
                channel=channel, oldest=f"{oldest:.6f}", inclusive=True, include_all_metadata=True,
                limit=page_size, cursor=cursor,
            )  # fmt: skip
        except Exception as exc:
            if _status(exc) == 429 and waits < MAX_RATE_LIMIT_WAITS:
                wait = _retry_after(exc)
                if wait <= MAX_RETRY_AFTER:
                    waits += 1
                    log.info("conversations.history on %s rate limited; waiting %.0fs", channel, wait)
                    sleep(wait)
                    continue
            code = _error_code(exc)
            hint = (" (the bot needs channels:history, or groups:history for a private channel)"
                    if code in ("missing_scope", "not_allowed_token_type") else
                    " (invite the bot to the channel)" if code == "not_in_channel" else "")  # fmt: skip
            raise HistoryUnavailable(f"cannot read the history of {channel}: {code or exc}{hint}") from exc
        pages += 1
        for m in resp.get("messages") or []:
            meta = m.get("metadata") or {}
            if meta.get("event_type") != EVENT_TYPE:
                continue
            key = (meta.get("event_payload") or {}).get("post_key")
            if key in wanted and key not in found:
                found[str(key)] = str(m.get("ts"))
        if len(found) == len(wanted):
            return found
        cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
        if not resp.get("has_more") or not cursor:
            return found
        if pages >= max_pages:
            raise HistoryUnavailable(
                f"{channel}: more than {max_pages * page_size} messages since the oldest doubtful "
                "alert; not all of them were read"
            )
