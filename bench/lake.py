"""DuckDB file vs DuckLake: ingest throughput (1 and 2 writer processes), reads, migrate-store.

Why: the lake trades the file's single-process speed for many writers; this prints what
that costs on this machine so the README's advice ("short transactions, batches of ~100")
rests on numbers. Starts its own PostgreSQL (tests/store/pgserver.py) unless --catalog is
given. Usage: `python bench/lake.py [-n 2000] [--batch 100]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "store"))

WRITER = r"""
import sys, time
from datetime import UTC, datetime
sys.path.insert(0, sys.argv[1])
from store import Store, interactions as iq
from store.backend import parse_target
from store.records import Interaction, Turn
target, start, n, batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
st = Store.open(parse_target(target))
items = [Interaction(channel="chat", source="bench", external_id=f"c{i}", content_hash=f"h{i}",
                     started_at=datetime(2026, 11, 20, 9, tzinfo=UTC), agent=f"agent {i % 7}",
                     turns=[Turn(k, "customer" if k % 2 == 0 else "agent", f"turn {k} of conversation {i} about a refund")
                            for k in range(8)])
         for i in range(start, start + n)]
t0 = time.perf_counter()
for k in range(0, n, batch):
    iq.upsert(st, items[k:k + batch])
print(time.perf_counter() - t0)
st.close()
"""


def _run_writers(target: str, n: int, batch: int, procs: int) -> float:
    """Wall seconds for `procs` processes writing n/procs distinct interactions each."""
    per = n // procs
    t0 = time.perf_counter()
    ps = [subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT), target, str(i * per), str(per), str(batch)],
                           stdout=subprocess.PIPE, text=True) for i in range(procs)]
    for p in ps:
        p.communicate()
        if p.returncode:
            raise SystemExit(f"writer failed ({p.returncode})")
    return time.perf_counter() - t0


def main() -> None:
    from pgserver import start_postgres

    from store import Store
    from store.backend import LakeTarget
    from store.migrate import copy_store

    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    pg = start_postgres()
    rows: list[tuple[str, str, float, float]] = []
    try:
        f = tmp / "f.duckdb"
        Store.open(f).close()
        s = _run_writers(str(f), a.n, a.batch, 1)
        rows.append(("duckdb file", "1 writer", s, a.n / s))

        for procs in (1, 2):
            db = pg.create_db()
            lake = LakeTarget(pg.catalog(db), str(tmp / f"{db}.lake"))
            Store.open(lake).close()
            url = f"ducklake:postgres:{lake.catalog} data_path={lake.data_path}"
            s = _run_writers(url, a.n, a.batch, procs)
            rows.append(("ducklake", f"{procs} writer(s)", s, a.n / s))

        # what the lake holds per interaction (8 turns each): Parquet under data_path, and
        # the catalog database (PostgreSQL; small inserts are inlined there until compacted)
        import psycopg

        data_bytes = sum(p.stat().st_size for p in Path(lake.data_path).rglob("*") if p.is_file())
        with psycopg.connect(lake.catalog) as c:
            cat_bytes = int(c.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]
        sizes = (data_bytes / a.n, cat_bytes / a.n, f.stat().st_size / a.n)
        with Store.open(f, read_only=True) as st:
            t0 = time.perf_counter()
            st.conn.execute("SELECT agent, count(*), avg(length(text)) FROM interactions i "
                            "JOIN turns t ON t.interaction_id = i.id GROUP BY agent").fetchall()
            rows.append(("duckdb file", "agent x turns query", time.perf_counter() - t0, 0.0))
        with Store.open(lake, read_only=True) as st:
            t0 = time.perf_counter()
            st.conn.execute("SELECT agent, count(*), avg(length(text)) FROM interactions i "
                            "JOIN turns t ON t.interaction_id = i.id GROUP BY agent").fetchall()
            rows.append(("ducklake", "agent x turns query", time.perf_counter() - t0, 0.0))

        db = pg.create_db()
        lake2 = LakeTarget(pg.catalog(db), str(tmp / f"{db}.lake"))
        with Store.open(lake2) as st:
            t0 = time.perf_counter()
            rep = copy_store(f, st)
            s = time.perf_counter() - t0
            assert rep.ok
            rows.append(("migrate-store", f"{a.n} interactions", s, a.n / s))
    finally:
        pg.stop()
    print(f"{'backend':<14} {'what':<22} {'seconds':>9} {'interactions/s':>15}")
    for b, w, s, r in rows:
        print(f"{b:<14} {w:<22} {s:>9.2f} {r:>15.0f}" if r else f"{b:<14} {w:<22} {s:>9.3f} {'':>15}")
    print(f"bytes per interaction (8 turns): lake data files {sizes[0]:,.0f}, lake catalog "
          f"{sizes[1]:,.0f} (PostgreSQL database, incl. its fixed overhead), DuckDB file {sizes[2]:,.0f}")


if __name__ == "__main__":
    main()
