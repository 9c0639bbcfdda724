"""The names a question can mention, as the store spells them: agents, queues, topics,
cluster labels and customers.

The question parser links what a user typed ("maria", "biling", "the router topic") to
these values, so a filter always holds a value the store has. Reading them scans the
interactions and scores tables (about 0.2 s on a million interactions), so `cached` keeps
one copy per database file for a short TTL and refreshes it in the background when it
expires: only the first question after start waits for the scan, later ones get the
previous values while the new ones are read, and a new agent or queue shows up within a
TTL or so.

Customers are not read: there are too many to link names against (20,000 distinct
customers made the scan 1.2 s and the linker 20 s to build) and their names are personal
data; a question names a customer by a key typed in full (e-mail address, phone number,
external id), which the parser recognises without a list.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from store.db import Store

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class EntityValues:
    """Distinct values as stored. `clusters` pairs a cluster's id (as text) with its label."""

    agents: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    clusters: tuple[tuple[str, str], ...] = ()
    customers: tuple[str, ...] = ()
    #: other names people use for a value: (kind, alias, value) — "Bob" for "Robert Hughes",
    #: "tech" for the queue "technical". The store has none of its own (the linker knows
    #: common nicknames); a deployment or a test fixture may add them.
    aliases: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EntityValues:
        """From JSON (the phrasing corpus's entity fixture): lists of strings; clusters as
        `{"id": .., "label": ..}` objects, `[id, label]` pairs or plain labels."""
        clusters: list[tuple[str, str]] = []
        for i, c in enumerate(d.get("clusters", ()) or ()):
            if isinstance(c, dict):
                clusters.append((str(c.get("id", i + 1)), str(c.get("label", ""))))
            elif isinstance(c, list | tuple):
                clusters.append((str(c[0]), str(c[1])))
            else:
                clusters.append((str(i + 1), str(c)))

        aliases: list[tuple[str, str, str]] = []

        def strings(key: str, kind: str) -> tuple[str, ...]:
            out = []
            for v in d.get(key, ()) or ():
                if isinstance(v, dict):
                    name = str(v.get("name", v.get("key", "")))
                    for a in list(v.get("aliases", ())) + list(v.get("spoken", ())):
                        aliases.append((kind, str(a), name))
                else:
                    name = str(v)
                out.append(name)
            return tuple(out)

        return cls(strings("agents", "agent"), strings("queues", "queue"), strings("topics", "topic"),
                   tuple(clusters), strings("customers", "customer"), tuple(aliases))  # fmt: skip


def load(store: Store) -> EntityValues:
    """Read the distinct values now (one scan per column family)."""
    cur = store.cursor()

    def distinct(sql: str, params: list[Any] | None = None) -> tuple[str, ...]:
        return tuple(str(r[0]) for r in cur.execute(sql, params or []).fetchall() if r[0] not in (None, ""))

    agents = distinct("SELECT agent FROM interactions WHERE agent IS NOT NULL GROUP BY agent ORDER BY agent")
    queues = distinct("SELECT queue FROM interactions WHERE queue IS NOT NULL GROUP BY queue ORDER BY queue")
    topics = distinct("SELECT top_topic FROM scores WHERE top_topic IS NOT NULL GROUP BY top_topic "
                      "ORDER BY top_topic")  # fmt: skip
    # the patterns job's scopes name queues and topics too ("queue:billing", "topic:refund")
    scopes = distinct("SELECT scope FROM pattern_traits UNION SELECT scope FROM pattern_phrases")
    queues = _merge(queues, (s.split(":", 1)[1] for s in scopes if s.startswith("queue:")))
    topics = _merge(topics, (s.split(":", 1)[1] for s in scopes if s.startswith("topic:")))
    clusters = tuple(
        (str(r[0]), str(r[1]))
        for r in cur.execute(
            "SELECT id, label FROM clusters WHERE label IS NOT NULL AND coalesce(active, TRUE) ORDER BY id"
        ).fetchall()
    )
    return EntityValues(agents, queues, topics, clusters)


def _merge(have: tuple[str, ...], more: Any) -> tuple[str, ...]:
    seen = set(have)
    return have + tuple(sorted({m for m in more if m and m not in seen}))


_lock = threading.Lock()
_cache: dict[str, tuple[float, EntityValues]] = {}
_refreshing: dict[str, threading.Thread] = {}


def cached(store: Store, ttl_s: float = DEFAULT_TTL_S, *, clock: Any = time.monotonic) -> EntityValues:
    """The store's names, read at most once per `ttl_s` seconds per database file. The
    first call reads them; after the TTL the previous values are returned at once while a
    background thread reads the new ones (`refreshing` gives that thread)."""
    key = _key(store)
    now = clock()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and (now - hit[0] < ttl_s or key in _refreshing):
            return hit[1]
        if hit is not None:
            thread = threading.Thread(target=_refresh, args=(store, key, clock), name="entities-refresh",
                                      daemon=True)  # fmt: skip
            _refreshing[key] = thread
            thread.start()
            return hit[1]
    values = load(store)
    with _lock:
        _cache[key] = (now, values)
    return values


def _refresh(store: Store, key: str, clock: Any) -> None:
    try:
        values = load(store)
    except Exception:  # a closed store, a busy file: keep the old values, try again later
        log.warning("could not refresh the store's names for questions", exc_info=True)
        with _lock:
            _refreshing.pop(key, None)
        return
    with _lock:
        _cache[key] = (clock(), values)
        _refreshing.pop(key, None)


def refreshing(store: Store) -> threading.Thread | None:
    """The background refresh under way for `store`, if any (tests join it)."""
    with _lock:
        return _refreshing.get(_key(store))


def forget(store: Store | None = None) -> None:
    """Drop the cached values (of one store, or all): after a bulk import, in tests."""
    with _lock:
        if store is None:
            _cache.clear()
        else:
            _cache.pop(_key(store), None)


def _key(store: Store) -> str:
    # the file, and the instance (two in-memory stores are different databases)
    return f"{getattr(store, 'path', '')}#{id(store)}"
