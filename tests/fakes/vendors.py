"""Local Zendesk, Intercom and Front API servers for tests and benchmarks.

Each fake is a real HTTP server (stdlib `ThreadingHTTPServer`, HTTP/1.1 keep-alive) on
127.0.0.1 with an OS-assigned port, answering in the shapes the vendors document:

* Zendesk: `GET /api/v2/incremental/tickets/cursor.json` (start_time / cursor, per_page,
  after_cursor, end_of_stream), `GET /api/v2/tickets/{id}/comments.json` (include=users,
  next_page), `GET /api/v2/groups.json`; basic `{email}/token:{token}` or Bearer auth.
* Intercom 2.11: `POST /conversations/search` (updated_at filter, pages.next.starting_after),
  `GET /conversations/{id}` (with conversation_parts), `GET /teams`; Bearer auth;
  X-RateLimit-* headers on every answer. Its answers are checked against Intercom's
  OpenAPI description in the tests (every exchange is recorded in `exchanges`).
* Front: `GET /conversations` (newest activity first, `_pagination.next`),
  `GET /conversations/{id}/messages` (newest first, paged); Bearer auth.

Faults are injected with `fail_next(path_fragment, kind, times, headers)`: a status such as
`429` (with Retry-After / X-RateLimit-Reset as given), `500` or `404`, `malformed` (a 200 with a truncated JSON
body) and `drop` (the connection is closed without an answer). Data is added with the
`add_*` helpers or generated with `populate(n)`; `touch`/`add_*` on an existing conversation
moves it forward in the vendor's change order, as the real services do.

Chaos mode (`fake.chaos(seed, rate, max_faults, ...)`, random seeded and bounded faults)
and the shared server plumbing live in vendor_base.py.

Use as a context manager (`with ZendeskFake(...) as fake: fake.url`), or `serve_in_process`
for a benchmark (the server then runs on its own core).
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from vendor_base import (  # noqa: F401  (re-exported: tests import them from here)
    BASE_TIME,
    CHAOS_KINDS,
    Chaos,
    Exchange,
    Fault,
    VendorFake,
    _b64,
    _unb64,
)

CUSTOMER_LINES = [
    "Hi, I was charged twice for my order and I would like a refund.",
    "The app keeps crashing when I open the settings page.",
    "Can you tell me when my delivery will arrive?",
    "I still have not received my refund, this is really frustrating.",
    "Thanks, that fixed it!",
    "I want to cancel my account.",
    "Why is my bill higher this month?",
    "<p>I tried <b>restarting</b> it twice &amp; nothing changed.</p>",
]
AGENT_LINES = [
    "<p>Thanks for reaching out! Let me look into that for you.</p>",
    "I can see the duplicate charge; I have issued a refund of $42.",
    "Could you try clearing the cache and logging in again?",
    "Your delivery is scheduled for tomorrow between 9 and 12.",
    "<p>I am sorry about the trouble. I have escalated this to our billing team.</p>",
    "Is there anything else I can help you with today?",
]


class SleepRecorder:
    """Stands in for time.sleep: records each wait so a test can assert on it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ======================================================================================
# Zendesk
# ======================================================================================


class ZendeskFake(VendorFake):
    vendor = "zendesk"

    def __init__(self, *, email: str = "bot@acme.example", token: str = "zd-token",
                 oauth_token: str | None = None, comments_per_page: int = 100,
                 record: bool = True) -> None:
        super().__init__(record=record)
        self.email, self.token, self.oauth_token = email, token, oauth_token
        self.comments_per_page = comments_per_page
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {
            360001: {"id": 360001, "name": "Billing", "url": "", "deleted": False},
            360002: {"id": 360002, "name": "Support", "url": "", "deleted": False},
        }
        self._next_comment = 9000

    def authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if self.oauth_token and auth == f"Bearer {self.oauth_token}":
            return True
        expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        return auth == f"Basic {expected}"

    def error_body(self, status: int, message: str) -> bytes:
        if status == 401:
            return json.dumps({"error": "Couldn't authenticate you"}).encode()
        return json.dumps({"error": message, "description": message}).encode()

    # -- data --------------------------------------------------------------------------

    def add_user(self, uid: int, name: str, role: str, email: str | None = None,
                 phone: str | None = None) -> dict[str, Any]:
        user = {"id": uid, "url": f"https://acme.zendesk.com/api/v2/users/{uid}.json",
                "name": name, "email": email, "phone": phone, "role": role, "active": True}
        self.users[uid] = user
        return user

    def add_ticket(self, tid: int, *, subject: str, requester_id: int, assignee_id: int | None,
                   group_id: int | None = 360001, channel: str = "chat",
                   tags: list[str] | None = None) -> dict[str, Any]:
        now = self.tick(1)
        t = {
            "id": tid, "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json",
            "external_id": None, "type": "question", "subject": subject, "raw_subject": subject,
            "description": "", "priority": "normal", "status": "open",
            "requester_id": requester_id, "submitter_id": requester_id,
            "assignee_id": assignee_id, "group_id": group_id, "tags": tags or [],
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": _iso(now), "updated_at": _iso(now), "generated_timestamp": now,
        }
        self.tickets[tid] = t
        self.comments[tid] = []
        return t

    def add_comment(self, tid: int, author_id: int, body: str, *, public: bool = True,
                    channel: str = "web") -> dict[str, Any]:
        now = self.tick(30)
        self._next_comment += 1
        plain = re.sub(r"<[^>]+>", "", body).replace("&amp;", "&")
        c = {"id": self._next_comment, "type": "Comment", "author_id": author_id,
             "body": plain, "html_body": f"<div>{body}</div>",
             "plain_body": plain, "public": public, "attachments": [], "audit_id": now,
             "via": {"channel": channel, "source": {}}, "created_at": _iso(now),
             "metadata": {}}
        self.comments[tid].append(c)
        t = self.tickets[tid]
        t["updated_at"], t["generated_timestamp"] = _iso(now), now
        return c

    def populate(self, n: int, *, seed: int = 7, parts: int = 4, start_id: int = 1) -> None:
        rnd = random.Random(seed)
        self.add_user(100, "Dana Agent", "agent", "dana@acme.example")
        self.add_user(101, "Lee Agent", "agent", "lee@acme.example")
        for i in range(start_id, start_id + n):
            uid = 500000 + i
            self.add_user(uid, f"Customer {i}", "end-user", f"Customer{i}@Example.com")
            agent = rnd.choice([100, 101])
            self.add_ticket(i, subject=f"Ticket {i}", requester_id=uid, assignee_id=agent,
                            group_id=rnd.choice([360001, 360002]))
            for p in range(parts):
                if p % 2 == 0:
                    self.add_comment(i, uid, rnd.choice(CUSTOMER_LINES), channel="chat")
                else:
                    self.add_comment(i, agent, rnd.choice(AGENT_LINES), channel="chat")

    # -- routes ------------------------------------------------------------------------

    def route(self, method: str, path: str, params: dict[str, str], payload: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/api/v2/incremental/tickets/cursor.json":
            return self._incremental(params)
        if method == "GET" and path == "/api/v2/groups.json":
            return 200, {"groups": list(self.groups.values()), "next_page": None,
                         "previous_page": None, "count": len(self.groups)}
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 5 and parts[:3] == ["api", "v2", "tickets"] \
                and parts[4] == "comments.json":
            return self._comments(int(parts[3]), params)
        return self._not_found()

    def _incremental(self, params: dict[str, str]) -> tuple[int, Any]:
        per_page = min(int(params.get("per_page", 1000)), 1000)
        if "cursor" in params:
            pos = tuple(_unb64(params["cursor"]))
        elif "start_time" in params:
            pos = (int(params["start_time"]) - 1, 10**12)
        else:
            return 400, {"error": "InvalidValue", "description": "start_time or cursor required"}
        stream = sorted(self.tickets.values(), key=lambda t: (t["generated_timestamp"], t["id"]))
        after = [t for t in stream if (t["generated_timestamp"], t["id"]) > pos]
        page = after[:per_page]
        last = (page[-1]["generated_timestamp"], page[-1]["id"]) if page else pos
        cursor = _b64(list(last))
        base = self.url + "/api/v2/incremental/tickets/cursor.json"
        data: dict[str, Any] = {
            "tickets": page,
            "after_url": f"{base}?{urlencode({'cursor': cursor})}",
            "after_cursor": cursor,
            "before_url": None, "before_cursor": None,
            "end_of_stream": len(after) <= per_page,
        }
        include = params.get("include", "").split(",")
        if "users" in include:  # sideloads, as Zendesk's `include=users,groups`
            ids = {t[k] for t in page for k in ("requester_id", "assignee_id") if t.get(k)}
            data["users"] = [self.users[i] for i in ids if i in self.users]
        if "groups" in include:
            gids = {t["group_id"] for t in page if t.get("group_id")}
            data["groups"] = [self.groups[g] for g in gids if g in self.groups]
        return 200, data

    def _comments(self, tid: int, params: dict[str, str]) -> tuple[int, Any]:
        if tid not in self.tickets:
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        page_no = int(params.get("page", 1))
        allc = self.comments[tid]
        n = self.comments_per_page
        chunk = allc[(page_no - 1) * n: page_no * n]
        more = len(allc) > page_no * n
        data: dict[str, Any] = {
            "comments": chunk,
            "next_page": (f"{self.url}/api/v2/tickets/{tid}/comments.json?"
                          f"{urlencode({'page': page_no + 1, 'include': 'users'})}") if more else None,
            "previous_page": None, "count": len(allc),
        }
        if "users" in params.get("include", ""):
            ids = {c["author_id"] for c in chunk}  # the comments' authors only
            data["users"] = [self.users[i] for i in ids if i in self.users]
        return 200, data


# ======================================================================================
# Intercom
# ======================================================================================


class IntercomFake(VendorFake):
    vendor = "intercom"

    def __init__(self, *, token: str = "ic-token", record: bool = True) -> None:
        super().__init__(record=record)
        self.token = token
        self.conversations: dict[str, dict[str, Any]] = {}
        self.teams = {"4501": {"type": "team", "id": "4501", "name": "Tier 1", "admin_ids": [991]},
                      "4502": {"type": "team", "id": "4502", "name": "Technical", "admin_ids": [992]}}
        self.rate_reset = BASE_TIME
        self.rate_remaining = 9999
        self._part = 700000

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def error_body(self, status: int, message: str) -> bytes:
        code = {401: "unauthorized", 429: "rate_limit_exceeded", 500: "server_error"}.get(status, "parameter_invalid")
        return json.dumps({"type": "error.list", "request_id": "req-fake",
                           "errors": [{"code": code, "message": message}]}).encode()

    def extra_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": str(self.rate_remaining),
                "X-RateLimit-Reset": str(self.rate_reset)}

    # -- data --------------------------------------------------------------------------

    @staticmethod
    def author(kind: str, aid: str, name: str | None, email: str | None) -> dict[str, Any]:
        # Intercom's bots (Operator, Fin) carry an intercom.io address as their email
        return {"type": kind, "id": aid, "name": name,
                "email": email or f"operator+{aid}@intercom.io"}

    def add_conversation(self, cid: str, *, author: dict[str, Any], body: str,
                         contact_id: str, admin_assignee_id: int | None = None,
                         team_assignee_id: int | None = None, title: str | None = None,
                         delivered_as: str = "customer_initiated") -> dict[str, Any]:
        now = self.tick(1)
        conv = {
            "type": "conversation", "id": cid, "title": title, "created_at": now, "updated_at": now,
            "waiting_since": now, "snoozed_until": None, "open": True, "state": "open",
            "read": False, "priority": "not_priority",
            "admin_assignee_id": admin_assignee_id, "team_assignee_id": team_assignee_id,
            "tags": {"type": "tag.list", "tags": []},
            "source": {"type": "conversation", "id": f"src{cid}", "delivered_as": delivered_as,
                       "subject": "", "body": body, "author": author, "attachments": [],
                       "url": None, "redacted": False},
            "contacts": {"type": "contact.list",
                         "contacts": [{"type": "contact", "id": contact_id, "external_id": None}]},
            "teammates": {"type": "admin.list", "teammates": []},
            "custom_attributes": {}, "topics": {"type": "topic.list", "topics": [], "total_count": 0},
            "ai_agent_participated": False,
            "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [],
                                   "total_count": 0},
        }
        self.conversations[cid] = conv
        return conv

    def add_part(self, cid: str, author: dict[str, Any], body: str | None,
                 part_type: str = "comment") -> dict[str, Any]:
        now = self.tick(30)
        self._part += 1
        part = {"type": "conversation_part", "id": str(self._part), "part_type": part_type,
                "body": body, "created_at": now, "updated_at": now, "notified_at": now,
                "author": author, "attachments": [], "external_id": None,
                "redacted": False}
        conv = self.conversations[cid]
        parts = conv["conversation_parts"]
        parts["conversation_parts"].append(part)
        parts["total_count"] = len(parts["conversation_parts"])
        conv["updated_at"] = now
        if author["type"] == "admin":
            ref = {"type": "admin", "id": author["id"]}
            if ref not in conv["teammates"]["teammates"]:
                conv["teammates"]["teammates"].append(ref)
        return part

    def populate(self, n: int, *, seed: int = 7, parts: int = 4, start_id: int = 1) -> None:
        rnd = random.Random(seed)
        admins = [self.author("admin", "991", "Sam Admin", "sam@acme.example"),
                  self.author("admin", "992", "Kim Admin", "kim@acme.example")]
        for i in range(start_id, start_id + n):
            user = self.author("user", f"u{i}", f"User {i}", f"User{i}@Example.com")
            admin = rnd.choice(admins)
            cid = str(1000 + i)
            self.add_conversation(cid, author=user, body=f"<p>{rnd.choice(CUSTOMER_LINES)}</p>",
                                  contact_id=f"u{i}", admin_assignee_id=int(admin["id"]),
                                  team_assignee_id=rnd.choice([4501, 4502]))
            for p in range(parts - 1):
                if p % 2 == 0:
                    self.add_part(cid, admin, rnd.choice(AGENT_LINES))
                else:
                    self.add_part(cid, user, f"<p>{rnd.choice(CUSTOMER_LINES)}</p>")

    # -- routes ------------------------------------------------------------------------

    def route(self, method: str, path: str, params: dict[str, str], payload: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/conversations/search":
            return self._search(payload or {})
        if method == "GET" and path == "/teams":
            return 200, {"type": "team.list", "teams": list(self.teams.values())}
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 2 and parts[0] == "conversations":
            conv = self.conversations.get(parts[1])
            if conv is None:
                return 404, {"type": "error.list", "request_id": "req-fake",
                             "errors": [{"code": "not_found", "message": "Resource Not Found"}]}
            return 200, conv
        return self._not_found()

    def _search(self, body: dict[str, Any]) -> tuple[int, Any]:
        q = body.get("query") or {}
        if q.get("field") != "updated_at" or q.get("operator") not in (">", "<", "="):
            return 400, {"type": "error.list", "request_id": "req-fake",
                         "errors": [{"code": "parameter_invalid", "message": "unsupported query"}]}
        value = int(q["value"])
        op = q["operator"]
        # Intercom documents '>' on dates as "greater (or equal) than"
        match = [c for c in self.conversations.values()
                 if (c["updated_at"] >= value if op == ">" else
                     c["updated_at"] <= value if op == "<" else c["updated_at"] == value)]
        match.sort(key=lambda c: (c["updated_at"], c["id"]))
        pag = body.get("pagination") or {}
        per_page = min(int(pag.get("per_page", 20)), 150)
        offset = self.read_token(pag["starting_after"]) if pag.get("starting_after") else 0
        if offset is None:
            return 400, {"type": "error.list", "request_id": "req-fake",
                         "errors": [{"code": "parameter_invalid",
                                     "message": "starting_after is invalid or expired"}]}
        chunk = match[offset: offset + per_page]
        total_pages = max(1, -(-len(match) // per_page))
        pages: dict[str, Any] = {"type": "pages", "page": offset // per_page + 1,
                                 "per_page": per_page, "total_pages": total_pages}
        if offset + per_page < len(match):
            pages["next"] = {"per_page": per_page,
                             "starting_after": self.page_token(offset + per_page)}
        items = [{k: v for k, v in c.items() if k != "conversation_parts"} for c in chunk]
        return 200, {"type": "conversation.list", "conversations": items,
                     "total_count": len(match), "pages": pages}


# ======================================================================================
# Front
# ======================================================================================


class FrontFake(VendorFake):
    vendor = "front"

    def __init__(self, *, token: str = "front-token", messages_per_page: int = 25,
                 record: bool = True) -> None:
        super().__init__(record=record)
        self.token = token
        self.messages_per_page = messages_per_page
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.last_at: dict[str, float] = {}
        self._msg = 0

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def error_body(self, status: int, message: str) -> bytes:
        titles = {401: "Unauthenticated", 429: "Too Many Requests", 500: "Internal Server Error"}
        return json.dumps({"_error": {"status": status, "title": titles.get(status, "Error"),
                                      "message": message}}).encode()

    @staticmethod
    def teammate(tid: str, first: str, last: str, email: str) -> dict[str, Any]:
        return {"_links": {"self": f"https://api2.frontapp.com/teammates/{tid}"}, "id": tid,
                "email": email, "username": first.lower(), "first_name": first, "last_name": last,
                "is_admin": False, "is_available": True, "is_blocked": False}

    def add_conversation(self, cid: str, *, subject: str, handle: str,
                         assignee: dict[str, Any] | None, tags: list[str] | None = None) -> dict[str, Any]:
        now = self.tick(1)
        conv = {
            "_links": {"self": f"https://api2.frontapp.com/conversations/{cid}",
                       "related": {"events": "", "followers": "", "messages": "", "comments": "",
                                   "inboxes": ""}},
            "id": cid, "subject": subject, "status": "assigned" if assignee else "unassigned",
            "assignee": assignee,
            "recipient": {"_links": {"related": {"contact": None}}, "name": None,
                          "handle": handle, "role": "from"},
            "tags": [{"id": f"tag_{t}", "name": t} for t in tags or []], "links": [],
            "custom_fields": {}, "created_at": float(now), "waiting_since": float(now),
            "is_private": False, "scheduled_reminders": [], "metadata": {},
        }
        self.conversations[cid] = conv
        self.messages[cid] = []
        self.last_at[cid] = conv["created_at"]
        return conv

    def add_message(self, cid: str, *, inbound: bool, body: str,
                    author: dict[str, Any] | None = None, sender_name: str | None = None) -> dict[str, Any]:
        now = self.tick(30)
        self._msg += 1
        conv = self.conversations[cid]
        handle = conv["recipient"]["handle"]
        m = {
            "_links": {"self": f"https://api2.frontapp.com/messages/msg_{self._msg}",
                       "related": {"conversation": conv["_links"]["self"]}},
            "id": f"msg_{self._msg}", "type": "custom", "is_inbound": inbound, "is_draft": False,
            "error_type": None, "version": None, "created_at": float(now) + 0.25,
            "subject": conv["subject"], "blurb": body[:50], "author": None if inbound else author,
            "recipients": [
                {"_links": {"related": {"contact": None}}, "name": sender_name if inbound else None,
                 "handle": handle if inbound else "support@acme.example",
                 "role": "from"},
                {"_links": {"related": {"contact": None}}, "name": None,
                 "handle": "support@acme.example" if inbound else handle, "role": "to"},
            ],
            "body": body, "text": body, "attachments": [], "signature": None, "metadata": {},
        }
        self.messages[cid].append(m)
        self.last_at[cid] = max(self.last_at[cid], m["created_at"])
        return m

    def populate(self, n: int, *, seed: int = 7, parts: int = 4, start_id: int = 1) -> None:
        rnd = random.Random(seed)
        mates = [self.teammate("tea_1", "Alex", "Rivera", "alex@acme.example"),
                 self.teammate("tea_2", "Jo", "Chen", "jo@acme.example")]
        for i in range(start_id, start_id + n):
            cid = f"cnv_{i}"
            mate = rnd.choice(mates)
            self.add_conversation(cid, subject=f"Chat {i}", handle=f"Client{i}@Example.com",
                                  assignee=mate, tags=[rnd.choice(["billing", "support"])])
            for p in range(parts):
                if p % 2 == 0:
                    self.add_message(cid, inbound=True, body=f"<p>{rnd.choice(CUSTOMER_LINES)}</p>",
                                     sender_name=f"Client {i}")
                else:
                    self.add_message(cid, inbound=False, body=rnd.choice(AGENT_LINES), author=mate)

    def route(self, method: str, path: str, params: dict[str, str], payload: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["conversations"]:
            limit = min(int(params.get("limit", 50)), 100)
            offset = self.read_token(params["page_token"]) if params.get("page_token") else 0
            if offset is None:
                return 400, {"_error": {"status": 400, "title": "Bad request",
                                        "message": "page_token is invalid or expired"}}
            order = sorted(self.conversations, key=lambda c: (self.last_at[c], c), reverse=True)
            chunk = order[offset: offset + limit]
            nxt = None
            if offset + limit < len(order):
                nxt = f"{self.url}/conversations?" + urlencode(
                    {"limit": limit, "page_token": self.page_token(offset + limit)})
            return 200, {"_pagination": {"next": nxt},
                         "_links": {"self": f"{self.url}/conversations"},
                         "_results": [self.conversations[c] for c in chunk]}
        if method == "GET" and len(parts) == 3 and parts[0] == "conversations" \
                and parts[2] == "messages":
            cid = parts[1]
            if cid not in self.conversations:
                return 404, {"_error": {"status": 404, "title": "Not found", "message": "Unknown conversation"}}
            msgs = sorted(self.messages[cid], key=lambda m: m["created_at"], reverse=True)
            offset = self.read_token(params["page_token"]) if params.get("page_token") else 0
            if offset is None:
                return 400, {"_error": {"status": 400, "title": "Bad request",
                                        "message": "page_token is invalid or expired"}}
            n = self.messages_per_page
            chunk = msgs[offset: offset + n]
            nxt = None
            if offset + n < len(msgs):
                nxt = f"{self.url}/conversations/{cid}/messages?" + urlencode(
                    {"page_token": self.page_token(offset + n)})
            return 200, {"_pagination": {"next": nxt},
                         "_links": {"self": f"{self.url}/conversations/{cid}/messages"},
                         "_results": chunk}
        return self._not_found()


FAKES: dict[str, Callable[..., VendorFake]] = {
    "zendesk": ZendeskFake, "intercom": IntercomFake, "front": FrontFake,
}


def serve_in_process(vendor: str, n: int, *, parts: int = 4, **kwargs: Any) -> tuple[Any, str]:
    """Start a populated fake in a child process (its own core); returns (process, url).

    For benchmarks: the server's CPU then does not compete with the client's GIL.
    Stop it with `process.terminate()`.
    """
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()

    def run(conn: Any) -> None:
        fake = FAKES[vendor](record=False, **kwargs)
        fake.populate(n, parts=parts)
        fake.start()
        conn.send(fake.url)
        threading.Event().wait()

    proc = ctx.Process(target=run, args=(child,), daemon=True)
    proc.start()
    url = parent.recv()
    return proc, url
