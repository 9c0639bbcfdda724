"""Exactly-once on a DuckLake under concurrent writers (two real processes, one lake).

DuckLake lets two transactions that append to one table both commit, so without the
store's write lock two ingest processes offered the same conversations would both insert
them. Each process here upserts the same 60 interactions in small batches, in a different
order, at the same time; afterwards every conversation is stored exactly once with its
turns, each process's `inserted` ids are disjoint and together cover all of them, and ids
(handed out without sequences) are unique.

The second test takes the write lock away from both writers: then DuckLake's own conflict
detection (both update the `lake_sequences` row that hands out interaction ids) fails one
commit, `Store.retrying` runs that batch again on a fresh snapshot, and its anti-join skips
what the other writer stored: still exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import Store
from store.backend import LakeTarget

# PostgreSQL + DuckLake: seconds per test on 2 cores (`make test`, not `make test-fast`)
pytestmark = pytest.mark.slow

N = 60

WRITER = r"""
import json, sys, time
from datetime import UTC, datetime
from store import Store, interactions as iq
from store.backend import LakeTarget
from store.records import Interaction, Turn

catalog, data, go, order, out, n, lock = sys.argv[1:8]
if lock == "nolock":  # a writer that bypasses the lock: only conflict detection + retry protect it
    import contextlib
    Store._locked = lambda self: contextlib.nullcontext()
st = Store.open(LakeTarget(catalog=catalog, data_path=data))
items = [Interaction(channel="chat", source="zendesk", external_id=f"c{i}", content_hash=f"h{i}",
                     started_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
                     turns=[Turn(0, "customer", f"question {i}"), Turn(1, "agent", "answer")])
         for i in range(int(n))]
if order == "reverse":
    items.reverse()
while not __import__("os").path.exists(go):
    time.sleep(0.01)
inserted = []
for k in range(0, len(items), 4):
    res = iq.upsert(st, items[k:k + 4])
    inserted += res.inserted
st.close()
json.dump(inserted, open(out, "w"))
"""


@pytest.fixture
def lake(pg, lake_template: str, tmp_path: Path) -> LakeTarget:  # type: ignore[no-untyped-def]
    """A lake only: one DuckDB file allows one writing process, so there is no DuckDB twin."""
    data = str(tmp_path / "w.lake")
    return LakeTarget(catalog=pg.catalog(pg.clone_db(lake_template, data)), data_path=data)


@pytest.mark.parametrize("lock", ["lock", "nolock"])
def test_two_processes_write_the_same_interactions_exactly_once(lake: LakeTarget, tmp_path: Path, lock: str) -> None:
    go = tmp_path / "go"
    procs = []
    outs = []
    for order in ("forward", "reverse"):
        out = tmp_path / f"{order}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WRITER, lake.catalog, lake.data_path, str(go), order, str(out), str(N), lock],
            stderr=subprocess.PIPE, text=True))
    time.sleep(1.0)  # both are importing / attaching; the file releases them together
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    a, b = (json.loads(o.read_text()) for o in outs)
    assert set(a).isdisjoint(b), "an interaction was inserted by both writers"
    with Store.open(lake, read_only=True) as st:
        rows = st.conn.execute(
            "SELECT count(*), count(DISTINCT external_id), count(DISTINCT id) FROM interactions"
        ).fetchone()
        assert rows == (N, N, N)
        assert sorted(a + b) == sorted(r[0] for r in st.conn.execute("SELECT id FROM interactions").fetchall())
        turns = st.conn.execute(
            "SELECT count(*), count(DISTINCT (interaction_id, seq)) FROM turns").fetchone()
        assert turns == (2 * N, 2 * N)
        # (which writer inserted what depends on timing: with the lock they usually share the
        # work; without it the loser of each conflict retries and finds the rows there)
