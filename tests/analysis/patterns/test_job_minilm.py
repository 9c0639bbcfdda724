"""The whole pattern job with the real packaged MiniLM on planted conversation groups."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from patterns_data import NOW, Spec, put
from sklearn.metrics import adjusted_rand_score

from analysis.patterns import job
from analysis.patterns.options import PatternsOptions
from store import Store
from store import patterns as sp

pytestmark = pytest.mark.slow

GROUPS = {
    "refund": [
        "I returned the {item} two weeks ago and I still have not received my refund",
        "where is my refund for the {item}, the money never came back to my card",
        "you promised a refund for the broken {item} but nothing arrived",
        "I want my money back for the {item}, the refund is taking forever",
    ],
    "password": [
        "I cannot log in, the password reset email for my {item} account never arrives",
        "my password does not work and the reset link says it expired",
        "I am locked out of my account after too many password attempts",
        "how do I reset my password, the login page keeps rejecting it",
    ],
    "delivery": [
        "my {item} delivery is late, the tracking has not moved for five days",
        "the courier says the parcel with my {item} was delivered but it never came",
        "when will my {item} be shipped, the order is still not dispatched",
        "the package with the {item} is stuck in the depot, delivery keeps getting postponed",
    ],
    "double_charge": [
        "I was charged twice for the {item} on my credit card statement",
        "there are two identical payments for one {item} order, please reverse one",
        "my bank shows a duplicate charge for the {item} subscription this month",
        "you billed me two times for the same {item}, I need the extra charge removed",
    ],
}
ITEMS = ["headphones", "laptop", "coffee machine", "phone case", "jacket", "printer"]


def _specs(n_per_group: int, seed: int, hours_back: int = 0) -> tuple[list[Spec], list[int]]:
    rng = random.Random(seed)
    specs, truth = [], []
    for g, (_name, templates) in enumerate(GROUPS.items()):
        for k in range(n_per_group):
            text = rng.choice(templates).format(item=rng.choice(ITEMS))
            specs.append(Spec(started_at=NOW - timedelta(hours=hours_back + k + g),
                              customer=["hi", text, "thanks"], agent=["Hello, how can I help?"]))
            truth.append(g)
    return specs, truth


@pytest.fixture(scope="module")
def options() -> PatternsOptions:
    return PatternsOptions()  # the defaults


def test_planted_groups_recovered_named_and_new_ones_assigned(
    store: Store, options: PatternsOptions, record_property: pytest.RecordProperty
) -> None:
    specs, truth = _specs(24, seed=1, hours_back=5)
    ids = put(store, specs)
    report = job.run_patterns(store, options, now=NOW)
    assert report.clusters.encoded == len(ids)
    members = sp.cluster_membership(store, ids)
    labels = [members[i] for i in ids]
    ari = adjusted_rand_score(truth, labels)
    record_property("ari_minilm", ari)
    print(f"MiniLM planted 4x24: ARI {ari:.3f}, clusters {report.clusters.clusters}, "
          f"noise {report.clusters.noise}")
    assert ari > 0.7
    top = sp.top_clusters(store, NOW - timedelta(days=7), NOW)
    names = " | ".join(c.label + " " + " ".join(c.terms) for c in top)
    for word in ("refund", "password", "delivery", "charge"):
        assert word in names
    assert all(c.examples for c in top)

    # new interactions join the existing clusters incrementally
    new_specs, new_truth = _specs(3, seed=7)
    new_ids = put(store, new_specs)
    assert job.assign_new(store, options) == len(new_ids)
    new_members = sp.cluster_membership(store, new_ids)
    group_of = {}
    for iid, g in zip(ids, truth, strict=True):
        if members[iid] >= 0:
            group_of.setdefault(members[iid], []).append(g)
    majority = {c: max(set(gs), key=gs.count) for c, gs in group_of.items()}
    assigned = [(new_members[i], g) for i, g in zip(new_ids, new_truth, strict=True) if new_members[i] >= 0]
    assert len(assigned) >= 0.75 * len(new_ids)
    assert all(majority[c] == g for c, g in assigned)

    # a full re-cluster keeps the ids of clusters whose members stayed; nothing re-encoded
    again = job.run_patterns(store, options, now=NOW + timedelta(minutes=5))
    print("re-cluster:", again.clusters)
    assert again.clusters.encoded == 0
    after = sp.cluster_membership(store, ids)
    kept = sum(1 for i in ids if members[i] >= 0 and after[i] == members[i])
    assert kept >= 0.9 * sum(1 for i in ids if members[i] >= 0)
    assert again.clusters.kept >= 3


def test_a_long_history_is_encoded_newest_first_over_several_runs(store: Store) -> None:
    specs, _ = _specs(3, seed=3)
    ids = put(store, specs)
    facts = sp.interaction_facts(store, ids=ids)  # oldest first
    turns = job.clustering_turns(store, [f.id for f in facts])
    assert turns[ids[0]] == specs[0].customer  # the customer's turns, in order
    model = PatternsOptions().clusters.model
    encode = job.default_encoder(model)
    assert job.ensure_embeddings(store, turns, model, encode, limit=5) == (5, 7)
    newest = [f.id for f in facts][-5:]
    assert sorted(sp.embedding_hashes(store, ids, model)) == sorted(newest)
    assert job.ensure_embeddings(store, turns, model, encode, limit=5) == (5, 2)
    assert job.ensure_embeddings(store, turns, model, encode, limit=5) == (2, 0)
    assert job.ensure_embeddings(store, turns, model, encode) == (0, 0)
    # the stored vector is the normalised mean of the customer turns' MiniLM vectors
    got, emb = sp.load_embeddings(store, [ids[0]], model)
    expected = encode(specs[0].customer).mean(axis=0)
    assert got == [ids[0]]
    assert np.allclose(emb[0], expected / np.linalg.norm(expected), atol=1e-5)
    # a changed text (a new version of the interaction) is encoded again
    turns[ids[0]] = [*turns[ids[0]], "and it is still broken"]
    assert job.ensure_embeddings(store, turns, model, encode) == (1, 0)
