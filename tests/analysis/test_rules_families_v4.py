"""The shipped rules on the families added in the round on batch v4 (and the helper's own
probe sets 4-5), with their look-alikes; the clause-reader readings that round added
(counterfactuals, embedded questions, a polite "if", a contrast after the match, someone
else's question passed on); and the learned `classifier` condition. Phrasings are written
for these tests, not copied from any labelled set."""

from __future__ import annotations

import numpy as np
import pytest
from rules_helpers import _blind_embed, _kinds, family_cases

from analysis.rules import RuleEngine, RuleOptions, compile_condition, default_rules
from store.records import Interaction, Turn

# -- round on batch v4: the families it showed missing, and their look-alikes ----------------
# (written for the tests, not copied from batch v4 or any other set)

CHURN_V4 = [
    "we're moving our mortgage over to halifax when the deal runs out",  # a product to a competitor
    "i'm taking my broadband across to virgin media next month",
    "please disconnect the phone line, we've no use for it",
    "i'd like to finish my contract early and go with someone else",
    "i've had enough, we're switching banks",  # the kind of company changed
    "time to change suppliers i think, this is ridiculous",
    "how can i move my account away from you",
    "i want to stop my home insurance",
    "we're going to take the whole team over to another supplier",  # a longer gap
    "i've decided to leave.",
    "swapping to octopus as soon as i can",
    "my husband and i are moving to revolut",
]
NOT_CHURN_V4 = [
    "my dad wants to know how to cancel his subscription, is he allowed to ring himself?",  # his question
    "can i move my number onto a new sim, same account",  # a new handset or SIM, same account
    "i want to transfer my number to my new phone",
    "my internet keeps disconnecting every evening",  # the line dropping out
    "can you disconnect the line while the builders are in",  # a temporary cut
    "i need to make a claim on my insurance",
    "i'm moving banks for my direct debit, here are the new details",
    "i've decided to leave it for now, thanks",
    "i'm going to chase this up with the courier",  # a verb, not a bank's name
    "we're moving to halifax in the spring",  # a town: a provider named like one needs a product moved
]


ESCALATIONS_V4 = [
    "i'd be really grateful if a manager could give me a ring",  # a polite "if" asks
    "I'd appreciate it if your supervisor could contact me today.",
    "i'm taking this to the ombudsman",
    "if this isn't resolved i'll be going straight to the financial ombudsman",
    "put me through to the head of complaints",
    "can i talk to a senior member of the team",
    "i don't mind waiting, i'll hold for a supervisor",
    "escalation needed on this, it's been a month",
]
NOT_ESCALATIONS_V4 = [
    "how do i get the manager role on my staff account",  # a role in software
    "who is our account manager now that dave's left",  # a job title, not someone above the agent
    "i was referred to the ombudsman last year and they sided with you",  # a past step
    "i've been waiting for a manager to ring me for a week",
    "the supervisor access on the app doesn't load",
]


PROMISES_V4 = [
    "i'm promising you it'll be fixed by the weekend",  # the promise as it is made
    "we are guaranteeing the price until march",
    "no question it will be credited by friday",  # certainty idioms
    "it'll be reconnected today, no ifs or buts",
    "consider it a done deal, the engineer's coming tomorrow",
    "take it from me, the parcel will arrive tomorrow",
    "i'd put my house on it being there monday",
    "you've got my ward on that",  # ASR's "word"
]
NOT_PROMISES_V4 = [
    "i'm not promising anything but i'll try",
    "our returns are no questions asked within 30 days",  # a policy
    "the plan comes with a guaranteed interest rate for two years",  # a product called guaranteed
    "you'll see the guaranteed amount on your annual statement",
    "that deal's looking promising actually",
]


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("good afternoon, northway bank, recorded line, how can i help", False),  # the formula alone
        ("unless you'd prefer otherwise this call will be recorded for training", False),  # a plain condition
        ("if we recorded calls you would have heard a message about it", True),  # counterfactual
        ("you wanted to know whether calls get recorded, i'm not sure to be honest", True),  # embedded question
        ("we record calls on the sales line but not this one", True),  # taken back after the match
        ("we've recorded a huge volume of calls this morning so sorry for the wait", True),  # counting calls
        ("was your last call recorded i can't find the notes", True),  # "recorded i" is not "recorded line"
    ],
)
def test_disclosure_forms_of_the_v4_round(shipped_phrases_only: RuleEngine, text: str, missing: bool) -> None:
    assert ("compliance_missing" in _kinds(shipped_phrases_only, "agent", text)) is missing


def test_the_clause_reader_tells_a_condition_from_what_is_not_asserted() -> None:
    from analysis.clauses import Reading, TurnClauses

    def read(text: str, words: str) -> Reading:
        a = text.index(words)
        return TurnClauses(text).read(a, a + len(words), frozenset(words.split()))

    plain = read("unless you object this call will be recorded", "this call will be recorded")
    assert plain.hypothetical == "unless" and not plain.irrealis
    assert read("if this call were recorded you'd know", "this call were recorded").irrealis
    assert read("she asked whether we record calls", "record calls").irrealis
    polite = read("I would be grateful if a manager could call me", "a manager could call me")
    assert polite.hypothetical is None
    assert read("we guarantee delivery in most areas but not here", "guarantee delivery").negated == "but not here"
    assert read("my brother wants to know how to close his account", "close his account").reported
    assert read("i want to know how to close my account", "close my account").reported is None


def test_in_hypotheticals_conditional_is_a_valid_setting() -> None:
    rule = RuleOptions(name="d", flag="d", when={"phrase": "call is recorded", "in_hypotheticals": "conditional"})
    engine = RuleEngine([rule])
    for text, fires in (("unless you object this call is recorded", True), ("if only this call is recorded", False)):
        it = Interaction("chat", "t", "x", "h", turns=[Turn(0, "agent", text)])
        assert bool(engine.evaluate(it, {})) is fires, text
    with pytest.raises(ValueError, match="conditional"):
        compile_condition({"phrase": "x", "in_hypotheticals": "maybe"})


# the rules helper's own probe sets 4 and 5 (bench/data/rules_probes_esc.tsv) showed more
# families missing; these are further phrasings of them, not copied from the probes
MORE_CHURN_V4 = [
    "that's it, you've lost us",
    "can you have the contract cancelled from today",
    "we don't plan on staying with you",  # the negated form is the threat
    "i won't be continuing my subscription",
    "what notice period do i have to give to leave",
    "i'd prefer to go with a provider that turns up",
    "sorry but i'm breaking the contract now",
    "just shut the lot down",
    "ok im leavin you lot",
    "honestly just get rid of the subscription",
    "go ahead and disconnect me, i'm finished",
    "we've signed a new deal with octopus so that's us",
    "please accept this as notice of termination",  # probe set 6's families
    "i'm leaving the network at the end of the month",
    "we're walking away from the deal",
    "i want to transfer my isa out to another provider",  # probe set 7's families
]
MORE_NOT_CHURN_V4 = [
    "i got a notice to leave the flat so i need to update my address",
    "you've lost us the paperwork twice now",
    "i'm staying with you, just sort the bill",
    "can you get rid of the old email address on my account",
    "you cut me off earlier when i rang",
    "my wife's thinking about switching but i'm staying put",  # someone else's plan
    "i'll leave the service engineer a note",
    "my son is switching to a different network next week",  # someone else's move
    "please move the payments to a different bank account from next month",
]
MORE_ESCALATIONS_V4 = [
    "i need someone with real authority on this",
    "let me speak with a senior member of the management team",
    "i'll go over your head if i have to, put me through",
    "send this up the chain please",
    "who do i talk to above you",
    "is there somebody above you",
    "i'm asking that my case be escalated",
    "raise it with your team leader please",
    "i'm taking my complaint all the way to the top",
]
MORE_NOT_ESCALATIONS_V4 = [
    "thanks for escalating it yesterday, all sorted",
    "i was raising a different point with your colleague",
]
MORE_PROMISES_V4 = ["no way it won't be connected by tonight", "there's no chance you won't have it friday"]
MORE_NOT_PROMISES_V4 = ["the price promise is on our website"]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), family_cases(
    ("churn_risk", "customer", True, CHURN_V4 + MORE_CHURN_V4),
    ("churn_risk", "customer", False, NOT_CHURN_V4 + MORE_NOT_CHURN_V4),
    ("escalation_request", "customer", True, ESCALATIONS_V4 + MORE_ESCALATIONS_V4),
    ("escalation_request", "customer", False, NOT_ESCALATIONS_V4 + MORE_NOT_ESCALATIONS_V4),
    ("prohibited_phrase", "agent", True, PROMISES_V4 + MORE_PROMISES_V4),
    ("prohibited_phrase", "agent", False, NOT_PROMISES_V4 + MORE_NOT_PROMISES_V4),
))  # fmt: skip
def test_families_and_look_alikes_of_the_v4_round(shipped: RuleEngine, flag: str, speaker: str, text: str,
                                                   fires: bool) -> None:  # fmt: skip
    assert (flag in _kinds(shipped, speaker, text)) is fires

# -- the learned second opinion (`classifier` conditions) -----------------------------------


def _head_engine(flag: str = "churn_risk", **extra: object) -> tuple[RuleEngine, np.ndarray]:
    """An engine with one classifier condition and a turn vector along its head's weights
    (so the head is sure), to test what the condition does around the head."""
    from analysis.rules import classifier_heads

    w = np.asarray(classifier_heads()[flag]["weights"], dtype=np.float32)
    rule = RuleOptions(name="c", flag=flag, when={"classifier": flag, "speaker": "customer", **extra})
    return RuleEngine([rule], _blind_embed), (w / np.linalg.norm(w))[None, :]


def _one(engine: RuleEngine, vec: np.ndarray, text: str, speaker: str = "customer") -> tuple[list, list]:
    notes: list = []
    it = Interaction("chat", "t", "x", "h", turns=[Turn(0, speaker, text)])
    return engine.evaluate(it, {}, vec, notes=notes), notes


def test_a_classifier_hit_says_so_in_its_evidence() -> None:
    engine, vec = _head_engine()
    hits, _ = _one(engine, vec, "right, that's me finished with you lot")
    assert [h.rule.kind for h in hits] == ["churn_risk"]
    ev = hits[0].evidence[0]
    assert ev["how"] == "classifier" and ev["condition"].startswith("classifier 1.00 (churn_risk head") and ev["clause"] == "affirmative"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("i'm not finished with you lot", "negated"),
        ("are you finished with me?", "in a question"),
        ("my neighbour says she's finished with you lot", "reported speech"),
    ],
)
def test_the_clause_guards_apply_to_a_classifier_hit(text: str, why: str) -> None:
    engine, vec = _head_engine()
    hits, notes = _one(engine, vec, text)
    assert hits == [] and why in notes[0].not_counted[0]["why"] and "classifier" in notes[0].not_counted[0]["why"]


def test_a_classifier_condition_keeps_its_speaker_and_threshold() -> None:
    engine, vec = _head_engine()
    assert _one(engine, vec, "that's me finished with you lot", speaker="agent")[0] == []
    engine, _ = _head_engine()
    assert _one(engine, -vec, "that's me finished with you lot")[0] == []  # the head says no
    with pytest.raises(ValueError, match="no head"):
        compile_condition({"classifier": "nonsense"})
    with pytest.raises(ValueError, match="threshold"):
        compile_condition({"classifier": "churn_risk", "threshold": 1.5})


def test_the_shipped_heads_fit_the_turn_vectors_and_are_wired_where_they_earned_it() -> None:
    """Each head is wired into its flag's rule because bench/rules_classifier.py's
    leave-one-batch-out test earned it a place (the churn head in the v4 round, the promise
    and escalation heads in the v6 round; README)."""
    from analysis.rules import classifier_heads

    heads = classifier_heads()
    assert set(heads) == {"churn_risk", "escalation_request", "prohibited_phrase"}
    assert all(len(h["weights"]) == 384 and 0.5 <= h["threshold"] < 1 for h in heads.values())
    assert [r.name for r in default_rules() if "classifier" in str(r.when)] == [
        "prohibited_promise", "escalation_request", "churn_threat"]


def test_a_classifier_head_does_not_read_vectors_of_another_width(caplog: pytest.LogCaptureFixture) -> None:
    engine, _ = _head_engine()
    hits, _notes = _one(engine, np.ones((1, 256), dtype=np.float32) / 16, "that's me finished with you lot")
    assert hits == [] and "256 dimensions" in caplog.text
