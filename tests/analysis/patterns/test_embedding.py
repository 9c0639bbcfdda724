"""The clustering vector recipe shared by the analysis pipeline and the patterns job."""

from __future__ import annotations

import numpy as np

from analysis.patterns import embedding as ce


def test_customer_turns_are_chosen_else_every_non_empty_turn() -> None:
    assert ce.clustering_turns(["agent", "customer", "customer", "agent"], ["hi", "my refund", " ", "ok"]) == [1]
    assert ce.clustering_turns(["agent", "agent", "system"], ["hello", "", "closed"]) == [0, 2]
    assert ce.clustering_turns([], []) == []


def test_the_vector_is_the_normalised_mean_float32() -> None:
    v = ce.mean_vector(np.array([[3.0, 0.0] + [0.0] * 382, [0.0, 4.0] + [0.0] * 382]))
    assert v.dtype == np.float32 and v.shape == (384,)
    assert np.allclose(v[:2], [0.6, 0.8])
    assert not ce.mean_vector(np.zeros((0, 384))).any()


def test_the_hash_follows_the_turns_and_marks_the_representation() -> None:
    h = ce.source_hash(["my refund", "still nothing"])
    assert h == ce.source_hash(["my refund", "still nothing"])
    assert h != ce.source_hash(["my refund still nothing"])  # turn boundaries count
    assert h != ce.source_hash(["my refund", "still nothing", "thanks"])
