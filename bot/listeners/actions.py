"""Interactive components: pager buttons, choices between ambiguous names, and reviewing
a flag from Slack.

"Confirm" reviews at once; "Dismiss…" opens a modal asking for a reason and reviews on
submission. Both go through `store.reviews.review(..., via="slack")` (the same path as the
TUI, the API and the CLI, audit-logged in the same transaction) as the presser's verified
Slack user id, against the revision the buttons showed: if someone reviewed the flag in
between, the press is refused with the flag's current state. The message the buttons
were on is then updated. Only users personally granted a reviewing role (never a channel
grant) may review; others get a polite ephemeral refusal (also audit-logged). Every
payload is read defensively (`bot.payloads`): the role check comes first, and a mangled
value is an ephemeral message plus an audit row, never an error.
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
from bot.payloads import get_str, json_object, positive_int
from bot.questions.choices import CHOICE_ACTION
from store import audit, reviews
from store import flags as store_flags

log = logging.getLogger(__name__)
LISTEN_REFUSAL = ("Clips are for supervisors and analysts, posted only in a channel granted to "
                  "them; play it in the TUI instead (`l` on the flag).")
REVIEW_REFUSAL = ("Sorry, only supervisors can review flags (a supervisor grant for you "
                  "or your user group; a channel grant does not give review rights).")
MAX_PENDING = 500  # message blocks kept between "Dismiss…" and the modal's submission
BAD_BUTTON = ("Sorry, I could not read that button (it may come from an old message). "
              "Ask again, e.g. `show call 123`, for fresh buttons.")  # fmt: skip


def _message_ref(body: dict[str, Any]) -> dict[str, Any]:
    """Where the buttons were (channel, ts, ephemeral?, response_url); fields that are
    missing or of the wrong type are None rather than an error."""
    container = body.get("container")
    return {
        "channel": get_str(body, "container", "channel_id") or get_str(body, "channel", "id"),
        "ts": get_str(body, "container", "message_ts") or get_str(body, "message", "ts"),
        "ephemeral": isinstance(container, dict) and container.get("is_ephemeral") is True,
        "response_url": get_str(body, "response_url"),
    }


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The blocks of the message the buttons were on (only the well-formed ones)."""
    message = body.get("message")
    blocks = message.get("blocks") if isinstance(message, dict) else None
    if not isinstance(blocks, list):
        return None
    return [b for b in blocks if isinstance(b, dict)]


def tell(client: Any, user: str | None, channel: str | None, response_url: str | None,
         text: str) -> None:  # fmt: skip
    """Say `text` to the user alone: an ephemeral message, else through response_url.
    A Slack error is logged, not raised (the request was acked already)."""
    from slack_sdk.errors import SlackApiError

    try:
        if user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif response_url:
            from slack_sdk.webhook import WebhookClient

            WebhookClient(response_url).send(text=text, response_type="ephemeral",
                                              replace_original=False)  # fmt: skip
        else:
            log.warning("cannot tell the user (no user/channel nor response_url): %s", text)
    except SlackApiError as exc:
        log.warning("could not tell %s in %s: %s", user, channel, exc.response.get("error"))


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
            missing(client, user, channel, ref.get("response_url"), flag_id, status)
            return
        except reviews.ReviewError as exc:  # stale (someone else reviewed it) or not allowed
            audit.log(deps.store, who.user, "review.stale" if isinstance(exc, reviews.StaleReview)
                      else "review.rejected", f"flag:{flag_id}", {"via": "slack", "error": str(exc)})  # fmt: skip
            tell(client, user, channel, ref.get("response_url"), f"Flag {flag_id}: {exc}")
            return
        note = bk.reviewed_note(flag_id, status, user, reason)
        text = f"Flag {flag_id} {status} by <@{user}>"
        if blocks is not None:
            update_message(client, ref, bk.replace_review_block(blocks, flag_id, note), text)
        elif ref["channel"]:
            # The original blocks are gone (restart between button and modal): say it in a reply.
            client.chat_postMessage(channel=ref["channel"], thread_ts=ref["ts"], text=text, blocks=[note])

    def refuse(client: Any, user: str, channel: str | None, response_url: str | None,
               action: str, flag_id: int | None) -> None:  # fmt: skip
        audit.log(deps.store, f"slack:{user}", f"{action}.refused",
                  f"flag:{flag_id}" if flag_id else channel, {"via": "slack"})  # fmt: skip
        tell(client, user, channel, response_url, REVIEW_REFUSAL)

    def missing(client: Any, user: str, channel: str | None, response_url: str | None,
                flag_id: int, status: str) -> None:  # fmt: skip
        audit.log(deps.store, f"slack:{user}", "review.missing", f"flag:{flag_id}",
                  {"via": "slack", "status": status})  # fmt: skip
        tell(client, user, channel, response_url, f"Flag {flag_id} no longer exists.")

    def malformed(client: Any, user: str | None, ref: dict[str, Any], what: str, why: str,
                  raw: Any) -> None:  # fmt: skip
        """An interactive payload we cannot act on: audit-log it and tell the user."""
        audit.log(deps.store, f"slack:{user or 'unknown'}", f"{what}.malformed", ref.get("channel"),
                  {"via": "slack", "why": why, "value": str(raw)[:200]})  # fmt: skip
        tell(client, user, ref.get("channel"), ref.get("response_url"), BAD_BUTTON)

    @app.action(re.compile(rf"^{bk.PAGE_ACTION}_\d+$"))
    def on_page(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                client: Any) -> None:  # fmt: skip
        ack()
        value = json_object(action.get("value")) or {}
        question = value.get("q") if isinstance(value.get("q"), str) else ""
        page = min(positive_int(value.get("p")) or 0, 10_000)  # mangled: the help, page 0
        ref = _message_ref(body)
        user = get_str(body, "user", "id")
        answer = answer_for(deps, user, ref["channel"], question, via="page", page=page)
        if ref["response_url"]:
            respond(text=answer.text, blocks=answer.blocks, replace_original=True)
        else:
            tell(client, user, ref["channel"], None, answer.text)

    @app.action(re.compile(rf"^{CHOICE_ACTION}_\d+_\d+$"))
    def on_choice(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                  client: Any) -> None:  # fmt: skip
        """A name the question left ambiguous, chosen: the question is asked again with
        that name (through `answer_for`, like any question: role check, audit)."""
        ack()
        value = json_object(action.get("value")) or {}
        question = value.get("q") if isinstance(value.get("q"), str) else ""  # mangled: the help
        ref = _message_ref(body)
        user = get_str(body, "user", "id")
        answer = answer_for(deps, user, ref["channel"], question, via="choice")
        if ref["response_url"]:
            respond(text=answer.text, blocks=answer.blocks, replace_original=True)
        else:
            tell(client, user, ref["channel"], None, answer.text)

    def review_button(
        body: dict[str, Any], action: dict[str, Any], client: Any
    ) -> tuple[int, str, dict[str, Any], Any, int | None] | None:
        """(flag id, user, message ref, message blocks, revision shown) of a review button
        press, or None
        after answering it: the role check comes first (an outsider learns nothing about
        the value and is refused and audit-logged), then the value is read defensively."""
        user = get_str(body, "user", "id")
        ref = _message_ref(body)
        value = json_object(action.get("value"))
        flag_id = positive_int(value.get("flag")) if value else None
        if user is None:
            malformed(client, None, ref, "review", "no user id", action.get("value"))
            return None
        if not deps.access.role_for(user, ref["channel"]).supervisor:
            refuse(client, user, ref["channel"], ref["response_url"], "review", flag_id)
            return None
        if flag_id is None:
            malformed(client, user, ref, "review", "button value has no flag id", action.get("value"))
            return None
        rev = value.get("rev") if value and isinstance(value.get("rev"), int) else None
        return flag_id, user, ref, _blocks(body), rev

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
        flag_id, user, ref, blocks, rev = got
        if store_flags.get(deps.store, flag_id) is None:
            missing(client, user, ref["channel"], ref["response_url"], flag_id, "dismissed")
            return
        trigger = get_str(body, "trigger_id")
        if trigger is None:
            malformed(client, user, ref, "review", "no trigger_id to open the modal", None)
            return
        if ref["channel"] and ref["ts"] and blocks is not None:
            with lock:
                pending[(ref["channel"], ref["ts"])] = blocks
                while len(pending) > MAX_PENDING:  # modals never submitted: forget the oldest
                    pending.pop(next(iter(pending)))
        meta = json.dumps({"flag": flag_id, "rev": rev, **ref})
        client.views_open(trigger_id=trigger, view=bk.dismiss_modal(flag_id, meta))

    @app.action(bk.LISTEN_ACTION)
    def on_listen(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        """Post a clip of the redacted audio around the evidence in the message's thread —
        only where both the presser and the channel's readers may see transcripts."""
        ack()
        from analysis.clips import ClipError
        from bot.clips import channel_may_hear, post_clip
        from store.permissions import allowed

        user = get_str(body, "user", "id")
        ref = _message_ref(body)
        channel = ref["channel"]
        value = json_object(action.get("value"))
        flag_id = positive_int(value.get("flag")) if value else None
        if user is None:
            malformed(client, None, ref, "clip", "no user id", action.get("value"))
            return
        # the presser's own grants (not the channel's) and the channel's readers must both
        # be allowed to hear calls
        if not (allowed(deps.access.role_for(user, channel).acting_role, "transcripts")
                and channel_may_hear(deps.access, channel)):  # fmt: skip
            audit.log(deps.store, f"slack:{user}", "clip.refused",
                      f"flag:{flag_id}" if flag_id else channel, {"via": "slack"})  # fmt: skip
            tell(client, user, channel, ref["response_url"], LISTEN_REFUSAL)
            return
        if flag_id is None:
            malformed(client, user, ref, "clip", "button value has no flag id", action.get("value"))
            return
        try:
            post_clip(client, deps.store, flag_id, channel, ref["ts"], actor=f"slack:{user}")
        except (KeyError, ClipError) as exc:
            tell(client, user, channel, ref["response_url"], f"No clip: {str(exc).strip(chr(39))}")
            return

    @app.view(bk.DISMISS_MODAL)
    def on_dismiss_submit(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        meta = json_object(view.get("private_metadata")) or {}
        user = get_str(body, "user", "id")
        channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
        response_url = meta.get("response_url") if isinstance(meta.get("response_url"), str) else None
        flag_id = positive_int(meta.get("flag"))
        if user is None or not deps.access.role_for(user, channel).supervisor:
            ack()
            if user is None:
                malformed(client, None, {"channel": channel, "response_url": response_url},
                          "review", "modal without a user id", None)  # fmt: skip
            else:
                refuse(client, user, channel, response_url, "review", flag_id)
            return
        if flag_id is None:
            audit.log(deps.store, f"slack:{user}", "review.malformed", channel,
                      {"via": "slack", "why": "modal metadata has no flag id",
                       "value": str(view.get("private_metadata"))[:200]})  # fmt: skip
            # Shown inside the modal, next to the reason field.
            ack(response_action="errors", errors={"reason": BAD_BUTTON})
            return
        values = (view.get("state") or {}).get("values") or {}
        reason_box = values.get("reason") if isinstance(values, dict) else None
        reason = (get_str(reason_box, "reason", "value") or "").strip() or None
        if reason is None:  # Slack shows this under the field and keeps the modal open
            ack(response_action="errors", errors={"reason": "Say why the flag is wrong."})
            return
        ack()
        with lock:
            blocks = pending.pop((channel, meta.get("ts")), None)
        ref = {"channel": channel, "ts": meta.get("ts") if isinstance(meta.get("ts"), str) else None,
               "ephemeral": meta.get("ephemeral") is True, "response_url": response_url}
        rev = meta.get("rev") if isinstance(meta.get("rev"), int) else None
        review(client, user, channel, flag_id, "dismissed", reason, ref, blocks, rev)
