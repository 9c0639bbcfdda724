"""Low-satisfaction traits, best agent phrases and stage orders on a planted data set."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from patterns_data import NOW, Spec, put

from analysis.patterns import job
from analysis.patterns.options import PatternsOptions, TraitOptions
from analysis.patterns.phrases import log_odds_dirichlet
from analysis.patterns.traits import cohen_d, odds_ratio
from store import Store
from store import patterns as sp

FILLER = [
    "I am calling about my account", "the app shows an error", "can you check my order",
    "I moved house last month", "the invoice looks different", "I need help with my plan",
    "my card was charged", "the website is slow today",
]
GOOD_AGENT = [
    "Hello, thank you for calling, my name is Sam",
    "Could you tell me your account number please",
    "I completely understand, let me fix that for you right now",
    "Is there anything else I can help with? Have a great day",
]
BAD_AGENT = [
    "Hello, this is support",
    "I have processed the change",
    "That is our policy",
    "Goodbye",
]


def planted(n_per_side: int = 40, seed: int = 1) -> list[Spec]:
    """Low-satisfaction interactions say "cancel my subscription" and sit in long silences;
    high-satisfaction ones have an agent who says "I completely understand"."""
    rng = random.Random(seed)
    specs = []
    for k in range(n_per_side * 2):
        low = k % 2 == 0
        customer = rng.sample(FILLER, 3)
        if low:
            customer.insert(1, "honestly I want to cancel my subscription")
        specs.append(Spec(
            started_at=NOW - timedelta(hours=k + 1),
            customer=customer,
            agent=BAD_AGENT if low else GOOD_AGENT,
            queue="billing" if k % 4 < 2 else "support",
            customer_end=-3.0 if low else 3.0,
            sentiment=-2.0 if low else 2.0,
            topic="cancellation" if (low and k % 3) else rng.choice(["billing", "cancellation", "account"]),
            metrics={"non_talk_pct": rng.gauss(30 if low else 10, 4),
                     "interruptions": rng.randint(0, 3),
                     "talk": {"agent_ratio": rng.gauss(0.5, 0.05)}},
        ))
    return specs


def test_planted_phrase_tops_the_low_satisfaction_list(store: Store) -> None:
    put(store, planted())
    report = job.run_traits(store, PatternsOptions(traits=TraitOptions(min_group=8)), now=NOW)
    phrases = sp.low_satisfaction_traits(store, kind="phrase")
    assert phrases[0].feature == "cancel my subscription"
    assert phrases[0].statistic == "log_odds_z" and phrases[0].effect > 3
    assert phrases[0].value_low == 40 and phrases[0].value_high == 0
    # sub-phrases of it are not repeated below it
    assert "my subscription" not in [p.feature for p in phrases]
    metrics = {t.feature: t for t in sp.low_satisfaction_traits(store, kind="metric")}
    nt = metrics["non_talk_pct"]
    assert nt.rank == 1 and nt.effect > 2 and nt.ci_low is not None and nt.ci_low > 1
    assert "talk.agent_ratio" in metrics and abs(metrics["talk.agent_ratio"].effect) < 1
    topics = {t.feature: t for t in sp.low_satisfaction_traits(store, kind="topic")}
    assert topics["cancellation"].effect > 3 and topics["cancellation"].ci_low > 1  # type: ignore[operator]
    # per queue too
    billing = sp.low_satisfaction_traits(store, queue="billing", kind="phrase")
    assert billing and billing[0].feature == "cancel my subscription" and billing[0].n_low == 20
    assert report.traits


def test_best_agents_phrases_and_stage_order(store: Store) -> None:
    # 40 good and 40 bad per queue: a phrase said in every good call and no bad one reaches
    # z ~ 2.2 there (the informative prior is conservative), 20 vs 20 would not pass 1.96
    put(store, planted(n_per_side=80))
    job.run_traits(store, PatternsOptions(traits=TraitOptions(min_group=8)), now=NOW)
    best = sp.best_phrases(store)
    top = [p.phrase for p in best[:6]]
    assert "i completely understand" in " | ".join(top) or "completely understand" in " | ".join(top)
    assert all(p.count_bad == 0 for p in best[:3])
    # per topic: "best phrases for billing" has rows when both sides are big enough
    assert set(sp.phrase_scopes(store)) >= {"all", "queue:billing", "queue:support"}
    orders = {(o.outcome, o.rank): o for o in sp.stage_orders(store)}
    assert orders[("good", 1)].sequence == "greeting>discovery>solution>close"
    assert orders[("good", 1)].share == 1.0
    assert orders[("bad", 1)].sequence == "greeting>solution>close"


def test_success_outcome_in_metadata_outranks_sentiment(store: Store) -> None:
    specs = []
    for k in range(30):
        sale = k % 2 == 0
        specs.append(Spec(
            started_at=NOW - timedelta(hours=k + 1), queue="sales",
            agent=["Hi there", "what matters most to you in a plan" if sale else "here is the price list"],
            customer=["tell me about the plans"],
            sentiment=0.0, metadata={"outcome": "sale" if sale else "no_sale"},
        ))
    put(store, specs)
    job.run_traits(store, PatternsOptions(traits=TraitOptions(min_group=10)), now=NOW)
    best = sp.best_phrases(store, queue="sales")
    assert best[0].count_bad == 0 and best[0].phrase in "what matters most to you in a plan"
    # phrases never run across turns ("hi there" + "what ...") nor end on a function word
    assert not any(p.phrase.startswith("there what") or p.phrase.endswith(" in") for p in best)
    assert "price list" not in [p.phrase for p in best]
    assert best[0].n_good == 15 and best[0].n_bad == 15


def test_statistics() -> None:
    d, lo, hi = cohen_d([3, 4, 5, 4, 3], [1, 2, 1, 2, 1])
    assert d > 2 and lo < d < hi
    or_, lo, hi = odds_ratio(10, 0, 0, 10)  # empty cells stay finite (Haldane +0.5)
    assert np.isfinite(or_) and or_ > 100 and lo > 1
    delta, z = log_odds_dirichlet(np.array([50, 5]), np.array([5, 50]), np.array([55, 55]))
    assert z[0] > 3 and z[1] < -3 and delta[0] == -delta[1]


def test_unresolved_verdict_is_a_low_satisfaction_trait_only_among_interactions_with_a_verdict(
    store: Store,
) -> None:
    from store import resolution as rs

    specs = planted(n_per_side=20)
    ids = put(store, specs)
    low = [i for i, s in zip(ids, specs, strict=True) if s.customer_end < 0]
    high = [i for i, s in zip(ids, specs, strict=True) if s.customer_end > 0]
    # 15 of 20 low-satisfaction interactions unresolved, 2 of 20 high; 5 low and 5 high have no verdict
    verdicts = [(i, "unresolved" if k < 12 else "resolved") for k, i in enumerate(low[:15])]
    verdicts += [(i, "unresolved" if k < 2 else "resolved") for k, i in enumerate(high[:15])]
    rs.save(store, [rs.ResolutionRow(i, v, 0.9, [], []) for i, v in verdicts])
    job.run_traits(store, PatternsOptions(traits=TraitOptions(min_group=8)), now=NOW)
    (row,) = sp.low_satisfaction_traits(store, kind="resolution")
    assert (row.feature, row.statistic) == ("unresolved", "odds_ratio")
    assert row.value_low == 12 / 15 and row.value_high == 2 / 15  # shares of those with a verdict
    assert row.effect > 5 and row.ci_low is not None and row.ci_low > 1
    assert (row.n_low, row.n_high) == (20, 20)


def test_no_resolution_trait_without_verdicts(store: Store) -> None:
    put(store, planted(n_per_side=10))
    job.run_traits(store, PatternsOptions(traits=TraitOptions(min_group=8)), now=NOW)
    assert sp.low_satisfaction_traits(store, kind="topic")
    assert sp.low_satisfaction_traits(store, kind="resolution") == []
