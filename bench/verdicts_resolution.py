"""bench/verdicts.py section `resolution`: `unresolved_issue` and `incorrect_information`.

Runs the two stages exactly as the analysis pipeline does (`analysis.resolution.assess` and
its flag; `analysis.facts.FactChecker` with the facts of config.example.toml and the
packaged MiniLM for the semantic match) on the labelled sets written by
bench/data/make_verdict_sets.py, and prints precision / recall per split (held-out first),
per channel / ASR noise, the verdict confusion and the errors of the held-out set.

    python bench/verdicts.py resolution
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
TARGETS = {"unresolved_issue": (0.85, 0.85), "incorrect_information": (0.90, 0.85)}


def _load(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


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
    other = {r["base"] for r in _load(key) if r["split"] != split}
    return {r["id"] for r in rows if r["base"] not in other}


def resolution_section(rows: list[dict[str, Any]], split: str) -> str:
    from analysis.resolution import ResolutionOptions, assess
    from store.records import Interaction, Turn

    opts = ResolutionOptions()
    unseen = _unseen(rows, split, "resolution_conversations.jsonl")
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
        if flagged != gold or (r["label"] == "pending") != (res.verdict == "pending"):
            errors.append(f"    {r['id']} gold={r['label']} got={res.verdict} ({res.confidence:.2f}): "
                          f"{r['turns'][-1]['text'][:70]!r}")  # fmt: skip
    out = [f"-- unresolved_issue, {split} ({len(rows)} conversations) --",
           _line("unresolved_issue", pairs, TARGETS["unresolved_issue"])]  # fmt: skip
    out += [_line(k, v) for k, v in sorted(by.items()) if not k.startswith("gold")]
    pend = [(v == "pending", g == "pending") for (g, v), n in confusion.items() for _ in range(n)]
    out.append(_line("verdict pending (promise)", pend))
    out.append("  verdict confusion (gold -> got): " + ", ".join(
        f"{g}->{v} {n}" for (g, v), n in sorted(confusion.items())))  # fmt: skip
    if errors:
        out.append(f"  errors ({len(errors)}):")
        out += errors[:25]
    return "\n".join(out)


def facts_section(rows: list[dict[str, Any]], split: str, embed: Callable[..., Any] | None) -> str:
    from analysis.facts import FactChecker, FactOptions
    from store.records import Interaction, Turn

    cfg = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    checker = FactChecker([FactOptions(**f) for f in cfg.get("facts", [])], embed=embed)
    unseen = _unseen(rows, split, "fact_statements.jsonl")
    pairs: list[tuple[bool, bool]] = []
    by: dict[str, list[tuple[bool, bool]]] = {}
    errors = []
    for r in rows:
        it = Interaction(channel="call", source="bench", external_id=r["id"], content_hash=r["id"],
                         turns=[Turn(seq=0, speaker="agent", text=r["text"])])  # fmt: skip
        flags = checker.flags(0, it)
        flagged = bool(flags)
        pairs.append((flagged, r["contradicts"]))
        by.setdefault(f"asr_noise={r['asr_noise']}", []).append((flagged, r["contradicts"]))
        if r["id"] in unseen:
            by.setdefault("statement unseen in other split", []).append((flagged, r["contradicts"]))
        if flagged != r["contradicts"]:
            said = flags[0].summary if flags else ""
            errors.append(f"    {r['id']} gold={r['contradicts']} got={flagged}: {r['text'][:80]!r} {said[:60]}")
    out = [f"-- incorrect_information, {split} ({len(rows)} agent statements) --",
           _line("incorrect_information", pairs, TARGETS["incorrect_information"])]  # fmt: skip
    out += [_line(k, v) for k, v in sorted(by.items())]
    if errors:
        out.append(f"  errors ({len(errors)}):")
        out += errors[:25]
    return "\n".join(out)


def run(splits: Sequence[str] = ("heldout", "dev")) -> str:
    """Held-out first (the result), then dev (what the cues were tuned on)."""
    conv = _load("resolution_conversations.jsonl")
    stmts = _load("fact_statements.jsonl")
    parts = ["== Resolution and incorrect information (bench/data/make_verdict_sets.py) =="]
    for s in splits:
        parts.append(resolution_section([r for r in conv if r["split"] == s], s))
        parts.append(facts_section([r for r in stmts if r["split"] == s], s, _encoder()))
    return "\n\n".join(parts)


def _encoder() -> Callable[..., Any]:
    from analysis import embeddings
    from analysis.options import PACKAGED_EMBEDDINGS

    return lambda texts: embeddings.encode(list(texts), PACKAGED_EMBEDDINGS)


if __name__ == "__main__":
    print(run())
