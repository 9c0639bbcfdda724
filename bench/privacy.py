"""Cost of erasure and retention on a generated store (bench/generate_store.py).

Prints one table: find + erase one customer (one transaction), the forced search-index
rebuild and checkpoint that follow, the compaction (file rewrite) that makes the deleted
bytes unrecoverable, and a retention run that moves half the store through the
original-text and redacted-text stages.

    python bench/privacy.py -n 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_store import generate
from convoscope.privacy import ChannelRetention, RetentionOptions, forget, run_retention
from store import Store, privacy
from store.search import refresh_search_index


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", "--interactions", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        generate(db, args.interactions, args.seed, now=now)
        rows.append(("generate", f"{args.interactions:,} interactions", f"{time.perf_counter() - t0:.1f} s"))
        with Store.open(db) as store:  # steady state: the search index exists
            t0 = time.perf_counter()
            refresh_search_index(store)
            rows.append(("search index build (before)", "", f"{time.perf_counter() - t0:.1f} s"))
        size = db.stat().st_size
        with Store.open(db) as store:
            key = store.cursor().execute(
                "SELECT customer_key FROM interactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
            t0 = time.perf_counter()
            plan = privacy.find_plan(store, customer_keys=[key])
            t_find = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = forget(store, customer=key, actor="bench")
            t_forget = time.perf_counter() - t0
        rows.append(("forget: find", f"{len(plan.interaction_ids)} interactions", f"{t_find:.2f} s"))
        rows.append(("forget: erase + index refresh + checkpoint", f"{sum(res.counts.values()):,} rows",
                     f"{t_forget:.2f} s"))
        t0 = time.perf_counter()
        sizes = privacy.compact(db)
        rows.append(("compact (rewrite the file)", f"{size / 1e6:,.0f} → {sizes['bytes_after'] / 1e6:,.0f} MB",
                     f"{time.perf_counter() - t0:.1f} s"))
        opts = RetentionOptions(**{ch: ChannelRetention(original_text_days=10, redacted_text_days=20)
                                   for ch in ("call", "chat", "email")})
        with Store.open(db) as store:
            t0 = time.perf_counter()
            rep = run_retention(store, opts, now=now + timedelta(days=5))
            n = sum(v for st in rep.due.values() for v in st.values())
        rows.append(("retention run (original + redacted stages)", f"{n:,} interaction stages",
                     f"{time.perf_counter() - t0:.1f} s"))
    w = max(len(r[0]) for r in rows)
    print(f"{'step':<{w}}  {'size':>28}  {'time':>8}")
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:>28}  {r[2]:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
