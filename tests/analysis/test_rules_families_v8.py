"""The shipped rules on the families added in the round on batch v8, with their look-alikes,
and the clause-reader readings that round added ("no" / "nah" before a form of address, a
constituent "not" after a noun, "need not worry", "you're asking is ...", "... anymore just
tell me how"). Phrasings are written for these tests, not copied from any labelled set."""

from __future__ import annotations

import pytest
from rules_helpers import _kinds, family_cases

from analysis.clauses import TurnClauses
from analysis.rules import RuleEngine

CHURN_V8 = [
    "honestly i'm jumping ship to the other lot",
    "we've decided we're parting ways with you at the end of the quarter",
    "i'm pulling the plug on my membership",
    "i'm packing it in with you lot",
    "after this we're finishing with you",
    "that's me done with you lot",
    "this is the last hamper we're having, thanks",
    "we're moving our savings over to nationwide next week",
    "i'm taking the lot to another bank",
    "the gym membership needs cancelling as of the first",
    "we're coming off your platform when the year ends",
    "take this email as my formal notice",
    "i've just signed up with a local firm so switch my line off",
    "fix the heating today or we're going with another installer",
    "what's the pac, i want to port my number to smarty",  # a rival named with the code
    "stop the gardener from next month please",
    "how do i get out of the gym contract",
    "i'm going to let my breakdown cover lapse this year",
    "can you close my dad's broadband, he's gone into a home",
    "we won't be needing the unit after september",
    "we're not carrying on with the lessons",
    "i don't want to be keeping the subscription going",
    "i'd like to resiliate the contract",
    "i need to end my rental at the end of the month",
    "please un subscribe me from the family plan",
    "found somewhere cheaper, cancel the box",
]
NOT_CHURN_V8 = [
    "my sister is jumping in the shower, hold on",  # no ship
    "i'm taking the lot to the post office now",  # an errand, not the custom
    "that's me finished with the form, what's next",  # the form, not the firm
    "take this call as a complaint please",  # not notice
    "i've already signed up with your rewards scheme",  # the same firm's scheme
    "sort it or i'm going with the cheaper plan",  # a plan of the same firm
    "i need the code to move my number to my new phone",  # a new handset
    "stop the milk from next week while we're away",  # a pause
    "please don't let my insurance lapse",  # the opposite
    "you let my policy lapse without telling me",  # the firm's doing
    "cancel my mum's appointment for tuesday",  # one visit
    "we'll be needing the unit after september too",  # staying
    "i found something cheaper on your website",  # the same firm
    "close the complaint, it's sorted",  # a complaint closed
    "i'm moving my savings over to my other account",  # within the firm
]

ESCALATION_V8 = [
    "send my complaint upstairs please",
    "get the big cheese on the phone",
    "i want whoever supervises you",
    "i need somebody with the power to overrule this",
    "put someone on who is actually able to decide",
    "i'm demanding a supervisor",
    "no mate just get me your manager",
    "i want the head of the branch not you",
]
NOT_ESCALATION_V8 = [
    "thanks for offering to escalate it but i'm happy now",  # an offer declined
    "i want a refund not the manager",  # the negated noun phrase
    "the cheese on the delivery was off",  # no idiom
]

PROMISE_V8 = [
    "the refund lands friday, my world on it",  # heard "word"
    "it'll be fixed today i prom is ya",  # heard "promise"
    "you have my firm promise the engineer comes tomorrow",
    "i am giving you full guarantee the card arrives monday",
    "i guarantee the money is back today, you need not worry",
]
NOT_PROMISE_V8 = [
    "our price match promise covers other shops",  # the policy noun
    "it's a guaranteed interview for anyone who applies",  # a scheme
    "you're asking is the refund guaranteed, well not yet",  # the listener's question
]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), family_cases(
    ("churn_risk", "customer", True, CHURN_V8),
    ("churn_risk", "customer", False, NOT_CHURN_V8),
    ("escalation_request", "customer", True, ESCALATION_V8),
    ("escalation_request", "customer", False, NOT_ESCALATION_V8),
    ("prohibited_phrase", "agent", True, PROMISE_V8),
    ("prohibited_phrase", "agent", False, NOT_PROMISE_V8),
))  # fmt: skip
def test_families_and_look_alikes_of_the_v8_round(shipped: RuleEngine, flag: str, speaker: str, text: str,
                                                   fires: bool) -> None:  # fmt: skip
    assert (flag in _kinds(shipped, speaker, text)) is fires


def test_the_customers_own_recording_is_no_disclosure(shipped_phrases_only: RuleEngine) -> None:
    said = "if you want to record the call on your end that's fine, how can i help"
    assert "compliance_missing" in _kinds(shipped_phrases_only, "agent", said)
    said = "just so you know we record this call, how can i help"
    assert "compliance_missing" not in _kinds(shipped_phrases_only, "agent", said)


def _read(text: str, words: str) -> str:
    a = text.index(words)
    return TurnClauses(text).read(a, a + len(words), frozenset(words.split())).describe()


def test_the_clause_reader_readings_of_the_v8_round() -> None:
    # "no" / "nah" before a form of address answers; before a verb phrase it still negates
    assert _read("nah mate get me your manager", "get me your manager") == "affirmative statement"
    assert _read("no bruv get me your manager", "get me your manager") == "affirmative statement"
    assert _read("nah get me your manager", "get me your manager").startswith("negated")
    # a "not" after a noun negates its own noun phrase only
    assert _read("the boss not the trainee, put your boss on", "put your boss on") == "affirmative statement"
    assert _read("i want a refund not the manager", "the manager").startswith("negated")
    assert _read("it's not the manager i want", "the manager").startswith("negated")
    # "need not worry" reassures; "need not" before another verb negates
    assert _read("i guarantee it you need not worry", "i guarantee it") == "affirmative statement"
    assert _read("you need not guarantee it", "guarantee it").startswith("negated")
    # the listener's question repeated is theirs; the speaker's "I'm asking" is a request
    assert _read("you're asking is it guaranteed", "guaranteed").startswith("reported")
    assert _read("i am asking you to close my account", "close my account") == "affirmative statement"
    # an imperative "tell me" after a clause-final adverb is the speaker's own request
    assert _read("i'm fed up anymore just tell me how to leave", "how to leave") == "affirmative statement"


def test_the_heads_recipe_passes_its_word_features_instead_of_changing_the_module() -> None:
    """bench/rules_classifier.py explores other word features through a `Recipe`; the
    condition's `LEXICAL` stays what the shipped heads file was fitted with."""
    import dataclasses

    import numpy as np
    from scriptload import load_script

    from analysis.rule_classifier import LEXICAL, TurnWords, lexical_indices

    before = dict(LEXICAL)
    rc = load_script("bench/rules_classifier.py")
    words_only = {**LEXICAL, "char_ngrams": None, "n_features": 4096}
    recipe = dataclasses.replace(rc.shipped_recipe(), lexical=words_only)
    items = [rc.Utterance("x-1", "churn_risk", "customer", "chat", frozenset(["churn_risk"]), ("pos",), None, "hand",
                          "cancel my account")]  # fmt: skip
    x = rc.features(items, {"cancel my account": np.zeros(384, dtype=np.float32)}, recipe)
    assert x.shape == (1, 384 + 4096) and x.nnz == len(TurnWords("cancel my account", words_only).indices) == 5
    assert before == LEXICAL and len(lexical_indices("cancel my account")) > 5  # the shipped features: char n-grams too


def test_the_composed_training_items_are_deterministic_and_labelled_both_ways() -> None:
    from scriptload import load_script

    compose = load_script("bench/rules_compose.py")
    a, b = compose.composed(), compose.composed()
    assert a == b and len({u.id for u in a}) == len(a)
    for flag in ("churn_risk", "escalation_request", "prohibited_phrase"):
        mine = [u for u in a if u.target == flag]
        assert sum(bool(u.expect) for u in mine) >= 90 and sum(not u.expect for u in mine) >= 90
