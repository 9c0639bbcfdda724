"""Intercom (REST API 2.11): conversations found by `updated_at`, turns from their parts.

Increments come from `POST /conversations/search` with `updated_at > cursor`, paged with
`pagination.starting_after`; the search results carry no parts, so each conversation is
read with `GET /conversations/{id}` (the opening message is `source`, the rest are
`conversation_parts`). Intercom's `>` on dates means "greater or equal", so re-reading the
boundary second is by design: it finds the already-stored conversations unchanged.

The watermark only moves when a search has been paged to its end (results are not
guaranteed in `updated_at` order); in between, the cursor remembers the page token, so an
interrupted run resumes where it stopped.

Roles: admin → agent; user / lead / contact → customer; bot → bot; others (team,
system events) → system. Notes are internal and left out; parts without a body
(assignments, open/close events) carry no text and are skipped.
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
from connectors.chat.options import IntercomOptions, parse_start_time
from connectors.http import HttpClient, HttpStatusError, MalformedResponse, utc_from_epoch
from store import Store
from store.records import Interaction, Turn

log = logging.getLogger(__name__)

VENDOR = "intercom"
API_VERSION = "2.11"
ROLES = {"admin": "agent", "user": "customer", "lead": "customer", "contact": "customer",
         "bot": "bot"}
NOTE_TYPES = frozenset({"note", "note_and_reopen"})


def _role(author: dict[str, Any] | None) -> str:
    return ROLES.get(str((author or {}).get("type") or ""), "system")


def normalize_conversation(
    source: str, conv: dict[str, Any], teams: dict[str, dict[str, Any]] | None = None
) -> Interaction:
    """A full conversation (as `GET /conversations/{id}` returns it) → an `Interaction`."""
    try:
        conv_id = str(conv["id"])
        src = conv.get("source") or {}
        turns: list[Turn] = []
        notes = 0
        first = src.get("body")
        if first:
            turns.append(_turn(0, src, conv.get("created_at"), part_id=f"source:{src.get('id')}"))
        parts_obj = conv.get("conversation_parts") or {}
        parts = parts_obj.get("conversation_parts") or []
        for i, part in enumerate(parts, start=1):
            if part.get("part_type") in NOTE_TYPES:
                notes += 1
                continue
            if not part.get("body"):
                continue
            turns.append(_turn(i, part, part.get("created_at"), part_id=str(part["id"])))
        turns = [t for t in turns if t.text]
        # the customer: the opening author if a contact, else the first contact who wrote
        cust = src.get("author") if _role(src.get("author")) == "customer" else None
        if cust is None:
            cust = next((p.get("author") for p in parts if _role(p.get("author")) == "customer"),
                        None)
        contacts = (conv.get("contacts") or {}).get("contacts") or []
        contact_id = contacts[0].get("id") if contacts else (cust or {}).get("id")
        admin_id = conv.get("admin_assignee_id")
        authors = [src.get("author") or {}] + [p.get("author") or {} for p in parts]
        agent = None
        if admin_id is not None:
            agent = next((a.get("name") for a in authors
                          if a.get("type") == "admin" and str(a.get("id")) == str(admin_id)
                          and a.get("name")), str(admin_id))
        else:
            agent = next((a.get("name") or a.get("id") for a in authors
                          if a.get("type") == "admin"), None)
        team_id = conv.get("team_assignee_id")
        team = (teams or {}).get(str(team_id)) if team_id is not None else None
        queue = (team or {}).get("name") or (str(team_id) if team_id is not None else None)
        return make_interaction(
            source=source,
            vendor=VENDOR,
            external_id=conv_id,
            turns=turns,
            subject=html_to_text(conv.get("title") or src.get("subject") or "") or None,
            agent=agent,
            customer=(cust or {}).get("name") or (cust or {}).get("email") or contact_id,
            customer_key_value=customer_key(
                VENDOR, email=(cust or {}).get("email"),
                user_id=str(contact_id) if contact_id else None,
            ),
            queue=queue,
            started_at=utc_from_epoch(conv.get("created_at")),
            raw_ref=src.get("url"),
            metadata={
                "state": conv.get("state"),
                "delivered_as": src.get("delivered_as"),
                "source_type": src.get("type"),
                "internal_notes": notes,
                "updated_at": conv.get("updated_at"),
                "ai_agent_participated": conv.get("ai_agent_participated"),
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConversationError(
            f"conversation:{conv.get('id') if isinstance(conv, dict) else '?'}",
            f"conversation cannot be normalised: {type(exc).__name__}: {exc}",
            excerpt_of(conv),
        ) from exc


def _turn(seq: int, part: dict[str, Any], created_at: Any, *, part_id: str) -> Turn:
    author = part.get("author") or {}
    return Turn(
        seq=seq,
        speaker=_role(author),
        text=html_to_text(part.get("body")),
        sent_at=utc_from_epoch(created_at),
        speaker_name=author.get("name") or author.get("email") or author.get("id"),
        meta={"part_id": part_id, "author_id": str(author.get("id")),
              "author_type": author.get("type"), "part_type": part.get("part_type")},
    )


class IntercomSource(ChatSource):
    """Intercom conversations over REST API 2.11 (see module docstring)."""

    vendor = VENDOR
    incremental_cursor = "updated_at watermark + the search's starting_after token"

    def __init__(self, options: IntercomOptions, *, client: HttpClient | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(f"{VENDOR}:{options.name}", max_attempts=options.max_attempts,
                         concurrency=options.concurrency)
        self.options = options
        self.client = client or HttpClient(
            options.base_url, name=self.name,
            headers={"Authorization": f"Bearer {options.access_token}",
                     "Intercom-Version": API_VERSION},
            options=options.http, sleep=sleep, max_connections=options.concurrency + 2,
        )

    def close(self) -> None:
        self.client.close()

    def _teams(self) -> dict[str, dict[str, Any]]:
        data = self.client.get_json("/teams")
        return {str(t.get("id")): t for t in data.get("teams") or []}

    def _conversation(self, item: dict[str, Any], teams: dict[str, dict[str, Any]]) -> Interaction:
        data = self.client.get_json(f"/conversations/{item['id']}")
        if data.get("type") not in (None, "conversation") or "id" not in data:
            raise ConversationError(f"conversation:{item['id']}", "not a conversation object",
                                    excerpt_of(data))
        return normalize_conversation(self.name, data, teams)

    def batches(self, store: Store, cursor: dict[str, Any] | None) -> Iterator[Batch]:
        teams = self._teams()
        since = int((cursor or {}).get("updated_since", parse_start_time(self.options.start_time)))
        token = (cursor or {}).get("starting_after")
        max_seen = int((cursor or {}).get("max_seen", since))
        while True:
            body: dict[str, Any] = {
                "query": {"field": "updated_at", "operator": ">", "value": since},
                "pagination": {"per_page": self.options.page_size},
            }
            if token:
                body["pagination"]["starting_after"] = token
            page_key = f"page:{self.client.url_for('/conversations/search')}#{since}:{token or ''}"
            try:
                data = self.client.post_json("/conversations/search", body)
            except MalformedResponse as exc:
                # one POST URL serves every page: name the page by its query and token
                raise MalformedResponse(str(exc), url=page_key[5:], status=exc.status,
                                        excerpt=exc.excerpt) from None
            except HttpStatusError as exc:
                if not token or exc.status not in (400, 404, 410):
                    raise
                # a saved page token from an interrupted run has expired: search again from
                # the watermark (already stored conversations come back unchanged)
                log.warning("%s: page token refused (%s); restarting the search", self.name, exc)
                token = None
                continue
            items = data.get("conversations")
            if not isinstance(items, list):
                raise MalformedResponse(
                    f"{self.name}: search page has no 'conversations' list",
                    url=page_key[5:], status=200, excerpt=excerpt_of(data),
                )
            good, given_up = self.fetch_all(
                store, items, key=lambda c: f"conversation:{c.get('id')}",
                fetch=lambda c: self._conversation(c, teams),
            )
            for c in items:
                if isinstance(c.get("updated_at"), int):
                    max_seen = max(max_seen, c["updated_at"])
            nxt = ((data.get("pages") or {}).get("next") or {}).get("starting_after")
            if nxt:
                new_cursor = {"updated_since": since, "starting_after": nxt, "max_seen": max_seen}
            else:
                new_cursor = {"updated_since": max_seen, "starting_after": None,
                              "max_seen": max_seen}
            yield Batch(good, new_cursor, page_key=page_key, given_up=given_up)
            if not nxt:
                return
            token = nxt
