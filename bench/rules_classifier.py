"""The recipe of the rules' second opinion: a per-flag logistic regression on MiniLM turn vectors.

    python bench/rules_classifier.py                  # cross-batch test, then fit and write
                                                      # analysis/rules_classifier.json
    python bench/rules_classifier.py --evaluate-only  # the cross-batch test only
    python bench/rules_classifier.py --old-rules v4=46724aa --old-rules v3=e7ec197^
                                                      # also: rules frozen before a batch was read

What it is. For each phrase flag (`churn_risk`, `escalation_request`, `prohibited_phrase`)
a scikit-learn `LogisticRegression` (L2, C = 1, balanced classes) on the turn's MiniLM vector
(the normalised sentence embedding the pipeline computes once per turn for topics and semantic
rules, `analysis.encoder`: no second model pass), trained on the turns of the speaker the flag
is about (customer for churn and escalation, agent for promises). Its threshold is chosen
without the batch it is tested on: out-of-fold over the training batches (each left out in
turn), the lowest probability at which the classifier alone, after the clause guards
(`analysis.rule_classifier.ClassifierCondition`: no clause of the turn negated, a question or
reported speech), is right in ≥ 99 % of its hits.

Data: only the opened rule sets — both halves of bench/data/rules_utterances.tsv ("v12"),
rules_utterances_v3.tsv, rules_utterances_v4.tsv and rules_probes_esc.tsv. Every later batch
(v5, ...) is unseen test data and is never read here: the batch list is explicit, not a glob.

Cross-batch test (leave one batch out): for each batch, the classifier is trained on the
others (threshold chosen on them as above) and added to the rules on the left-out batch — a
flag is raised where the rules raise it, or where the rules do not and the classifier does.
With the current rules every opened batch was tuned on, so their recall there is already
near 1; the honest test is against rules frozen before the batch was read (`--old-rules
BATCH=COMMIT`: the rules of that commit, taken with `git archive`, run in a subprocess).
The shipped file is then fitted on every opened batch.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ is first on the path and bench/analysis.py would shadow the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.rules_set import DATA, PHRASE_FLAGS, Utterance, load, read_all  # noqa: E402

#: the opened batches, by name (never a later one: those are unseen tests)
OPENED = ("v12", "v3", "v4", "probes")
SPEAKER = {"prohibited_phrase": "agent", "churn_risk": "customer", "escalation_request": "customer"}
C = 1.0
#: precision the classifier alone must reach out-of-fold for its threshold
TARGET_PRECISION = 0.99
OUT = ROOT / "analysis" / "rules_classifier.json"


def batches() -> dict[str, list[Utterance]]:
    return {"v12": read_all(DATA), "v3": load("v3"), "v4": load("v4"), "probes": load("probes")}


def vectors(texts: Sequence[str]) -> dict[str, np.ndarray]:
    from analysis import embeddings

    uniq = sorted(set(texts))
    return dict(zip(uniq, embeddings.encode(uniq), strict=True))


def guard(text: str) -> bool:
    """The clause guards of `ClassifierCondition`: no clause negated, a question or reported."""
    from analysis.clauses import TurnClauses

    tc = TurnClauses(text)
    return not any((r.negated or r.question or r.reported) for r in (tc.read(a, b) for a, b in tc.clauses()))


def _xy(items: Sequence[Utterance], flag: str, vec: dict[str, np.ndarray]) -> tuple[list[Utterance], np.ndarray, np.ndarray]:
    mine = [u for u in items if u.speaker == SPEAKER[flag]]
    return mine, np.stack([vec[u.text] for u in mine]), np.array([flag in u.expect for u in mine])


def fit(items: Sequence[Utterance], flag: str, vec: dict[str, np.ndarray]) -> Any:
    from sklearn.linear_model import LogisticRegression

    _, x, y = _xy(items, flag, vec)
    return LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(x, y)


def threshold(parts: dict[str, list[Utterance]], flag: str, vec: dict[str, np.ndarray]) -> tuple[float, dict[str, Any]]:
    """The lowest threshold (0.50-0.99) at which the guarded classifier's out-of-fold hits
    over `parts` (each part left out in turn) are right in >= TARGET_PRECISION of cases."""
    ps, ys = [], []
    for name, held in parts.items():
        clf = fit([u for n, b in parts.items() if n != name for u in b], flag, vec)
        mine, x, y = _xy(held, flag, vec)
        p = clf.predict_proba(x)[:, 1]
        ps.append(np.where([guard(u.text) for u in mine], p, 0.0))
        ys.append(y)
    p, y = np.concatenate(ps), np.concatenate(ys)
    for t in np.round(np.arange(0.50, 1.0, 0.01), 2):
        hit = p >= t
        if hit.sum() and (hit & y).sum() / hit.sum() >= TARGET_PRECISION:
            return float(t), {"oof_hits": int(hit.sum()), "oof_right": int((hit & y).sum()), "oof_positives": int(y.sum())}
    return 1.0, {"oof_hits": 0, "oof_right": 0, "oof_positives": int(y.sum())}


def rule_flags(items: Sequence[Utterance], commit: str | None) -> dict[str, set[str]]:
    """id -> flags the rules raise: the current rules, or those of `commit` (git archive)."""
    if commit is None:
        from analysis import embeddings
        from analysis.rules import default_rules
        from bench.verdicts_rules import predict

        rules = without_classifier(default_rules())
        return {k: v[0] for k, v in predict(items, rules, embeddings.encode).items()}
    with tempfile.TemporaryDirectory() as tmp:
        arch = subprocess.run(["git", "archive", commit, "analysis", "store"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=arch.stdout, check=True)
        src = Path(tmp) / "items.json"
        src.write_text(json.dumps([{"id": u.id, "text": u.text, "speaker": u.speaker, "style": u.style, "start": u.start} for u in items]))
        out = Path(tmp) / "flags.json"
        subprocess.run([sys.executable, "-c", _OLD_RULES, str(src), str(out)], cwd=tmp, check=True,
                       env={**os.environ, "PYTHONPATH": tmp})  # fmt: skip
        return {k: set(v) for k, v in json.loads(out.read_text()).items()}


def without_classifier(rules: Sequence[Any]) -> list[Any]:
    """The rules with every `classifier` condition taken out (the phrase rules alone)."""
    import copy

    from analysis.rules import RuleOptions

    def walk(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: walk(v) for k, v in d.items()}
        if isinstance(d, list):
            return [walk(x) for x in d if not (isinstance(x, dict) and "classifier" in x)]
        return d

    return [RuleOptions(**{**copy.deepcopy(r).__dict__, "when": walk(r.when)}) for r in rules]


#: run inside an archived tree: that commit's shipped rules over the items, as verdicts_rules does
_OLD_RULES = """
import json, sys
from datetime import UTC, datetime, timedelta
from analysis import embeddings
from analysis.rules import RuleEngine, default_rules
from store.records import Interaction, Turn
items = json.load(open(sys.argv[1]))
eng = RuleEngine(default_rules(), embeddings.encode)
out = {}
for u, v in zip(items, embeddings.encode([u["text"] for u in items])):
    if u["style"] == "call":
        st = u["start"] if u["start"] is not None else 2.0
        t = Turn(0, u["speaker"], u["text"], start=st, end=st + max(1.0, len(u["text"].split()) / 2.5))
    else:
        t = Turn(0, u["speaker"], u["text"], sent_at=datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(seconds=1))
    it = Interaction(u["style"], "verdicts", u["id"], u["id"], turns=[t])
    out[u["id"]] = sorted({h.rule.kind for h in eng.evaluate(it, {}, v[None, :])})
json.dump(out, open(sys.argv[2], "w"))
"""


def _prf(hit: np.ndarray, y: np.ndarray) -> str:
    tp, fp, fn = int((hit & y).sum()), int((hit & ~y).sum()), int((~hit & y).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return f"{p:4.2f} / {r:4.2f} ({fp} FP, {fn} FN)"


def cross_batch(data: dict[str, list[Utterance]], vec: dict[str, np.ndarray], old: dict[str, str]) -> str:
    lines = ["rules classifier, cross-batch (train on the other opened batches, test on one):",
             f"  {'test batch':<8} {'rules':<26} {'flag':<19} {'thr':>4}  {'classifier alone P / R':<24} "
             f"{'rules P / R':<24} {'rules + classifier P / R':<24} added (right)"]  # fmt: skip
    for test in OPENED:
        train = {n: b for n, b in data.items() if n != test}
        items = data[test]
        runs = [("current (tuned on it)", None)] + ([(f"frozen at {old[test]}", old[test])] if test in old else [])
        for label, commit in runs:
            flags = rule_flags(items, commit)
            for flag in PHRASE_FLAGS:
                t, _ = threshold(train, flag, vec)
                clf = fit([u for b in train.values() for u in b], flag, vec)
                y = np.array([flag in u.expect for u in items])
                rules = np.array([flag in flags[u.id] for u in items])
                mine = np.array([u.speaker == SPEAKER[flag] for u in items])
                p = clf.predict_proba(np.stack([vec[u.text] for u in items]))[:, 1]
                ok = np.array([guard(u.text) for u in items])
                alone = mine & ok & (p >= t)
                extra = alone & ~rules
                lines.append(f"  {test:<8} {label:<26} {flag:<19} {t:4.2f}  {_prf(alone, y):<24} {_prf(rules, y):<24} "
                             f"{_prf(rules | extra, y):<24} {int(extra.sum())} ({int((extra & y).sum())})")  # fmt: skip
    return "\n".join(lines)


def fit_all(data: dict[str, list[Utterance]], vec: dict[str, np.ndarray]) -> dict[str, Any]:
    """The shipped file: one head per flag, fitted on every opened batch, with its threshold."""
    import sklearn

    heads = {}
    for flag in PHRASE_FLAGS:
        t, stats = threshold(data, flag, vec)
        clf = fit([u for b in data.values() for u in b], flag, vec)
        heads[flag] = {
            "speaker": SPEAKER[flag], "threshold": t, "intercept": round(float(clf.intercept_[0]), 6),
            "weights": [round(float(w), 6) for w in clf.coef_[0]], **stats,
        }  # fmt: skip
    return {
        "recipe": "bench/rules_classifier.py", "model": "all-MiniLM-L6-v2 sentence embedding (normalised mean)",
        "trained_on": {n: len(b) for n, b in data.items()}, "c": C, "target_precision": TARGET_PRECISION,
        "sklearn": sklearn.__version__, "heads": heads,
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    global TARGET_PRECISION
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaluate-only", action="store_true", help="print the cross-batch test, write nothing")
    ap.add_argument("--old-rules", action="append", default=[], metavar="BATCH=COMMIT",
                    help="also test BATCH against the rules of COMMIT (frozen before BATCH was read)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--target", type=float, default=TARGET_PRECISION,
                    help=f"out-of-fold precision the threshold must reach (default {TARGET_PRECISION})")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    TARGET_PRECISION = args.target
    old = dict(x.split("=", 1) for x in args.old_rules)
    if set(old) - set(OPENED):
        ap.error(f"--old-rules: batches are {', '.join(OPENED)}")
    data = batches()
    vec = vectors([u.text for b in data.values() for u in b])
    print(cross_batch(data, vec, old))
    if not args.evaluate_only:
        Path(args.out).write_text(json.dumps(fit_all(data, vec), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
