"""bench/verdicts.py section `resolution`: `unresolved_issue` and `incorrect_information`.

Runs the two stages exactly as the analysis pipeline does (`analysis.resolution.assess` and
its flag; `analysis.facts.FactChecker` with the facts of config.example.toml and the
packaged MiniLM for the semantic match) on the labelled sets written by
bench/data/make_verdict_sets.py, and prints precision / recall per split (held-out first),
per channel / ASR noise, the verdict confusion and the errors of the held-out set.

    python bench/verdicts.py resolution                 # default sets
    python bench/verdicts_resolution.py --sets fresh3   # one set (files *_fresh3.jsonl)
    python bench/verdicts_resolution.py --sets main:heldout,fresh:aside --errors

A set is NAME[:SPLIT]: NAME `main` reads resolution_conversations.jsonl /
fact_statements.jsonl, any other NAME the files with suffix `_NAME` (fresh, fresh3, ...).
SPLIT keeps rows whose `split` field has that value (heldout / dev), or for sets without
splits `tune` / `aside`: a fixed hash of the row id (first byte of sha1 < 85 = aside, about a
third) — the part of the old fresh set kept aside while the engine was tuned on the rest.
Errors are printed only with `--errors` (never look at an aside part's errors while tuning).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ is first on the path and bench/analysis.py would shadow the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
TARGETS = {"unresolved_issue": (0.85, 0.85), "incorrect_information": (0.90, 0.85)}


def _load(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _aside(row_id: str) -> bool:
    """The fixed third of a split-less set kept aside (see the module docstring)."""
    return hashlib.sha1(row_id.encode("utf-8")).digest()[0] < 85


def _files(name: str) -> tuple[str, str]:
    suffix = "" if name == "main" else f"_{name}"
    return f"resolution_conversations{suffix}.jsonl", f"fact_statements{suffix}.jsonl"


def _select(rows: list[dict[str, Any]], split: str | None) -> list[dict[str, Any]]:
    if split is None:
        return rows
    if split in ("tune", "aside"):
        return [r for r in rows if _aside(r["id"]) == (split == "aside")]
    return [r for r in rows if r.get("split") == split]


def _pr(pairs: Sequence[tuple[bool, bool]]) -> tuple[float, float, int, int, int]:
    tp = sum(1 for p, g in pairs if p and g)
    fp = sum(1 for p, g in pairs if p and not g)
    fn = sum(1 for p, g in pairs if g and not p)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return prec, rec, tp, fp, fn


def _line(label: str, pairs: Sequence[tuple[bool, bool]], target: tuple[float, float] | None = None) -> str:
    p, r, tp, fp, fn = _pr(pairs)
    t = f"   target P>={target[0]:.2f} R>={target[1]:.2f} {'met' if p >= target[0] and r >= target[1] else 'NOT met'}" if target else ""
    return f"  {label:<28} n={len(pairs):>4}  P={p:.3f}  R={r:.3f}  (tp {tp}, fp {fp}, fn {fn}){t}"


def _unseen(rows: list[dict[str, Any]], split: str, key: str) -> set[str]:
    """Ids of `split` rows whose base sentence (the closing turn / the statement before
    paraphrase and noise) has no row in the other split: the same sentence in another
    context is in both splits otherwise, so this is the stricter held-out number."""
    split = split.rpartition(":")[2]
    other = {r["base"] for r in _load(key) if r["split"] != split}
    return {r["id"] for r in rows if r["base"] not in other}


def resolution_section(rows: list[dict[str, Any]], split: str, show_errors: bool = True, main: bool = True) -> str:
    from analysis.resolution import ResolutionOptions, assess
    from store.records import Interaction, Turn

    opts = ResolutionOptions()
    unseen = _unseen(rows, split, "resolution_conversations.jsonl") if main else set()
    pairs: list[tuple[bool, bool]] = []
    by: dict[str, list[tuple[bool, bool]]] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    errors = []
    for r in rows:
        it = Interaction(channel=r["channel"], source="bench", external_id=r["id"], content_hash=r["id"],
                         started_at=datetime(2026, 12, 3, 10, tzinfo=UTC), metadata=r["metadata"],
                         turns=[Turn(seq=i, speaker=t["speaker"], text=t["text"]) for i, t in enumerate(r["turns"])])  # fmt: skip
        res = assess(it, opts)
        flagged = res.flag(opts) is not None
        gold = r["label"] == "unresolved"
        pairs.append((flagged, gold))
        confusion[(r["label"], res.verdict)] += 1
        keys = [f"channel={r['channel']}", f"asr_noise={r['asr_noise']}", f"gold={r['label']}"]
        if r["id"] in unseen:
            keys.append("closing unseen in other split")
        for key in keys:
            by.setdefault(key, []).append((flagged, gold))
        if flagged != gold or (r["label"] == "pending") != (res.verdict == "pending") or (
            r["label"] == "resolved" and res.verdict != "resolved"
        ):
            errors.append(f"    {r['id']} gold={r['label']} got={res.verdict} ({res.confidence:.2f}): "
                          f"{r['turns'][-1]['text'][:70]!r}")  # fmt: skip
    out = [f"-- unresolved_issue, {split} ({len(rows)} conversations) --",
           _line("unresolved_issue", pairs, TARGETS["unresolved_issue"])]  # fmt: skip
    out += [_line(k, v) for k, v in sorted(by.items()) if not k.startswith("gold")]
    pend = [(v == "pending", g == "pending") for (g, v), n in confusion.items() for _ in range(n)]
    out.append(_line("verdict pending (promise)", pend))
    out.append("  verdict confusion (gold -> got): " + ", ".join(
        f"{g}->{v} {n}" for (g, v), n in sorted(confusion.items())))  # fmt: skip
    out.append(_per_class(confusion))
    if errors and show_errors:
        out.append(f"  errors ({len(errors)}):")
        out += errors[:60]
    return "\n".join(out)


def _per_class(confusion: Counter[tuple[str, str]]) -> str:
    """Recall of each gold verdict (the 3-way verdict) and the worst one."""
    rec = {}
    for g in sorted({g for g, _v in confusion}):
        n = sum(c for (gg, _v), c in confusion.items() if gg == g)
        rec[g] = (confusion[(g, g)] / n if n else 1.0, n)
    worst = min(rec, key=lambda k: rec[k][0]) if rec else "-"
    body = ", ".join(f"{g} {r:.3f} (n {n})" for g, (r, n) in rec.items())
    return f"  verdict recall per gold class: {body}; worst: {worst}"


def facts_section(
    rows: list[dict[str, Any]], split: str, embed: Callable[..., Any] | None, show_errors: bool = True,
    main: bool = True,
) -> str:  # fmt: skip
    from analysis.facts import FactChecker, FactOptions
    from store.records import Interaction, Turn

    cfg = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    checker = FactChecker([FactOptions(**f) for f in cfg.get("facts", [])], embed=embed)
    unseen = _unseen(rows, split, "fact_statements.jsonl") if main else set()
    pairs: list[tuple[bool, bool]] = []
    by: dict[str, list[tuple[bool, bool]]] = {}
    errors = []
    cls: dict[str, list[bool]] = {}
    for r in rows:
        it = Interaction(channel="call", source="bench", external_id=r["id"], content_hash=r["id"],
                         turns=[Turn(seq=0, speaker="agent", text=r["text"])])  # fmt: skip
        flags = checker.flags(0, it)
        flagged = bool(flags)
        pairs.append((flagged, r["contradicts"]))
        by.setdefault(f"asr_noise={r['asr_noise']}", []).append((flagged, r["contradicts"]))
        cls.setdefault("contradicting" if r["contradicts"] else "consistent", []).append(flagged == r["contradicts"])
        if r["id"] in unseen:
            by.setdefault("statement unseen in other split", []).append((flagged, r["contradicts"]))
        if flagged != r["contradicts"]:
            said = flags[0].summary if flags else ""
            errors.append(f"    {r['id']} gold={r['contradicts']} got={flagged}: {r['text'][:80]!r} {said[:60]}")
    out = [f"-- incorrect_information, {split} ({len(rows)} agent statements) --",
           _line("incorrect_information", pairs, TARGETS["incorrect_information"])]  # fmt: skip
    out += [_line(k, v) for k, v in sorted(by.items())]
    share = {k: (sum(v) / len(v), len(v)) for k, v in sorted(cls.items())}
    worst = min(share, key=lambda k: share[k][0]) if share else "-"
    out.append("  share judged right per gold class: "
               + ", ".join(f"{k} {a:.3f} (n {n})" for k, (a, n) in share.items()) + f"; worst: {worst}")  # fmt: skip
    if errors and show_errors:
        out.append(f"  errors ({len(errors)}):")
        out += errors[:40]
    return "\n".join(out)


DEFAULT_SETS = ("main:heldout", "main:dev", "fresh:aside", "fresh:tune")


def run(sets: Sequence[str] | None = None, show_errors: bool = False) -> str:
    """Each set in turn (held-out parts first by default; `bench/verdicts.py --sets` passes
    its choice in CONVOSCOPE_VERDICT_SETS); see the module docstring."""
    if sets is None:
        env = os.environ.get("CONVOSCOPE_VERDICT_SETS", "")
        sets = [x.strip() for x in env.split(",") if x.strip()] or list(DEFAULT_SETS)
    parts = ["== Resolution and incorrect information (bench/data/README.md, issue #19) =="]
    enc = _encoder()
    for spec in sets:
        name, _, split = spec.partition(":")
        conv_file, stmt_file = _files(name)
        # a set may hold conversations, statements or both (fresh4: conversations only)
        have = [f for f in (conv_file, stmt_file) if (DATA / f).exists()]
        if not have:
            raise SystemExit(f"--sets {spec}: no file bench/data/{conv_file} or {stmt_file}")
        label = f"{name}:{split}" if split else name
        errs = show_errors and split != "aside"
        if conv_file in have:
            parts.append(resolution_section(_select(_load(conv_file), split or None), label, errs, name == "main"))
        if stmt_file in have:
            parts.append(facts_section(_select(_load(stmt_file), split or None), label, enc, errs, name == "main"))
    return "\n\n".join(parts)


def _encoder() -> Callable[..., Any]:
    from analysis import embeddings
    from analysis.options import PACKAGED_EMBEDDINGS

    return lambda texts: embeddings.encode(list(texts), PACKAGED_EMBEDDINGS)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated NAME[:SPLIT] (default: %(default)s)")
    ap.add_argument("--errors", action="store_true", help="print the misses (never for an :aside part)")
    a = ap.parse_args(argv)
    print(run([s.strip() for s in a.sets.split(",") if s.strip()], a.errors))


if __name__ == "__main__":
    main()
