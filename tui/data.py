"""The TUI's data contract: every screen asks a `DataSource`, never the database directly.

Two implementations answer the same questions with the same `store` queries:
`LocalSource` runs them on a DuckDB file the TUI opened itself; `ApiSource` asks the
running service (`convoscope serve` owns the file, and DuckDB lets only one process open
it), whose API runs those very functions and returns their dataclasses as JSON. Results
are decoded back into the same dataclasses with pydantic, so screens cannot tell the two
apart — which is what the tests check.

Calls block (DuckDB or HTTP); screens call them from Textual thread workers.

Who is looking: an `ApiSource` is whoever its token belongs to (the service asks the
role table and shapes every answer); a `LocalSource` acts as its `Identity` (the configured
local user, see `convoscope tui`) and applies the same `store.permissions` checks and
shaping itself, so a screen shows the same thing either way.
"""

from __future__ import annotations

import getpass
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from store import browse, outbound, reviews, search
from store.browse import (
    Dashboard,
    Detail,
    Filter,
    Page,
    QueueItem,
    Scorecards,
    TopicsView,
)
from store.db import Store
from store.permissions import Forbidden, Identity, allowed, require, shape
from store.query import Query
from store.reviews import RuleQuality
from store.search import SearchResult

T = TypeVar("T")


@dataclass(slots=True)
class ReviewResult:
    """A flag's review state after a confirm/dismiss/reopen."""

    flag_id: int
    review_status: str
    reviewer: str | None
    review_reason: str | None
    review_rev: int = 0


class DataSourceError(RuntimeError):
    """A read or write failed; the message is for the user (shown in the status line)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DataSource(ABC):
    """What the screens need. `now()` is the clock "today" is computed from."""

    def __init__(self, *, now: Callable[[], datetime] | None = None, tz: str = "UTC",
                 reviewer: str | None = None, identity: Identity | None = None) -> None:
        self.now = now or _utcnow
        self.tz = tz
        self.identity = identity or Identity(f"local:{reviewer or _default_reviewer()}", "admin")
        self.reviewer = self.identity.user

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def dashboard(self) -> Dashboard: ...

    @abstractmethod
    def page(self, flt: Filter | Query, *, sort: str = "started_at", descending: bool = True,
             limit: int = 100, after: list[Any] | None = None) -> Page: ...

    @abstractmethod
    def count(self, flt: Filter | Query) -> int: ...

    @abstractmethod
    def detail(self, interaction_id: int) -> Detail | None: ...

    def original_texts(self, interaction_id: int) -> dict[int, str]:
        """seq -> original (unredacted) text, for the detail screen's 'unredact' key.

        Only a source that can check the role and audit the read offers it (the file,
        through `store.outbound.original_turns`); the service's API never sends originals."""
        raise DataSourceError("original text is not available here (only redacted text leaves the service)")

    @abstractmethod
    def search(self, query: str, *, limit: int = 50, channel: str | None = None) -> SearchResult: ...

    @abstractmethod
    def review_queue(self, *, order: str = "severity", kind: str | None = None,
                     limit: int = 200) -> list[QueueItem]: ...

    @abstractmethod
    def review(self, flag_id: int, status: str, reason: str | None = None,
               rev: int | None = None) -> ReviewResult:
        """A verdict against revision `rev` of the flag (what the screen showed)."""

    @abstractmethod
    def agents(self, *, days: int = 30) -> Scorecards: ...

    @abstractmethod
    def clip(self, flag_id: int) -> bytes:
        """WAV bytes: the redacted audio around the flag's evidence (analysis/clips.py)."""

    @abstractmethod
    def rule_quality(self, *, days: int = 30) -> list[RuleQuality]:
        """Per rule: confirmed / dismissed / open flags raised in the last `days` days."""

    @abstractmethod
    def topics(self) -> TopicsView: ...

    @abstractmethod
    def choices(self) -> dict[str, list[str]]: ...

    @abstractmethod
    def export(self, flt: Filter | Query, path: str, fmt: str, *, sort: str = "started_at",
               descending: bool = True,
               progress: Callable[[float | None], None] | None = None) -> int:
        """Write the view to `path`; `progress` gets 0..100 while it runs (None = unknown)."""

    def close(self) -> None:
        """Release what the source holds (nothing by default)."""
        return None


def _default_reviewer() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "analyst"


class LocalSource(DataSource):
    """Runs the store queries on an open `Store` (the TUI opened the file itself)."""

    def __init__(self, store: Store, **kw: Any) -> None:
        super().__init__(**kw)
        self.store = store

    def describe(self) -> str:
        return f"file {Path(self.store.path).name}"

    def _may(self, action: str) -> None:
        try:
            require(self.identity.role, action, self.identity.user)
        except Forbidden as exc:
            raise DataSourceError(str(exc)) from exc

    def _view(self, cls: Any, obj: Any, action: str) -> Any:
        """`obj` as the identity may see it (the same shaping the API applies)."""
        self._may(action)
        if self.identity.role == "admin" or obj is None:
            return obj
        return decode(cls, shape(self.identity.role, encode(obj)))

    def dashboard(self) -> Dashboard:
        self._may("counts")
        return browse.dashboard(self.store, self.now(), self.tz)

    def page(self, flt: Filter | Query, *, sort: str = "started_at", descending: bool = True,
             limit: int = 100, after: list[Any] | None = None) -> Page:
        got = browse.page(self.store, flt, sort=sort, descending=descending, limit=limit, after=after)
        return self._view(Page, got, "lists")  # type: ignore[no-any-return]

    def count(self, flt: Filter | Query) -> int:
        self._may("counts")
        return browse.count(self.store, flt)

    def detail(self, interaction_id: int) -> Detail | None:
        return self._view(Detail, browse.detail(self.store, interaction_id), "transcripts")  # type: ignore[no-any-return]

    def original_texts(self, interaction_id: int) -> dict[int, str]:
        # The local user's role (store.permissions) decides; the read is role-checked
        # (store.outbound.authorize_original) and audited.
        try:
            rows = outbound.original_turns(self.store, interaction_id, actor=self.identity.user,
                                           role=self.identity.role)
        except outbound.OriginalAccessDenied as exc:
            raise DataSourceError(str(exc)) from exc
        return {t.seq: t.text for t in rows}

    def search(self, query: str, *, limit: int = 50, channel: str | None = None) -> SearchResult:
        got = search.search(self.store, query, limit=limit, channel=channel)
        return self._view(SearchResult, got, "transcripts")  # type: ignore[no-any-return]

    def review_queue(self, *, order: str = "severity", kind: str | None = None,
                     limit: int = 200) -> list[QueueItem]:
        got = browse.review_queue(self.store, order=order, kind=kind, limit=limit)
        return self._view(list[QueueItem], got, "lists")  # type: ignore[no-any-return]

    def review(self, flag_id: int, status: str, reason: str | None = None,
               rev: int | None = None) -> ReviewResult:
        if self.store.read_only:
            raise DataSourceError("the database is open read-only; reviews need write access")
        try:
            st = reviews.review(self.store, flag_id, status, self.identity, reason,
                                expected_rev=rev, via="tui")
        except (KeyError, ValueError, Forbidden) as exc:  # StaleReview is a ValueError
            raise DataSourceError(str(exc).strip("'\"")) from exc
        return ReviewResult(st.flag_id, st.review_status, st.reviewer, st.review_reason, st.review_rev)

    def agents(self, *, days: int = 30) -> Scorecards:
        return self._view(Scorecards, browse.agents(self.store, self.now(), days), "lists")  # type: ignore[no-any-return]

    def clip(self, flag_id: int) -> bytes:
        from analysis.clips import make_clip

        self._may("transcripts")
        try:
            return make_clip(self.store, flag_id).path.read_bytes()
        except (KeyError, ValueError) as exc:  # ClipError is a ValueError
            raise DataSourceError(str(exc).strip("'\"")) from exc

    def rule_quality(self, *, days: int = 30) -> list[RuleQuality]:
        self._may("counts")
        return reviews.rule_quality(self.store, self.now() - timedelta(days=days), None)

    def topics(self) -> TopicsView:
        self._may("counts")
        return browse.topics(self.store, self.now(), self.tz)

    def choices(self) -> dict[str, list[str]]:
        got = browse.distinct_values(self.store)
        if not allowed(self.identity.role, "agent_names"):
            got["agent"] = []
        return got

    def export(self, flt: Filter | Query, path: str, fmt: str, *, sort: str = "started_at",
               descending: bool = True,
               progress: Callable[[float | None], None] | None = None) -> int:
        self._may("export")
        cur = self.store.conn.cursor()
        stop = threading.Event()
        watcher = None
        if progress is not None:
            cur.execute("SET enable_progress_bar = true")
            cur.execute("SET enable_progress_bar_print = false")

            def watch() -> None:
                while not stop.wait(0.1):
                    pct = cur.query_progress()
                    if pct >= 0:
                        progress(min(float(pct), 99.0))

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
        try:
            n = browse.export_to(self.store, path, fmt, flt, sort=sort, descending=descending, con=cur,
                                 agent_names=allowed(self.identity.role, "agent_names"))
        finally:
            stop.set()
            if watcher is not None:
                watcher.join()
            cur.close()
        if progress is not None:
            progress(100.0)
        return n


def encode(obj: Any) -> Any:
    """A result dataclass (or list of them) as JSON-ready data (dates as ISO strings)."""
    return TypeAdapter(type(obj)).dump_python(obj, mode="json") if obj is not None else None


def decode(cls: Any, data: Any) -> Any:
    """The inverse of `encode` for a known result type."""
    return TypeAdapter(cls).validate_python(data)


def filter_to_json(flt: Filter) -> dict[str, Any]:
    return {k: v for k, v in encode(flt).items() if v is not None}


def filter_from_json(data: dict[str, Any] | None) -> Filter:
    return decode(Filter, data or {})


def view_body(flt: Filter | Query) -> dict[str, Any]:
    """The request body naming a view: the filter form's fields, or a typed query
    (`store.query.Query.to_dict`); the API compiles either to the same SQL."""
    if isinstance(flt, Query):
        return {"query": flt.to_dict()}
    return {"filter": filter_to_json(flt)}


def view_from_body(body: dict[str, Any]) -> Filter | Query:
    """What `view_body` wrote: a typed query (validated: an unknown field, value or a
    naive datetime raises ValueError) or the filter form."""
    if body.get("query") is not None:
        if not isinstance(body["query"], dict):
            raise ValueError("query must be a JSON object (store.query.Query.to_dict())")
        try:
            return Query.from_dict(body["query"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a typed query: {exc}") from exc
    return filter_from_json(body.get("filter"))


class ApiSource(DataSource):
    """Asks the running service's HTTP API (loopback, bearer token)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0, **kw: Any) -> None:
        import httpx

        super().__init__(**kw)
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
        )

    def describe(self) -> str:
        return f"service {self.base_url}"

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              json: Any = None, missing_ok: bool = False) -> Any:
        import httpx

        try:
            resp = self._http.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            raise DataSourceError(f"cannot reach the service at {self.base_url}: {exc}") from exc
        if resp.status_code == 404 and missing_ok:
            return None
        if resp.status_code >= 400:
            try:
                msg = resp.json().get("error", resp.text)
            except ValueError:
                msg = resp.text
            raise DataSourceError(f"service answered {resp.status_code}: {msg}")
        return resp.json()

    def _clock(self) -> dict[str, str]:
        return {"now": self.now().isoformat(), "tz": self.tz}

    def dashboard(self) -> Dashboard:
        return decode(Dashboard, self._call("GET", "/api/dashboard", params=self._clock()))

    def page(self, flt: Filter | Query, *, sort: str = "started_at", descending: bool = True,
             limit: int = 100, after: list[Any] | None = None) -> Page:
        body = {**view_body(flt), "sort": sort, "descending": descending,
                "limit": limit, "after": encode(after) if after is not None else None}
        return decode(Page, self._call("POST", "/api/interactions/page", json=body))

    def count(self, flt: Filter | Query) -> int:
        return int(self._call("POST", "/api/interactions/count", json=view_body(flt))["count"])

    def detail(self, interaction_id: int) -> Detail | None:
        got = self._call("GET", f"/api/interactions/{int(interaction_id)}", missing_ok=True)
        return decode(Detail, got["interaction"]) if got and got.get("interaction") else None

    def search(self, query: str, *, limit: int = 50, channel: str | None = None) -> SearchResult:
        params: dict[str, Any] = {"q": query, "limit": limit}
        if channel:
            params["channel"] = channel
        return decode(SearchResult, self._call("GET", "/api/search", params=params))

    def review_queue(self, *, order: str = "severity", kind: str | None = None,
                     limit: int = 200) -> list[QueueItem]:
        params: dict[str, Any] = {"order": order, "limit": limit}
        if kind:
            params["kind"] = kind
        return decode(list[QueueItem], self._call("GET", "/api/review-queue", params=params))

    def review(self, flag_id: int, status: str, reason: str | None = None,
               rev: int | None = None) -> ReviewResult:
        if rev is None:  # no revision from the screen: the state it showed is the current one
            rev = int(self._call("GET", f"/api/flags/{int(flag_id)}")["review_rev"])
        got = self._call("POST", f"/api/flags/{int(flag_id)}/review",
                         json={"status": status, "reason": reason, "rev": rev})
        return decode(ReviewResult, got)

    def whoami(self) -> Identity:
        """The identity the service sees for this token."""
        got = self._call("GET", "/api/me")
        return Identity(str(got["user"]), str(got["role"]), got.get("agent"))

    def agents(self, *, days: int = 30) -> Scorecards:
        return decode(Scorecards, self._call("GET", "/api/agents",
                                             params={**self._clock(), "days": days}))

    def topics(self) -> TopicsView:
        return decode(TopicsView, self._call("GET", "/api/topics", params=self._clock()))

    def clip(self, flag_id: int) -> bytes:
        import httpx

        try:
            resp = self._http.get(f"/api/flags/{int(flag_id)}/clip")
        except httpx.HTTPError as exc:
            raise DataSourceError(f"cannot reach the service at {self.base_url}: {exc}") from exc
        if resp.status_code >= 400:
            raise DataSourceError(f"service answered {resp.status_code}: {resp.json().get('error', '')}")
        return resp.content

    def rule_quality(self, *, days: int = 30) -> list[RuleQuality]:
        return decode(list[RuleQuality], self._call("GET", "/api/rule-quality",
                                                    params={**self._clock(), "days": days}))

    def choices(self) -> dict[str, list[str]]:
        return dict(self._call("GET", "/api/choices"))

    def export(self, flt: Filter | Query, path: str, fmt: str, *, sort: str = "started_at",
               descending: bool = True,
               progress: Callable[[float | None], None] | None = None) -> int:
        if progress is not None:
            progress(None)  # the service does not stream progress: indeterminate
        body = {**view_body(flt), "path": path, "format": fmt, "sort": sort,
                "descending": descending}
        return int(self._call("POST", "/api/export", json=body)["rows"])


__all__ = [
    "ApiSource", "DataSource", "DataSourceError", "LocalSource", "ReviewResult", "decode", "encode", "filter_from_json", "filter_to_json", "view_body", "view_from_body",
]
