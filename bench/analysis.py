"""Analysis throughput: N text interactions, DuckDB -> Analyzer -> DuckDB, end to end.

    python bench/analysis.py                 # 10,000 chats/e-mails (the issue's size)
    python bench/analysis.py --n 1000 --backend vader
    python bench/analysis.py --n 1000 --compare-runtimes   # + the encoder runtimes side by side

Generates N synthetic chat / e-mail conversations (customer and agent messages drawn from
templates covering the taxonomy's topics, angry and calm customers, spoken and written card
numbers, churn threats), stores them with status 'new' in a fresh DuckDB file, then runs
`Analyzer.run` with the shipped rules and taxonomy and prints a table: interactions, turns,
wall seconds, interactions/s, turns/s, peak RSS, and the flags raised. Models load before
the clock starts (reported separately), so the rate is the steady-state one.

Because a shared machine's speed drifts, the same turns are then encoded once with plain
sentence-transformers (all-MiniLM-L6-v2, batch 64, the way topics were encoded before #15)
and the end-to-end rate is also printed as a ratio to that encode (target >= 1.2x).
CPU seconds (process time, all threads) of the analysis and of that encode are printed too:
on a loaded machine they move less than wall time. `--unique-turns` makes every turn text
unique (the encoder cache then never hits: its overhead alone); `--encoder-cache 0` and
`--no-overlap` switch off the two throughput features of #15 for a side-by-side.
`--compare-runtimes` adds the shared encoder's runtimes (PyTorch float32 and bfloat16, ONNX
Runtime float32 and int8) on the same turns: turns/s, ratio to sentence-transformers and cosine to it.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CUSTOMER = [
    "Hi, I was charged twice for my subscription this month, I want my money back.",
    "My package has not arrived yet and the tracking number shows nothing.",
    "I cannot log in to my account, the password reset email never comes.",
    "This is ridiculous, the internet has been down for three days! Unacceptable.",
    "Can you explain the extra fee on my latest invoice please?",
    "I want to cancel my account, your service keeps failing.",
    "My card number is 4111 1111 1111 1111, please update the payment method.",
    "it's four one one one one one one one one one one one one one one one",
    "Let me speak to your manager right now, I am fed up.",
    "Thanks, that fixed it. Have a great day!",
    "When does my contract renew and can I upgrade my plan?",
    "The app crashes every time I open the settings page.",
    "Hello, just checking the status of my refund request.",
]
AGENT = [
    "Thanks for reaching out, I'm sorry for the trouble. Let me look into this.",
    "I have issued a refund, it will show on your statement in 3-5 days.",
    "Could you confirm the email address on the account?",
    "I've reset your password, please check your inbox.",
    "I understand your frustration. I've escalated this to our technical team.",
    "Your contract renews on the first of next month; upgrades are possible anytime.",
    "It is guaranteed to arrive tomorrow.",
    "Is there anything else I can help you with?",
]

OPENERS = ["", "Hello,", "Hi there.", "Good morning.", "Okay.", "Well,", "Sorry,", "Right,"]
DETAILS = [
    "", "Order {order}.", "It has been {n} days.", "My name is {name}.", "Reference {order}.",
    "This is the {n}th time.", "{name} said it would be sorted.", "Ticket {order} is still open.",
]
NAMES = ["Ana", "Ben", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi", "Lena"]


def generate(n: int, turns: int, seed: int, unique: bool = False) -> list:
    """`unique`: every turn text gets its own reference number (no text repeats at all: the
    encoder cache's worst case)."""
    from store.records import Interaction, Turn, content_hash

    rnd = random.Random(seed)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        start = t0 + timedelta(minutes=7 * i)
        msgs = []
        at = start
        for k in range(turns):
            speaker = "customer" if k % 2 == 0 else "agent"
            # unique texts (names, order numbers, days): identical turns would be computed
            # once by the Analyzer and flatter the rate
            text = " ".join(
                (rnd.choice(OPENERS), rnd.choice(CUSTOMER if speaker == "customer" else AGENT),
                 rnd.choice(DETAILS).format(n=rnd.randint(2, 90), order=rnd.randint(10_000, 99_999),
                                            name=rnd.choice(NAMES)))
            )  # fmt: skip
            if unique:
                text += f" Ref {i}-{k}."
            msgs.append(Turn(k, speaker, text, sent_at=at))
            at += timedelta(seconds=rnd.randint(20, 900))
        channel = "chat" if i % 3 else "email"
        out.append(
            Interaction(channel, "bench", f"b{i}", content_hash(f"b{i}", [m.text for m in msgs]),
                        started_at=start, agent=str(1000 + i % 25), queue=rnd.choice(["billing", "support"]),
                        turns=msgs)
        )  # fmt: skip
    return out


def redaction_ms(items: list) -> tuple[float, int]:
    """Milliseconds spent redacting every conversation as the analysis job does (all its
    turns at once, `redact_conversation`), and the number of turns."""
    from analysis.redaction import RedactionOptions, redact_conversation

    opts = RedactionOptions()
    redact_conversation(["warm up 4111 1111 1111 1111 at 12 Main Street"], opts)
    t = time.perf_counter()
    turns = 0
    for it in items:
        redact_conversation(it.turns, opts)
        turns += len(it.turns)
    return (time.perf_counter() - t) * 1000.0, turns


def st_encode(texts: list[str]) -> tuple[float, object, float]:
    """(wall seconds, vectors, CPU seconds) of a plain sentence-transformers encode of
    `texts` (model loaded first)."""
    import torch

    from analysis import embeddings
    from analysis.encoder import EncoderOptions

    # every CPU, whatever the shared encoder set for its own PyTorch runtime (a global setting)
    before = torch.get_num_threads()
    torch.set_num_threads(EncoderOptions().resolved_threads)
    try:
        model = embeddings.load()
        model.encode(texts[:64], batch_size=64, show_progress_bar=False)
        t, c = time.perf_counter(), time.process_time()
        vecs = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
        return time.perf_counter() - t, vecs, time.process_time() - c
    finally:
        torch.set_num_threads(before)


def compare_runtimes(texts: list[str], ref, st_s: float, cache: Path, threads: int) -> list[tuple[str, str]]:
    """The shared encoder's runtimes on the same texts (sentence embeddings)."""
    from analysis.encoder import EncoderOptions, TextEncoder

    rows = []
    for runtime, precision in (("torch", "float32"), ("torch", "bfloat16"), ("onnx", "float32"), ("onnx", "int8")):
        enc = TextEncoder(EncoderOptions(runtime=runtime, precision=precision, threads=threads), cache)
        enc.embed(texts[:64])
        t = time.perf_counter()
        v = enc.embed(texts)
        secs = time.perf_counter() - t
        cos = (v * ref).sum(axis=1)
        rows.append((f"  {enc.name}", f"{len(texts) / secs:.0f} turns/s, {st_s / secs:.2f}x sentence-transformers, "
                                      f"cosine min {cos.min():.4f} mean {cos.mean():.4f}"))
        del enc
    return rows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _legacy_class():
    from analysis.pipeline import Analyzer

    class LegacyAnalyzer(Analyzer):
        """No shared encoder: flair's MiniLM for sentiment, sentence-transformers for the rest."""

        @property
        def text_encoder(self):  # type: ignore[override]
            return None

    return LegacyAnalyzer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="interactions (default 10,000)")
    ap.add_argument("--turns", type=int, default=6, help="messages per interaction")
    ap.add_argument("--backend", choices=["flair", "vader"], default="flair", help="sentiment backend")
    ap.add_argument("--sentiment-model", default="packaged",
                    help='flair model: "packaged" (trained by `convoscope models prepare`) or a .pt file')
    ap.add_argument("--batch-size", type=int, default=256, help="interactions per batch/transaction")
    ap.add_argument("--cache-dir", default=None, help="model cache (default $CONVOSCOPE_CACHE)")
    ap.add_argument("--db", default=None, help="DuckDB file (default: a temporary file)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runtime", choices=["auto", "onnx", "torch"], default="auto", help="[analysis] encoder_runtime")
    ap.add_argument("--threads", type=int, default=0,
                    help="[analysis] encoder_threads (0 = all CPUs, less one beside the overlap)")
    ap.add_argument("--precision", choices=["auto", "float32", "bfloat16", "int8"], default="auto",
                    help="[analysis] encoder_precision")
    ap.add_argument("--compare-runtimes", action="store_true", help="also time each encoder runtime")
    ap.add_argument("--encoder-cache", type=int, default=None,
                    help="[analysis] encoder_cache_size (default: the config default; 0 = no cache)")
    ap.add_argument("--no-overlap", action="store_true", help="[analysis] encoder_overlap = false")
    ap.add_argument("--unique-turns", action="store_true",
                    help="give every turn its own reference number: no text repeats (the cache's worst case)")
    ap.add_argument("--st-first", action="store_true",
                    help="run the sentence-transformers encode before the analysis (alternate to see drift)")
    ap.add_argument("--legacy", action="store_true",
                    help="the pre-#15 path: flair runs its own MiniLM for sentiment, sentence-transformers "
                         "another for topics and rules (two passes per turn), for a side-by-side")
    args = ap.parse_args()

    import os

    from analysis.anger import AngerOptions
    from analysis.options import AnalysisOptions
    from analysis.pipeline import Analyzer
    from analysis.redaction import RedactionOptions
    from analysis.rules import default_rules
    from analysis.sentiment import SentimentOptions
    from analysis.topics import TopicOptions
    from store import interactions as istore
    from store.db import Store

    LegacyAnalyzer = _legacy_class()
    cache = Path(args.cache_dir or os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="cs-bench-")) / "bench.duckdb"
    store = Store.open(db)
    t = time.perf_counter()
    items = generate(args.n, args.turns, args.seed, args.unique_turns)
    for k in range(0, len(items), 5000):
        istore.upsert(store, items[k : k + 5000])
    load_s = time.perf_counter() - t

    analyzer = (LegacyAnalyzer if args.legacy else Analyzer)(
        AnalysisOptions(batch_size=args.batch_size, transcribe=False, encoder_runtime=args.runtime,
                        encoder_precision=args.precision, encoder_threads=args.threads, encoder_overlap=not args.no_overlap,
                        **({} if args.encoder_cache is None else {"encoder_cache_size": args.encoder_cache})),
        sentiment=SentimentOptions(backend=args.backend, model=args.sentiment_model), anger=AngerOptions(),
        topics=TopicOptions(),
        rules=default_rules(), redaction=RedactionOptions(), cache_dir=cache,
    )  # fmt: skip
    t = time.perf_counter()
    analyzer.analyse(generate(2, args.turns, args.seed + 1))  # loads every model once
    warm_s = time.perf_counter() - t

    texts = [t.text for it in items for t in it.turns]
    if args.st_first:
        st_s, st_vecs, st_cpu = st_encode(texts)
    analyzer.stage_seconds.clear()
    analyzer.stage_cpu.clear()
    enc = analyzer.text_encoder
    if enc is not None:  # the warm-up's texts must not count as hits
        enc.clear_cache()
    c0 = time.process_time()
    rep = analyzer.run(store)
    run_cpu = time.process_time() - c0
    flags = store.conn.execute("SELECT kind, count(*) FROM flags GROUP BY kind ORDER BY 2 DESC").fetchall()
    red_ms, red_turns = redaction_ms(items)
    if not args.st_first:
        st_s, st_vecs, st_cpu = st_encode(texts)
    e2e = rep.turns / rep.seconds
    st_rate = len(texts) / st_s
    stats = enc.cache_stats() if enc is not None else None
    rows = [
        ("interactions", f"{rep.analysed:,}"),
        ("turns", f"{rep.turns:,}"),
        ("sentiment backend", f"{args.backend} ({getattr(analyzer.classifier, 'name', '')})"),
        ("store load (s)", f"{load_s:.1f}"),
        ("model load (s)", f"{warm_s:.1f}"),
        ("analysis wall (s)", f"{rep.seconds:.1f}"),
        ("interactions/s", f"{rep.analysed / rep.seconds:.1f}"),
        ("turns/s", f"{rep.turns / rep.seconds:.1f}"),
        ("plain sentence-transformers encode", f"{st_rate:.1f} turns/s (same turns, same run)"),
        ("end to end / that encode", f"{e2e / st_rate:.2f}x (target >= 1.2x)"),
        ("analysis CPU s (process time)", f"{run_cpu:.1f} = {1000 * run_cpu / max(rep.analysed, 1):.1f} ms per interaction, "
                                          f"{rep.turns / max(run_cpu, 1e-9):.0f} turns per CPU second"),
        ("sentence-transformers CPU s", f"{st_cpu:.1f}: end to end / that encode by CPU = {st_cpu / max(run_cpu, 1e-9):.2f}x"),
        ("encoder", f"{enc.name if enc is not None else 'sentence-transformers'}"
                    f"{' (fell back: ' + enc.fallback_reason + ')' if enc is not None and enc.fallback_reason else ''}"),
        ("encoder cache", "off (not the shared encoder)" if stats is None else
         f"{stats['hits']:,} hits / {stats['lookups']:,} distinct texts looked up = {100 * stats['hit_rate']:.1f} % "
         f"(size {stats['size']:,}; {stats['encoded']:,} texts encoded for {stats['texts']:,} inputs)"),
        ("encoder overlap", "on" if analyzer.options.encoder_overlap else "off"),
        ("redaction (ms/turn)", f"{red_ms / red_turns:.3f} (conversation-level, {red_turns:,} turns; target <= 1)"),
        ("stage seconds", ", ".join(f"{k} {v:.1f}" for k, v in analyzer.stage_seconds.items())),
        ("stage CPU ms per interaction", ", ".join(f"{k} {1000 * v / max(rep.analysed, 1):.2f}"
                                                  for k, v in analyzer.stage_cpu.items())
         + " (thread CPU of the thread that ran each: encoder on the encoder thread, the rest on the job's)"),
        ("peak RSS (MB)", f"{peak_rss_mb():.0f}"),
        ("failed", str(rep.failed)),
        ("flags", ", ".join(f"{k}={c}" for k, c in flags)),
    ]
    if args.compare_runtimes:
        sample = texts[:3000]
        rows.append(("encoder runtimes", f"({len(sample):,} turns; reference: sentence-transformers float32)"))
        rows += compare_runtimes(sample, st_vecs[: len(sample)], st_s * len(sample) / len(texts), cache, args.threads)
    width = max(len(k) for k, _ in rows)
    print(f"analysis throughput, {args.n:,} text interactions x {args.turns} turns, DuckDB -> DuckDB")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    store.close()
    return 0 if rep.failed == 0 and rep.analysed == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
