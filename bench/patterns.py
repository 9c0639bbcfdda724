"""Benchmark of the pattern jobs: encode rate, clustering time/memory, assignment rate.

What is measured, and how:

1. **Encode rate** of the packaged MiniLM on generated customer texts (`--encode-sample`
   texts; real model, real text). Encoding is what a first full run of N interactions
   costs on top of clustering (later runs only encode what is new: embeddings are stored).
2. **Clustering** of N interactions (`--sizes`, default 10k and 100k): PCA + HDBSCAN
   (fitted on at most `max_fit`, the rest assigned to centroids) + c-TF-IDF naming over the
   N texts + identity matching against a previous clustering. The embeddings are
   *synthetic* (unit vectors scattered around `--groups` topic centres, as MiniLM
   embeddings of templated texts would be) so that 100k can be timed without 100k real
   encodes; their time is the measured encode rate times N (printed separately). Each size
   runs in its own process so peak memory (max RSS) is per size.
3. **Assign after analysis**: `assign_new` end to end on a real DuckDB file — find the
   unclustered interactions, read their turns, check the clustering vectors the analysis
   pipeline stored are current (hash of the turns), load them, nearest centroid, write
   memberships — for `--assign` new interactions against the clusters of a 10k run. The
   vectors are saved as the pipeline saves them (`analysis.patterns.embedding`, from
   synthetic turn vectors); the encoder given to `assign_new` raises, so no encode hides
   in the number. Also printed: the rate for interactions the pipeline did not cover
   (their turns encoded by assign_new at the measured MiniLM rate).

    .venv/bin/python bench/patterns.py                      # 10k and 100k, 2 threads
    .venv/bin/python bench/patterns.py --sizes 10000 --assign 2000 --encode-sample 256
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

# bench/analysis.py would shadow the `analysis` package when run as `python bench/patterns.py`
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

TEMPLATES = [
    "I returned the {x} and I still have not received my refund",
    "I cannot log in, the password reset email never arrives for my {x} account",
    "my {x} delivery is late, the tracking has not moved for days",
    "I was charged twice for the {x} on my card statement",
    "the {x} stopped working after the last update, please help",
    "I want to cancel my {x} subscription before it renews",
    "can you explain the extra fee on my {x} invoice",
    "the {x} arrived damaged and the box was open",
]
ITEMS = ["headphones", "laptop", "coffee machine", "phone", "jacket", "printer", "router", "camera"]


def texts_for(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, len(TEMPLATES), n)
    items = rng.integers(0, len(ITEMS), n)
    return [TEMPLATES[a].format(x=ITEMS[b]) + f" (order {k})" for k, (a, b) in enumerate(zip(t, items, strict=True))], t


def synthetic_embeddings(labels: np.ndarray, groups: int, seed: int = 0, spread: float = 1.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, 384))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    pts = centres[labels % groups] + spread * rng.normal(size=(len(labels), 384)) / np.sqrt(384)
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    return pts.astype(np.float32)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_encode(n: int) -> float:
    """MiniLM texts per second on `n` generated texts (after a warm-up batch)."""
    from analysis.embeddings import encode

    texts, _ = texts_for(n, seed=1)
    encode(texts[:32])
    t = time.perf_counter()
    encode(texts)
    return n / (time.perf_counter() - t)


def _cluster_child(n: int, groups: int, q: mp.Queue) -> None:
    from sklearn.metrics import adjusted_rand_score

    from analysis.patterns import clusters as cl
    from analysis.patterns.options import ClusterOptions

    base = max_rss_mb()
    texts, truth = texts_for(n)
    labels_true = (truth * 7 + np.random.default_rng(2).integers(0, 7, n)) % groups  # sub-topics
    emb = synthetic_embeddings(labels_true, groups)
    opts = ClusterOptions()
    t = time.perf_counter()
    result = cl.cluster_embeddings(emb, opts)
    t_cluster = time.perf_counter() - t
    t = time.perf_counter()
    cl.cluster_terms(texts, result.labels, result.k, opts.terms)
    t_terms = time.perf_counter() - t
    # identity matching against a previous run (labels shifted as if re-clustered)
    old = {i: int(lab) + 1000 for i, lab in enumerate(result.labels) if lab >= 0}
    t = time.perf_counter()
    cl.match_identities(old, list(range(n)), result.labels, result.k, next_id=5000,
                        min_jaccard=opts.stable_jaccard)
    t_match = time.perf_counter() - t
    q.put({
        "n": n, "k": result.k, "noise": int((result.labels < 0).sum()), "fitted": result.fitted,
        "ari": adjusted_rand_score(labels_true, result.labels),
        "cluster_s": t_cluster, "terms_s": t_terms, "match_s": t_match,
        "peak_mb": max_rss_mb(), "rss_before_mb": base,
    })


def bench_cluster(n: int, groups: int) -> dict:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=_cluster_child, args=(n, groups, q))
    p.start()
    out = q.get()
    p.join()
    return out


def bench_assign(n_base: int, n_new: int, groups: int) -> dict:
    """Assign after analysis: `assign_new` end to end on a real file, for interactions whose
    clustering vectors the pipeline stored (synthetic turn vectors, saved by the pipeline's
    recipe); any encode fails the bench, so the rate is everything assign_new does."""
    from analysis.patterns import embedding as ce
    from analysis.patterns import job
    from analysis.patterns.options import PatternsOptions
    from store import Store
    from store import interactions as si
    from store import patterns as sp
    from store.records import Interaction, Turn, content_hash

    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    texts, truth = texts_for(n_base + n_new, seed=3)
    emb = synthetic_embeddings(truth, groups, seed=4)
    vec_of = {t: e for t, e in zip(texts, emb, strict=True)}

    def encoder(batch: list[str]) -> np.ndarray:  # the stored synthetic vector of each text
        return np.stack([vec_of[t] for t in batch])

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.duckdb")
        opts = PatternsOptions()

        def add(lo: int, hi: int) -> None:
            items = [
                Interaction(channel="chat", source="bench", external_id=str(k),
                            content_hash=content_hash(str(k)), status="analysed",
                            started_at=now - timedelta(minutes=k + 1),
                            turns=[Turn(0, "agent", "Hello, how can I help?"), Turn(1, "customer", texts[k])])
                for k in range(lo, hi)
            ]
            for c in range(0, len(items), 5000):
                si.upsert(store, items[c:c + 5000])

        add(0, n_base)
        job.run_clusters(store, opts, now=now, encode=encoder)
        add(n_base, n_base + n_new)
        # store the new interactions' vectors exactly as the analysis pipeline does
        # (Analyzer._cluster_vector: the chosen turns' vectors -> mean -> hash of those turns)
        new_ids = sp.unclustered_ids(store)
        rows = sp.speaker_turns(store, new_ids)
        hashes, vecs = [], []
        for iid in new_ids:
            speakers, turn_texts = rows[iid]
            chosen = [turn_texts[k] for k in ce.clustering_turns(speakers, turn_texts)]
            hashes.append(ce.source_hash(chosen))
            vecs.append(ce.mean_vector(encoder(chosen)))
        sp.save_embeddings(store, new_ids, hashes, np.stack(vecs), opts.clusters.model)

        def refuse(batch: list[str]) -> np.ndarray:  # assignment after analysis encodes nothing
            raise AssertionError(f"assign_new encoded {len(batch)} texts")

        t = time.perf_counter()
        done = job.assign_new(store, opts, encode=refuse, limit=None)
        secs = time.perf_counter() - t
        assigned = sum(1 for c in sp.cluster_membership(store, new_ids).values() if c >= 0)
        store.close()
    return {"new": done, "assigned": assigned, "seconds": secs, "rate": done / secs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="interactions to cluster (comma list)")
    ap.add_argument("--groups", type=int, default=40, help="planted topic groups in the synthetic embeddings")
    ap.add_argument("--encode-sample", type=int, default=512, help="texts encoded with MiniLM to measure its rate")
    ap.add_argument("--assign", type=int, default=5000, help="new interactions assigned incrementally")
    ap.add_argument("--assign-base", type=int, default=10000, help="interactions clustered before assigning")
    ap.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (the target is 2 cores)")
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    rate = bench_encode(args.encode_sample) if args.encode_sample else float("nan")
    print(f"MiniLM encode: {rate:.0f} texts/s ({args.encode_sample} texts, {args.threads} threads)")
    print()
    print(f"{'interactions':>12} {'clusters':>8} {'noise':>7} {'fitted':>7} {'ARI':>6} "
          f"{'cluster s':>9} {'names s':>8} {'match s':>8} {'total s':>8} {'peak MB':>8} {'+encode s':>9}")
    for n in sizes:
        r = bench_cluster(n, args.groups)
        total = r["cluster_s"] + r["terms_s"] + r["match_s"]
        print(f"{n:>12} {r['k']:>8} {r['noise']:>7} {r['fitted']:>7} {r['ari']:>6.3f} "
              f"{r['cluster_s']:>9.1f} {r['terms_s']:>8.1f} {r['match_s']:>8.2f} {total:>8.1f} "
              f"{r['peak_mb']:>8.0f} {n / rate:>9.0f}", flush=True)
    if args.assign:
        a = bench_assign(args.assign_base, args.assign, args.groups)
        with_encode = 1.0 / (1.0 / a["rate"] + 1.0 / rate)
        print()
        print(f"assign after analysis (vectors stored by the pipeline): {a['new']} new interactions "
              f"in {a['seconds']:.2f} s = {a['rate']:.0f}/s ({a['assigned']} joined a cluster); "
              f"without pipeline vectors (MiniLM encode in assign_new): {with_encode:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
