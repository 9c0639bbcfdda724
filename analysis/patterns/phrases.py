"""Phrases that separate two groups of conversations, by log-odds with an informative prior.

Raw counts favour frequent words and tiny groups produce huge ratios; Monroe, Colaresi &
Quinn (2008, "Fightin' Words") fix both with the log-odds ratio under an informative
Dirichlet prior (the pooled corpus) and its z-score, which is what ranks here. Each phrase
is counted once per conversation (document frequency), so one long rant does not decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.patterns.options import TraitOptions


@dataclass(slots=True)
class Distinctive:
    phrase: str
    z: float
    delta: float
    count_a: int
    count_b: int


def log_odds_dirichlet(
    counts_a: np.ndarray, counts_b: np.ndarray, prior: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(delta, z) of each feature for group A over group B (Monroe et al., eq. 16, 19-20)."""
    a = counts_a.astype(np.float64)
    b = counts_b.astype(np.float64)
    alpha = prior.astype(np.float64)
    n_a, n_b, a0 = a.sum(), b.sum(), alpha.sum()
    log_a = np.log(a + alpha) - np.log(n_a + a0 - a - alpha)
    log_b = np.log(b + alpha) - np.log(n_b + a0 - b - alpha)
    delta = log_a - log_b
    var = 1.0 / (a + alpha) + 1.0 / (b + alpha)
    return delta, delta / np.sqrt(var)


def distinctive_phrases(
    docs_a: Sequence[str],
    docs_b: Sequence[str],
    options: TraitOptions,
    *,
    top: int | None = None,
    prior_scale: float = 1.0,
) -> list[Distinctive]:
    """Phrases over-represented in `docs_a` relative to `docs_b`, strongest first (z > 0 only)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    if not docs_a or not docs_b:
        return []
    vec = CountVectorizer(
        ngram_range=(options.ngram_min, options.ngram_max), min_df=options.min_df, binary=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']*\b", lowercase=True,
    )
    try:
        x = vec.fit_transform(list(docs_a) + list(docs_b))
    except ValueError:  # vocabulary empty after min_df
        return []
    vocab = vec.get_feature_names_out()
    keep = np.array([not set(t.split()) <= ENGLISH_STOP_WORDS for t in vocab])
    if not keep.any():
        return []
    x = x[:, keep]
    vocab = vocab[keep]
    ca = np.asarray(x[: len(docs_a)].sum(axis=0)).ravel()
    cb = np.asarray(x[len(docs_a):].sum(axis=0)).ravel()
    prior = (ca + cb) * prior_scale
    delta, z = log_odds_dirichlet(ca, cb, prior)
    lengths = np.array([len(t.split()) for t in vocab])
    order = np.lexsort((-lengths, -np.round(z, 6)))  # by z, longer phrase first on ties
    out: list[Distinctive] = []
    for j in order:
        if z[j] <= 0 or len(out) == (top or options.top):
            break
        cand = Distinctive(str(vocab[j]), float(z[j]), float(delta[j]), int(ca[j]), int(cb[j]))
        if any(_redundant(cand, kept) for kept in out):
            continue
        out.append(cand)
    return out


def _redundant(a: Distinctive, b: Distinctive, *, similar: float = 0.8) -> bool:
    """One phrase inside the other, in nearly the same conversations: keep only the first."""
    pa_, pb = f" {a.phrase} ", f" {b.phrase} "
    if pa_ not in pb and pb not in pa_:
        return False
    lo, hi = sorted((a.count_a, b.count_a))
    return hi > 0 and lo / hi >= similar
