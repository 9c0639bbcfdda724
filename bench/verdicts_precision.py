"""Verdicts per shared-encoder precision (#15): float32, bfloat16 and int8 side by side.

    python bench/verdicts_precision.py                   # all three precisions
    python bench/verdicts_precision.py --precisions float32,bfloat16

The shared MiniLM pass (analysis/encoder.py) feeds the sentiment head, the anger scorer
(through the sentiment), topics, the semantic rules and the clustering vector, so a
precision change must not move verdicts. For each precision this prints, on the same
items and with the same shipped models and rules:

1. sentiment on the contact-centre turn set: the train part (what the head was fitted on:
   dev data, shown to catch flips, not as a result) and the held-out part per speaker, plus
   the held-out airline tweets; accuracy, and label agreement with float32;
2. the shipped rules on bench/data/rules_utterances.tsv's dev and held-out splits and on
   the opened v6 batch (bench/verdicts_rules.py's tables), with the pipeline's embedding (this encoder's
   sentence vector) instead of sentence-transformers; micro P/R/F1 per split and the
   per-flag rows whose numbers differ from float32.

Nothing is tuned here: the precision is chosen by speed with these numbers as a veto
(README, "Throughput").
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cache() -> Path:
    return Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()


def encoder_for(precision: str):
    from analysis.encoder import EncoderOptions, TextEncoder

    runtime = "torch" if precision == "bfloat16" else "onnx"
    return TextEncoder(EncoderOptions(runtime=runtime, precision=precision), _cache())


def sentiment_rows(precisions: list[str]) -> list[str]:
    import dataclasses

    import numpy as np

    from analysis.sentiment import load_turn_classifier, turnset
    from analysis.sentiment.corpus import split
    from bench.verdicts_sentiment import sentiment_options

    opts = dataclasses.replace(sentiment_options(), quantize=False)
    train, held = turnset.load(part="train"), turnset.load(part="held_out")
    tweets = split(opts.corpus, opts.held_out_fraction, opts.seed).held_out
    sets = {
        "contact turns train (dev)": (train, [t.speaker for t in train]),
        "contact turns held-out, agent": ([t for t in held if t.speaker == "agent"], None),
        "contact turns held-out, customer": ([t for t in held if t.speaker == "customer"], None),
        "airline tweets held-out": (tweets, None),
    }
    labels: dict[str, dict[str, list[str]]] = {}
    out = [f"{'sentiment set':34} {'n':>5} " + " ".join(f"{p:>9}" for p in precisions)
           + "   agreement with float32"]
    for p in precisions:
        clf = load_turn_classifier(opts, _cache(), encoder_for(p))
        labels[p] = {}
        for name, (items, _sp) in sets.items():
            speakers = [getattr(t, "speaker", "customer") for t in items]
            labels[p][name] = [s.label for s in clf.predict([t.text for t in items], speakers)]
    for name, (items, _sp) in sets.items():
        gold = [t.label for t in items]
        accs = [float(np.mean([g == x for g, x in zip(gold, labels[p][name], strict=True)])) for p in precisions]
        agree = [
            f"{p} {np.mean([a == b for a, b in zip(labels['float32'][name], labels[p][name], strict=True)]):.4f}"
            for p in precisions if p != "float32" and "float32" in labels
        ]
        out.append(f"{name:34} {len(items):>5} " + " ".join(f"{a:>9.3f}" for a in accs) + "   " + ", ".join(agree))
    return out


def rules_rows(precisions: list[str], splits: list[str]) -> list[str]:
    from analysis.rules import default_rules
    from bench import verdicts_rules as vr

    rules = default_rules()
    out = []
    per: dict[str, dict[str, dict]] = {}
    for p in precisions:
        enc = encoder_for(p)
        per[p] = {}
        for s in splits:
            items = vr.load(s)
            per[p][s] = vr.score(items, vr.predict(items, rules, enc.embed))
    out.append(f"{'rules split':20} " + " ".join(f"{p + ' P/R/F1':>22}" for p in precisions))
    for s in splits:
        cells = []
        for p in precisions:
            from collections import Counter

            total: Counter[str] = sum((per[p][s][f] for f in vr.FLAGS), Counter())
            pr, rc, f1, _n = vr.prf(total)
            cells.append(f"{pr:.3f}/{rc:.3f}/{f1:.3f}")
        out.append(f"{s + ' (micro)':20} " + " ".join(f"{c:>22}" for c in cells))
        for f in vr.FLAGS:
            rows = {p: vr.prf(per[p][s][f])[:3] for p in precisions}
            if len({tuple(round(x, 4) for x in v) for v in rows.values()}) > 1:
                out.append(f"  {f:18} " + " ".join(f"{'/'.join(f'{x:.3f}' for x in rows[p]):>22}" for p in precisions))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--precisions", default="float32,bfloat16,int8")
    ap.add_argument("--rules-splits", default="dev,heldout,v6",
                    help="bench/verdicts_rules.py splits (v6: the opened batch, dev data now)")
    ap.add_argument("--no-sentiment", action="store_true", help="only the rules tables")
    args = ap.parse_args()
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    print("== Verdicts per shared-encoder precision ==")
    if not args.no_sentiment:
        print("\n".join(sentiment_rows(precisions)))
        print()
    print("\n".join(rules_rows(precisions, [s.strip() for s in args.rules_splits.split(",") if s.strip()])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
