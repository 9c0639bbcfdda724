"""Rules section of bench/verdicts.py: precision / recall / F1 of every shipped rule.

    python bench/verdicts_rules.py                 # held-out (the result) and dev, labelled
    python bench/verdicts_rules.py --split dev     # dev only: what tuning may look at
    python bench/verdicts_rules.py --split v3      # batch v3 (rules_utterances_v3.tsv), all held-out
    python bench/verdicts_rules.py --split v4      # batch v4 (rules_utterances_v4.tsv), all held-out
    python bench/verdicts_rules.py --split v5      # batch v5 (rules_utterances_v5.tsv), all held-out
    python bench/verdicts_rules.py --split v6      # batch v6 (rules_utterances_v6.tsv), all held-out
    python bench/verdicts_rules.py --split v7      # batch v7 (rules_utterances_v7.tsv), all held-out
    python bench/verdicts_rules.py --split v8      # batch v8 (rules_utterances_v8.tsv), all held-out
    python bench/verdicts_rules.py --split v9      # batch v9 (rules_utterances_v9.tsv), all held-out
    python bench/verdicts_rules.py --split v10     # batch v10 (rules_utterances_v10.tsv), all held-out
    python bench/verdicts_rules.py --split v11     # batch v11 (rules_utterances_v11.tsv), all held-out
    python bench/verdicts_rules.py --split v12     # batch v12 (rules_utterances_v12.tsv), all held-out
    python bench/verdicts_rules.py --split v13     # batch v13 (rules_utterances_v13.tsv), all held-out
    python bench/verdicts_rules.py --split probes  # the rules helpers' probes (dev data)
    python bench/verdicts_rules.py --split probes-dis  # the disclosure probes (dev data)

Each utterance of bench/data/rules_utterances.tsv becomes a one-turn interaction in its
channel style (call / chat / e-mail; a call turn starts at 2 s unless the item says when)
and goes through the real `RuleEngine` with the shipped rules (analysis/rules_default.toml)
and the packaged MiniLM for the disclosure's semantic condition. A flag raised where the item
does not expect it is a false positive of that flag, whichever rule the item was written for.
The table also shows the same rules with clause reading switched off (`negated = "any"`,
every `in_* = true`: the engine before clause awareness), the accuracy per case
(negation, questions, reported speech, ...), and the worst errors with the engine's reason.

    python bench/verdicts_rules.py --reviews reviews.jsonl   # also: what reviewers said

With `--reviews` (or `CONVOSCOPE_REVIEWS=FILE` for `bench/verdicts.py rules`) the file
written by `convoscope export-reviews` adds a table per rule: reviewed flags, confirmed /
dismissed, the precision the reviewers' verdicts imply, and whether the *current* rules
still raise each example when its redacted evidence turns are replayed through the engine
— so a rule author sees whether a fix removed the dismissed false positives (and kept the
confirmed ones). "Missing" flags (an absence over the whole interaction) cannot be replayed
from evidence turns and are counted, not replayed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ is first on the path and bench/analysis.py would shadow the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.rules_set import (  # noqa: E402
    DISCLOSURE_FLAG,
    HELDOUT_SETS,
    PHRASE_FLAGS,
    PROBES,
    PROBES_DIS,
    Utterance,
    load,
)

FLAGS = (*PHRASE_FLAGS, DISCLOSURE_FLAG)
CASE_NAMES = {
    "pos": "positive forms", "neg": "negation", "modal": "modality / refusal", "q": "questions",
    "rep": "reported speech", "hyp": "hypotheticals", "asr": "ASR / typing noise",
    "speaker": "wrong speaker", "other": "look-alikes", "late": "late disclosure",
    "corpus": "chatterbot corpus",
}  # fmt: skip
WORST = 12


def interaction_of(u: Utterance) -> Any:
    """The one-turn interaction an utterance is scored as."""
    from store.records import Interaction, Turn

    if u.style == "call":
        start = u.start if u.start is not None else 2.0
        turn = Turn(0, u.speaker, u.text, start=start, end=start + max(1.0, len(u.text.split()) / 2.5))
    else:
        turn = Turn(0, u.speaker, u.text, sent_at=datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(seconds=1))
    return Interaction(u.style, "verdicts", u.id, u.id, turns=[turn])


def without_clause_reading(rules: Sequence[Any]) -> list[Any]:
    """The same rules with every text condition counting every reading (the old engine)."""
    from analysis.rules import RuleOptions

    def walk(d: Any) -> Any:
        if isinstance(d, dict):
            d = {k: walk(v) for k, v in d.items()}
            if any(k in d for k in ("phrase", "near", "semantic", "classifier")):
                d.update(negated="any", in_questions=True, in_reported=True, in_hypotheticals=True)
            return d
        if isinstance(d, list):
            return [walk(x) for x in d]
        return d

    out = []
    for r in rules:
        r2 = copy.deepcopy(r)
        out.append(RuleOptions(**{**r2.__dict__, "when": walk(r2.when)}))
    return out


def predict(
    items: Sequence[Utterance], rules: Sequence[Any], embed: Callable[[Sequence[str]], Any]
) -> dict[str, tuple[set[str], list[str]]]:
    """id -> (flags raised, reasons: the clause reading of each match, counted or not)."""
    from analysis.rules import RuleEngine, RuleNote

    engine = RuleEngine(rules, embed)
    vectors = embed([u.text for u in items])
    out = {}
    for u, vec in zip(items, vectors, strict=True):
        notes: list[RuleNote] = []
        hits = engine.evaluate(interaction_of(u), {}, vec[None, :], notes=notes)
        why = [f"{h.rule.kind}: {e.get('clause') or e.get('absent')}" for h in hits for e in h.evidence[:1]]
        why += [f"{n.kind}: not counted, {x['why']}" for n in notes for x in n.not_counted[:1]]
        for h in hits:
            why += [f"{h.rule.kind}: not counted, {x['why']}" for e in h.evidence for x in e.get("not_counted", [])[:1]]
        out[u.id] = ({h.rule.kind for h in hits}, why)
    return out


def score(items: Sequence[Utterance], pred: dict[str, tuple[set[str], list[str]]]) -> dict[str, Counter[str]]:
    """flag -> Counter(tp, fp, fn, tn) over the items judged for it."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for u in items:
        got = pred[u.id][0]
        for f in u.judged:
            exp, hit = f in u.expect, f in got
            out[f]["tp" if exp and hit else "fp" if hit else "fn" if exp else "tn"] += 1
    return out


def prf(c: Counter[str]) -> tuple[float, float, float, int]:
    """precision, recall, F1, support (positives)."""
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, c["tp"] + c["fn"]


def rule_of(flag: str, rules: Sequence[Any]) -> str:
    return ", ".join(r.name for r in rules if r.kind == flag) or "-"


def section(split: str, items: Sequence[Utterance], rules: Sequence[Any], embed: Callable[[Sequence[str]], Any]) -> str:
    """The table for one split."""
    pred = predict(items, rules, embed)
    base = predict(items, without_clause_reading(rules), embed)
    now, before = score(items, pred), score(items, base)
    fresh = [u for u in items if u.batch == "v2"]
    lines = [
        f"rules, {split} split: {len(items)} utterances "
        f"({sum(u.source == 'hand' for u in items)} hand-written, {sum(u.source != 'hand' for u in items)} chatterbot-corpus)",
        f"  {'flag (rule)':<44} {'P':>5} {'R':>5} {'F1':>5} {'supp':>5} {'FP':>3} {'FN':>3}   "
        f"{'no clause reading: P':>20} {'R':>5} {'F1':>5}  target P,R >= 0.95",
    ]
    for f in FLAGS:
        p, r, f1, n = prf(now[f])
        p0, r0, f10, _ = prf(before[f])
        ok = "ok" if p >= 0.95 and r >= 0.95 else "MISSED"
        lines.append(
            f"  {f + ' (' + rule_of(f, rules) + ')':<44} {p:5.2f} {r:5.2f} {f1:5.2f} {n:5d} {now[f]['fp']:3d} "
            f"{now[f]['fn']:3d}   {p0:20.2f} {r0:5.2f} {f10:5.2f}  {ok}"
        )
    total: Counter[str] = sum((now[f] for f in FLAGS), Counter())
    p, r, f1, n = prf(total)
    lines.append(f"  {'all flags (micro)':<44} {p:5.2f} {r:5.2f} {f1:5.2f} {n:5d} {total['fp']:3d} {total['fn']:3d}")
    if fresh and split == "heldout":
        # the v2 batch was written after the first held-out run and never scored while tuning
        sub = score(fresh, pred)
        lines.append(f"  held-out items of batch v2 only ({len(fresh)}; never looked at while tuning):")
        for f in FLAGS:
            p, r, f1, n = prf(sub[f])
            lines.append(f"    {f:<42} {p:5.2f} {r:5.2f} {f1:5.2f} {n:5d} {sub[f]['fp']:3d} {sub[f]['fn']:3d}")
    # accuracy per case: an item is right when every flag judged on it is right
    per_case: dict[str, Counter[str]] = defaultdict(Counter)
    per_style: dict[str, Counter[str]] = defaultdict(Counter)
    wrong = []
    for u in items:
        got = pred[u.id][0]
        right = all((f in u.expect) == (f in got) for f in u.judged)
        for c in u.cases:
            per_case[c]["n"] += 1
            per_case[c]["ok"] += right
        per_style[f"{u.speaker}/{u.style}"]["n"] += 1
        per_style[f"{u.speaker}/{u.style}"]["ok"] += right
        if not right:
            wrong.append(u)
    lines.append("  items right per case: " + ", ".join(
        f"{CASE_NAMES.get(c, c)} {v['ok']}/{v['n']}" for c, v in sorted(per_case.items(), key=lambda kv: kv[0])
    ))  # fmt: skip
    lines.append("  items right per speaker/style: " + ", ".join(
        f"{k} {v['ok']}/{v['n']}" for k, v in sorted(per_style.items())
    ))  # fmt: skip
    # worst errors: missed positives first (a compliance miss is the costly one), then false alarms
    wrong.sort(key=lambda u: (not (u.expect - pred[u.id][0]), u.id))
    lines.append(f"  errors ({len(wrong)}; first {min(WORST, len(wrong))}):" if wrong else "  errors: none")
    for u in wrong[:WORST]:
        got, why = pred[u.id]
        missed = sorted(u.expect - got)
        extra = sorted((got - u.expect) & set(u.judged))
        what = f"missed {','.join(missed)}" if missed else f"false {','.join(extra)}"
        text = u.text if len(u.text) <= 90 else u.text[:87] + "..."
        lines.append(f"    {u.id} [{u.speaker}/{u.style}] {what}: {text!r}")
        why = [w for w in why if w.split(":", 1)[0] in set(missed) | set(extra)]
        if why:
            lines.append(f"        engine: {'; '.join(why[:3])}")
    return "\n".join(lines)


REVIEWS_ENV = "CONVOSCOPE_REVIEWS"


def read_reviews(path: str | Path) -> list[dict[str, Any]]:
    """The examples of a `convoscope export-reviews` file; a line that is not one is an
    error naming the line (a half-written file must not pass for a short one)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or row.get("label") not in ("confirmed", "dismissed") or "kind" not in row:
            raise ValueError(f"{path}:{n}: not an export-reviews example (needs kind and label)")
        out.append(row)
    return out


def replay(example: dict[str, Any], rules: Sequence[Any], embed: Callable[[Sequence[str]], Any]) -> bool | None:
    """Whether the current rules still raise the example's flag on its redacted evidence
    turns (same rule name, else same kind); None when it cannot be replayed (an absence
    verdict, or no evidence text)."""
    from analysis.rules import RuleEngine
    from store.records import Interaction, Turn

    turns_in = [e for e in example.get("evidence") or [] if isinstance(e, dict) and e.get("text")]
    name, kind = example.get("rule"), example["kind"]
    mine = [r for r in rules if r.name == name] or [r for r in rules if r.kind == kind]
    # a rule that fires on an absence ("never said X") judges the whole interaction: its
    # evidence turns alone would always "still raise" it
    if not turns_in or any(isinstance(r.when, dict) and "not" in r.when for r in mine):
        return None
    style = example.get("channel") or "call"
    turns = []
    for k, e in enumerate(turns_in):
        speaker = e.get("speaker") or "agent"
        if style == "call":
            start = float(e["start"]) if e.get("start") is not None else 2.0 + 10 * k
            end = float(e["end"]) if e.get("end") is not None else start + max(1.0, len(e["text"].split()) / 2.5)
            turns.append(Turn(k, speaker, e["text"], start=start, end=end))
        else:
            turns.append(Turn(k, speaker, e["text"], sent_at=datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(seconds=k + 1)))
    it = Interaction(style, "reviews", str(example.get("flag_id")), str(example.get("flag_id")), turns=turns)
    hits = RuleEngine(rules, embed).evaluate(it, {}, embed([t.text for t in turns]))
    names = {r.name for r in mine}
    return any(h.rule.name in names for h in hits)


def reviews_section(examples: Sequence[dict[str, Any]], rules: Sequence[Any],
                    embed: Callable[[Sequence[str]], Any], source: str = "reviews") -> str:  # fmt: skip
    """Per rule: what reviewers said (and the precision it implies), and what the current
    rules do with the same redacted evidence."""
    per: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    still: list[str] = []
    for ex in examples:
        key = (str(ex["kind"]), str(ex.get("rule") or "-"))
        c = per[key]
        c[ex["label"]] += 1
        now = replay(ex, rules, embed)
        c[f"{ex['label']}_{'na' if now is None else 'raised' if now else 'gone'}"] += 1
        if now and ex["label"] == "dismissed":
            text = " / ".join(str(e.get("text")) for e in ex.get("evidence") or [])
            text = text if len(text) <= 80 else text[:77] + "..."
            still.append(f"    flag {ex.get('flag_id')} {key[0]} ({key[1]}): {text!r} — dismissed: {ex.get('reason') or '-'}")
    n_dis = sum(ex["label"] == "dismissed" for ex in examples)
    lines = [
        f"rules, reviewers' verdicts ({source}): {len(examples)} reviewed flags, {n_dis} dismissed",
        f"  {'flag (rule)':<44} {'rev':>4} {'conf':>4} {'dism':>4} {'P(rev)':>6}   "
        f"{'current rules: dismissed still raised':>37} {'confirmed still raised':>22} {'not replayable':>14}",
    ]
    for (kind, rule), c in sorted(per.items(), key=lambda kv: (-kv[1]["dismissed"], kv[0])):
        rev = c["confirmed"] + c["dismissed"]
        d_rep = c["dismissed_raised"] + c["dismissed_gone"]
        k_rep = c["confirmed_raised"] + c["confirmed_gone"]
        lines.append(
            f"  {kind + ' (' + rule + ')':<44} {rev:4d} {c['confirmed']:4d} {c['dismissed']:4d} "
            f"{c['confirmed'] / rev:6.2f}   {str(c['dismissed_raised']) + ' of ' + str(d_rep):>37} "
            f"{str(c['confirmed_raised']) + ' of ' + str(k_rep):>22} {c['dismissed_na'] + c['confirmed_na']:14d}"
        )
    lines.append(f"  dismissed examples the current rules still raise ({len(still)}; first {min(WORST, len(still))}):"
                 if still else "  dismissed examples the current rules still raise: none")  # fmt: skip
    lines += still[:WORST]
    return "\n".join(lines)


def run(splits: Sequence[str] = ("heldout", "dev"), reviews: str | Path | None = None) -> str:
    """The section's printed text: held-out first (the result), then dev (what was tuned on);
    then, given an export-reviews file (`reviews` or `$CONVOSCOPE_REVIEWS`), the reviewers'
    verdicts replayed through the current rules."""
    from analysis import embeddings
    from analysis.rules import default_rules

    rules = default_rules()
    files = ["bench/data/rules_utterances.tsv"] if set(splits) - set(HELDOUT_SETS) else []
    files += [f"bench/data/{HELDOUT_SETS[s].name}" for s in splits if s in HELDOUT_SETS]
    files += [f"bench/data/{PROBES.name}" for s in splits if s == "probes"]
    files += [f"bench/data/{PROBES_DIS.name}" for s in splits if s == "probes-dis"]
    parts = [f"== Rules: shipped rules on labelled utterances ({', '.join(files)}) =="]
    for s in splits:
        parts.append(section(s, load(s), rules, embeddings.encode))
    reviews = reviews or os.environ.get(REVIEWS_ENV) or None
    if reviews:
        parts.append(reviews_section(read_reviews(reviews), rules, embeddings.encode, str(reviews)))
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    global WORST
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["dev", "heldout", "both", *HELDOUT_SETS, "probes", "probes-dis"], default="both",
                    help="both (default): held-out and dev of rules_utterances.tsv; v3 ... v13: the "
                         "separate batch rules_utterances_v3.tsv ... _v13.tsv, every item held-out; "
                         "probes: the rules helpers' probes (dev data); probes-dis: the disclosure probes (dev data)")
    ap.add_argument("--reviews", help="a `convoscope export-reviews` JSONL file: add the reviewers' table")
    ap.add_argument("--all-errors", action="store_true", help=f"list every error, not the first {WORST}")
    args = ap.parse_args(argv)
    if args.all_errors:
        WORST = 10**9
    print(run(("heldout", "dev") if args.split == "both" else (args.split,), args.reviews))
    return 0


if __name__ == "__main__":
    sys.exit(main())
