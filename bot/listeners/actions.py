"""Interactive components: pager buttons, and reviewing a flag from Slack.

"Confirm" reviews at once; "Dismiss…" opens a modal asking for an optional reason and
reviews on submission. Both go through `store.flags.set_review(..., via="slack")` (the
same path as the TUI, audit-logged in the same transaction) and then update the
message the buttons were on so nobody reviews the same flag twice. Only supervisors
may review; others get a polite ephemeral refusal (also audit-logged).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any

from bot import blocks as bk
from bot.listeners.asking import answer_for
from store import audit
from store import flags as store_flags

log = logging.getLogger(__name__)
REVIEW_REFUSAL = "Sorry, only supervisors can review flags."


def _message_ref(body: dict[str, Any]) -> dict[str, Any]:
    container = body.get("container") or {}
    return {
        "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
        "ephemeral": bool(container.get("is_ephemeral")),
        "response_url": body.get("response_url"),
    }


def _set_review(store: Any, flag_id: int, status: str, reviewer: str, reason: str | None) -> None:
    """`set_review`, retried when DuckDB reports a write conflict (analysis may be
    rewriting the same flag row in the same instant)."""
    import duckdb

    for attempt in range(3):
        try:
            store_flags.set_review(store, flag_id, status, reviewer, reason, via="slack")
            return
        except duckdb.TransactionException:
            if attempt == 2:
                raise
            time.sleep(0.2 * (attempt + 1))


def register(app: Any, deps: Any) -> None:
    pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
    lock = threading.Lock()

    def update_message(client: Any, ref: dict[str, Any], blocks: list[dict[str, Any]],
                       text: str) -> None:  # fmt: skip
        if ref["channel"] and ref["ts"] and not ref["ephemeral"]:
            client.chat_update(channel=ref["channel"], ts=ref["ts"], text=text, blocks=blocks)
        elif ref["response_url"]:
            from slack_sdk.webhook import WebhookClient

            WebhookClient(ref["response_url"]).send(text=text, blocks=blocks, replace_original=True)

    def review(client: Any, user: str, channel: str | None, flag_id: int, status: str,
               reason: str | None, ref: dict[str, Any], blocks: list[dict[str, Any]] | None) -> None:  # fmt: skip
        try:
            _set_review(deps.store, flag_id, status, f"slack:{user}", reason)
        except KeyError:
            client.chat_postEphemeral(channel=channel, user=user, text=f"Flag {flag_id} no longer exists.")
            return
        note = bk.reviewed_note(flag_id, status, user, reason)
        text = f"Flag {flag_id} {status} by <@{user}>"
        if blocks is not None:
            update_message(client, ref, bk.replace_review_block(blocks, flag_id, note), text)
        elif ref["channel"]:
            # The original blocks are gone (restart between button and modal): say it in a reply.
            client.chat_postMessage(channel=ref["channel"], thread_ts=ref["ts"], text=text, blocks=[note])

    def refuse(client: Any, user: str, channel: str | None, action: str, flag_id: int | None) -> None:
        audit.log(deps.store, f"slack:{user}", f"{action}.refused",
                  f"flag:{flag_id}" if flag_id else channel, {"via": "slack"})  # fmt: skip
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=REVIEW_REFUSAL)

    @app.action(re.compile(rf"^{bk.PAGE_ACTION}_\d+$"))
    def on_page(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
            question, page = str(value.get("q", "")), int(value.get("p", 0))
        except (ValueError, TypeError, AttributeError):
            question, page = "", 0  # a mangled button value: answer with the help
        ref = _message_ref(body)
        user = (body.get("user") or {}).get("id")
        answer = answer_for(deps, user, ref["channel"], question, via="page", page=page)
        respond(text=answer.text, blocks=answer.blocks, replace_original=True)

    def review_button(
        body: dict[str, Any], action: dict[str, Any], client: Any
    ) -> tuple[int, str, dict[str, Any], Any] | None:
        """(flag id, user, message ref, message blocks) of a review button press, or None
        after politely refusing someone who is not a supervisor."""
        flag_id = int(json.loads(action.get("value") or "{}")["flag"])
        user = body["user"]["id"]
        ref = _message_ref(body)
        if not deps.access.role_for(user, ref["channel"]).supervisor:
            refuse(client, user, ref["channel"], "review", flag_id)
            return None
        return flag_id, user, ref, (body.get("message") or {}).get("blocks")

    @app.action(bk.CONFIRM_ACTION)
    def on_confirm(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        got = review_button(body, action, client)
        if got is not None:
            flag_id, user, ref, blocks = got
            review(client, user, ref["channel"], flag_id, "confirmed", None, ref, blocks)

    @app.action(bk.DISMISS_ACTION)
    def on_dismiss(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        got = review_button(body, action, client)
        if got is None:
            return
        flag_id, _user, ref, blocks = got
        if ref["channel"] and ref["ts"] and blocks is not None:
            with lock:
                pending[(ref["channel"], ref["ts"])] = blocks
        meta = json.dumps({"flag": flag_id, **ref})
        client.views_open(trigger_id=body["trigger_id"], view=bk.dismiss_modal(flag_id, meta))

    @app.view(bk.DISMISS_MODAL)
    def on_dismiss_submit(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        user = body["user"]["id"]
        flag_id = int(meta["flag"])
        if not deps.access.role_for(user, meta.get("channel")).supervisor:
            refuse(client, user, meta.get("channel"), "review", flag_id)
            return
        values = (view.get("state") or {}).get("values") or {}
        reason = ((values.get("reason") or {}).get("reason") or {}).get("value") or None
        with lock:
            blocks = pending.pop((meta.get("channel"), meta.get("ts")), None)
        review(client, user, meta.get("channel"), flag_id, "dismissed", reason, meta, blocks)
