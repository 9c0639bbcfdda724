"""Grouping similar interactions: density clustering, naming, assignment, stable identities.

Pure functions of arrays in -> arrays out (the job does the reading and writing):

- `cluster_embeddings`: PCA to a few dimensions, then HDBSCAN (no preset cluster count;
  points in no dense region are noise, -1). Density estimates are poor in 384 dimensions,
  hence the PCA. Above `max_fit` points HDBSCAN is fitted on a random sample and the rest
  join their nearest centroid, which keeps 100k interactions to minutes on two cores.
- `assign`: nearest centroid by cosine similarity, accepted only when at least as close
  as the cluster's farthest fitted member less `assign_slack` (never below
  `assign_min_similarity`), else noise — the incremental path for new interactions.
- `cluster_terms`: c-TF-IDF (class-based TF-IDF, as in BERTopic) over the members' text
  to name each cluster by its most distinctive words.
- `match_identities`: a re-cluster keeps old ids where the members mostly stay, by
  maximising total Jaccard overlap (Hungarian assignment, scipy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.patterns.options import ClusterOptions


@dataclass(slots=True)
class Clustering:
    """Labels are local (0..k-1, -1 = noise); centroids are L2-normalised 384-d rows."""

    labels: np.ndarray
    similarities: np.ndarray
    centroids: np.ndarray
    thresholds: np.ndarray
    fitted: int  # how many points HDBSCAN itself saw (the rest were assigned)

    @property
    def k(self) -> int:
        return len(self.centroids)


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32)


def centroids_of(emb: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Normalised mean embedding per label 0..k-1."""
    sums = np.zeros((k, emb.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[labels >= 0], emb[labels >= 0])
    return _normalise(sums)


def assign(
    emb: np.ndarray, centroids: np.ndarray, thresholds: np.ndarray, *, batch: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, similarity to the nearest centroid); -1 where below that cluster's threshold."""
    n = len(emb)
    labels = np.full(n, -1, dtype=np.int64)
    sims = np.zeros(n, dtype=np.float32)
    if n == 0 or len(centroids) == 0:
        return labels, sims
    for lo in range(0, n, batch):
        s = emb[lo:lo + batch] @ centroids.T
        best = np.argmax(s, axis=1)
        best_sim = s[np.arange(len(best)), best]
        ok = best_sim >= thresholds[best]
        labels[lo:lo + batch] = np.where(ok, best, -1)
        sims[lo:lo + batch] = best_sim
    return labels, sims


def cluster_embeddings(emb: np.ndarray, options: ClusterOptions, *, seed: int = 0) -> Clustering:
    """Cluster normalised embeddings (see module docstring)."""
    from sklearn.decomposition import PCA

    n = len(emb)
    empty = Clustering(
        labels=np.full(n, -1, dtype=np.int64), similarities=np.zeros(n, dtype=np.float32),
        centroids=np.zeros((0, emb.shape[1] if emb.ndim == 2 else 384), dtype=np.float32),
        thresholds=np.zeros(0), fitted=0,
    )
    if n < 2 * options.min_cluster_size:
        return empty
    rng = np.random.default_rng(seed)
    fit_idx = np.arange(n) if n <= options.max_fit else np.sort(rng.choice(n, options.max_fit, replace=False))
    dims = min(options.pca_dims, len(fit_idx) - 1, emb.shape[1])
    pca = PCA(n_components=dims, svd_solver="randomized", random_state=seed)
    reduced = pca.fit_transform(emb[fit_idx]).astype(np.float64)
    fit_labels = _hdbscan(reduced, options)
    k = int(fit_labels.max()) + 1 if len(fit_labels) else 0
    if k == 0:
        empty.fitted = len(fit_idx)
        return empty
    centroids = centroids_of(emb[fit_idx], fit_labels, k)
    member_sims = np.einsum("ij,ij->i", emb[fit_idx][fit_labels >= 0], centroids[fit_labels[fit_labels >= 0]])
    thresholds = np.full(k, options.assign_min_similarity, dtype=np.float64)
    member_labels = fit_labels[fit_labels >= 0]
    for c in range(k):
        own = member_sims[member_labels == c]
        if len(own):
            thresholds[c] = max(options.assign_min_similarity, float(own.min()) - options.assign_slack)
    labels = np.full(n, -1, dtype=np.int64)
    labels[fit_idx] = fit_labels
    sims = np.zeros(n, dtype=np.float32)
    fitted_sims = emb[fit_idx] @ centroids.T
    sims[fit_idx] = np.where(
        fit_labels >= 0, fitted_sims[np.arange(len(fit_idx)), np.maximum(fit_labels, 0)],
        fitted_sims.max(axis=1),
    )
    if len(fit_idx) < n:
        rest = np.setdiff1d(np.arange(n), fit_idx, assume_unique=True)
        rest_labels, rest_sims = assign(emb[rest], centroids, thresholds)
        labels[rest] = rest_labels
        sims[rest] = rest_sims
    return Clustering(labels=labels, similarities=sims, centroids=centroids,
                      thresholds=thresholds, fitted=len(fit_idx))


def _hdbscan(reduced: np.ndarray, options: ClusterOptions) -> np.ndarray:
    """HDBSCAN labels (the `hdbscan` package: its Boruvka KD-tree is fast in low dimensions)."""
    import hdbscan

    model = hdbscan.HDBSCAN(
        min_cluster_size=options.min_cluster_size,
        min_samples=options.min_samples or None,
        core_dist_n_jobs=1,
    )
    return np.asarray(model.fit_predict(reduced), dtype=np.int64)


def cluster_terms(
    texts: Sequence[str], labels: np.ndarray, k: int, n_terms: int, *, max_docs: int = 2000, seed: int = 0
) -> list[list[str]]:
    """The most distinctive terms of each cluster 0..k-1 by c-TF-IDF.

    All members' texts of a cluster form one document; a term's weight is its frequency in
    that document times log(1 + A / f), A the average words per cluster and f the term's
    frequency over all clusters (Grootendorst's c-TF-IDF). Large clusters are sampled.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if k == 0:
        return []
    rng = np.random.default_rng(seed)
    docs = []
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        if len(idx) > max_docs:
            idx = rng.choice(idx, max_docs, replace=False)
        docs.append(" ".join(texts[i] for i in idx))
    vec = CountVectorizer(
        stop_words="english", ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b",
        max_features=50000,
    )
    try:
        counts = vec.fit_transform(docs).astype(np.float64)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(k)]
    vocab = vec.get_feature_names_out()
    words_per_class = np.asarray(counts.sum(axis=1)).ravel()
    tf = counts.multiply(1.0 / np.maximum(words_per_class, 1.0)[:, None]).tocsr()
    avg_words = words_per_class.mean()
    term_freq = np.asarray(counts.sum(axis=0)).ravel()
    idf = np.log(1.0 + avg_words / np.maximum(term_freq, 1.0))
    weights = tf.multiply(idf[None, :]).tocsr()
    out: list[list[str]] = []
    for c in range(k):
        row = weights.getrow(c)
        order = row.indices[np.argsort(-row.data)]
        chosen: list[str] = []
        covered: set[str] = set()
        for j in order:
            term = str(vocab[j])
            words = set(term.split())
            if words <= covered:
                continue  # a unigram already inside a chosen bigram, or a repeat
            chosen.append(term)
            covered |= words
            if len(chosen) == n_terms:
                break
        out.append(chosen)
    return out


def label_from_terms(terms: Sequence[str]) -> str:
    return " / ".join(terms[:3]) if terms else "(unnamed)"


def examples_of(labels: np.ndarray, sims: np.ndarray, ids: Sequence[int], k: int, n: int) -> list[list[int]]:
    """Per cluster, the ids of the `n` members closest to the centroid."""
    out = []
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        idx = idx[np.argsort(-sims[idx])][:n]
        out.append([int(ids[i]) for i in idx])
    return out


@dataclass(slots=True)
class IdentityMatch:
    """Global id of each new local label, and the old ids no new cluster inherited."""

    ids: list[int]
    kept: int
    retired: list[int]


def match_identities(
    old: Mapping[int, int],
    member_ids: Sequence[int],
    new_labels: np.ndarray,
    k: int,
    *,
    next_id: int,
    min_jaccard: float,
) -> IdentityMatch:
    """Give each new cluster the id of the old cluster it overlaps most (Jaccard >= bound).

    `old` maps interaction id -> old cluster id for the interactions being re-clustered.
    The pairing maximises the total Jaccard overlap (Hungarian algorithm), so two new
    clusters never inherit the same old id; unmatched new clusters get fresh ids from
    `next_id` upward (ids are never reused).
    """
    from scipy.optimize import linear_sum_assignment

    old_ids = sorted({c for c in old.values() if c >= 0})
    ids = list(range(next_id, next_id + k))
    if not old_ids or k == 0:
        return IdentityMatch(ids=ids, kept=0, retired=old_ids)
    pos = {c: j for j, c in enumerate(old_ids)}
    inter = np.zeros((len(old_ids), k), dtype=np.int64)
    old_size = np.zeros(len(old_ids), dtype=np.int64)
    new_size = np.bincount(new_labels[new_labels >= 0], minlength=k)
    for iid, lab in zip(member_ids, new_labels, strict=True):
        oc = old.get(int(iid), -1)
        if oc >= 0:
            old_size[pos[oc]] += 1
            if lab >= 0:
                inter[pos[oc], lab] += 1
    union = old_size[:, None] + new_size[None, :] - inter
    jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    rows, cols = linear_sum_assignment(-jac)
    ids = [-1] * k
    kept_old: set[int] = set()
    for r, c in zip(rows, cols, strict=True):
        if jac[r, c] >= min_jaccard:
            ids[c] = old_ids[r]
            kept_old.add(old_ids[r])
    fresh = next_id
    for c in range(k):
        if ids[c] == -1:
            ids[c] = fresh
            fresh += 1
    return IdentityMatch(ids=ids, kept=len(kept_old), retired=[o for o in old_ids if o not in kept_old])
