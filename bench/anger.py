"""Anger detection: precision and recall per turn (labelled text) and per call (samples).

    .venv/bin/python bench/anger.py            # packaged flair sentiment + text + sample calls
    .venv/bin/python bench/anger.py --no-calls # text sets only (no Whisper run)
    .venv/bin/python bench/anger.py --backend vader

Sets: bench/data/anger_text.jsonl (80 hand-written customer messages, 40 angry, including
negative-but-calm ones), the customer turns of the sample calls' scripts
(bench/data/sample_turns.json, as text), and the sample calls themselves: transcribed with
the packaged Whisper model and scored with voice evidence; only call_01_angry_refund is
angry. The thresholds were tuned on these same sets, so the numbers are in-sample: they
show the thresholds work as documented, not how they generalise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prf(gold: list[bool], pred: list[bool]) -> tuple[float, float, float]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="flair", choices=["flair", "vader"])
    ap.add_argument("--cache-dir", default=os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope"))
    ap.add_argument("--no-calls", action="store_true", help="skip transcribing the sample calls")
    ap.add_argument("--sweep", default="0.3,0.4,0.5,0.6,0.7,0.8", help="turn thresholds to tabulate")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from analysis.anger import AngerOptions, AngerScorer
    from analysis.sentiment import SentimentOptions, load_turn_classifier
    from store.records import Interaction

    cache = Path(args.cache_dir).expanduser()
    clf = load_turn_classifier(SentimentOptions(backend=args.backend), cache)
    options = AngerOptions()
    scorer = AngerScorer(options)

    sets: dict[str, tuple[list[str], list[bool]]] = {}
    rows = [json.loads(line) for line in (ROOT / "bench/data/anger_text.jsonl").read_text().splitlines() if line]
    sets["hand-written messages"] = ([r["text"] for r in rows], [r["angry"] for r in rows])
    turns = [t for t in json.loads((ROOT / "bench/data/sample_turns.json").read_text()) if "angry" in t]
    sets["sample call turns (script)"] = ([t["text"] for t in turns], [t["angry"] for t in turns])

    print(f"sentiment: {clf.name}; turn threshold {options.turn_threshold}, flag threshold {options.flag_threshold}")
    print(f"{'set':30} {'n':>4} {'angry':>6} {'precision':>10} {'recall':>7} {'F1':>6}")
    probs: dict[str, list[float]] = {}
    for name, (texts, gold) in sets.items():
        t0 = time.perf_counter()
        p = scorer.score_text(texts, clf.predict(texts))
        probs[name] = p
        pr, rc, f1 = prf(gold, [x >= options.turn_threshold for x in p])
        print(f"{name:30} {len(texts):>4} {sum(gold):>6} {pr:>10.2f} {rc:>7.2f} {f1:>6.2f}"
              f"   ({time.perf_counter() - t0:.1f} s)")

    print(f"\nthreshold sweep on '{next(iter(sets))}':")
    texts, gold = next(iter(sets.values()))
    p = next(iter(probs.values()))
    print(f"{'threshold':>9} {'precision':>10} {'recall':>7} {'F1':>6}")
    for th in [float(x) for x in args.sweep.split(",") if x]:
        pr, rc, f1 = prf(gold, [x >= th for x in p])
        print(f"{th:>9.2f} {pr:>10.2f} {rc:>7.2f} {f1:>6.2f}")
    misses = [(t, round(x, 2)) for t, g, x in zip(texts, gold, p, strict=True) if g != (x >= options.turn_threshold)]
    if misses:
        print("\nmisclassified at the turn threshold:")
        for t, x in misses:
            print(f"  {x:.2f}  {t}")

    if not args.no_calls:
        from analysis.asr.options import AsrOptions
        from analysis.asr.transcriber import Transcriber

        tr = Transcriber(AsrOptions(language="en"), cache)
        gold_calls, pred_calls = [], []
        print(f"\n{'sample call':28} {'anger':>6} {'flag':>9} {'angry turns':>12} {'ASR+score s':>12}")
        for path in sorted((ROOT / "samples" / "calls").glob("*.opus")):
            t0 = time.perf_counter()
            call_turns = tr.transcribe(path).turns
            inter = Interaction("call", "samples", path.stem, "h", turns=call_turns, id=0)
            r = scorer.score(inter, clf.predict([t.text for t in call_turns]), str(path))
            sev = {1: "low", 2: "medium", 3: "high", 4: "critical"}[r.flag.severity] if r.flag else "-"
            n_angry = len(r.flag.evidence) if r.flag else 0
            print(f"{path.stem:28} {r.overall:>6.2f} {sev:>9} {n_angry:>12} {time.perf_counter() - t0:>12.1f}")
            gold_calls.append("angry" in path.stem)
            pred_calls.append(r.flag is not None)
        pr, rc, f1 = prf(gold_calls, pred_calls)
        print(f"calls: precision {pr:.2f}, recall {rc:.2f} ({sum(gold_calls)} angry of {len(gold_calls)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
