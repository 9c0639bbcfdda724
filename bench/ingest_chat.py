"""Chat ingest benchmark: N conversations from a local vendor API fake, end to end into DuckDB.

    .venv/bin/python bench/ingest_chat.py                         # 10,000 per vendor
    .venv/bin/python bench/ingest_chat.py -n 2000 --vendors zendesk   # a quick run

For each vendor (Zendesk, Intercom, Front) and each size (n/4, n/2, n), the vendor's local
fake (tests/fakes/vendors.py) is filled with that many conversations of 4 messages and
served from its own process (not timed). Then a fresh worker process runs the vendor's
source `sync` into a fresh DuckDB file — timed: HTTP list pages and one detail request
per conversation (comments / conversation parts / messages), JSON decoding, HTML to
text, normalisation, content hashes, Arrow upserts and a cursor commit per page — and
reports wall time, conversations/s and its own peak RSS. Memory should stay flat as n
grows, because each page is committed and dropped before the next is fetched.

`run(n)` returns the table rows (dicts) for `bench/ingest.py` to combine with email.
Target (issue 3): >= 1,000 conversations/s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tests" / "fakes"))

if TYPE_CHECKING:
    from connectors.chat.common import ChatSource

VENDORS = ("zendesk", "intercom", "front")
LABELS = {"zendesk": "chat: Zendesk (local API fake)",
          "intercom": "chat: Intercom (local API fake)",
          "front": "chat: Front (local API fake)"}


def _source(vendor: str, url: str, concurrency: int) -> ChatSource:
    from connectors.chat.front import FrontSource
    from connectors.chat.intercom import IntercomSource
    from connectors.chat.options import FrontOptions, IntercomOptions, ZendeskOptions
    from connectors.chat.zendesk import ZendeskSource

    if vendor == "zendesk":
        return ZendeskSource(ZendeskOptions(name="bench", base_url=url, email="bot@acme.example",
                                            api_token="zd-token", concurrency=concurrency))
    if vendor == "intercom":
        return IntercomSource(IntercomOptions(name="bench", base_url=url, access_token="ic-token",
                                              concurrency=concurrency))
    return FrontSource(FrontOptions(name="bench", base_url=url, api_token="front-token",
                                    concurrency=concurrency))


def _worker(vendor: str, url: str, db: str, concurrency: int) -> None:
    """Child process: one timed sync; prints one JSON line."""
    # DuckDB's Arrow scans import pyarrow.dataset once per process (~0.8 s here); a
    # long-running service pays that at start, so it is left out of the timing.
    import pyarrow.dataset  # noqa: F401

    from store import Store

    store = Store.open(db)
    src = _source(vendor, url, concurrency)
    t0, c0 = time.perf_counter(), time.process_time()
    report = src.sync(store)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    convs = store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0]
    turns = store.conn.execute("SELECT count(*) FROM turns").fetchone()[0]
    requests = src.client.requests_made
    src.close()
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_mb, "conversations": convs,
                      "turns": turns, "requests": requests, "errors": report.errors}))


def run(n: int = 10_000, sizes: list[int] | None = None, vendors: tuple[str, ...] = VENDORS,
        concurrency: int = 6, parts: int = 4) -> list[dict]:
    """Rows per vendor for sizes n/4, n/2, n (or `sizes`)."""
    from vendors import serve_in_process

    sizes = sizes or sorted({max(1, n // 4), max(1, n // 2), n})
    work = Path(tempfile.mkdtemp(prefix="convoscope-bench-chat-"))
    rows: list[dict] = []
    for vendor in vendors:
        for size in sizes:
            t0 = time.perf_counter()
            proc, url = serve_in_process(vendor, size, parts=parts)
            fill_s = time.perf_counter() - t0
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", vendor, url,
                     str(work / f"{vendor}{size}.duckdb"), str(concurrency)],
                    check=True, capture_output=True, text=True,
                ).stdout
            finally:
                proc.terminate()
                proc.join()
            res = json.loads(out.strip().splitlines()[-1])
            if res["errors"] or res["conversations"] != size or res["turns"] != size * parts:
                raise RuntimeError(f"{vendor} n={size}: {res}")
            rows.append({
                "source": LABELS[vendor],
                "conversations": size,
                "turns": res["turns"],
                "requests": res["requests"],
                "fill_s (untimed)": round(fill_s, 1),
                "wall_s": round(res["wall_s"], 2),
                "conv_per_s": round(size / res["wall_s"]),
                "client_cpu_s": round(res["cpu_s"], 2),
                "peak_rss_mb": round(res["peak_rss_mb"]),
            })
    return rows


def table(rows: list[dict]) -> str:
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    out = [" | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)),
           "-+-".join("-" * w for w in widths)]
    for r in rows:
        out.append(" | ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths, strict=True)))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10_000, help="largest size (default 10,000)")
    ap.add_argument("--sizes", type=int, nargs="*", help="explicit sizes instead of n/4, n/2, n")
    ap.add_argument("--vendors", nargs="*", default=list(VENDORS), choices=VENDORS)
    ap.add_argument("--concurrency", type=int, default=6, help="detail requests in flight")
    ap.add_argument("--worker", nargs=4, metavar=("VENDOR", "URL", "DB", "CONCURRENCY"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        vendor, url, db, conc = args.worker
        _worker(vendor, url, db, int(conc))
        return
    rows = run(args.n, args.sizes, tuple(args.vendors), args.concurrency)
    print(table(rows))


if __name__ == "__main__":
    main()
