"""Redaction recall and precision per PII kind, on the labelled sets, and its speed.

    python bench/redaction.py                 # dev and held-out tables, ms per turn
    python bench/redaction.py --show-misses   # every missed entity and false positive

The sets (bench/data/redaction_dev.jsonl, redaction_heldout.jsonl; how they were made:
bench/data/README.md) hold conversations with their PII as character pieces per turn.
Each conversation is redacted with `redact_conversation` (all turns at once, as the
analysis job does). An entity counts as *recalled* when every letter and digit of every
piece (in every turn it touches) lies inside some redaction span: that is what keeps it
out of the store. "kind ok" also asks that the span has the entity's kind. A predicted
span is a *false positive* when it touches no labelled piece; precision is per predicted
kind. Negatives (order and ticket numbers, prices, times, dates that are not birth dates)
carry no labels, so anything redacted there is a false positive.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.redaction import KINDS, RedactionOptions, redact_conversation  # noqa: E402

DATA = ROOT / "bench" / "data"
SETS = (
    ("dev (tuned on)", "redaction_dev.jsonl"),
    ("held-out, templates (seed 9112; seen once, see README)", "redaction_heldout.jsonl"),
    ("held-out, FakeNameGenerator identities (presidio-evaluator; never tuned on)", "redaction_heldout_fng.jsonl"),
)
TARGET = {"CARD": 0.99, "CVV": 0.99}


def load(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _covered(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    return all(any(s <= k < e for s, e in spans) for k in range(a, b) if text[k].isalnum())


def evaluate(items: list[dict], options: RedactionOptions) -> tuple[dict, list[str], float, int]:
    """Per-kind counts, the misses (for --show-misses), seconds spent redacting, turns."""
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[str] = []
    secs = 0.0
    turns = 0
    for it in items:
        texts = [t["text"] for t in it["turns"]]
        t0 = time.perf_counter()
        res = redact_conversation([(t["speaker"], t["text"]) for t in it["turns"]], options)
        secs += time.perf_counter() - t0
        turns += len(texts)
        spans = [[(s.start, s.end) for s in r.spans] for r in res.results]
        for ent in it["pii"]:
            k = ent["kind"]
            stats[k]["n"] += 1
            ok = all(_covered(texts[t], a, b, spans[t]) for t, a, b in ent["pieces"])
            stats[k]["hit"] += ok
            kind_ok = ok and all(
                any(s.kind == k and s.start < b and s.end > a for s in res.results[t].spans) for t, a, b in ent["pieces"]
            )
            stats[k]["kind_ok"] += kind_ok
            if len({p[0] for p in ent["pieces"]}) > 1:
                stats[k]["multi_n"] += 1
                stats[k]["multi_hit"] += ok
            if not ok:
                misses.append(f"MISS {k} {it['id']} {it['source']}: " + " | ".join(
                    f"[{t}] {texts[t][a:b]!r} -> {res.results[t].text!r}" for t, a, b in ent["pieces"]))
        for t, r in enumerate(res.results):
            labelled = [(a, b) for ent in it["pii"] for tt, a, b in ent["pieces"] if tt == t]
            for s in r.spans:
                stats[s.kind]["pred"] += 1
                if not any(s.start < b and s.end > a for a, b in labelled):
                    stats[s.kind]["fp"] += 1
                    misses.append(f"FP {s.kind} {it['id']} {it['source']}: {texts[t][s.start:s.end]!r} in {texts[t]!r}")
    return stats, misses, secs, turns


def table(title: str, stats: dict, n_items: int) -> str:
    lines = [f"{title}: {n_items} conversations",
             f"  {'kind':<13}{'entities':>9}{'recall':>8}{'kind ok':>9}{'across turns':>14}{'predicted':>10}{'precision':>10}  target"]
    tot = defaultdict(int)
    for k in KINDS:
        s = stats.get(k)
        if not s:
            continue
        rec = s["hit"] / s["n"] if s["n"] else float("nan")
        kok = s["kind_ok"] / s["n"] if s["n"] else float("nan")
        prec = (s["pred"] - s["fp"]) / s["pred"] if s["pred"] else float("nan")
        multi = f"{s['multi_hit']}/{s['multi_n']}" if s["multi_n"] else "-"
        tgt = f"recall>={TARGET.get(k, 0.95)}, precision>=0.95"
        lines.append(f"  {k:<13}{s['n']:>9}{rec:>8.3f}{kok:>9.3f}{multi:>14}{s['pred']:>10}{prec:>10.3f}  {tgt}")
        for key in ("n", "hit", "pred", "fp"):
            tot[key] += s[key]
    lines.append(f"  {'all':<13}{tot['n']:>9}{tot['hit'] / max(tot['n'], 1):>8.3f}{'':>9}{'':>14}{tot['pred']:>10}"
                 f"{(tot['pred'] - tot['fp']) / max(tot['pred'], 1):>10.3f}")
    return "\n".join(lines)


def run(show_misses: bool = False, dev_only: bool = False) -> str:
    """The section text (bench/verdicts.py-style contract: returns what it prints)."""
    options = RedactionOptions()
    out: list[str] = []
    all_secs = 0.0
    all_turns = 0
    for title, name in SETS[:1] if dev_only else SETS:
        items = load(name)
        stats, misses, secs, turns = evaluate(items, options)
        all_secs += secs
        all_turns += turns
        out.append(table(title, stats, len(items)))
        if show_misses:
            out += ["  " + m for m in misses]
    out.append(f"speed: {all_turns} turns redacted conversation by conversation in {all_secs * 1000:.0f} ms = "
               f"{all_secs * 1000 / max(all_turns, 1):.3f} ms/turn (target <= 1 ms/turn)")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--dev-only", action="store_true", help="while tuning: leave the held-out set unseen")
    args = ap.parse_args()
    redact_conversation(["warm up 4111 1111 1111 1111"])  # imports, usaddress model
    print(run(args.show_misses, args.dev_only))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
