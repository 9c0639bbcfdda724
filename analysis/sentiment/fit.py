"""The head trainer (recipe v5): logistic regression over the shared encoder's features.

The served classifier is a linear head over the mean-pooled MiniLM layers that the shared
encoder pass already computes (analysis/sentiment/head.py). v4 trained that head with
flair's ModelTrainer, which embeds every example through its own copy of MiniLM and runs 20
epochs of AdamW: ~35 minutes on a busy 2-core machine for 12k tweets. Here the features come
from the same `TextEncoder.pooled` the pipeline uses (so training and serving read identical
numbers), and the head is an L2-regularised multinomial logistic regression (scikit-learn,
lbfgs: deterministic, no seed needed) on standardised features, with the standardisation
folded back into W and b. Per-example weights replace v4's repeated copies of the turn set.

Two files come out: `head.npz` (what the pipeline serves) and a flair `final-model.pt` that
wraps the packaged, frozen MiniLM with the same W and b, so `backend = "flair"` paths
(bench/eval_sentiment.py, a local `model = ".pt"`) keep working and score the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis.sentiment.corpus import LABELS


def features(texts: Sequence[str], encoder, layers: Sequence[int], lexicon: str = "") -> np.ndarray:  # encoder: TextEncoder
    """[n, 384 x len(layers) (+ lexicon features)] head inputs of `texts`, exactly as the
    pipeline computes them (analysis/sentiment/head.py: `head_features`)."""
    from analysis.sentiment.head import head_features, sentiment_input

    inputs = [sentiment_input(t) for t in texts]
    return head_features(encoder.pooled(inputs), layers, lexicon, inputs).astype(np.float64)


def fit_linear(x: np.ndarray, y: Sequence[str], weights: np.ndarray, c: float,
               max_iter: int = 500, scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(W [3, d], b [3]) in LABELS order of a softmax head fitted on standardised `x`.

    `scale` (per feature, default 1) multiplies the standardised features before the fit:
    a feature scaled by s has its weight penalised as if by C x s^2 (recipe v6 scales the six
    lexicon features up so the penalty does not treat them like one pooled value among 1,536)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    if scale is not None:
        std = std / scale
    model = LogisticRegression(C=c, max_iter=max_iter, tol=1e-5)
    model.fit((x - mean) / std, np.asarray(y), sample_weight=weights)
    order = [list(model.classes_).index(lab) for lab in LABELS]
    w = model.coef_[order] / std
    b = model.intercept_[order] - w @ mean
    return w.astype(np.float32), b.astype(np.float32)


def probs(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    logits = x @ w.T.astype(np.float64) + b
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def write_head(path: Path, w: np.ndarray, b: np.ndarray, layers: Sequence[int], lexicon: str = "") -> None:
    extra = {"lexicon": np.asarray(lexicon)} if lexicon else {}  # v4/v5 heads keep their old layout
    np.savez(path, weight=w, bias=b, layers=np.asarray(list(layers), dtype=np.int64), labels=np.asarray(LABELS),
             **extra)


def write_flair(path: Path, w: np.ndarray, b: np.ndarray, layers: str) -> None:
    """A flair TextClassifier over the packaged frozen MiniLM whose decoder is (W, b)."""
    import torch
    from flair.data import Dictionary
    from flair.embeddings import TransformerDocumentEmbeddings
    from flair.models import TextClassifier

    from analysis.embeddings import packaged_model_path

    labels = Dictionary(add_unk=False)
    for lab in LABELS:
        labels.add_item(lab)
    emb = TransformerDocumentEmbeddings(packaged_model_path(), fine_tune=False, cls_pooling="mean",
                                        name="all-MiniLM-L6-v2", layers=layers, layer_mean=False)
    clf = TextClassifier(emb, label_type="sentiment", label_dictionary=labels)
    if tuple(clf.decoder.weight.shape) != tuple(w.shape):
        raise ValueError(f"head shape {w.shape} does not fit the flair decoder {tuple(clf.decoder.weight.shape)}")
    with torch.no_grad():
        clf.decoder.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
        clf.decoder.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
    clf.save(path)
