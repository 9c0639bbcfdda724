"""The shipped rules on the families added in the round on batch v9, with their look-alikes,
and the clause-reader readings that round added ("none of", reluctance, "not that I ...").
Phrasings are written for these tests from the labelling guide, not copied from any set."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rules_helpers import _kinds, family_cases

from analysis.clauses import TurnClauses
from analysis.rules import RuleEngine
from store.records import Interaction, Turn

CHURN_V9 = [
    "that's the final payment you're getting off us",  # the last payment the firm will see
    "honestly this is the last bill you'll ever see from me",
    "we're taking our daughter out of the nursery at christmas",  # a child withdrawn
    "i need to withdraw him from the club this term",
    "i'd sooner eat the early termination charge",  # an exit fee preferred to staying
    "can you process my cancellation today",  # the cancellation put through
    "just push the cancellation through please",
    "i'd like to can sell my contract",  # "cancel" as heard
    "we'll be giving up our place there after easter",  # a place given up
    "we're ending the tenancy in march",
    "accept this as my formal notice",  # the notice
    "we want to move our savings to a different bank",  # custom moved to another provider
    "where is the cancel subscription button",  # asked how, as the guide counts it
    "please downgrade my plan to zero",
    "cancel the booking and our annual membership",  # the membership with the order
    "we're switching back to octopus",  # back to a rival
    "i'm heading back to my old broadband provider",
    "i'm gonna cansel if the price goes up again",  # the threat as the main clause, misspelt
]
NOT_CHURN_V9 = [
    "is that the last payment you're taking from me for the tv bundle",  # a question
    "i want to withdraw some money from my savings",  # not a child or the service
    "i'd rather pay the fee now than later",  # no exit fee, no staying
    "please put the cancellation of the order through",  # the order only
    "we're giving up our place on the waiting list",  # a list, not the service
    "where's the cancel button for my booking",  # one booking
    "i'm going back to the shop to get the receipt",  # an errand
    "it's not that i want to leave, i just need the bill explained",  # "not that" negates
    "we're not giving up our place at the club",  # negated
]

ESCALATION_V9 = [
    "is there a team leader who can sort this out",
    "have you got a supervisor that can look at my case",
]
NOT_ESCALATION_V9 = [
    "is there a manager at the high street branch",  # asks where, no one asked to act
    "i'm reluctant to escalate this, can you just fix it",  # reluctance negates
    "i'm hesitant to ask for your supervisor, you've been kind",
]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), family_cases(
    ("churn_risk", "customer", True, CHURN_V9),
    ("churn_risk", "customer", False, NOT_CHURN_V9),
    ("escalation_request", "customer", True, ESCALATION_V9),
    ("escalation_request", "customer", False, NOT_ESCALATION_V9),
))  # fmt: skip
def test_families_and_look_alikes_of_the_v9_round(shipped_phrases_only: RuleEngine, flag: str, speaker: str, text: str,
                                                   fires: bool) -> None:  # fmt: skip
    assert (flag in _kinds(shipped_phrases_only, speaker, text)) is fires


def test_none_of_negates_a_disclosure(shipped_phrases_only: RuleEngine) -> None:
    said = "morning, none of these calls are recorded now, what can i do for you"
    assert "compliance_missing" in _kinds(shipped_phrases_only, "agent", said)
    said = "morning, this call is recorded, none of it is shared, what can i do for you"
    assert "compliance_missing" not in _kinds(shipped_phrases_only, "agent", said)


def _read(text: str, words: str) -> str:
    a = text.index(words)
    return TurnClauses(text).read(a, a + len(words), frozenset(words.split())).describe()


def test_the_clause_reader_readings_of_the_v9_round() -> None:
    # "not that" / "not like" negate the clause after them, new subject and all
    assert _read("it's not that i want to cancel", "want to cancel").startswith("negated by 'not'")
    assert _read("not like we're leaving", "leaving").startswith("negated by 'not'")
    # ... but a "not" in another clause before a new subject still stops at it
    assert _read("the app is not working i want to cancel", "want to cancel") == "affirmative statement"
    # reluctance and "none of" are negation cues
    assert _read("i'm reluctant to escalate it", "escalate it") == "negated by 'reluctant to'"
    assert _read("none of our calls are recorded", "recorded") == "negated by 'none of'"


# -- the head that reads clauses (`clause_gate` in a head of analysis/rules_classifier.json) --


def _clause_head_engine(monkeypatch: pytest.MonkeyPatch, gate: float | None) -> tuple[RuleEngine, Any]:
    """An engine with the churn classifier condition whose head (the shipped one) gets
    `clause_gate`, and an encoder that points a clause saying "we're off" along the head's
    weights and every other text against them."""
    import analysis.rules as rules_mod
    from analysis.rule_classifier import classifier_heads
    from analysis.rules import RuleOptions

    heads = {k: dict(v) for k, v in classifier_heads().items()}
    heads["churn_risk"]["clause_gate"] = gate
    monkeypatch.setattr(rules_mod, "classifier_heads", lambda: heads)
    w = np.asarray(heads["churn_risk"]["weights"], dtype=np.float32)
    unit = w / np.linalg.norm(w)

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([unit if len(t.split()) <= 6 and "we're off" in t else -unit for t in texts])

    rule = RuleOptions(name="c", flag="churn_risk", when={"classifier": "churn_risk", "speaker": "customer"})
    return RuleEngine([rule], embed), unit


def _turn_vector(text: str, unit: np.ndarray, p: float) -> np.ndarray:
    """A whole-turn vector at which the shipped churn head gives `p` for `text`."""
    from analysis.rule_classifier import head_scorer

    scorer = head_scorer("churn_risk")
    z0 = float(np.log(1 / scorer.probs([text], np.zeros((1, unit.size), dtype=np.float32))[0] - 1) * -1)
    z = float(np.log(p / (1 - p)))
    return ((z - z0) / float(scorer.weights @ unit) * unit)[None, :].astype(np.float32)


def _evaluate(engine: RuleEngine, vec: np.ndarray, text: str) -> list:
    return engine.evaluate(Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", text)]), {}, vec)


TURN = "the app crashes every day, the support is useless, right we're off"


def test_a_clause_read_alone_counts_when_its_turn_passes_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, unit = _clause_head_engine(monkeypatch, 0.3)
    hits = _evaluate(engine, _turn_vector(TURN, unit, 0.5), TURN)
    assert [h.rule.kind for h in hits] == ["churn_risk"]
    ev = hits[0].evidence[0]
    assert ev["clause"] == "affirmative (the clause read alone)" and "we're off" in TURN[ev["char_start"] : ev["char_end"]]
    assert "on the clause" in ev["condition"] and "clauses of turns >= 0.3" in ev["condition"]


def test_a_clause_is_not_read_below_the_gate_nor_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, unit = _clause_head_engine(monkeypatch, 0.3)
    assert _evaluate(engine, _turn_vector(TURN, unit, 0.2), TURN) == []  # the turn is below the gate
    engine, unit = _clause_head_engine(monkeypatch, None)
    assert _evaluate(engine, _turn_vector(TURN, unit, 0.5), TURN) == []  # whole turns only


def test_a_clause_the_reader_refuses_is_never_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, unit = _clause_head_engine(monkeypatch, 0.3)
    for text in ("the app crashes every day, the support is useless, are we're off?",
                 "the app crashes every day, the support is useless, my mate says we're off"):  # fmt: skip
        assert _evaluate(engine, _turn_vector(text, unit, 0.5), text) == []
