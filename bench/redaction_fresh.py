"""Redaction on sets generated afresh: new seeds, so values and combinations nobody tuned on.

    python bench/redaction_fresh.py --seed 20261207 \
        [--templates presidio_evaluator/data_generator/raw_data/templates.txt] \
        [--identities presidio_evaluator/data_generator/raw_data/FakeNameGenerator.com_3000.csv]

The stored held-out sets (bench/data/redaction_heldout*.jsonl) were each read once and the
engine was then fixed on their misses, so they are no longer clean. This draws new sets from
the same generators (bench/redaction_data.py: the held-out phrasing family, presidio-evaluator's
templates and FakeNameGenerator identities when their files are given, e.g. from the unzipped
presidio-evaluator wheel) with seeds of your choosing and prints the same tables. It checks
values, combinations and identities not seen before — not new phrasings: the generators'
templates are the ones the engine was developed against (bench/data/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import redaction as bench  # noqa: E402
import redaction_data as gen  # noqa: E402

from analysis.redaction import RedactionOptions  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--templates", type=Path)
    ap.add_argument("--identities", type=Path)
    args = ap.parse_args()
    sets = [(f"fresh, held-out family (seed {args.seed})", gen.build("held", args.seed))]
    if args.templates:
        sets[0] = (sets[0][0] + " + presidio templates",
                   sets[0][1] + gen.presidio_items(args.templates, args.seed + 1))  # fmt: skip
    if args.identities:
        sets.append((f"fresh, FakeNameGenerator identities (seed {args.seed + 2})",
                     gen.fng_items(args.identities, args.seed + 2)))  # fmt: skip
    for title, convs in sets:
        items = [json.loads(json.dumps(c.item("held", n))) for n, c in enumerate(convs)]
        stats, _misses, _secs, _turns = bench.evaluate(items, RedactionOptions())
        print(bench.table(title, stats, len(items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
