"""The shipped rules on families of phrasing (not single sentences): each family fires in
several registers (call transcript, chat, e-mail) and its look-alikes do not — negated,
reported, past, a question about a manager, the agent's own offer, a plan instead of a
competitor. Also the rule-language pieces the families are written with: `{a|b}`
alternatives, `near` with lists of alternatives, the ` $` clause-end anchor and `except`."""

from __future__ import annotations

import pytest
from rules_helpers import _bag_embed, _blind_embed, _kinds, family_cases  # noqa: F401  (re-exported)

from analysis.matching import (
    CompiledPhrase,
    TurnText,
    find_near,
    phrase_candidates,
)
from analysis.phrase_text import expand_alternatives
from analysis.rules import RuleEngine, RuleOptions, compile_condition
from store.records import Interaction, Turn

ESCALATIONS = [
    "get me your supervisor",  # the list, as ASR writes it
    "i want this escalated",
    "put someone senior on the phone please",
    "let me speak to your boss",
    "can i speak to someone higher up",
    "is there anyone above you i can talk to",
    "put your team leader on",
    "transfer me to the complaints department",
    "I want to speak to whoever is in charge.",
    "let me talk to someone who can actually help",
    "i need someone with more authority",
    "can i speak to a super visor please",
    "put the manger on",
    "I'd like a word with your manager.",
    "I need a supervisor now.",
    "i demand to speak with the manager",
    "i want an escalation",
    "supervisor. now.",
    "unless you sort this out I'm going to ask for your manager",
    "if this isnt fixed today i want it escalated",
    "one more excuse and I'm asking for a supervisor",
]
ESCALATIONS_WRITTEN = [
    "I wish to raise a formal complaint.",
    "I would like my complaint to be escalated to a senior member of staff.",
    "Please pass my complaint on to a manager.",
    "Could a manager please call me back on 07700 900123?",
    "Please escalate this matter to your management team.",
]
NOT_ESCALATIONS = [
    ("customer", "my manager told me to call you"),
    ("customer", "i need to talk to my manager before i sign anything"),
    ("customer", "I spoke to a supervisor yesterday."),
    ("customer", "i was speaking to a supervisor earlier and she said to call back"),
    ("customer", "your supervisor called me back yesterday"),
    ("customer", "who's your manager?"),
    ("customer", "has my complaint been escalated?"),
    ("customer", "there's no need to get anyone senior involved"),
    ("customer", "no need for a team leader it's sorted"),
    ("customer", "I was going to make a formal complaint but you've sorted it."),
    ("customer", "I have already made a formal complaint on 3 March."),
    ("customer", "i'll have to check with my boss first"),
    ("customer", "I'm the manager of the shop."),
    ("agent", "I can get my supervisor if you like."),
    ("agent", "I've escalated your complaint to the complaints team."),
]


@pytest.mark.parametrize("text", ESCALATIONS)
def test_escalation_families_fire_in_transcribed_speech(shipped: RuleEngine, text: str) -> None:
    assert "escalation_request" in _kinds(shipped, "customer", text)


@pytest.mark.parametrize("text", ESCALATIONS_WRITTEN)
def test_escalation_families_fire_in_email(shipped: RuleEngine, text: str) -> None:
    assert "escalation_request" in _kinds(shipped, "customer", text, channel="email")


@pytest.mark.parametrize(("speaker", "text"), NOT_ESCALATIONS)
def test_escalation_look_alikes_do_not_fire(shipped: RuleEngine, speaker: str, text: str) -> None:
    assert "escalation_request" not in _kinds(shipped, speaker, text)


CHURN = [
    "I'm done with you people.",
    "i'm switching to bt",
    "Switching to Vodafone next week, just so you know.",
    "close it all down",
    "how do i leave",
    "i want to port my number out",
    "i want my pac code",
    "i want to cancel",
    "just cancel everything",
    "I want out of this contract.",
    "i'm going elsewhere",
    "i'm looking at other providers",
    "I won't be renewing.",
    "please don't renew my subscription",
    "you've just lost a customer",
    "never using you again",
    "if this happens again i'm gone",
    "if this isn't fixed by friday i'm cancelling",
    "I wish to cancel my membership with immediate effect.",
    "I am writing to request the cancellation of my gym membership.",
]
NOT_CHURN = [
    "I'm leaving for holiday tomorrow so can you send it today",
    "I'm leaving a review",
    "i'm done thanks that's all",
    "can I switch to the cheaper plan",
    "i'm switching to the annual plan",
    "i'd like to switch to paperless billing",
    "can you port my number in from vodafone",
    "cancel my order please it was a duplicate",
    "i want to cancel the extra line on my account, not the whole thing",
    "i'm not switching providers i just want a discount",
    "my friend switched to vodafone and regrets it",
    "I don't want to leave, I just want it fixed.",
    "i'd never leave you guys",
]


@pytest.mark.parametrize("text", CHURN)
def test_churn_families_fire(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" in _kinds(shipped, "customer", text, channel="chat")


@pytest.mark.parametrize("text", NOT_CHURN)
def test_churn_look_alikes_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" not in _kinds(shipped, "customer", text, channel="chat")


PROMISES = [
    "100% it'll be there tomorrow",
    "it'll be there tomorrow a hundred percent",
    "you have my word",
    "it will definitely be there by friday",
    "I can assure you it will arrive tomorrow.",
    "rest assured the refund will be with you by monday",
    "trust me it will arrive tomorrow",
    "I personally guarantee the engineer will arrive between 8 and 10.",
    "i'm absolutely certain it will arrive on monday",
    "that's a promise",
]
NOT_PROMISES = [
    ("agent", "I'm not 100% sure"),
    ("agent", "I can't give you my word on that."),
    ("agent", "I'd love to promise you that, but I can't."),
    ("agent", "If the part is in stock I could promise you Thursday, but it isn't yet."),
    ("agent", "you can get a 100% refund within thirty days"),
    ("agent", "definitely, i can help with that"),
    ("agent", "i can't say it will definitely arrive"),
    ("agent", "the thirty day money back guarantee applies"),
    ("customer", "you have my word i paid it"),
]


@pytest.mark.parametrize("text", PROMISES)
def test_promise_families_fire(shipped: RuleEngine, text: str) -> None:
    assert "prohibited_phrase" in _kinds(shipped, "agent", text)


@pytest.mark.parametrize(("speaker", "text"), NOT_PROMISES)
def test_promise_look_alikes_do_not_fire(shipped: RuleEngine, speaker: str, text: str) -> None:
    assert "prohibited_phrase" not in _kinds(shipped, speaker, text)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("this conversation may be monitored or recorded how can i help", False),
        ("just a heads up we're recording this call", False),
        ("We stopped recording calls last year, so don't worry.", True),
        ("i've recorded the fault on your account", True),
    ],
)
def test_disclosure_family_and_its_look_alikes(shipped_phrases_only: RuleEngine, text: str, missing: bool) -> None:
    assert ("compliance_missing" in _kinds(shipped_phrases_only, "agent", text)) is missing


# -- the rule-language pieces -------------------------------------------------------------


def test_alternatives_expand_in_order_and_drop_empty_slots() -> None:
    assert expand_alternatives("{speak|talk} to {your |}manager") == [
        "speak to your manager", "speak to manager", "talk to your manager", "talk to manager"]  # fmt: skip
    with pytest.raises(ValueError, match="unbalanced"):
        compile_condition({"phrase": "{speak|talk to a manager"})


def test_near_takes_lists_of_multi_word_alternatives_and_counts_the_gap_between_them() -> None:
    tt = TurnText(Turn(0, "customer", "could you put me through to the complaints department"))
    m = find_near(tt, ["put", "transfer"], ["the complaints department", "a manager"], distance=4, fuzzy=100)
    assert m is not None and tt.turn.text[m.start : m.end] == "put me through to the complaints department"
    assert find_near(tt, ["put"], ["the complaints department"], distance=3, fuzzy=100) is None


def test_clause_end_anchor_needs_no_object_after_the_phrase() -> None:
    cp = CompiledPhrase("want to cancel $")
    assert list(phrase_candidates(TurnText(Turn(0, "customer", "I want to cancel.")), cp, fuzzy=100))
    assert list(phrase_candidates(TurnText(Turn(0, "customer", "i want to cancel today")), cp, fuzzy=100))
    assert not list(phrase_candidates(TurnText(Turn(0, "customer", "I want to cancel my order")), cp, fuzzy=100))


def test_except_marks_a_look_alike_and_says_so() -> None:
    rule = RuleOptions(name="churn", flag="churn_risk", when={
        "phrase": "switching to", "speaker": "customer", "except": ["switching to {the|paperless}"]})  # fmt: skip
    engine = RuleEngine([rule])
    notes: list = []
    it = Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", "I'm switching to paperless billing")])
    assert engine.evaluate(it, {}, notes=notes) == []
    assert notes[0].not_counted[0]["why"] == "look-alike ('switching to paperless')"
    it2 = Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", "I'm switching to Vodafone")])
    assert [h.rule.kind for h in engine.evaluate(it2, {})] == ["churn_risk"]


def test_percent_is_part_of_a_word() -> None:
    """"100%" is a certainty word, "100" alone an amount."""
    cp = CompiledPhrase("100%")
    assert list(phrase_candidates(TurnText(Turn(0, "agent", "it'll be there, 100%.")), cp, fuzzy=100))
    assert not list(phrase_candidates(TurnText(Turn(0, "agent", "that's 100 pounds")), cp, fuzzy=100))


# -- round on batch v3: the families it showed missing, and their look-alikes ----------------
# (written for the tests, not copied from batch v3)

CHURN_V3 = [
    "i'm switching to vodafone next week",  # a competitor by name
    "we're moving to british gas from monday",
    "signed up with sky yesterday so please cancel",
    "how do i go about leaving",  # asking how to leave is the threat
    "what's the process for cancelling",
    "i just want to end it",
    "i'm thinking about leaving",
    "can you transfer me to the cancellations department",
    "I do not want to continue my subscription.",  # the negated form is the threat
    "i want to cancell my account",  # typed misspelling
    "please delete my account",
    "i'd like to leave",
    "Having been with you for years, I want to leave. Please tell me how to close my account.",
    "i'm leaving you for virgin media",
    "we're going over to ovo",
    "I no longer require your services.",
    "i want to terminate",
    "you've lost my business",
    "i'm going to shop around",
    "please end my subscription",
]
NOT_CHURN_V3 = [
    "i'm moving to bristol next month",  # moving house, not to a competitor
    "i need to end this call now, bye",
    "i was thinking of leaving a review",
    "thinking of switching to the annual plan",
    "the cancellations team already called me",
    "i want to continue my membership",
    "i was going to cancel but i'll stay",  # an intention that did not happen
    "how do i go about cancelling my order",
    "i'd like to leave a message for the engineer",
    "i used to be with sky",
    "i want to cancel the direct debit and pay by card",
    "i'm leaving for work in ten minutes",
    "i no longer need the extra line",
    "i don't want to terminate, i just want a cheaper deal",
    "how do i delete a card from my account",
    "i was transferred to the cancellations team and they hung up",
    "i'm planning to switch to direct debit",
    "i no longer need the account number, i found it",
    "i don't want to continue with this plan, can i move to the cheaper one",
]


@pytest.mark.parametrize("text", CHURN_V3)
def test_churn_families_of_the_v3_round_fire(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" in _kinds(shipped, "customer", text)


@pytest.mark.parametrize("text", NOT_CHURN_V3)
def test_churn_look_alikes_of_the_v3_round_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" not in _kinds(shipped, "customer", text)


def test_cancellations_team_is_churn_only_in_the_customers_mouth(shipped: RuleEngine) -> None:
    assert "churn_risk" not in _kinds(shipped, "agent", "i'll put you through to the cancellations team")


ESCALATIONS_V3 = [
    "who's above you? i want them",
    "i need a supervisr",
    "i want this taken further",
    "let me talk to your team leeder",
    "put me through to head office",
    "i want to speak to a senior member of staff",
    "take this to the next level please",
    "who's in charge here",
    "get me your ceo",
]
NOT_ESCALATIONS_V3 = [
    "who's your manager?",  # asks for a name (the labelling guide); see bench/data/README
    "I need a manager's signature on this form from my side",
    "is your head office in leeds",
    "i spoke to head office last week",
    "i don't need a supervisor, it's fine",
    "my sister is a senior member of staff at a bank",
    "is the ceo still the same guy",
]


@pytest.mark.parametrize("text", ESCALATIONS_V3)
def test_escalation_families_of_the_v3_round_fire(shipped: RuleEngine, text: str) -> None:
    assert "escalation_request" in _kinds(shipped, "customer", text)


@pytest.mark.parametrize("text", NOT_ESCALATIONS_V3)
def test_escalation_look_alikes_of_the_v3_round_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "escalation_request" not in _kinds(shipped, "customer", text)


PROMISES_V3 = [
    "promise you'll have it by friday",  # the promise word without its subject
    "guarantee it'll be there tomorrow",
    "gaurantee its sorted by tmrw",
    "I can confirm and promise the engineer will come",
    "it'll be done today, that's a guarantee",
    "it'll be there tomorrow without fail",
    "you can count on it",
    "you have my personal assurance it will be fixed",
]
NOT_PROMISES_V3 = [
    "i can't promise it'll arrive tomorrow",
    "the guarantee it comes with lasts two years",
    "you were promised it'll be fixed, i'm sorry",
    "the manufacturer's guarantee that comes with it covers parts",
    "Our policy states that refunds are guaranteed within 14 days of a valid claim.",  # the document's words
    "I can't say it will arrive without fail",
    "you can count on us to look into it",
]


@pytest.mark.parametrize("text", PROMISES_V3)
def test_promise_families_of_the_v3_round_fire(shipped: RuleEngine, text: str) -> None:
    assert "prohibited_phrase" in _kinds(shipped, "agent", text, channel="chat")


@pytest.mark.parametrize("text", NOT_PROMISES_V3)
def test_promise_look_alikes_of_the_v3_round_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "prohibited_phrase" not in _kinds(shipped, "agent", text, channel="chat")


@pytest.mark.parametrize(
    "text",
    [
        "i can see a record of your call from monday",  # the noun: a record, not recording
        "if you want a recording of the call you can ask for one in writing",  # a copy asked for
        "this is not a recorded line",
    ],
)
def test_disclosure_nouns_are_not_a_disclosure(shipped_phrases_only: RuleEngine, text: str) -> None:
    assert "compliance_missing" in _kinds(shipped_phrases_only, "agent", text)


def test_an_imperative_tell_is_the_speakers_request_not_reported_speech() -> None:
    from analysis.clauses import TurnClauses

    text = "Please tell me how to close my account."
    reading = TurnClauses(text).read(text.index("close"), len(text) - 1, frozenset({"close", "account"}))
    assert reading.reported is None
    text = "She told me the refund is guaranteed."
    reading = TurnClauses(text).read(text.index("guaranteed"), len(text) - 1, frozenset({"guaranteed"}))
    assert reading.reported


@pytest.mark.parametrize("text", ["this is a recorded line how can i help", "you're being recorded just so you know"])
def test_recorded_line_is_a_disclosure(shipped_phrases_only: RuleEngine, text: str) -> None:
    assert "compliance_missing" not in _kinds(shipped_phrases_only, "agent", text)


def test_braces_expand_in_a_near_side_written_as_one_string() -> None:
    rule = RuleOptions(name="esc", flag="escalation_request",
                       when={"near": ["speak", "{your|a} manager"], "speaker": "customer"})  # fmt: skip
    engine = RuleEngine([rule])
    for text in ("can i speak to your manager", "I want to speak to a manager"):
        it = Interaction("chat", "t", "x", "h", turns=[Turn(0, "customer", text)])
        assert [h.rule.kind for h in engine.evaluate(it, {})] == ["escalation_request"], text

