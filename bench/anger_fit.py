"""Fit the anger fusion weights (AngerOptions.bias / weight_*) on the *train* part only.

    .venv/bin/python bench/anger_fit.py          # prints the fitted weights as [anger] TOML

Data: the train part of bench/anger_voice.py's two sets (customer turns as text; the same
turns spoken with set prosody in synthetic calls). The held-out part is not loaded here at
all; bench/verdicts_sentiment.py reports precision / recall / F1 on it with the shipped
weights. Logistic regression (scikit-learn, L2, C=1, balanced classes) on the evidence
features of analysis/anger.py; the intercept shifts so that the fitted model's 0.5 point
falls on the scorer's `turn_threshold` (0.5), i.e. the weights are used as fitted. The
features come from the real sentiment classifier, which was trained on the same train part
of the turn set, so its P(negative) is a little more confident here than on new turns.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fit(cache: Path, c: float = 1.0) -> tuple[float, dict[str, float], int]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from analysis.anger import FEATURES
    from analysis.sentiment import SentimentOptions, load_turn_classifier
    from bench import anger_voice

    clf = load_turn_classifier(SentimentOptions(), cache)
    text_items, text_feats, voice_items, voice_feats = anger_voice.features(clf, cache_dir=cache, part="train")
    assert all(i.split == "train" for i in [*text_items, *voice_items])
    rows = [*text_feats, *voice_feats]
    x = np.array([[f.get(n, 0.0) for n in FEATURES] for f in rows])
    y = np.array([i.angry for i in [*text_items, *voice_items]], dtype=int)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y)
    weights = {n: round(float(w), 2) for n, w in zip(FEATURES, model.coef_[0], strict=True)}
    return round(float(model.intercept_[0]), 2), weights, len(y)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-dir", default=os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope"))
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    bias, weights, n = fit(Path(args.cache_dir).expanduser(), args.c)
    print(f"# fitted on {n} train-part items")
    print(f"bias = {bias}")
    for name, w in weights.items():
        print(f"weight_{name} = {w}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
