"""Clustering on planted groups: recovery (ARI), sampling, assignment, stable ids, naming.

Embeddings here are planted directly (unit vectors scattered around known group centres
in 384 dimensions) so the algorithmic part is tested in milliseconds; the real MiniLM
path is in test_job_minilm.py (slow).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis.patterns import clusters as cl
from analysis.patterns.options import ClusterOptions
from store import Store


@pytest.fixture
def store(store_on_both_backends: Store) -> Store:
    """This module runs on the DuckDB file and on a DuckLake (conftest.py)."""
    return store_on_both_backends


def planted(groups: int, per: int, *, spread: float = 0.6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`groups` clouds of `per` normalised points; returns (embeddings, true labels)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, 384))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    pts = np.repeat(centres, per, axis=0) + spread * rng.normal(size=(groups * per, 384)) / np.sqrt(384)
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    return pts.astype(np.float32), np.repeat(np.arange(groups), per)


def test_planted_groups_are_recovered(record_property: pytest.RecordProperty) -> None:
    emb, truth = planted(6, 60)
    result = cl.cluster_embeddings(emb, ClusterOptions(min_cluster_size=10))
    ari = adjusted_rand_score(truth, result.labels)
    record_property("ari", ari)
    print(f"ARI planted 6x60: {ari:.3f}, clusters {result.k}, noise {(result.labels < 0).sum()}")
    assert result.k == 6
    assert ari > 0.9
    # centroids are unit vectors and every member is closer to its own centroid than to others
    assert np.allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)


def test_large_sets_fit_on_a_sample_and_assign_the_rest(record_property: pytest.RecordProperty) -> None:
    emb, truth = planted(5, 300, seed=1)
    result = cl.cluster_embeddings(emb, ClusterOptions(min_cluster_size=15, max_fit=500, pca_dims=16))
    ari = adjusted_rand_score(truth, result.labels)
    record_property("ari_sampled", ari)
    assert result.fitted == 500
    assert result.k == 5
    assert ari > 0.9


def test_too_few_points_are_all_noise() -> None:
    emb, _ = planted(2, 5)
    result = cl.cluster_embeddings(emb, ClusterOptions(min_cluster_size=10))
    assert result.k == 0 and (result.labels == -1).all()


def test_assignment_joins_the_nearest_cluster_or_none() -> None:
    emb, truth = planted(4, 50, seed=2)
    result = cl.cluster_embeddings(emb, ClusterOptions(min_cluster_size=10))
    new, new_truth = planted(4, 10, seed=2)  # same centres (same seed), fresh noise
    new = new[::1]
    labels, sims = cl.assign(new, result.centroids, result.thresholds)
    # map found cluster -> true group through the training labels
    to_truth = {c: np.bincount(truth[result.labels == c]).argmax() for c in range(result.k)}
    assigned = labels >= 0
    assert assigned.mean() > 0.8
    assert all(to_truth[lab] == t for lab, t in zip(labels[assigned], new_truth[assigned], strict=True))
    rng = np.random.default_rng(99)
    stray = rng.normal(size=(20, 384)).astype(np.float32)
    stray /= np.linalg.norm(stray, axis=1, keepdims=True)
    stray_labels, _ = cl.assign(stray, result.centroids, result.thresholds)
    assert (stray_labels == -1).all()
    assert sims.dtype == np.float32


def test_recluster_keeps_ids_where_members_stay_and_retires_the_rest() -> None:
    ids = list(range(1000, 1300))
    old_truth = np.repeat(np.arange(3), 100)  # old clusters 7, 8, 9
    old = {i: 7 + int(t) for i, t in zip(ids, old_truth, strict=True)}
    # new clustering: group 0 and 2 mostly stay (10 points move to noise), group 1 split
    # into two halves; local labels are shuffled relative to the old order
    new = np.empty(300, dtype=np.int64)
    new[0:90] = 2
    new[90:100] = -1
    new[100:150] = 0
    new[150:200] = 3
    new[200:300] = 1
    m = cl.match_identities(old, ids, new, 4, next_id=10, min_jaccard=0.55)
    assert m.ids[2] == 7 and m.ids[1] == 9
    # halves of group 1 overlap it with Jaccard 0.5 < 0.55: both get fresh ids, 8 retires
    assert sorted([m.ids[0], m.ids[3]]) == [10, 11]
    assert m.retired == [8] and m.kept == 2


def test_identity_match_on_a_real_recluster() -> None:
    emb, _ = planted(4, 80, seed=3)
    opts = ClusterOptions(min_cluster_size=10, pca_dims=16)
    first = cl.cluster_embeddings(emb, opts, seed=0)
    ids = list(range(len(emb)))
    m1 = cl.match_identities({}, ids, first.labels, first.k, next_id=0, min_jaccard=0.3)
    old = {i: m1.ids[lab] for i, lab in zip(ids, first.labels, strict=True) if lab >= 0}
    # perturb slightly and re-cluster with another seed: same groups, new local labels
    rng = np.random.default_rng(5)
    emb2 = emb + 0.01 * rng.normal(size=emb.shape).astype(np.float32)
    emb2 /= np.linalg.norm(emb2, axis=1, keepdims=True)
    perm = rng.permutation(len(emb2))
    second = cl.cluster_embeddings(emb2[perm], opts, seed=1)
    m2 = cl.match_identities(old, [ids[p] for p in perm], second.labels, second.k,
                             next_id=100, min_jaccard=0.3)
    assert sorted(m2.ids) == sorted(m1.ids)
    for pos, p in enumerate(perm):
        if second.labels[pos] >= 0 and p in old:
            assert m2.ids[second.labels[pos]] == old[p]


def test_cluster_names_come_from_distinctive_terms() -> None:
    texts = (
        [f"I want a refund for order {i}, the refund never arrived" for i in range(20)]
        + [f"I cannot reset my password, the reset link {i} expired" for i in range(20)]
        + [f"my parcel delivery is late again, tracking number {i}" for i in range(20)]
    )
    labels = np.repeat(np.arange(3), 20)
    terms = cl.cluster_terms(texts, labels, 3, 4)
    assert terms[0][0] == "refund"
    assert "password" in " ".join(terms[1]) and "reset" in " ".join(terms[1])
    assert any("delivery" in t or "parcel" in t for t in terms[2])
    # "order" is in cluster 0 only; words shared by all clusters are not distinctive
    assert all(t != "i" for ts in terms for t in ts)
    assert cl.label_from_terms(terms[0]).startswith("refund")


def test_examples_are_the_members_closest_to_the_centroid() -> None:
    labels = np.array([0, 0, 0, 1, 1, -1])
    sims = np.array([0.5, 0.9, 0.7, 0.8, 0.6, 0.99], dtype=np.float32)
    assert cl.examples_of(labels, sims, [10, 11, 12, 13, 14, 15], 2, 2) == [[11, 12], [13, 14]]
