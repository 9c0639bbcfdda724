"""Sentiment quality and speed: accuracy / macro-F1 on the held-out split and on the
labelled turns of the sample interactions, and turns/s with batching.

    .venv/bin/python bench/eval_sentiment.py                 # the configured packaged model
    .venv/bin/python bench/eval_sentiment.py --backend vader # the lexicon baseline
    .venv/bin/python bench/eval_sentiment.py --turns 20000 --batch-sizes 32,64,128

The held-out split is the one fixed by the corpus and seed (never trained on). Throughput
is measured on short contact-centre turns (the sample turns, repeated) after one warm-up
batch; the CPU may be shared, so the rate is a lower bound on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scores(gold: list[str], pred: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    from analysis.sentiment.corpus import LABELS

    return float(accuracy_score(gold, pred)), float(f1_score(gold, pred, average="macro", labels=list(LABELS)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="flair", choices=["flair", "vader"])
    ap.add_argument("--model", default="packaged", help='"packaged", a .pt file or a flair model name')
    ap.add_argument("--cache-dir", default=os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope"))
    ap.add_argument("--held-out-limit", type=int, default=0, help="score only the first N held-out examples (0 = all)")
    ap.add_argument("--turns", type=int, default=5000, help="turns for the throughput run")
    ap.add_argument("--batch-sizes", default="32,128,256")
    ap.add_argument("--no-quantize", action="store_true", help="keep the transformer in float32")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from analysis.sentiment import ModelNotPrepared, SentimentOptions, load_turn_classifier
    from analysis.sentiment.corpus import split

    options = SentimentOptions(backend=args.backend, model=args.model, quantize=not args.no_quantize)
    cache = Path(args.cache_dir).expanduser()
    t0 = time.perf_counter()
    try:
        clf = load_turn_classifier(options, cache)
    except ModelNotPrepared as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    load_s = time.perf_counter() - t0

    rows: list[tuple[str, int, float, float, float]] = []
    data = split(options.corpus, options.held_out_fraction, options.seed)
    held = data.held_out[: args.held_out_limit] if args.held_out_limit else data.held_out
    t0 = time.perf_counter()
    pred = [s.label for s in clf.predict([e.text for e in held])]
    wall = time.perf_counter() - t0
    acc, f1 = scores([e.label for e in held], pred)
    rows.append(("held-out airline tweets", len(held), acc, f1, wall))

    turns = json.loads((ROOT / "bench" / "data" / "sample_turns.json").read_text())
    t0 = time.perf_counter()
    pred = [s.label for s in clf.predict([t["text"] for t in turns], [t["speaker"] for t in turns])]
    wall = time.perf_counter() - t0
    acc, f1 = scores([t["label"] for t in turns], pred)
    rows.append(("sample interaction turns", len(turns), acc, f1, wall))
    cust = [i for i, t in enumerate(turns) if t["speaker"] == "customer"]
    acc, f1 = scores([turns[i]["label"] for i in cust], [pred[i] for i in cust])
    rows.append(("  of which customer turns", len(cust), acc, f1, 0.0))

    print(f"model: {clf.name}  (load {load_s:.1f} s; held-out split {data.held_out_hash[:12]})")
    print(f"{'evaluation set':28} {'n':>6} {'accuracy':>9} {'macro-F1':>9} {'wall s':>8}")
    for name, n, a, f, w in rows:
        print(f"{name:28} {n:>6} {a:>9.3f} {f:>9.3f} {w:>8.2f}")

    texts = [t["text"] for t in turns]
    texts = (texts * (args.turns // len(texts) + 1))[: args.turns]
    print(f"\n{'batch size':>10} {'turns':>7} {'wall s':>8} {'turns/s':>9} {'cpu s':>7} {'turns/cpu-s':>12} "
          f"{'peak RSS MiB':>13}")
    for bs in [int(b) for b in args.batch_sizes.split(",") if b]:
        if hasattr(clf, "batch_size"):
            clf.batch_size = bs
        clf.predict(texts[:bs])  # warm-up
        t0, c0 = time.perf_counter(), _cpu()
        clf.predict(texts)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{bs:>10} {len(texts):>7} {wall:>8.2f} {len(texts) / wall:>9.1f} {cpu:>7.1f} "
              f"{len(texts) / cpu:>12.1f} {rss:>13.0f}")
    print(f"\ncores visible: {os.cpu_count()}; load average now {os.getloadavg()[0]:.1f}. On a shared CPU")
    print("wall turns/s understates the speed; turns/cpu-s x cores is what an idle machine reaches")
    print("if the threads scale perfectly (an upper bound).")
    return 0


def _cpu() -> float:
    """User + system CPU seconds of this process (all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())
