"""Zendesk Support: tickets from the cursor-based incremental export, turns from comments.

The incremental ticket export (`/api/v2/incremental/tickets/cursor.json`, with the
requesters, assignees and groups sideloaded) lists every ticket created or changed since
`start_time`, then pages with `after_cursor` until
`end_of_stream`; a ticket changed again later simply reappears further down the stream,
which the content hash turns into a new version. Each ticket's conversation is its public
comments (`/api/v2/tickets/{id}/comments.json?include=users`, paged by `next_page`);
private comments are internal notes and are left out of the conversation.

Roles: the requester and other end-users → customer; comments made through a bot channel
(Answer Bot, AI agents) or by the system user (-1) → bot; agents and admins → agent.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
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
from connectors.chat.options import ZendeskOptions, parse_start_time
from connectors.http import HttpClient, MalformedResponse
from store import Store
from store.records import Interaction, Turn

VENDOR = "zendesk"
BOT_CHANNELS = frozenset({"answer_bot", "answer_bot_for_agents", "answer_bot_for_sdk",
                          "answer_bot_for_slack", "answer_bot_for_web_widget", "ai_agent",
                          "bot", "chat_bot"})


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _role(comment: dict[str, Any], user: dict[str, Any] | None, requester_id: Any) -> str:
    channel = str((comment.get("via") or {}).get("channel") or "")
    if comment.get("author_id") == -1 or channel in BOT_CHANNELS:
        return "bot"
    if comment.get("author_id") == requester_id:
        return "customer"
    role = (user or {}).get("role")
    if role in ("agent", "admin"):
        return "agent"
    return "customer"


def normalize_ticket(
    source: str,
    ticket: dict[str, Any],
    comments: list[dict[str, Any]],
    users: dict[Any, dict[str, Any]],
    groups: dict[Any, dict[str, Any]],
) -> Interaction:
    """One ticket + its comments → an `Interaction` (raises ConversationError if unusable)."""
    try:
        ticket_id = ticket["id"]
        requester_id = ticket.get("requester_id")
        turns: list[Turn] = []
        notes = 0
        for i, c in enumerate(comments):
            if c.get("public") is False:
                notes += 1
                continue
            text = c.get("plain_body") or c.get("body")
            if not text and c.get("html_body"):
                text = html_to_text(c["html_body"])
            text = (text or "").strip()
            if not text:
                continue
            user = users.get(c.get("author_id"))
            turns.append(
                Turn(
                    seq=i,
                    speaker=_role(c, user, requester_id),
                    text=text,
                    sent_at=_ts(c["created_at"]),
                    speaker_name=(user or {}).get("name") or str(c.get("author_id")),
                    meta={"part_id": str(c["id"]), "author_id": str(c.get("author_id")),
                          "channel": (c.get("via") or {}).get("channel")},
                )
            )
        requester = users.get(requester_id) or {}
        assignee = users.get(ticket.get("assignee_id")) or {}
        group = groups.get(ticket.get("group_id")) or {}
        agent = assignee.get("name") or (
            str(ticket["assignee_id"]) if ticket.get("assignee_id") else None
        )
        if agent is None:
            agent = next((t.speaker_name for t in turns if t.speaker == "agent"), None)
        return make_interaction(
            source=source,
            vendor=VENDOR,
            external_id=str(ticket_id),
            turns=turns,
            subject=ticket.get("subject") or ticket.get("raw_subject"),
            agent=agent,
            customer=requester.get("name") or requester.get("email")
            or (str(requester_id) if requester_id else None),
            customer_key_value=customer_key(
                VENDOR, email=requester.get("email"), phone=requester.get("phone"),
                user_id=str(requester_id) if requester_id is not None else None,
            ),
            queue=group.get("name") or (str(ticket["group_id"]) if ticket.get("group_id") else None),
            started_at=_ts(ticket.get("created_at")),
            raw_ref=ticket.get("url"),
            metadata={
                "ticket_status": ticket.get("status"),
                "via": (ticket.get("via") or {}).get("channel"),
                "tags": ticket.get("tags") or [],
                "priority": ticket.get("priority"),
                "internal_notes": notes,
                "updated_at": ticket.get("updated_at"),
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConversationError(
            f"ticket:{ticket.get('id')}", f"ticket cannot be normalised: {type(exc).__name__}: {exc}",
            excerpt_of(ticket),
        ) from exc


class ZendeskSource(ChatSource):
    """Zendesk Support over its REST API (see module docstring)."""

    vendor = VENDOR
    incremental_cursor = "the incremental export's after_cursor"
    item_prefix = "ticket:"

    def __init__(self, options: ZendeskOptions, *, client: HttpClient | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(f"{VENDOR}:{options.name}", max_attempts=options.max_attempts,
                         concurrency=options.concurrency)
        self.options = options
        if client is None:
            if options.oauth_token:
                headers = {"Authorization": f"Bearer {options.oauth_token}"}
            else:
                # Zendesk API tokens: basic auth with "{email}/token:{api_token}"
                raw = f"{options.email}/token:{options.api_token}".encode()
                headers = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
            client = HttpClient(options.base_url, name=self.name, headers=headers,
                                options=options.http, sleep=sleep, max_connections=options.concurrency + 2)
        self.client = client

    def close(self) -> None:
        self.client.close()

    def _groups(self) -> dict[Any, dict[str, Any]]:
        """Group id → group, for queue names (one small list per sync)."""
        groups: dict[Any, dict[str, Any]] = {}
        url: str | None = "/api/v2/groups.json"
        while url:
            data = self.client.get_json(url)
            for g in data.get("groups") or []:
                groups[g.get("id")] = g
            url = data.get("next_page")
        return groups

    def _conversation(self, ticket: dict[str, Any], groups: dict[Any, dict[str, Any]],
                      page_users: dict[Any, dict[str, Any]]) -> Interaction:
        comments: list[dict[str, Any]] = []
        users: dict[Any, dict[str, Any]] = dict(page_users)
        url: str | None = f"/api/v2/tickets/{ticket['id']}/comments.json"
        params: dict[str, Any] | None = {"include": "users"}
        while url:
            data = self.client.get_json(url, params)
            page = data.get("comments")
            if not isinstance(page, list):
                raise ConversationError(f"ticket:{ticket['id']}", "comments page has no 'comments' list",
                                        excerpt_of(data))
            comments.extend(page)
            for u in data.get("users") or []:
                users[u.get("id")] = u
            url, params = data.get("next_page"), None
        return normalize_ticket(self.name, ticket, comments, users, groups)

    def batches(self, store: Store, cursor: dict[str, Any] | None) -> Iterator[Batch]:
        groups = self._groups()
        path = "/api/v2/incremental/tickets/cursor.json"
        if cursor and cursor.get("after_cursor"):
            params: dict[str, Any] = {"cursor": cursor["after_cursor"]}
        else:
            params = {"start_time": parse_start_time(self.options.start_time)}
        # sideloads: the requester and assignee even when they never commented
        params.update(per_page=self.options.page_size, include="users,groups")
        while True:
            page_key = "page:" + self.client.url_for(path, params)
            data = self.client.get_json(path, params)
            tickets = data.get("tickets")
            if not isinstance(tickets, list):
                raise MalformedResponse(
                    f"{self.name}: incremental export page has no 'tickets' list",
                    url=page_key[5:], status=200, excerpt=excerpt_of(data),
                )
            live = [t for t in tickets if t.get("status") != "deleted"]
            page_users = {u.get("id"): u for u in data.get("users") or []}
            for g in data.get("groups") or []:
                groups.setdefault(g.get("id"), g)
            good, given_up = self.fetch_all(
                store, live, key=lambda t: f"ticket:{t.get('id')}",
                fetch=partial(self._conversation, groups=groups, page_users=page_users),
            )
            after = data.get("after_cursor")
            new_cursor = {"after_cursor": after} if after else cursor
            yield Batch(good, new_cursor, page_key=page_key, given_up=given_up)
            if data.get("end_of_stream", True) or not after:
                return
            cursor = new_cursor
            params = {"cursor": after, "per_page": self.options.page_size,
                      "include": "users,groups"}
