"""Rule engine throughput alone: the shipped rules over bench/analysis.py's conversations.

    python bench/rules_speed.py [--n 1500] [--root PATH]

`bench/analysis.py` measures the whole analysis (embeddings and sentiment dominate it, and
on a shared machine their noise hides the rules' share); this times only
`RuleEngine.evaluate` on the same generated conversations, a third of them turned into
calls so the call-only disclosure rule runs too. The turn vectors are cheap stand-ins (a
seeded random unit vector per text, identical across runs), so semantic conditions are
exercised without MiniLM. `--root` points at another checkout (e.g. the commit before a
change) to compare engines on the same machine in the same minute. Prints best-of-3 wall and
CPU seconds, turns/s and the number of rule hits.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import zlib
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1500, help="conversations (6 turns each)")
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[1]), help="checkout whose engine to time")
    args = ap.parse_args()
    root = str(Path(args.root).resolve())
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path.insert(0, root)

    import numpy as np

    from analysis.rules import RuleEngine, default_rules

    spec = importlib.util.spec_from_file_location("bench_analysis", Path(root) / "bench" / "analysis.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    items = gen.generate(args.n, 6, 7)
    for k, it in enumerate(items):
        if k % 3 == 0:
            it.channel = "call"
            for j, t in enumerate(it.turns):
                t.start, t.end, t.sent_at = 5.0 * j, 5.0 * j + 4, None

    def embed(texts):  # type: ignore[no-untyped-def]
        rows = np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(384) for t in texts])
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype("float32")

    engine = RuleEngine(default_rules(), embed)
    vectors = [embed([t.text for t in it.turns]) for it in items]
    best, best_cpu, hits = float("inf"), float("inf"), 0
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        hits = sum(len(engine.evaluate(it, {}, v)) for it, v in zip(items, vectors, strict=True))
        best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
    turns = sum(len(it.turns) for it in items)
    # CPU seconds too: on a loaded machine wall time mostly measures the neighbours
    print(f"rule engine of {root}: {turns:,} turns, best of 3: wall {best:.2f} s ({turns / best:,.0f} turns/s), "
          f"CPU {best_cpu:.2f} s ({turns / best_cpu:,.0f} turns per CPU-second), {hits} hits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
