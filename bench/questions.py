"""How well the question parser reads the phrasing corpora, and how fast.

    PYTHONPATH=. .venv/bin/python bench/questions.py [--heldout PATH] [--heldout2 PATH]
        [--repeat N] [--misses]

For the development corpus (tests/data/questions.tsv) and the held-out sets
(bench/data/questions_heldout.tsv, written by someone who did not see the parser; and
bench/data/questions_heldout2.tsv, written later by someone who saw neither the parser nor
the first held-out set, after the first one had been used to fix the parser) it prints the share of questions parsed exactly — by the corpus's own
checker (tests/data/questions_check.py), the same rules as tests/bot/test_questions_corpus.py —
per intent group and per expected view, then parse latency (p50 / p95 / max over every
question, `--repeat` times each, the store's names already linked into a `Linker`, which
the bot builds once per entity-cache refresh). The held-out sets' misses are never printed
(only its scores), so looking at the bench's output does not turn it into training data;
`--misses` lists the development corpus's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.questions.linking import Linker  # noqa: E402
from bot.questions.parser import parse  # noqa: E402
from store.entities import EntityValues  # noqa: E402

DATA = ROOT / "tests" / "data"


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("questions_check", DATA / "questions_check.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def score(chk: ModuleType, path: Path, linker: Linker, *, show_misses: bool) -> tuple[int, int]:
    rows = chk.load(path)
    by_intent: Counter[str] = Counter()
    ok_intent: Counter[str] = Counter()
    by_view: Counter[str] = Counter()
    ok_view: Counter[str] = Counter()
    misses = []
    for question, expected in rows:
        intent = (expected.get("extra") or {}).get("intent", "?")
        view = expected.get("view", "list")
        diffs = chk.compare(expected, parse(question, chk.TIMEZONE, chk.NOW, linker))
        by_intent[intent] += 1
        by_view[view] += 1
        if not diffs:
            ok_intent[intent] += 1
            ok_view[view] += 1
        else:
            misses.append((intent, question, diffs))
    exact = sum(ok_intent.values())
    print(f"\n## {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
          f"{exact}/{len(rows)} parsed exactly = {exact / max(1, len(rows)):.1%}")  # fmt: skip
    for title, total, ok in (("intent group", by_intent, ok_intent), ("expected view", by_view, ok_view)):
        print(f"\n| {title} | exact | n | share |\n|---|---:|---:|---:|")
        for key in sorted(total, key=lambda k: (ok[k] / total[k], k)):
            print(f"| {key} | {ok[key]} | {total[key]} | {ok[key] / total[key]:.0%} |")
    if show_misses and misses:
        print("\nmisses:")
        for intent, question, diffs in misses:
            print(f"- [{intent}] {question!r}: " + " | ".join(diffs))
    return exact, len(rows)


def latency(chk: ModuleType, paths: list[Path], linker: Linker, repeat: int) -> None:
    questions = [q for p in paths for q, _e in chk.load(p)]
    times = []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            parse(q, chk.TIMEZONE, chk.NOW, linker)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"\n## parse latency ({len(questions)} questions × {repeat})\n\n| p50 ms | p95 ms | max ms |\n|---:|---:|---:|")
    print(f"| {statistics.median(times):.2f} | {p95:.2f} | {times[-1]:.2f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DATA / "questions.tsv")
    ap.add_argument("--heldout", type=Path, default=ROOT / "bench" / "data" / "questions_heldout.tsv")
    ap.add_argument("--heldout2", type=Path, default=ROOT / "bench" / "data" / "questions_heldout2.tsv")
    ap.add_argument("--entities", type=Path, default=DATA / "questions_entities.json")
    ap.add_argument("--repeat", type=int, default=5, help="parse each question this many times for latency")
    ap.add_argument("--misses", action="store_true", help="list the development corpus's misses")
    args = ap.parse_args()
    chk = _checker()
    t0 = time.perf_counter()
    linker = Linker(EntityValues.from_dict(json.loads(args.entities.read_text("utf-8"))))
    print(f"# question parser: exact parses and latency\n\nlinker built in {(time.perf_counter() - t0) * 1000:.1f} ms")
    paths = [args.corpus]
    score(chk, args.corpus, linker, show_misses=args.misses)
    for heldout in (args.heldout, args.heldout2):
        if heldout.exists():
            score(chk, heldout, linker, show_misses=False)
            paths.append(heldout)
        else:
            print(f"\n(no held-out set at {heldout})")
    latency(chk, paths, linker, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
