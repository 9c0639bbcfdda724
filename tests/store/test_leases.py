"""Work leases (store/leases.py) on a real DuckDB file: exclusive, expiring, renewable,
and exclusive under concurrent claims from several threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store import leases
from store.db import Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_claim_is_exclusive_until_expiry_then_taken_over(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.duckdb")
    a = leases.claim(store, leases.ANALYSE, [1, 2, 3], holder="a", ttl_seconds=60, now=T0)
    assert a.ids == (1, 2, 3)
    b = leases.claim(store, leases.ANALYSE, [3, 4], holder="b", ttl_seconds=120, now=T0)
    assert b.ids == (4,)  # 3 is a's
    # another stage is another lease
    assert leases.claim(store, leases.TRANSCRIBE, [3], holder="b", ttl_seconds=60, now=T0).ids == (3,)
    later = T0 + timedelta(seconds=61)
    assert leases.still_held(store, a, now=later) == set()
    c = leases.claim(store, leases.ANALYSE, [1, 2, 3], holder="c", ttl_seconds=60, now=later)
    assert c.ids == (1, 2, 3)  # a's ran out: taken over
    assert leases.held(store, leases.ANALYSE, now=later) == {1: "c", 2: "c", 3: "c", 4: "b"}
    leases.release(store, a)  # a's release after the takeover touches nothing of c's
    assert set(leases.held(store, leases.ANALYSE, now=later)) == {1, 2, 3, 4}
    store.close()


def test_renew_keeps_and_release_frees(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.duckdb")
    a = leases.claim(store, leases.ANALYSE, [1, 2], holder="a", ttl_seconds=10, now=T0)
    a = leases.renew(store, a, ttl_seconds=10, now=T0 + timedelta(seconds=8))
    at_15 = T0 + timedelta(seconds=15)
    assert leases.claim(store, leases.ANALYSE, [1, 2], holder="b", ttl_seconds=10, now=at_15).ids == ()
    assert leases.still_held(store, a, now=at_15) == {1, 2}
    leases.release(store, a, [1])
    assert leases.claim(store, leases.ANALYSE, [1, 2], holder="b", ttl_seconds=10, now=at_15).ids == (1,)
    store.close()


def test_concurrent_claims_never_overlap(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.duckdb")
    ids = list(range(1, 201))
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str, start: int) -> None:
        mine: list[int] = []
        barrier.wait()
        # all four walk the same batches, as drivers do, each from another place in the list
        for k in range(0, len(ids), 5):
            lo = (start + k) % len(ids)
            mine += leases.claim(store, leases.ANALYSE, ids[lo:lo + 5], holder=name, ttl_seconds=600).ids
        got[name] = mine

    threads = [threading.Thread(target=worker, args=(f"d{k}", 50 * k)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for v in got.values() for i in v]
    assert sorted(flat) == ids  # every id leased exactly once
    # whoever won, a held batch is refused to every other holder
    for name, mine in got.items():
        if mine:
            other = next(n for n in got if n != name)
            assert leases.claim(store, leases.ANALYSE, mine[:5], holder=other, ttl_seconds=600).ids == ()
    store.close()
