"""The shipped rules on families of phrasing (not single sentences): each family fires in
several registers (call transcript, chat, e-mail) and its look-alikes do not — negated,
reported, past, a question about a manager, the agent's own offer, a plan instead of a
competitor. Also the rule-language pieces the families are written with: `{a|b}`
alternatives, `near` with lists of alternatives, the ` $` clause-end anchor and `except`."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.matching import (
    CompiledPhrase,
    TurnText,
    expand_alternatives,
    find_near,
    phrase_candidates,
)
from analysis.rules import RuleEngine, RuleOptions, compile_condition, default_rules
from store.records import Interaction, Turn


def _bag_embed(texts: list[str]) -> np.ndarray:
    """A bag-of-words encoder so the shipped semantic condition can be built without MiniLM."""
    vocab = ["call", "recorded", "record", "quality", "training"]
    rows = np.array([[1.0 if w in t.lower() else 0.0 for w in vocab] + [0.3] for t in texts])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _blind_embed(texts: list[str]) -> np.ndarray:
    """One-hot vectors by a hash of the text: no two texts are alike, so the disclosure's
    semantic condition never decides and the phrase and `near` conditions are what is tested."""
    import hashlib

    rows = np.zeros((len(texts), 256))
    for i, t in enumerate(texts):
        rows[i, hashlib.sha256(t.encode()).digest()[0]] = 1.0
    return rows


@pytest.fixture(scope="module")
def shipped() -> RuleEngine:
    return RuleEngine(default_rules(), _bag_embed)


@pytest.fixture(scope="module")
def shipped_phrases_only() -> RuleEngine:
    return RuleEngine(default_rules(), _blind_embed)


def _kinds(engine: RuleEngine, speaker: str, text: str, channel: str = "call") -> set[str]:
    turn = Turn(0, speaker, text, start=2.0, end=8.0) if channel == "call" else Turn(0, speaker, text)
    return {h.rule.kind for h in engine.evaluate(Interaction(channel, "t", "x", "h", turns=[turn]), {})}


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


@pytest.mark.parametrize("text", CHURN_V4)
def test_churn_families_of_the_v4_round_fire(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" in _kinds(shipped, "customer", text)


@pytest.mark.parametrize("text", NOT_CHURN_V4)
def test_churn_look_alikes_of_the_v4_round_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "churn_risk" not in _kinds(shipped, "customer", text)


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


@pytest.mark.parametrize("text", ESCALATIONS_V4)
def test_escalation_families_of_the_v4_round_fire(shipped: RuleEngine, text: str) -> None:
    assert "escalation_request" in _kinds(shipped, "customer", text)


@pytest.mark.parametrize("text", NOT_ESCALATIONS_V4)
def test_escalation_look_alikes_of_the_v4_round_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "escalation_request" not in _kinds(shipped, "customer", text)


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


@pytest.mark.parametrize("text", PROMISES_V4)
def test_promise_families_of_the_v4_round_fire(shipped: RuleEngine, text: str) -> None:
    assert "prohibited_phrase" in _kinds(shipped, "agent", text)


@pytest.mark.parametrize("text", NOT_PROMISES_V4)
def test_promise_look_alikes_of_the_v4_round_do_not_fire(shipped: RuleEngine, text: str) -> None:
    assert "prohibited_phrase" not in _kinds(shipped, "agent", text)


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
]
MORE_NOT_CHURN_V4 = [
    "i got a notice to leave the flat so i need to update my address",
    "you've lost us the paperwork twice now",
    "i'm staying with you, just sort the bill",
    "can you get rid of the old email address on my account",
    "you cut me off earlier when i rang",
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
]
MORE_NOT_ESCALATIONS_V4 = [
    "thanks for escalating it yesterday, all sorted",
    "i was raising a different point with your colleague",
]
MORE_PROMISES_V4 = ["no way it won't be connected by tonight", "there's no chance you won't have it friday"]
MORE_NOT_PROMISES_V4 = ["the price promise is on our website"]


@pytest.mark.parametrize(("flag", "speaker", "text", "fires"), [
    *(("churn_risk", "customer", t, True) for t in MORE_CHURN_V4),
    *(("churn_risk", "customer", t, False) for t in MORE_NOT_CHURN_V4),
    *(("escalation_request", "customer", t, True) for t in MORE_ESCALATIONS_V4),
    *(("escalation_request", "customer", t, False) for t in MORE_NOT_ESCALATIONS_V4),
    *(("prohibited_phrase", "agent", t, True) for t in MORE_PROMISES_V4),
    *(("prohibited_phrase", "agent", t, False) for t in MORE_NOT_PROMISES_V4),
])  # fmt: skip
def test_more_families_of_the_v4_round(shipped: RuleEngine, flag: str, speaker: str, text: str, fires: bool) -> None:
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


def test_the_shipped_heads_fit_the_turn_vectors_and_are_opt_in() -> None:
    """The heads did not earn a place in the shipped rules (bench/rules_classifier.py's
    cross-batch test, README); a rule opts in with `classifier = "<flag>"`."""
    from analysis.rules import classifier_heads

    heads = classifier_heads()
    assert set(heads) == {"churn_risk", "escalation_request", "prohibited_phrase"}
    assert all(len(h["weights"]) == 384 and 0.5 <= h["threshold"] < 1 for h in heads.values())
    assert not [r.name for r in default_rules() if "classifier" in str(r.when)]


def test_a_classifier_head_does_not_read_vectors_of_another_width(caplog: pytest.LogCaptureFixture) -> None:
    engine, _ = _head_engine()
    hits, _notes = _one(engine, np.ones((1, 256), dtype=np.float32) / 16, "that's me finished with you lot")
    assert hits == [] and "256 dimensions" in caplog.text
