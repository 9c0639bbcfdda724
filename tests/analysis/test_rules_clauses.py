"""Clause-aware rules: the issue's sentences through the real engine and shipped rules,
the `negated` / `in_*` options, reasons in flag evidence, ASR tolerance kept, and the
clause reader (analysis/clauses.py) on its own."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.clauses import TurnClauses
from analysis.flags import from_rule_hits
from analysis.rules import RuleEngine, RuleNote, RuleOptions, compile_condition, default_rules
from store.records import Interaction, Turn


def _bag_embed(texts: list[str]) -> np.ndarray:
    """A bag-of-words encoder (cosine is meaningful) so the shipped semantic condition can
    be built without loading MiniLM; the phrase conditions decide every case here."""
    vocab = ["call", "recorded", "record", "quality", "training", "manager", "cancel", "refund"]
    rows = np.array([[1.0 if w in t.lower() else 0.0 for w in vocab] + [0.3] for t in texts])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def shipped() -> RuleEngine:
    return RuleEngine(default_rules(), _bag_embed)


def _one(speaker: str, text: str, channel: str = "chat") -> Interaction:
    if channel == "call":
        turn = Turn(0, speaker, text, start=1.0, end=6.0)
    else:
        turn = Turn(0, speaker, text)
    return Interaction(channel, "t", "x", "h", turns=[turn])


def _run(engine: RuleEngine, speaker: str, text: str, channel: str = "chat") -> tuple[set[str], list[RuleNote]]:
    notes: list[RuleNote] = []
    hits = engine.evaluate(_one(speaker, text, channel), {}, notes=notes)
    return {h.rule.kind for h in hits}, notes


# -- the issue's table and examples, through the shipped rules ------------------------------


#: the promise rule as it shipped before clause reading: its fuzzy "guaranteed" matched the
#: "guarantee" of the issue's first row
OLD_PROMISE_RULE = {
    "name": "prohibited_promise", "flag": "prohibited_phrase", "severity": "high",
    "when": {"phrase": ["guaranteed", "i guarantee", "i promise you"], "speaker": "agent", "fuzzy": 90},
}  # fmt: skip


def test_issue_first_row_is_read_as_a_refusal() -> None:
    text = "I cannot guarantee that the refund arrives tomorrow."
    kinds, notes = _run(RuleEngine([RuleOptions(**OLD_PROMISE_RULE)]), "agent", text)
    assert kinds == set()
    assert notes[0].not_counted[0] == {"seq": 0, "speaker": "agent", "matched": "guarantee", "how": "fuzzy",
                                       "why": "negated by 'cannot'"}  # fmt: skip
    assert "prohibited_phrase" in _run(RuleEngine([RuleOptions(**OLD_PROMISE_RULE)]), "agent", text.replace("cannot ", ""))[0]


def test_issue_first_row_with_the_shipped_rules(shipped: RuleEngine) -> None:
    assert "prohibited_phrase" not in _run(shipped, "agent", "I cannot guarantee that the refund arrives tomorrow.")[0]


@pytest.mark.parametrize(
    ("speaker", "text", "kind", "why"),
    [
        ("customer", "I'm not going to cancel my account, I just want the fee explained.", "churn_risk",
         "negated by 'not'"),
        ("customer", "no need to speak to a manager, thanks", "escalation_request", "negated by 'no need to'"),
        ("customer", "my manager told me to speak to you", "escalation_request", "reported speech ('my manager told')"),
        ("agent", "I can't promise you that it arrives on Monday.", "prohibited_phrase", "negated by 'can't'"),
        ("agent", "We're not allowed to guarantee you a delivery date.", "prohibited_phrase", "negated by 'not'"),
        ("agent", "Did you say it's guaranteed?", "prohibited_phrase", "in a question ('did you')"),
        ("customer", "You said you'd close my account last week.", "churn_risk", "reported speech ('you said')"),
        ("customer", "If I cancel my account, do I lose the discount?", "churn_risk", "hypothetical ('if')"),
    ],
)  # fmt: skip
def test_issue_sentences_raise_no_flag_and_say_why(shipped: RuleEngine, speaker: str, text: str, kind: str, why: str) -> None:
    kinds, notes = _run(shipped, speaker, text)
    assert kind not in kinds
    (note,) = [n for n in notes if n.kind == kind]
    assert note.not_counted[0]["why"] == why
    assert note.not_counted[0]["matched"].lower() in text.lower()


def test_issue_sentence_without_any_match_raises_nothing(shipped: RuleEngine) -> None:
    kinds, notes = _run(shipped, "customer", "my manager told me to call you")
    assert kinds == set() and notes == []


@pytest.mark.parametrize(
    ("speaker", "text", "kind"),
    [
        ("agent", "I guarantee that the refund arrives tomorrow.", "prohibited_phrase"),
        ("agent", "Don't worry, it's guaranteed to arrive tomorrow.", "prohibited_phrase"),
        ("customer", "I'm going to cancel my account, I just want the fee explained.", "churn_risk"),
        ("customer", "If you can't fix this by Friday, I'm cancelling my subscription.", "churn_risk"),
        ("customer", "How do I close my account?", "churn_risk"),
        ("customer", "I want to speak to a manager, thanks", "escalation_request"),
        ("customer", "Can I speak to a manager please?", "escalation_request"),
        ("customer", "No, I want to speak to a manager.", "escalation_request"),
    ],
)
def test_affirmative_forms_and_requests_still_flag(shipped: RuleEngine, speaker: str, text: str, kind: str) -> None:
    kinds, _ = _run(shipped, speaker, text)
    assert kind in kinds


@pytest.mark.parametrize(
    ("speaker", "text", "kind"),
    [
        ("agent", "i garantee you the engineer will come tomorrow morning", "prohibited_phrase"),
        ("agent", "its guarenteed to ship today", "prohibited_phrase"),
        ("customer", "yeah i want to um cancel my my acount please", "churn_risk"),
        ("customer", "i wanna speak to a manger", "escalation_request"),
        ("customer", "let me speek to your supervisor", "escalation_request"),
    ],
)
def test_asr_spellings_still_match(shipped: RuleEngine, speaker: str, text: str, kind: str) -> None:
    kinds, _ = _run(shipped, speaker, text, channel="call")
    assert kind in kinds


def test_asr_spelling_of_a_negated_promise_is_still_negated(shipped: RuleEngine) -> None:
    kinds, notes = _run(shipped, "agent", "i cant garantee that sorry", channel="call")
    assert "prohibited_phrase" not in kinds
    assert notes[0].not_counted[0]["why"] == "negated by 'cant'"


def test_a_negated_and_an_affirmative_match_in_one_turn(shipped: RuleEngine) -> None:
    text = "I can't guarantee the date, but the refund itself is guaranteed."
    (hit,) = [h for h in shipped.evaluate(_one("agent", text), {}) if h.rule.kind == "prohibited_phrase"]
    counted = [e for e in hit.evidence if e.get("counted")]
    assert counted and text[counted[0]["char_start"] : counted[0]["char_end"]] == "guaranteed"
    assert counted[0]["clause"] == "affirmative"
    assert [x["why"] for x in hit.not_counted] == ["negated by 'can't'"]


def test_disclosure_counts_in_a_question_or_reported_but_not_negated(shipped: RuleEngine) -> None:
    asked, _ = _run(shipped, "agent", "Did you know this call is being recorded for quality purposes?", "call")
    reported, _ = _run(shipped, "agent", "My supervisor asks me to remind you that calls are recorded.", "call")
    negated, _ = _run(shipped, "agent", "Good morning, this call is not being recorded.", "call")
    assert "compliance_missing" not in asked | reported
    assert "compliance_missing" in negated


# -- options ----------------------------------------------------------------------------------


def _engine(**when: object) -> RuleEngine:
    return RuleEngine([RuleOptions(name="r", when={"phrase": "help you", "speaker": "agent", **when})])


def test_negated_true_looks_for_negated_forms_only() -> None:
    eng = _engine(negated=True)
    (hit,) = eng.evaluate(_one("agent", "Sorry, I won't help you with that."), {})
    assert hit.evidence[0]["clause"] == "negated by 'won't'"
    notes: list[RuleNote] = []
    assert eng.evaluate(_one("agent", "Sure, I will help you with that."), {}, notes=notes) == []
    assert notes[0].not_counted[0]["why"] == "not negated (the rule looks for negated forms)"


def test_negated_default_false_and_any() -> None:
    affirmative, negative = _one("agent", "I will help you."), _one("agent", "I can't help you.")
    default = _engine()
    assert len(default.evaluate(affirmative, {})) == 1 and default.evaluate(negative, {}) == []
    either = _engine(negated="any")
    assert len(either.evaluate(affirmative, {})) == 1 and len(either.evaluate(negative, {})) == 1


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("in_questions", "Shall I help you?"),
        ("in_reported", "My colleague said she can help you."),
        ("in_hypotheticals", "If I help you with this, will you stay?"),
    ],
)
def test_in_options_count_matches_in_questions_reported_speech_and_suppositions(key: str, text: str) -> None:
    assert _engine().evaluate(_one("agent", text), {}) == []
    (hit,) = _engine(**{key: True}).evaluate(_one("agent", text), {})
    assert hit.evidence[0]["counted"] is True


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"phrase": "x", "negated": "maybe"}, "negated"),
        ({"phrase": "x", "in_questions": "yes"}, "in_questions"),
        ({"metric": "anger", "gt": 1, "negated": True}, "unknown key"),
    ],
)
def test_bad_clause_options_are_rejected(when: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_condition(when, "rules.r.when")


# -- evidence ---------------------------------------------------------------------------------


def test_flag_evidence_json_says_why_each_match_did_or_did_not_count(shipped: RuleEngine) -> None:
    it = Interaction("chat", "t", "x", "h", turns=[
        Turn(0, "agent", "I can't promise you Monday."),
        Turn(1, "agent", "But it is guaranteed by Friday."),
    ])  # fmt: skip
    (hit,) = [h for h in shipped.evaluate(it, {}) if h.rule.kind == "prohibited_phrase"]
    (flag,) = from_rule_hits(1, [hit])
    ev = json.loads(json.dumps(flag.evidence))
    counted = [e for e in ev if e.get("counted")]
    assert counted[0]["seq"] == 1 and counted[0]["clause"] == "affirmative"
    (skipped,) = [e for e in ev if "not_counted" in e]
    assert "char_start" not in skipped  # viewers must not highlight it as flagged
    assert skipped["not_counted"][0] == {"seq": 0, "speaker": "agent", "matched": "promise you", "how": "exact",
                                         "why": "negated by 'can't'"}  # fmt: skip
    # every condition that found the refusal ("I" near "promise" too) says the same
    assert {x["why"] for x in skipped["not_counted"]} == {"negated by 'can't'"}


def test_missing_disclosure_flag_names_the_negated_disclosure(shipped: RuleEngine) -> None:
    it = _one("agent", "Hello, this call is not recorded. How can I help?", "call")
    (hit,) = [h for h in shipped.evaluate(it, {}) if h.rule.kind == "compliance_missing"]
    (flag,) = from_rule_hits(1, [hit])
    absent = flag.evidence[0]
    assert "absent" in absent
    assert any(x["why"] == "negated by 'not'" for x in absent["not_counted"])


# -- the clause reader on its own -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase", "field", "cue"),
    [
        ("I don't think I will cancel my account", "cancel my account", "negated", "don't"),
        ("I never said I wanted to cancel my account", "cancel my account", "negated", "never"),
        ("I don't care, cancel my account", "cancel my account", "negated", None),
        ("No I want to cancel my account", "cancel my account", "negated", None),
        ("no way im leaving", "im leaving", "negated", "no way"),
        ("Don't worry it's guaranteed", "guaranteed", "negated", None),
        ("I have no choice but to close my account", "close my account", "negated", None),
        ("why is my account cancelled", "cancelled", "question", "why"),
        ("did you cancel my account", "cancel my account", "question", "did you"),
        ("Could you cancel my account?", "cancel my account", "question", None),
        ("I want to cancel my account, can you do that?", "cancel my account", "question", None),
        ("I told you I want a manager", "manager", "reported", None),
        ("I was told to speak to a manager", "speak to a manager", "reported", "i was told"),
        ('The form says "guaranteed" in big letters', "guaranteed", "reported", "quoted"),
        ("if this isn't fixed I'm cancelling my account", "cancelling my account", "hypothetical", None),
        ("what happens if I close my account", "close my account", "hypothetical", "if"),
        ("I wish I could promise that", "promise", "hypothetical", "could"),
        ("I would like to cancel my account", "cancel my account", "hypothetical", None),
    ],
)
def test_clause_reader(text: str, phrase: str, field: str, cue: str | None) -> None:
    start = text.lower().index(phrase)
    reading = TurnClauses(text).read(start, start + len(phrase), phrase.split())
    assert getattr(reading, field) == cue


def test_clause_reader_handles_typographic_apostrophes_and_empty_text() -> None:
    text = "I can’t guarantee that"
    start = text.index("guarantee")
    assert TurnClauses(text).read(start, start + 9, ["guarantee"]).negated == "can't"
    assert TurnClauses("").read(0, 0).describe() == "affirmative statement"


# -- matching: whole words, the tense guard ---------------------------------------------------


@pytest.mark.parametrize(
    ("speaker", "text", "kind"),
    [
        ("customer", "I spoke to a manager yesterday and she was lovely.", "escalation_request"),
        ("customer", "can you add my wife to my account", "churn_risk"),
        ("customer", "My account was canceled by mistake last year, and you fixed it.", "churn_risk"),
        ("agent", "That is not something we can guarantee, I'm afraid.", "prohibited_phrase"),
    ],
)
def test_look_alikes_do_not_match(shipped: RuleEngine, speaker: str, text: str, kind: str) -> None:
    assert kind not in _run(shipped, speaker, text)[0]


def test_past_forms_and_the_tense_guard() -> None:
    from analysis.matching import CompiledPhrase, TurnText, find_phrase
    from analysis.phrase_text import past_forms

    assert {"canceled", "cancelled"} <= past_forms("cancel") and "spoke" in past_forms("speak")
    assert "close" not in past_forms("close") and past_forms("to") == frozenset()
    spoke = TurnText(Turn(0, "customer", "I spoke to a manager yesterday"))
    assert find_phrase(spoke, CompiledPhrase("speak to a manager")) is None
    assert find_phrase(spoke, CompiledPhrase("spoke to a manager")) is not None  # spelled by the rule itself
    joined = TurnText(Turn(0, "agent", "Hello this call maybe recorded for quality"))
    m = find_phrase(joined, CompiledPhrase("this call may be recorded"))
    assert m is not None and m.how == "fuzzy" and joined.turn.text[m.start : m.end] == "this call maybe recorded"


def test_config_example_repeats_the_shipped_rules() -> None:
    """config.example.toml says its first rules repeat the shipped ones: keep it true."""
    import tomllib
    from pathlib import Path

    example = tomllib.loads((Path(__file__).resolve().parents[2] / "config.example.toml").read_text("utf-8"))
    by_name = {r["name"]: r for r in example["rules"]}
    for r in default_rules():
        assert by_name[r.name]["when"] == r.when, r.name
