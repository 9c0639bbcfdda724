"""A bounded memory of recently accepted Slack requests (signatures and event ids).

Slack signs every request with a timestamp and refuses nothing older than five minutes,
so anyone who captured a signed request can replay it for up to five minutes (ten, for a
future-dated timestamp at the edge of the skew). The guard remembers each accepted
signature for that long and refuses a second use; Slack's own retries of an event carry a
new signature but the same `event_id`, which is remembered the same way so the handler
runs once.

Memory first (an OrderedDict in arrival order, so expiry and the size bound both pop
from the front), then — when the bot has a store — the `slack_seen` table, which other
bot instances on the same store consult too. The table is written from one worker
thread of the cache's own: the HTTP server starts a thread per request, and
`Store.cursor()` keeps one DuckDB cursor per thread until the store closes, so writing
from the request threads would grow memory with every request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb

log = logging.getLogger(__name__)
PURGE_EVERY = 500  # store inserts between two purges of expired rows


class ReplayCache:
    """`first_seen(key)` is True exactly once per key within `ttl_seconds`."""

    def __init__(self, ttl_seconds: float = 600.0, max_entries: int = 20_000, *,
                 store: Any | None = None, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        if ttl_seconds <= 0 or max_entries < 1:
            raise ValueError("ttl_seconds and max_entries must be positive")
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.store = store
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._inserts = 0
        self._writer = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-replay")
                        if store is not None else None)  # fmt: skip

    def __len__(self) -> int:
        return len(self._seen)

    def first_seen(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            while self._seen:
                _oldest, expires = next(iter(self._seen.items()))
                if expires > now:
                    break
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now + self.ttl
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
        if self._writer is None:
            return True
        return self._writer.submit(self._store_first_seen, key).result()

    def close(self) -> None:
        """Stop the store writer thread (the memory cache keeps working)."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _store_first_seen(self, key: str) -> bool:
        from store import replay

        try:
            fresh = replay.remember(self.store, key, self.ttl)
            self._inserts += 1
            if self._inserts % PURGE_EVERY == 0:
                replay.purge_expired(self.store)
        except duckdb.Error as exc:
            # The in-memory cache still protects this instance; say that the shared one failed.
            log.warning("replay cache: the store could not record a key (%s); memory only", exc)
            return True
        return fresh
