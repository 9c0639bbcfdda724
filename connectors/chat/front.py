"""Front: conversations (newest activity first) and their messages.

`GET /conversations` lists conversations in reverse order of activity, paged by
`_pagination.next`; each conversation's turns come from `GET /conversations/{id}/messages`.
There is no "changed since" filter on that list, so the source keeps a *watermark* (the
latest message time it has committed) and walks from the top until it meets a
conversation whose newest message is older than the watermark: everything below it was
loaded before. The watermark moves only when a walk has reached that point (or the end of
the list); in between, the cursor keeps the `next` link so an interrupted walk resumes.

Roles: inbound messages → customer; outbound with a teammate author → agent; outbound
with no author (rules, automations, bots) → bot. Drafts are not part of the conversation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from connectors.chat.common import (
    Batch,
    ChatSource,
    ConversationError,
    customer_key,
    excerpt_of,
    html_to_text,
    make_interaction,
)
from connectors.chat.options import FrontOptions, parse_start_time
from connectors.http import HttpClient, HttpStatusError, MalformedResponse, utc_from_epoch
from store import Store
from store.records import Interaction, QuarantineItem, Turn

log = logging.getLogger(__name__)

VENDOR = "front"


def _person(p: dict[str, Any] | None) -> str | None:
    if not p:
        return None
    full = " ".join(x for x in (p.get("first_name"), p.get("last_name")) if x)
    return full or p.get("username") or p.get("email") or p.get("id")


def _role(msg: dict[str, Any]) -> str:
    if msg.get("is_inbound"):
        return "customer"
    return "agent" if msg.get("author") else "bot"


def last_activity(conv: dict[str, Any], messages: list[dict[str, Any]]) -> float:
    """The time of a conversation's newest message (its place in Front's list)."""
    times = [float(m["created_at"]) for m in messages if m.get("created_at") is not None]
    return max(times) if times else float(conv.get("created_at") or 0)


def normalize_conversation(
    source: str, conv: dict[str, Any], messages: list[dict[str, Any]], *, default_queue: str = ""
) -> Interaction:
    """A conversation and its messages (any order) → an `Interaction`."""
    try:
        conv_id = str(conv["id"])
        turns: list[Turn] = []
        customer_name = None
        for i, m in enumerate(messages):
            if m.get("is_draft"):
                continue
            text = html_to_text(m.get("body")) if m.get("body") else (m.get("text") or "").strip()
            if not text:
                continue
            role = _role(m)
            sender = next((r for r in m.get("recipients") or [] if r.get("role") == "from"), None)
            if role == "customer" and sender and sender.get("name") and not customer_name:
                customer_name = sender["name"]
            name = _person(m.get("author")) if m.get("author") else (
                (sender or {}).get("name") or (sender or {}).get("handle")
            )
            turns.append(
                Turn(
                    seq=i,
                    speaker=role,
                    text=text,
                    sent_at=utc_from_epoch(m["created_at"]),
                    speaker_name=name,
                    meta={"part_id": str(m["id"]), "message_type": m.get("type")},
                )
            )
        recipient = conv.get("recipient") or {}
        handle = recipient.get("handle") or ""
        tags = [t.get("name") for t in conv.get("tags") or [] if t.get("name")]
        return make_interaction(
            source=source,
            vendor=VENDOR,
            external_id=conv_id,
            turns=turns,
            subject=conv.get("subject"),
            agent=_person(conv.get("assignee")),
            customer=customer_name or recipient.get("name") or handle or None,
            customer_key_value=customer_key(
                VENDOR, email=handle if "@" in handle else None,
                phone=handle if handle and "@" not in handle else None,
                user_id=handle or None,
            ),
            queue=(tags[0] if tags else None) or default_queue or None,
            started_at=utc_from_epoch(conv.get("created_at")),
            raw_ref=(conv.get("_links") or {}).get("self"),
            metadata={"status": conv.get("status"), "tags": tags,
                      "last_activity": last_activity(conv, messages)},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConversationError(
            f"conversation:{conv.get('id') if isinstance(conv, dict) else '?'}",
            f"conversation cannot be normalised: {type(exc).__name__}: {exc}",
            excerpt_of(conv),
        ) from exc


class FrontSource(ChatSource):
    """Front conversations over its Core API (see module docstring)."""

    vendor = VENDOR
    incremental_cursor = "newest committed message time (watermark) + the walk's next link"

    def __init__(self, options: FrontOptions, *, client: HttpClient | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(f"{VENDOR}:{options.name}", max_attempts=options.max_attempts,
                         concurrency=options.concurrency)
        self.options = options
        self.client = client or HttpClient(
            options.base_url, name=self.name,
            headers={"Authorization": f"Bearer {options.api_token}"},
            options=options.http, sleep=sleep, max_connections=options.concurrency + 2,
        )

    def close(self) -> None:
        self.client.close()

    def _messages(self, conv: dict[str, Any]) -> tuple[float, Interaction | ConversationError]:
        """A conversation's messages, normalised in the worker thread (its newest time first)."""
        out: list[dict[str, Any]] = []
        url: str | None = f"/conversations/{conv['id']}/messages"
        while url:
            data = self.client.get_json(url)
            page = data.get("_results")
            if not isinstance(page, list):
                raise ConversationError(f"conversation:{conv['id']}",
                                        "messages page has no '_results' list", excerpt_of(data))
            out.extend(page)
            url = (data.get("_pagination") or {}).get("next")
        try:
            it: Interaction | ConversationError = normalize_conversation(
                self.name, conv, out, default_queue=self.options.queue)
        except ConversationError as err:  # not worth retrying: the data itself is unusable
            it = err
        return last_activity(conv, out), it

    def batches(self, store: Store, cursor: dict[str, Any] | None) -> Iterator[Batch]:
        cursor = cursor or {}
        watermark = float(cursor.get("watermark", parse_start_time(self.options.start_time)))
        pending = float(cursor.get("pending_max", watermark))
        top = self.client.url_for("/conversations", {"limit": self.options.page_size})
        url: str = cursor.get("next") or top
        while True:
            try:
                data = self.client.get_json(url)
            except HttpStatusError as exc:
                if url == top or exc.status not in (400, 404, 410):
                    raise
                # the saved `next` link of an interrupted walk has expired: walk again from
                # the top (what was stored comes back unchanged; the watermark still holds)
                log.warning("%s: next link refused (%s); walking from the top", self.name, exc)
                url = top
                continue
            convs = data.get("_results")
            if not isinstance(convs, list):
                raise MalformedResponse(
                    f"{self.name}: conversations page has no '_results' list",
                    url=url, status=200, excerpt=excerpt_of(data),
                )
            fetched, given_up = self.fetch_all(
                store, convs, key=lambda c: f"conversation:{c.get('id')}", fetch=self._messages
            )
            good: list[Interaction] = []
            reached_old = False
            for last, it in fetched:
                if last < watermark:
                    reached_old = True  # everything from here down was loaded before
                    break
                pending = max(pending, last)
                if isinstance(it, ConversationError):
                    given_up.append(_item(self.name, it))
                else:
                    good.append(it)
            nxt = (data.get("_pagination") or {}).get("next")
            if reached_old or not nxt:
                yield Batch(good, {"watermark": pending, "next": None}, page_key=f"page:{url}",
                            given_up=given_up)
                return
            yield Batch(good, {"watermark": watermark, "pending_max": pending, "next": nxt},
                        page_key=f"page:{url}", given_up=given_up)
            url = nxt


def _item(source: str, err: ConversationError) -> QuarantineItem:
    return QuarantineItem(source=source, item_key=err.key, reason=err.reason, excerpt=err.excerpt)
