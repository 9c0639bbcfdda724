"""The TUI's data contract: every screen asks a `DataSource`, never the database directly.

Two implementations answer the same questions with the same `store` queries:
`LocalSource` runs them on a DuckDB file the TUI opened itself; `ApiSource` asks the
running service (`convoscope serve` owns the file, and DuckDB lets only one process open
it), whose API runs those very functions and returns their dataclasses as JSON. Results
are decoded back into the same dataclasses with pydantic, so screens cannot tell the two
apart — which is what the tests check.

Calls block (DuckDB or HTTP); screens call them from Textual thread workers.
"""

from __future__ import annotations

import getpass
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from store import browse, outbound, search
from store import flags as flags_mod
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
from store.search import SearchResult

T = TypeVar("T")


@dataclass(slots=True)
class ReviewResult:
    """A flag's review state after a confirm/dismiss/reopen."""

    flag_id: int
    review_status: str
    reviewer: str | None
    review_reason: str | None


class DataSourceError(RuntimeError):
    """A read or write failed; the message is for the user (shown in the status line)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DataSource(ABC):
    """What the screens need. `now()` is the clock "today" is computed from."""

    def __init__(self, *, now: Callable[[], datetime] | None = None, tz: str = "UTC",
                 reviewer: str | None = None) -> None:
        self.now = now or _utcnow
        self.tz = tz
        self.reviewer = reviewer or _default_reviewer()

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def dashboard(self) -> Dashboard: ...

    @abstractmethod
    def page(self, flt: Filter, *, sort: str = "started_at", descending: bool = True,
             limit: int = 100, after: list[Any] | None = None) -> Page: ...

    @abstractmethod
    def count(self, flt: Filter) -> int: ...

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
    def review(self, flag_id: int, status: str, reason: str | None = None) -> ReviewResult: ...

    @abstractmethod
    def agents(self, *, days: int = 30) -> Scorecards: ...

    @abstractmethod
    def topics(self) -> TopicsView: ...

    @abstractmethod
    def choices(self) -> dict[str, list[str]]: ...

    @abstractmethod
    def export(self, flt: Filter, path: str, fmt: str, *, sort: str = "started_at",
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

    def __init__(self, store: Store, *, original_role: str | None = "operator", **kw: Any) -> None:
        super().__init__(**kw)
        self.store = store
        #: the role the local user reads original text with (None: never)
        self.original_role = original_role

    def describe(self) -> str:
        return f"file {Path(self.store.path).name}"

    def dashboard(self) -> Dashboard:
        return browse.dashboard(self.store, self.now(), self.tz)

    def page(self, flt: Filter, *, sort: str = "started_at", descending: bool = True,
             limit: int = 100, after: list[Any] | None = None) -> Page:
        return browse.page(self.store, flt, sort=sort, descending=descending, limit=limit, after=after)

    def count(self, flt: Filter) -> int:
        return browse.count(self.store, flt)

    def detail(self, interaction_id: int) -> Detail | None:
        return browse.detail(self.store, interaction_id)

    def original_texts(self, interaction_id: int) -> dict[int, str]:
        # Whoever can open the database file is its operator; the read is role-checked
        # (store.outbound.authorize_original) and audited.
        try:
            rows = outbound.original_turns(self.store, interaction_id, actor=self.reviewer,
                                           role=self.original_role)
        except outbound.OriginalAccessDenied as exc:
            raise DataSourceError(str(exc)) from exc
        return {t.seq: t.text for t in rows}

    def search(self, query: str, *, limit: int = 50, channel: str | None = None) -> SearchResult:
        return search.search(self.store, query, limit=limit, channel=channel)

    def review_queue(self, *, order: str = "severity", kind: str | None = None,
                     limit: int = 200) -> list[QueueItem]:
        return browse.review_queue(self.store, order=order, kind=kind, limit=limit)

    def review(self, flag_id: int, status: str, reason: str | None = None) -> ReviewResult:
        if self.store.read_only:
            raise DataSourceError("the database is open read-only; reviews need write access")
        try:
            f = flags_mod.set_review(self.store, flag_id, status, self.reviewer, reason, via="tui")
        except (KeyError, ValueError) as exc:
            raise DataSourceError(str(exc)) from exc
        return ReviewResult(int(f.id or flag_id), f.review_status, f.reviewer, f.review_reason)

    def agents(self, *, days: int = 30) -> Scorecards:
        return browse.agents(self.store, self.now(), days)

    def topics(self) -> TopicsView:
        return browse.topics(self.store, self.now(), self.tz)

    def choices(self) -> dict[str, list[str]]:
        return browse.distinct_values(self.store)

    def export(self, flt: Filter, path: str, fmt: str, *, sort: str = "started_at",
               descending: bool = True,
               progress: Callable[[float | None], None] | None = None) -> int:
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
            n = browse.export_to(self.store, path, fmt, flt, sort=sort, descending=descending, con=cur)
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

    def page(self, flt: Filter, *, sort: str = "started_at", descending: bool = True,
             limit: int = 100, after: list[Any] | None = None) -> Page:
        body = {"filter": filter_to_json(flt), "sort": sort, "descending": descending,
                "limit": limit, "after": encode(after) if after is not None else None}
        return decode(Page, self._call("POST", "/api/interactions/page", json=body))

    def count(self, flt: Filter) -> int:
        return int(self._call("POST", "/api/interactions/count", json={"filter": filter_to_json(flt)})["count"])

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

    def review(self, flag_id: int, status: str, reason: str | None = None) -> ReviewResult:
        got = self._call("POST", f"/api/flags/{int(flag_id)}/review",
                         json={"status": status, "reason": reason, "reviewer": self.reviewer})
        return decode(ReviewResult, got)

    def agents(self, *, days: int = 30) -> Scorecards:
        return decode(Scorecards, self._call("GET", "/api/agents",
                                             params={**self._clock(), "days": days}))

    def topics(self) -> TopicsView:
        return decode(TopicsView, self._call("GET", "/api/topics", params=self._clock()))

    def choices(self) -> dict[str, list[str]]:
        return dict(self._call("GET", "/api/choices"))

    def export(self, flt: Filter, path: str, fmt: str, *, sort: str = "started_at",
               descending: bool = True,
               progress: Callable[[float | None], None] | None = None) -> int:
        if progress is not None:
            progress(None)  # the service does not stream progress: indeterminate
        body = {"filter": filter_to_json(flt), "path": path, "format": fmt, "sort": sort,
                "descending": descending}
        return int(self._call("POST", "/api/export", json=body)["rows"])


__all__ = [
    "ApiSource", "DataSource", "DataSourceError", "LocalSource", "ReviewResult", "decode", "encode", "filter_from_json", "filter_to_json",
]
