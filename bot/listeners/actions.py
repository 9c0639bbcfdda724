"""Interactive components: pager buttons, and reviewing a flag from Slack.

"Confirm" reviews at once; "Dismiss…" opens a modal asking for a reason and reviews on
submission. Both go through `store.reviews.review(..., via="slack")` (the same path as the
TUI, the API and the CLI, audit-logged in the same transaction) as the presser's verified
Slack user id, against the revision the buttons showed: if someone reviewed the flag in
between, the press is refused with the flag's current state. The message the buttons
were on is then updated. Only users personally granted a reviewing role (never a channel
grant) may review; others get a polite ephemeral refusal (also audit-logged).
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
from store import audit, reviews

log = logging.getLogger(__name__)
LISTEN_REFUSAL = ("Clips are for supervisors and analysts, posted only in a channel granted to "
                  "them; play it in the TUI instead (`l` on the flag).")
REVIEW_REFUSAL = ("Sorry, only supervisors can review flags (a supervisor grant for you "
                  "or your user group; a channel grant does not give review rights).")


def _message_ref(body: dict[str, Any]) -> dict[str, Any]:
    container = body.get("container") or {}
    return {
        "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
        "ephemeral": bool(container.get("is_ephemeral")),
        "response_url": body.get("response_url"),
    }


def _set_review(store: Any, flag_id: int, status: str, who: Any, reason: str | None,
                rev: int | None) -> None:  # fmt: skip
    """`reviews.review`, retried when DuckDB reports a write conflict (analysis may be
    rewriting the same flag row in the same instant). Without a revision (buttons posted
    before revisions existed) the state the buttons showed was 'open'."""
    import duckdb

    for attempt in range(3):
        try:
            reviews.review(store, flag_id, status, who, reason, expected_rev=rev,
                           expected_status="open", via="slack")  # fmt: skip
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
               reason: str | None, ref: dict[str, Any], blocks: list[dict[str, Any]] | None,
               rev: int | None = None) -> None:  # fmt: skip
        who = deps.access.role_for(user, channel).identity()
        try:
            _set_review(deps.store, flag_id, status, who, reason, rev)
        except KeyError:
            client.chat_postEphemeral(channel=channel, user=user, text=f"Flag {flag_id} no longer exists.")
            return
        except reviews.ReviewError as exc:  # stale (someone else reviewed it) or not allowed
            audit.log(deps.store, who.user, "review.stale" if isinstance(exc, reviews.StaleReview)
                      else "review.rejected", f"flag:{flag_id}", {"via": "slack", "error": str(exc)})  # fmt: skip
            if channel:
                client.chat_postEphemeral(channel=channel, user=user, text=f"Flag {flag_id}: {exc}")
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
    ) -> tuple[int, str, dict[str, Any], Any, int | None] | None:
        """(flag id, user, message ref, message blocks, revision shown) of a review button
        press, or None after politely refusing someone who may not review."""
        value = json.loads(action.get("value") or "{}")
        flag_id = int(value["flag"])
        rev = int(value["rev"]) if isinstance(value.get("rev"), int) else None
        user = body["user"]["id"]
        ref = _message_ref(body)
        if not deps.access.role_for(user, ref["channel"]).supervisor:
            refuse(client, user, ref["channel"], "review", flag_id)
            return None
        return flag_id, user, ref, (body.get("message") or {}).get("blocks"), rev

    @app.action(bk.CONFIRM_ACTION)
    def on_confirm(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        got = review_button(body, action, client)
        if got is not None:
            flag_id, user, ref, blocks, rev = got
            review(client, user, ref["channel"], flag_id, "confirmed", None, ref, blocks, rev)

    @app.action(bk.DISMISS_ACTION)
    def on_dismiss(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        got = review_button(body, action, client)
        if got is None:
            return
        flag_id, _user, ref, blocks, rev = got
        if ref["channel"] and ref["ts"] and blocks is not None:
            with lock:
                pending[(ref["channel"], ref["ts"])] = blocks
        meta = json.dumps({"flag": flag_id, "rev": rev, **ref})
        client.views_open(trigger_id=body["trigger_id"], view=bk.dismiss_modal(flag_id, meta))

    @app.action(bk.LISTEN_ACTION)
    def on_listen(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        """Post a clip of the redacted audio around the evidence in the message's thread —
        only where both the presser and the channel's readers may see transcripts."""
        ack()
        from analysis.clips import ClipError, make_clip
        from store.permissions import allowed

        flag_id = int(json.loads(action.get("value") or "{}")["flag"])
        user = body["user"]["id"]
        ref = _message_ref(body)
        channel = ref["channel"]
        # the presser's own grants (not the channel's) and the channel's readers must both
        # be allowed to hear calls
        if not (allowed(deps.access.role_for(user, channel).acting_role, "transcripts")
                and allowed(deps.access.channel_role(channel), "transcripts")):  # fmt: skip
            audit.log(deps.store, f"slack:{user}", "clip.refused", f"flag:{flag_id}", {"via": "slack"})
            if channel:
                client.chat_postEphemeral(channel=channel, user=user, text=LISTEN_REFUSAL)
            return
        try:
            clip = make_clip(deps.store, flag_id)
        except (KeyError, ClipError) as exc:
            if channel:
                client.chat_postEphemeral(channel=channel, user=user, text=f"No clip: {str(exc).strip(chr(39))}")
            return
        client.files_upload_v2(
            channel=channel, thread_ts=ref["ts"], content=clip.path.read_bytes(), filename=clip.path.name,
            title=f"Flag {flag_id}: call {clip.interaction_id}, {clip.start:.1f}–{clip.end:.1f} s (PII silenced)",
            initial_comment=f"Redacted audio around the evidence of flag {flag_id}. Did you hear it?",
        )  # fmt: skip
        audit.log(deps.store, f"slack:{user}", "clip.post", f"flag:{flag_id}",
                  {"via": "slack", "channel": channel, "start": clip.start, "end": clip.end})  # fmt: skip

    @app.view(bk.DISMISS_MODAL)
    def on_dismiss_submit(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        values = (view.get("state") or {}).get("values") or {}
        reason = (((values.get("reason") or {}).get("reason") or {}).get("value") or "").strip() or None
        if reason is None:  # Slack shows this under the field and keeps the modal open
            ack(response_action="errors", errors={"reason": "Say why the flag is wrong."})
            return
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        user = body["user"]["id"]
        flag_id = int(meta["flag"])
        if not deps.access.role_for(user, meta.get("channel")).supervisor:
            refuse(client, user, meta.get("channel"), "review", flag_id)
            return
        with lock:
            blocks = pending.pop((meta.get("channel"), meta.get("ts")), None)
        rev = meta.get("rev") if isinstance(meta.get("rev"), int) else None
        review(client, user, meta.get("channel"), flag_id, "dismissed", reason, meta, blocks, rev)
