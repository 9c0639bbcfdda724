"""The shipped rules on the families added in the round on batch v6, with their look-alikes;
the clause-reader readings that round added ("needn't", "no no don't worry", a negation whose
scope ends at "anymore" / "again", "so who's ...", "I'd ... but", a rule named after the
match); the `context` modifier (a short "cancel it." that counts only where the churn head
reads the turn as churn); and the classifier heads' word features. Phrasings are written for
these tests, not copied from any labelled set."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pytest
from rules_helpers import _blind_embed, _kinds, family_cases

from analysis.clauses import TurnClauses
from analysis.rules import RuleEngine, RuleOptions, classifier_heads, default_rules
from store.records import Interaction, Turn

CHURN_V6 = [
    "we're unsubscribing, this has gone on long enough",
    "that's it we're leaving after twenty years with you",
    "we'll be switching broadband provider once this month is up",
    "i do not want your package any longer",
    "my husband and i don't want this membership anymore",
    "fix the heating cover or we walk",
    "i'd like to terminat the car lease early",  # as heard
    "please deactivate the account, we've moved abroad",
    "quit the plan for me please",
    "please end my regular donation from next month",
    "i'm going to cancel the gym",
    "leaving for spotify, your app is a mess",
]
NOT_CHURN_V6 = [
    "we're leaving after lunch so call me tomorrow",  # not years of custom
    "i'm not switching broadband provider, just tell me about the speed",  # negated
    "i don't want the paper bills any more",  # a paper bill, not the service
    "hold on or i walk into the other room and lose signal",  # no clause end after the verb
    "the engineer ended the visit early",
    "can you deactivate the old card on the account",  # a card (look-alike)
    "i want to end the call now",
    "my friend is leaving for spotify",  # someone else
]


ESCALATION_V6 = [
    "i want it logged as a formal complaint",
    "i'd like a callback from your team leader today",
    "can i talk to someone with a little more authority",
    "is your manager available, i'd like a word",
    "who's your boss, let me speak to them",
    "please arrange for someone more senior to look at my case",
    "abeg let me talk to your oga",
    "you're clearly stuck so who's above you",  # the negation stays in its clause
    "i'd like to speak to the practice manager please",
]
NOT_ESCALATION_V6 = [
    "you needn't get a manager involved, it's fine",  # "needn't" negates
    "i'd ask for your supervisor but they'll say the same",  # what I would do, not do
    "i had a callback from a manager yesterday",  # already happened
    "it was logged as a complaint last week",
    "who's your boss, just curious",  # a question about the boss
    "my practice manager told me to ring you",  # reported
]


PROMISE_V6 = [
    "you have my full assurance the charge will be removed",
    "trust me on this, you'll have the refund by friday",
    "no no don't worry you'll definitely get the credit",  # an answer, then a reassurance
    "we'll sort it so it never happens again you have my word",  # "again" ends the scope
]
NOT_PROMISE_V6 = [
    "we guarantee a reply within ten working days, that's company policy",  # the policy's
    "you're guaranteed compensation under the regulator's rules",
    "i can't give you any assurance on the date",  # refused
    "trust me on this one, i've checked twice",  # sincerity, not an outcome
]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), family_cases(
    ("churn_risk", "customer", True, CHURN_V6),
    ("churn_risk", "customer", False, NOT_CHURN_V6),
    ("escalation_request", "customer", True, ESCALATION_V6),
    ("escalation_request", "customer", False, NOT_ESCALATION_V6),
    ("prohibited_phrase", "agent", True, PROMISE_V6),
    ("prohibited_phrase", "agent", False, NOT_PROMISE_V6),
))  # fmt: skip
def test_families_and_look_alikes_of_the_v6_round(shipped: RuleEngine, flag: str, speaker: str, text: str,
                                                   fires: bool) -> None:  # fmt: skip
    assert (flag in _kinds(shipped, speaker, text)) is fires


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("we've recorded a fault on your line, an engineer will call", True),  # recorded a fault
        ("you can ask for the recording of an earlier call in writing", True),
        ("i've recorded that on the system, and this call is recorded too", False),
    ],
)
def test_disclosure_look_alikes_of_the_v6_round(text: str, missing: bool) -> None:
    # phrase and near conditions only (the bag-of-words stand-in would call any turn with
    # "call" and "record" in it similar to the disclosure sentence)
    engine = RuleEngine(default_rules(), _blind_embed)
    assert ("compliance_missing" in _kinds(engine, "agent", text)) is missing


def _read(text: str, words: str) -> str:
    a = text.index(words)
    return TurnClauses(text).read(a, a + len(words), frozenset(words.split())).describe()


def test_the_clause_reader_readings_of_the_v6_round() -> None:
    assert _read("you needn't escalate it", "escalate it").startswith("negated by 'needn't'")
    assert _read("you need not escalate it", "escalate it").startswith("negated")
    # an answer and a reassurance are no negation; a plain "no" before a verb still is
    assert _read("no no don't worry it's guaranteed", "guaranteed") == "affirmative statement"
    assert _read("no don't cancel it", "cancel it").startswith("negated")
    # the scope ends at "anymore" / "again" in unpunctuated speech
    assert _read("i'm not paying for this anymore cancel it", "cancel it") == "affirmative statement"
    assert _read("i'm not going to cancel it", "cancel it").startswith("negated")
    # "so" + a wh-word opens a clause
    assert not _read("you can't help so who's above you", "above you").startswith("negated")
    assert _read("you can't help who's above you", "above you").startswith("negated")
    # "I'd" + a verb that is no wish, with a "but" after: what one would do
    assert _read("i'd ask for a manager but it's pointless", "ask for a manager").startswith("hypothetical")
    assert _read("i'd like a manager but quickly", "a manager") == "affirmative statement"
    # a rule named after the match makes it the rule's
    assert _read("we guarantee a reply in eight weeks, that's the regulator's rule", "guarantee").startswith("reported")
    assert _read("we guarantee a reply in eight weeks under our complaints policy", "guarantee").startswith("reported")
    assert _read("i guarantee a reply in eight weeks", "guarantee") == "affirmative statement"
    # the customer's own right under a law is no company rule
    assert _read("i want to cancel my contract, it's my right under consumer law", "cancel my contract") == "affirmative statement"
    assert _read("i want to cancel under your cancellation policy", "want to cancel") == "affirmative statement"


# -- the context modifier and the heads' word features ----------------------------------


def _along(head: str) -> np.ndarray:
    """A unit vector along the head's MiniLM weights: its probability is then set by the scale
    the test embeds it with (plus the words' share)."""
    w = np.asarray(classifier_heads()[head]["weights"], dtype=np.float32)
    return w / np.linalg.norm(w)


def _engine(when: dict, scale_of) -> RuleEngine:  # type: ignore[no-untyped-def]
    u = _along("churn_risk")

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([u * scale_of(t) for t in texts])

    return RuleEngine([RuleOptions(name="c", flag="churn_risk", when=when)], embed)


def _fires(engine: RuleEngine, text: str) -> list:  # type: ignore[type-arg]
    it = Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", text)])
    return engine.evaluate(it, {})


def test_a_context_phrase_counts_only_where_the_head_reads_the_turn_as_churn() -> None:
    when = {"phrase": ["cancel it $"], "speaker": "customer", "context": "churn_risk", "context_threshold": 0.55}
    # the stand-in encoder puts a complaint far along the head's direction and an order far against it
    eng = _engine(when, lambda t: 20.0 if "price rise" in t else -20.0)
    hits = _fires(eng, "another price rise, how generous. cancel it.")
    assert hits and "in context (churn_risk head" in hits[0].evidence[0]["clause"]
    assert not _fires(eng, "the parcel is two weeks late, cancel it.")
    # the clause guards still apply before the head is asked
    assert not _fires(eng, "another price rise, but don't cancel it.")


def test_context_needs_a_known_head() -> None:
    with pytest.raises(ValueError, match="no head"):
        RuleEngine([RuleOptions(name="c", flag="x", when={"phrase": ["cancel it"], "context": "nope"})])
    with pytest.raises(ValueError, match="only with context"):
        RuleEngine([RuleOptions(name="c", flag="x", when={"phrase": ["cancel it"], "context_threshold": 0.5})])


def test_the_heads_read_words_as_well_as_the_vector() -> None:
    """The refitted heads carry weights for the hashed word features: with the vector held at
    zero the words alone move the probability, computed as the recipe computes its features."""
    from analysis.rule_classifier import LEXICAL, lexical_features, lexical_indices, lexical_score
    from analysis.rules import compile_condition

    for name in ("churn_risk", "escalation_request", "prohibited_phrase"):
        assert np.asarray(classifier_heads()[name]["lexical_weights"]).shape == (LEXICAL["n_features"],)
    head = classifier_heads()["churn_risk"]
    cond = compile_condition({"classifier": "churn_risk"}, "t")
    texts = ["i want to cancel my account", "what time do you open tomorrow"]
    got = cond._probs(texts, np.zeros((2, 384), dtype=np.float32))
    z = head["intercept"] + lexical_features(texts) @ np.asarray(head["lexical_weights"])
    assert np.allclose(got[0], 1 / (1 + np.exp(-z[0])))  # near the threshold: the words are read
    assert got[0] != got[1]
    # the bound that lets the condition skip the words is never below what they add
    from analysis.rule_classifier import TurnWords, _most_words_add

    most = _most_words_add(np.asarray(head["lexical_weights"]))
    for t in [*texts, "please close my account, i'm leaving for good, you've lost a customer", "cancel,close,leave,quit"]:
        ix, bound = lexical_indices(t), TurnWords(t).max_features
        assert ix.size <= bound and np.array_equal(np.sort(TurnWords(t).indices), np.sort(ix))
        assert lexical_score(ix, np.asarray(head["lexical_weights"])) <= most[min(bound, len(most) - 1)] + 1e-9


@pytest.mark.parametrize("text", ["I want to CANCEL my account!!", "", "don't", "a b a b a", "café über naïve 100% £5",
                                  "can i speak to your manager please, it's the third time"])
def test_the_word_features_are_binary_unit_rows_of_distinct_unigrams_and_bigrams(text: str) -> None:
    # (since the v7 round also each word's character n-grams, padded with a space each side)
    from analysis.rule_classifier import LEXICAL, lexical_features, lexical_indices

    m = lexical_features([text])
    toks = re.findall(LEXICAL["token_pattern"], text.lower())
    grams = set(toks) | {f"{a} {b}" for a, b in pairwise(toks)}
    if LEXICAL["char_ngrams"]:
        lo, hi = LEXICAL["char_ngrams"]
        grams |= {f"#{f' {t} '[i : i + k]}" for t in toks for k in range(lo, hi + 1) for i in range(len(t) + 3 - k)}
    assert len(lexical_indices(text)) <= len(grams) and m.shape == (1, LEXICAL["n_features"])
    if grams:
        assert np.isclose(np.linalg.norm(m.toarray()), 1.0) and len(set(m.indices)) == m.nnz
    else:
        assert m.nnz == 0


def test_the_shipped_classifier_conditions_keep_their_guards() -> None:
    """The escalation head is wired like the churn head: a turn the head reads as a request
    counts, the same words negated or reported do not (the guards run before the head)."""
    rules = [r for r in default_rules() if r.name in ("escalation_request", "churn_threat")]
    u = _along("escalation_request")

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([u * 20.0 for _ in texts])  # every turn reads as a request to the head

    eng = RuleEngine(rules, embed)
    text = "this needs someone with the power to overrule you"  # in no phrase list
    hits = [h for h in _fires(eng, text) if h.rule.kind == "escalation_request"]
    assert hits and hits[0].evidence[0]["how"] == "classifier"
    assert not [h for h in _fires(eng, "i don't need someone with the power to overrule you") if h.rule.kind == "escalation_request"]
    assert not [h for h in _fires(eng, "my wife said i need someone with the power to overrule you")
                if h.rule.kind == "escalation_request"]  # fmt: skip


@pytest.mark.slow  # loads the packaged MiniLM
def test_paraphrases_only_the_heads_read_and_what_their_guards_stop() -> None:
    """With the real turn vectors: paraphrases no phrase list spells are raised by the heads
    alone (evidence "classifier ..."), and the same request negated is stopped by the clause
    guard even where the head's probability passes (its reason is in the notes)."""
    import copy

    from analysis import embeddings
    from analysis.rules import RuleNote

    def phrases_only(d):  # type: ignore[no-untyped-def]
        if isinstance(d, dict):
            return {k: phrases_only(v) for k, v in d.items()}
        if isinstance(d, list):
            return [phrases_only(x) for x in d if not (isinstance(x, dict) and "classifier" in x)]
        return d

    rules = default_rules()
    bare = [copy.deepcopy(r) for r in rules]
    for r in bare:
        r.when = phrases_only(r.when)
    full, lists = RuleEngine(rules, embeddings.encode), RuleEngine(bare, embeddings.encode)

    def run(engine: RuleEngine, text: str, notes: list | None = None) -> dict:  # type: ignore[type-arg]
        it = Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", text)])
        return {h.rule.kind: h for h in engine.evaluate(it, {}, notes=notes)}

    for text, flag in [("i demand a higher authority look at this", "escalation_request"),
                       ("i'm ending my time with your bank", "churn_risk")]:  # fmt: skip
        hit = run(full, text).get(flag)
        assert hit is not None and hit.evidence[0]["how"] == "classifier", text
        assert flag not in run(lists, text), text
    notes: list[RuleNote] = []
    assert "escalation_request" not in run(full, "i won't demand a higher authority look at this", notes)
    why = [x["why"] for n in notes for x in n.not_counted if x["why"].startswith("classifier")]
    assert why and "negated by 'won't'" in why[0]
    assert not run(full, "my husband says i should demand a higher authority look at this")
    assert not run(full, "my sister told me she's ending her time with your bank")


def test_an_asr_repetition_loop_of_noes_is_read_not_a_crash(shipped: RuleEngine) -> None:
    """Whisper can loop on one word for a whole window. A turn of thousands of "nah"s
    before a threat is judged like "nah nah, I'll cancel" (the noes are an answer), not a
    RecursionError that fails the interaction's analysis (each "nah" used to ask the next)."""
    for filler in ("nah ", "no "):
        assert "churn_risk" in _kinds(shipped, "customer", filler * 3000 + "i will cancel my account")
        assert "churn_risk" not in _kinds(shipped, "customer", filler * 3000 + "i will not cancel my account")
