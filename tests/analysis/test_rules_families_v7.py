"""The shipped rules on the families added in the round on batch v7, with their look-alikes,
and the clause-reader readings that round added ("cba", "or not" as a question tag, an
apology before a question, "don't you worry", "I'd ... if I could", an option named and then
waived, a request verb that opens the consequent of an "if", "could have a word"). Phrasings
are written for these tests, not copied from any labelled set."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from rules_helpers import _kinds, family_cases

from analysis.clauses import TurnClauses
from analysis.rules import RuleEngine, compile_condition
from store.records import Interaction, Turn

CHURN_V7 = [
    "if the filling falls out again i'll be finding myself another dentist",
    "we're switching to a different vet, please send the notes over",
    "from now on we'll be taking our custom to travelodge",
    "i'll be getting my tyres done at halfords from now on",
    "i'm gonna go with three instead",
    "you won't be seeing us at this gym again",
    "i won't be ordering with you again after this",
    "i'm not paying another penny for this rubbish",
    "we're taking our son out of the after school club for good",
    "i'm leaving the club at the end of the season",
    "please take me off the membership list, i've had enough",
    "just cut us loose, it's not worth it",
    "i'm handing in my notice on the storage unit",
    "I no longer wish to keep an account with your bank.",
    "i need to clothes my account please",  # as heard
    "i want to swatch to another supplier",  # as heard
    "how do i cancle the auto renew",
    "please cansel my car insurence",
    "i'm cancelling the season pass",
]
NOT_CHURN_V7 = [
    "we're taking the dog to another vet for the x-ray",  # one job elsewhere
    "i'll go with the annual plan instead",  # a plan of the same firm
    "i'll be paying by card from now on",  # a way to pay
    "i'll be booking online from now on",  # a channel
    "i'm not paying another month until it's fixed",  # a wait, not the end
    "can you take her out of class early today",  # a one-off
    "i'm leaving the country for a month",  # the country, not the firm
    "you gave me no notice of the price rise",  # notice received
    "the doctor said he'd sign me off work for a week",  # no membership
    "i'll be seeing you again next week for the check-up",  # not negated
]

ESCALATION_V7 = [
    "i want a word with t'manager",  # the Yorkshire article
    "gis your supervisor then",
    "could you pass this to a senior underwriter",
    "i'd like a supervisor to look at the refund decision",
    "if you can't fix it get me someone who can",  # the request opens the consequent
    "can transfer me to your manager or not",  # "or not" is a question tag
    "is there a supervisor i could have a word with",  # "have" is the verb
]
NOT_ESCALATION_V7 = [
    "cba chasing a manager, just sort the refund",  # "cba" negates
    "i know i'm within my rights to ask for a manager but i'd rather sort it with you",
    "I could ask for this to be escalated, but for now I am happy to wait.",
    "is there a senior citizens discount on this",  # a discount
]

PROMISE_V7 = [
    "it'll be back on by five, hold me to that",
    "i can asure you the refund has gone through",  # typed
    "i'll make sure of it myself, the parts ship friday",
    "you have my solemn word the fee is gone",
    "i'd bet my pension on it, the van comes tomorrow",
    "promise your parcel will be there by noon",
    "i assure u the credit is on the account",
]
NOT_PROMISE_V7 = [
    "sorry did someone guarantee you a refund",  # an apology, then a question
    "don't you worry, i'll have a look at the booking",  # a reassurance, no outcome
    "i'd promise you that if i could, but i can't",  # unreal
    "i wouldn't hold me to that, it depends on the courier",  # refused
]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), family_cases(
    ("churn_risk", "customer", True, CHURN_V7),
    ("churn_risk", "customer", False, NOT_CHURN_V7),
    ("escalation_request", "customer", True, ESCALATION_V7),
    ("escalation_request", "customer", False, NOT_ESCALATION_V7),
    ("prohibited_phrase", "agent", True, PROMISE_V7),
    ("prohibited_phrase", "agent", False, NOT_PROMISE_V7),
))  # fmt: skip
def test_families_and_look_alikes_of_the_v7_round(shipped: RuleEngine, flag: str, speaker: str, text: str,
                                                   fires: bool) -> None:  # fmt: skip
    assert (flag in _kinds(shipped, speaker, text)) is fires


def _read(text: str, words: str) -> str:
    a = text.index(words)
    return TurnClauses(text).read(a, a + len(words), frozenset(words.split())).describe()


def test_the_clause_reader_readings_of_the_v7_round() -> None:
    # typed "can't be bothered"
    assert _read("cba asking for a manager", "asking for a manager").startswith("negated by 'cba'")
    # "or not" asks; a plain "not" still negates
    assert not _read("can get your manager or not", "get your manager").startswith("negated")
    assert _read("i do not want your manager", "want your manager").startswith("negated")
    # an apology before an auxiliary question
    assert _read("sorry did they guarantee it", "guarantee it").startswith("in a question")
    assert _read("did they guarantee it", "guarantee it").startswith("in a question")
    # "don't you worry" reassures; "don't you think" still asks
    assert _read("don't you worry it's guaranteed", "guaranteed") == "affirmative statement"
    assert "in a question" in _read("don't you think it's guaranteed", "guaranteed")
    # "I'd" + a verb + "if I could": unreal; "I'd like" is a wish and counts
    assert _read("id promise if i could", "promise").startswith("hypothetical")
    assert _read("i'd promise if i could", "promise").startswith("hypothetical")
    assert _read("i'd like a manager if i could", "a manager") == "affirmative statement"
    # an option named and waived; without the preference it stands
    assert _read("i'm entitled to escalate it but i'd rather wait", "escalate it").startswith("hypothetical")
    assert _read("i'm entitled to escalate it but you keep refusing", "escalate it") == "affirmative statement"
    # the negation of an "if" antecedent does not reach a request verb that opens the consequent
    assert _read("if you can't sort it find me a manager", "find me a manager") == "affirmative statement"
    assert _read("if you don't get me a manager", "get me a manager").startswith("negated")
    # "could have" + an object is the verb "have", not a past counterfactual
    assert _read("a manager i could have a word with", "a manager i could have a word") == "affirmative statement"
    assert _read("i could have asked for a manager", "asked for a manager").startswith("hypothetical ('could have')")


def _context_condition() -> object:
    return compile_condition({"phrase": ["cancel it $"], "speaker": "customer", "context": "churn_risk"}, "t")


def _independent_logit(head: dict, lexical: dict, text: str, v: np.ndarray) -> float:
    """The head's logit computed here from the file alone, not by the code under test: the
    vector's dot product + intercept + the binary, L2-normalised hashed words (CRC-32 of each
    word, each bigram and each "#"-prefixed character n-gram of " word ")."""
    import re
    import zlib

    assert lexical["ngram_range"] == [1, 2] and lexical["hash"] == "crc32" and lexical["binary"] and lexical["norm"] == "l2"
    lw = np.asarray(head["lexical_weights"], dtype=np.float64)
    n = len(lw)
    toks = re.findall(lexical["token_pattern"], text.lower())
    feats = {zlib.crc32(t.encode()) % n for t in toks} | {zlib.crc32(f"{a} {b}".encode()) % n for a, b in pairwise(toks)}
    lo, hi = lexical["char_ngrams"]
    for t in set(toks):
        p = f" {t} "
        feats |= {zlib.crc32(("#" + p[i : i + k]).encode()) % n for k in range(lo, hi + 1) for i in range(len(p) - k + 1)}
    lex = sum(lw[i] for i in feats) / np.sqrt(len(feats))
    return float(v.astype(np.float64) @ np.asarray(head["weights"], dtype=np.float64) + head["intercept"] + lex)


@pytest.mark.parametrize("margin", [0.05, -0.05])
def test_the_context_modifier_scores_with_the_heads_code_path(margin: float) -> None:
    """`context` reads the head's probability the way the heads file defines it: checked
    against a probability computed here from the file's weights (not the code's scorer), on a
    vector placed just above and just below the threshold, where the word features decide."""
    import json
    from importlib import resources

    from analysis.conditions import RuleContext

    doc = json.loads(resources.files("analysis").joinpath("rules_classifier.json").read_text("utf-8"))
    head = doc["heads"]["churn_risk"]
    w = np.asarray(head["weights"], dtype=np.float64)
    rng = np.random.default_rng(7)
    r = rng.standard_normal(len(w))
    r /= np.linalg.norm(r)
    text = "this is the last straw, cancel it"
    # move r along w so the full logit lands `margin` from the threshold's logit
    target = float(np.log(head["threshold"] / (1 - head["threshold"]))) + margin
    base = _independent_logit(head, doc["lexical"], text, r.astype(np.float32))
    v = (r + (target - base) * w / float(w @ w)).astype(np.float32)
    z = _independent_logit(head, doc["lexical"], text, v)
    assert abs(z - target) < 1e-3
    want = 1.0 / (1.0 + np.exp(-z))
    turn = Turn(0, "customer", text)
    ctx = RuleContext(Interaction("chat", "t", "x", "h", turns=[turn]), {}, v[None, :])
    ok, said = _context_condition()._context(ctx, 0)  # type: ignore[attr-defined]
    assert f"{want:.2f}" in said
    assert ok is (margin > 0)


# review of the v7 round: a waiver cue must govern the match, "could you" asks, and after
# "but" a first-person preference is needed (not any "first" or "happy")
WAIVER_NOT_WAIVED = [
    ("churn_risk", "Could you cancel my subscription, but first tell me the final bill"),
    ("churn_risk", "Could you cancel my account please, but I'm not happy about the fee"),
    ("churn_risk", "Sorry, could you cancel my account, but first give me the final balance"),
    ("churn_risk", "I'm free to cancel my contract now, but first send me the final bill"),
    ("churn_risk", "I'm entitled to compensation so I want to cancel, but first I need the refund"),
    ("churn_risk", "I'm entitled to a refund, so cancel my contract but first send the refund"),
    ("escalation_request", "Could you put me through to a manager, but first tell me your name"),
]


@pytest.mark.parametrize(("flag", "text"), WAIVER_NOT_WAIVED)
def test_a_request_with_a_waiver_word_elsewhere_still_flags(shipped: RuleEngine, flag: str, text: str) -> None:
    assert flag in _kinds(shipped, "customer", text)


def test_a_waiver_cue_must_govern_the_match() -> None:
    assert _read("i'm entitled to escalate it but i'd rather you just fix it", "escalate it").startswith("hypothetical")
    assert _read("i could cancel it but i'm happy to hold off", "cancel it").startswith("hypothetical")
    assert _read("could you cancel it but first tell me the bill", "cancel it") == "affirmative statement"
    assert _read("i'm entitled to a refund so cancel it but first send the refund", "cancel it") == "affirmative statement"
    assert _read("i'm free to cancel it now but i'm not happy", "cancel it") == "affirmative statement"



# "cba" negates as typed "can't be bothered", never the bank CBA
@pytest.mark.parametrize("text", ["i have moved to cba so close my account please",
                                  "we bank with cba now so please close my account"])
def test_the_bank_cba_is_not_a_negation(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" in _kinds(shipped, "customer", text)


def test_cba_negates_only_before_a_gerund_or_with() -> None:
    assert _read("cba with chasing a manager", "chasing a manager").startswith("negated by 'cba'")
    assert _read("cba asking for a manager", "asking for a manager").startswith("negated by 'cba'")
    assert not _read("moved to cba so close my account", "close my account").startswith("negated")
    assert not _read("cba bank close my account", "close my account").startswith("negated")


# an "I'd" that opens the match itself is a promise or threat, not "what I would do": only
# the "id"-heard opener ("id promise if i could") reads unreal there, and the "if" clause of
# the unreal form has a first-person or "it" subject ("if i could", "if it were up to me")
@pytest.mark.parametrize(("flag", "speaker", "text"), [
    ("prohibited_phrase", "agent", "i'd stake my reputation on it, but you'll need to be in between 8 and 12"),
    ("prohibited_phrase", "agent", "i'd bet my job on that if you can confirm the address"),
])  # fmt: skip
def test_an_opening_id_promise_or_conditional_threat_still_flags(shipped: RuleEngine, flag: str, speaker: str,
                                                                   text: str) -> None:  # fmt: skip
    assert flag in _kinds(shipped, speaker, text)


def test_the_unreal_if_needs_a_first_person_or_it_subject() -> None:
    assert _read("i'd cancel it if it were up to me", "cancel it").startswith("hypothetical")
    assert _read("i'd cancel it if i could", "cancel it").startswith("hypothetical")
    # a condition on the listener is a threat that counts (no shipped phrase matches "id
    # leave" yet; the reading is what this round changed)
    assert _read("id leave if you were to put the price up again", "id leave") == "affirmative statement"
    assert _read("id leave if you were to put the price up again", "leave") == "affirmative statement"


# look-alikes of the v7 round's new phrases (review): a misheard "close" only right before a
# possessive, only a season/battle/annual pass, "gimme" only with the manager as its object,
# a purchase "from now on", notice at work, and leaving the bank building
@pytest.mark.parametrize(("flag", "text"), [
    ("churn_risk", "I ordered some clothes on my account last week and they haven't come"),
    ("churn_risk", "can you stop sending the boarding pass by text"),
    ("escalation_request", "gimme a minute, the manager at my work is calling"),
    ("churn_risk", "I'll be getting a new phone in the future"),
    ("churn_risk", "i'm handing in my notice at work so money is tight"),
    ("churn_risk", "I'm leaving the bank now, I'll call back from home"),
])
def test_look_alikes_of_the_v7_phrases_do_not_flag(shipped: RuleEngine, flag: str, text: str) -> None:
    assert flag not in _kinds(shipped, "customer", text)


@pytest.mark.parametrize(("flag", "text"), [
    ("churn_risk", "i need to clothes my account please"),
    ("churn_risk", "cancel my annual pass please"),
    ("escalation_request", "gimme your manager now"),
    ("churn_risk", "i'm leaving the bank, close my account"),
])
def test_the_narrowed_v7_phrases_still_flag(shipped: RuleEngine, flag: str, text: str) -> None:
    assert flag in _kinds(shipped, "customer", text)


def _shipped_heads_document() -> dict:
    import json
    from importlib import resources

    return json.loads(resources.files("analysis").joinpath("rules_classifier.json").read_text("utf-8"))


def test_a_heads_file_fitted_with_other_word_features_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A heads file written by `bench/rules_classifier.py --n-features/--char-ngrams` is read
    with other feature indices than it was fitted on: a clear error, not wrong scores."""
    from analysis.rule_classifier import LEXICAL, HeadsFileError, heads_from_document

    assert set(heads_from_document(_shipped_heads_document())) >= {"churn_risk"}
    doc = _shipped_heads_document()
    doc["lexical"]["char_ngrams"] = None
    with pytest.raises(HeadsFileError, match="lexical settings"):
        heads_from_document(doc)
    doc = _shipped_heads_document()
    doc["heads"]["churn_risk"]["lexical_weights"] = doc["heads"]["churn_risk"]["lexical_weights"][:4096]
    with pytest.raises(HeadsFileError, match="4096 lexical weights"):
        heads_from_document(doc)
    monkeypatch.setitem(LEXICAL, "n_features", 4096)
    with pytest.raises(HeadsFileError, match="lexical settings"):
        heads_from_document(_shipped_heads_document())


def test_the_heads_bench_refuses_feature_flags_over_the_shipped_file() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for extra in (["--n-features", "4096"], ["--char-ngrams", "none", "--out", str(root / "analysis" / "rules_classifier.json")]):
        r = subprocess.run([sys.executable, str(root / "bench" / "rules_classifier.py"), *extra],
                           capture_output=True, text=True, cwd=root, timeout=120)  # fmt: skip
        assert r.returncode == 2, r.stderr
        assert "give --out a file other than the shipped one" in r.stderr


@pytest.mark.parametrize(("flag", "text"), [
    ("churn_risk", "i wanna clothes my acount today"),  # heard and typed
    ("churn_risk", "if this isn't fixed i'm cancelling the pass"),
    ("churn_risk", "i'm deleting the app and cancelling my pass"),
])
def test_the_narrowed_v7_phrases_keep_their_typed_and_pass_forms(shipped: RuleEngine, flag: str, text: str) -> None:
    assert flag in _kinds(shipped, "customer", text)


def test_a_waiver_cue_three_words_before_still_governs() -> None:
    t = "i know i could ask for escalation to a supervisor, but i would prefer to settle it with you"
    assert _read(t, "a supervisor").startswith("hypothetical")
    assert _read("i'm entitled to a refund, so cancel it but i'd rather not", "cancel it") == "affirmative statement"
    # the cue's own verb phrase may run on to the match ("could request escalation to a manager")
    t = "I am aware that I could request escalation to a manager, but I would prefer to fix it with you."
    assert _read(t, "manager").startswith("hypothetical")
    assert _read("i could see that you cancel it but i'd rather not", "cancel it") == "affirmative statement"


def test_a_clause_that_holds_the_waiver_cue_reads_waived() -> None:
    """The classifier reads each clause whole: a cue inside the clause governs it too."""
    t = "I know I could ask for escalation to a supervisor, but I would prefer to fix it with you."
    tc = TurnClauses(t)
    a, b = tc.clauses()[0]
    assert tc.read(a, b).describe().startswith("hypothetical")
    t = "Could you ask for escalation to a supervisor, but first tell me your name."
    tc = TurnClauses(t)
    a, b = tc.clauses()[0]
    assert not tc.read(a, b).describe().startswith("hypothetical")
