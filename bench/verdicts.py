"""One evaluation harness for every verdict Convoscope gives: prints section after section.

    python bench/verdicts.py            # every section
    python bench/verdicts.py rules      # only the named sections
    python bench/verdicts.py rules --reviews reviews.jsonl   # + reviewers' verdicts per rule
    python bench/verdicts.py resolution --sets fresh3        # the resolution section on one set

Each section is a module in bench/ with `run() -> str` returning its printed table; the
held-out numbers come first in each, tuning data (dev) after them, labelled. Sections:
`rules` (bench/verdicts_rules.py: precision / recall / F1 per shipped rule and flag);
`sentiment` (bench/verdicts_sentiment.py: sentiment accuracy and macro-F1 per speaker on the
held-out contact-centre turns and tweets, out-of-domain polarity against VADER, anger
precision / recall / F1 on held-out turns); `resolution` (bench/verdicts_resolution.py:
`unresolved_issue` and `incorrect_information`).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ is first on the path and bench/analysis.py would shadow the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: (name, module) in print order
SECTIONS = (
    ("rules", "bench.verdicts_rules"),
    ("sentiment", "bench.verdicts_sentiment"),  # sentiment per speaker, tweets, OOD, anger
    ("resolution", "bench.verdicts_resolution"),
)


def main(argv: list[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    if "--reviews" in args:
        # the rules section reads it from the environment (sections take no arguments)
        i = args.index("--reviews")
        if i + 1 >= len(args):
            print("--reviews needs a file written by `convoscope export-reviews`")
            return 2
        os.environ["CONVOSCOPE_REVIEWS"] = args[i + 1]
        del args[i: i + 2]
    if "--sets" in args:
        # the resolution section reads it from the environment (sets NAME[:SPLIT],...)
        i = args.index("--sets")
        if i + 1 >= len(args):
            print("--sets needs NAME[:SPLIT],... (see bench/verdicts_resolution.py)")
            return 2
        os.environ["CONVOSCOPE_VERDICT_SETS"] = args[i + 1]
        del args[i: i + 2]
    wanted = set(args)
    unknown = wanted - {n for n, _m in SECTIONS}
    if unknown:
        print(f"unknown section(s): {', '.join(sorted(unknown))}; known: {', '.join(n for n, _m in SECTIONS)}")
        return 2
    for name, module in SECTIONS:
        if wanted and name not in wanted:
            continue
        t = time.perf_counter()
        text = importlib.import_module(module).run()
        print(text)
        print(f"({name}: {time.perf_counter() - t:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
