"""The shipped rules on the families added in the round on batch v5, with their look-alikes;
the clause-reader readings that round added (a listener asked to tell, the speaker's own
"pleased to tell you", a pseudo-cleft "what I can tell you is", a passive request "can this
be escalated", "if it was up to me"); and a classifier hit whose negated or questioning
clause sits beside the threat. Phrasings are written for these tests, not copied from any
labelled set."""

from __future__ import annotations

import numpy as np
import pytest
from rules_helpers import _kinds, family_cases

from analysis.clauses import TurnClauses
from analysis.rules import RuleEngine, RuleOptions
from store.records import Interaction, Turn

CHURN_V5 = [
    "that's it, i'm pulling the plug on my membership",  # leaving in an idiom
    "sort the bill out or i'm off, simple as that",
    "we'll be voting with our feet come january",
    "honestly it's about time we switched, this has been a joke",
    "thinking it's time to cancel the whole package",
    "gonna swtich providers after this",  # as typed
    "i'd like to terminate the broadband contract at the end of the month",
    "please end our energy agreement, we've sold the house",
    "we've decided to leave your app for a competitor",
    "i'll be cancelling both warranties on the fridge and the oven",
    "cancel all my policies please",
    "i want to unsubscribe from the gold tier",
    "i'm going over to a diff provider next week",
    "not dealing with your company again after today",
]
NOT_CHURN_V5 = [
    "pull the plug out of the router and plug it back in",  # not a relationship
    "i'm off on holiday next week so please call after the 20th",
    "it's time to renew my warranty, what are the options",  # the negated-renewal family only
    "i need to end the call now, i'm at work",
    "i'd like to make a claim on my warranty",
    "i want to unsubscribe from the marketing emails",
    "is it time to switch my meter reading to monthly?",
    "i'm off work on tuesday if the engineer can come then",
]


ESCALATION_V5 = [
    "is there somebody senior i can speak to",  # anyone more senior
    "put me through to your senior, please",
    "i won't get off the phone until a manager talks to me",  # insisting: the negation is the demand
    "could this be escalated to management",  # a passive request asked as a question
    "i'd like my complaint raised to a higher level",
    "please give me the direct line for your supervisor",
    "i'd rather my case was dealt with by a senior manager",
    "send me to a real supervisor, not the chatbot",
    "please pass this to your customer care manager",
    "get me the head honcho on the line",
    "i want the people upstairs to look at this",
]
NOT_ESCALATION_V5 = [
    "forget the manager, just tell me when the refund lands",  # the request withdrawn
    "can i speak to the person who helped me on tuesday, she had my notes",  # the same agent
    "do i get your senior citizen discount on this plan",
    "my complaint was already passed to a manager last week and nothing happened",
    "i won't hang up, i'm just waiting for the payment screen",
]


PROMISE_V5 = [
    "your parcel is a dead cert for thursday",
    "leave it with me, consider it done by friday",
    "the credit will defo be on your account by tonight",
    "what i will say is the engineer will 100% be there at nine",  # a pseudo-cleft, not a question
    "we are happy to tell you that your place is guaranteed",  # the speaker's own words
    "it'll be sorted by the weekend, promise",  # the promise tagged on
]
NOT_PROMISE_V5 = [
    "if it were down to me i'd promise you a date, but it isn't",  # not the agent's call
    "i promise you i'm doing everything i can to chase this",  # sincerity, not an outcome
    "my colleague can tell you it's guaranteed but i can't",  # someone else
    "i swear we're working on it as fast as we can",
]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), family_cases(
    ("churn_risk", "customer", True, CHURN_V5),
    ("churn_risk", "customer", False, NOT_CHURN_V5),
    ("escalation_request", "customer", True, ESCALATION_V5),
    ("escalation_request", "customer", False, NOT_ESCALATION_V5),
    ("prohibited_phrase", "agent", True, PROMISE_V5),
    ("prohibited_phrase", "agent", False, NOT_PROMISE_V5),
))  # fmt: skip
def test_families_and_look_alikes_of_the_v5_round(shipped: RuleEngine, flag: str, speaker: str, text: str,
                                                   fires: bool) -> None:  # fmt: skip
    assert (flag in _kinds(shipped, speaker, text)) is fires


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("morning, just so you know this call's being taped, how can i help", False),
        ("before we go on, everything you say is recorded for training", False),
        ("we stopped taping calls last year, how can i help", True),
    ],
)
def test_disclosure_forms_of_the_v5_round(shipped: RuleEngine, text: str, missing: bool) -> None:
    assert ("compliance_missing" in _kinds(shipped, "agent", text)) is missing


def _read(text: str, words: str) -> str:
    a = text.index(words)
    return TurnClauses(text).read(a, a + len(words), frozenset(words.split())).describe()


def test_the_clause_reader_readings_of_the_v5_round() -> None:
    # the listener asked to tell is a request, someone else telling is reported speech
    assert _read("could you tell me how to close the account", "close the account") == "affirmative statement"
    assert _read("my son told me to close the account", "close the account").startswith("reported")
    # the speaker's own infinitive ("pleased to tell you"), not someone else's
    assert _read("we are pleased to say it is guaranteed", "guaranteed") == "affirmative statement"
    assert _read("she wanted to say it is guaranteed", "guaranteed").startswith("reported")
    # a pseudo-cleft states; a "what" question asks
    assert _read("what we can do is guarantee it by friday", "guarantee it") == "affirmative statement"
    assert _read("what did we guarantee it for?", "guarantee it").startswith("in a question")
    # a passive request asked as a question
    assert _read("can this be escalated please", "escalated") == "affirmative statement"
    # not the speaker's call: the consequent is supposed, despite its own subject
    assert _read("if it was my call we'd guarantee it", "guarantee it").startswith("hypothetical")
    assert _read("if this is not fixed we guarantee it", "guarantee it") == "affirmative statement"
    # a wish's complement keeps its own subject inside the wish
    assert _read("i'd love to say it'll definitely arrive", "it'll definitely").startswith("hypothetical")
    # a whole-sentence match (a semantic condition) starting at its own "if"
    tc, text = TurnClauses("if our calls were recorded you'd know"), "if our calls were recorded you'd know"
    assert tc.read(0, len(text), frozenset(["calls", "recorded"])).irrealis
    # "so yeah" opens a new clause: the negation before it does not reach across
    assert _read("it can't fail so yeah it'll definitely work", "it'll definitely") == "affirmative statement"
    assert _read("it won't definitely work", "definitely work").startswith("negated")


def _rest_engine() -> tuple[RuleEngine, np.ndarray]:
    """A churn classifier condition whose embedding points along the head for text that
    says "leaving" and against it otherwise, to test how the rest of a turn is read."""
    from analysis.rules import classifier_heads

    w = np.asarray(classifier_heads()["churn_risk"]["weights"], dtype=np.float32)
    u = w / np.linalg.norm(w)

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([u if "leaving" in t else -u for t in texts])

    rule = RuleOptions(name="c", flag="churn_risk", when={"classifier": "churn_risk", "speaker": "customer"})
    return RuleEngine([rule], embed), u[None, :]


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("i'm leaving at the end of the month, i never use it anyway", True),  # the threat stands apart
        ("i'm leaving you. why is the exit fee so high?", True),
        ("i'm not leaving, i just want the fee explained", False),  # the rest says no
        ("am i leaving? no idea what i want", False),
    ],
)
def test_a_classifier_hit_counts_when_the_rest_of_the_turn_says_it(text: str, fires: bool) -> None:
    engine, vec = _rest_engine()
    it = Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", text)])
    notes: list = []
    hits = engine.evaluate(it, {}, vec, notes=notes)
    assert bool(hits) is fires
    if fires:
        assert "affirmative outside the clause" in hits[0].evidence[0]["clause"]
