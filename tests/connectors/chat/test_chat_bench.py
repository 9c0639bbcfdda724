"""bench/ingest_chat.py stays runnable: a small end-to-end run per vendor (separate
server and worker processes, as in the real benchmark)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scriptload import load_script

BENCH = Path(__file__).resolve().parents[3] / "bench" / "ingest_chat.py"


@pytest.mark.slow
def test_bench_runs_every_vendor_end_to_end() -> None:
    bench = load_script(BENCH, "bench_ingest_chat")
    rows = bench.run(60, sizes=[60], concurrency=2)
    assert [r["conversations"] for r in rows] == [60, 60, 60]
    assert all(r["turns"] == 240 and r["peak_rss_mb"] > 0 for r in rows)
    assert "conv_per_s" in bench.table(rows)
