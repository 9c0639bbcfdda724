"""Benchmark the analyst TUI on a big store: first dashboard, first table page, scrolling,
search (FTS vs scan) — through the real Textual app (headless) and the real queries.

    python bench/tui.py --db /tmp/cs1m.duckdb --generate 1000000

Targets (issue 7): first screen <= 1 s, one page <= 50 ms, search over 1M <= 500 ms.
The store is generated once (bench/generate_store.py) and reused; the FTS index is built
on first use and its build time reported.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and `bench/tui.py` would
# shadow the `tui` package; drop that entry before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from store import search  # noqa: E402
from store.db import Store  # noqa: E402
from tui.data import LocalSource  # noqa: E402

QUERIES = ("refund broken", "manager", "outage costing money", "password reset", "bluetooth headsets",
           "cancel subscription", "charged twice invoice")


def _ms(s: float) -> str:
    return f"{s * 1000:8.1f}"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _ui_times(source: LocalSource) -> dict[str, float]:
    """Wall time from app start to a rendered dashboard, and from `i` to a rendered table."""
    from textual.widgets import DataTable

    from tui.app import ConvoscopeApp

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    app = ConvoscopeApp(source)
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            await pilot.pause()
            await app.workers.wait_for_complete()
            if app.screen.query("#dash-today") and "loading" not in str(
                app.screen.query_one("#dash-today").content
            ):
                break
        out["first dashboard (app start -> rendered)"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        await pilot.press("i")
        while True:
            await pilot.pause()
            table = app.screen.query(DataTable)
            if table and table.first().row_count > 0:
                break
        out["interactions table (key -> first page)"] = time.perf_counter() - t1
        # scrolling: jump to the bottom repeatedly; each jump fetches one more page
        table = app.screen.query_one(DataTable)
        per: list[float] = []
        for _ in range(10):
            n = table.row_count
            t2 = time.perf_counter()
            await pilot.press("ctrl+end")
            while table.row_count == n:
                await pilot.pause()
            per.append(time.perf_counter() - t2)
        out["UI: next page on scroll (median of 10)"] = statistics.median(per)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="/tmp/convoscope-bench-1m.duckdb")
    p.add_argument("--generate", type=int, default=1_000_000,
                   help="interactions to generate if --db does not exist (default 1,000,000)")
    p.add_argument("--pages", type=int, default=50, help="pages to scroll through (query level)")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--no-ui", action="store_true", help="skip the headless Textual timings")
    a = p.parse_args(argv)

    db = Path(a.db)
    if not db.exists():
        spec = importlib.util.spec_from_file_location("generate_store", Path(__file__).with_name("generate_store.py"))
        assert spec and spec.loader
        gen = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = gen
        spec.loader.exec_module(gen)
        rep = gen.generate(db, a.generate, seed=7, progress=True)
        print(f"generated {rep.interactions:,} interactions in {rep.seconds:.1f} s", file=sys.stderr)

    rows: list[tuple[str, float, str]] = []
    store = Store.open(db)
    n = store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0]  # type: ignore[index]
    t = time.perf_counter()
    idx = search.refresh_search_index(store)
    rows.append((f"search index refresh (added {idx.added:,}, rebuilt={idx.rebuilt})",
                 time.perf_counter() - t, ""))
    now = datetime.now(UTC)
    src = LocalSource(store, now=lambda: now)

    t = time.perf_counter()
    src.dashboard()
    rows.append(("dashboard queries (cold)", time.perf_counter() - t, "<= 1 s"))
    t = time.perf_counter()
    src.dashboard()
    rows.append(("dashboard queries (warm)", time.perf_counter() - t, "<= 1 s"))

    from store.browse import Filter

    times: list[float] = []
    after = None
    for _ in range(a.pages):
        t = time.perf_counter()
        pg = src.page(Filter(), limit=a.page_size, after=after)
        times.append(time.perf_counter() - t)
        after = pg.after
    rows.append((f"page of {a.page_size} by time, scrolling (median of {a.pages})", statistics.median(times), "<= 50 ms"))
    rows.append((f"page of {a.page_size} by time, scrolling (max of {a.pages})", max(times), "<= 50 ms"))
    for label, flt, sort in (("filtered page (call + angry_customer)", Filter(channel="call", flag_kind="angry_customer"), "started_at"),
                             ("page sorted by sentiment", Filter(), "sentiment"),
                             ("page filtered by topic + channel", Filter(topic="outage", channel="chat"), "started_at")):
        times = []
        after = None
        for _ in range(10):
            t = time.perf_counter()
            pg = src.page(flt, sort=sort, limit=a.page_size, after=after)
            times.append(time.perf_counter() - t)
            after = pg.after
        rows.append((f"{label} (median of 10)", statistics.median(times), "<= 50 ms"))
    t = time.perf_counter()
    total = src.count(Filter())
    rows.append((f"count all ({total:,})", time.perf_counter() - t, ""))

    for method in ("auto", "scan"):
        times = []
        got = ""
        for q in QUERIES:
            search.search(store, q, method=method)  # warm
            t = time.perf_counter()
            res = search.search(store, q, method=method)
            times.append(time.perf_counter() - t)
            got = res.method
        rows.append((f"search, {got} (median of {len(QUERIES)} queries)", statistics.median(times),
                     "<= 500 ms" if method == "auto" else "fallback"))
        rows.append((f"search, {got} (max)", max(times), ""))

    if not a.no_ui:
        for label, secs in asyncio.run(_ui_times(src)).items():
            rows.append((label, secs, "<= 1 s" if "first" in label else "<= 50 ms" if "page" in label else ""))

    print(f"\nstore: {db} — {n:,} interactions; peak RSS {_peak_mb():,.0f} MB")
    print(f"{'measure':<62} {'ms':>8}  target")
    for label, secs, target in rows:
        print(f"{label:<62} {_ms(secs)}  {target}")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
