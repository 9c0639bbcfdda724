"""Incorrect information (#19, round 5): value forms and statement shapes the fifth fresh
set showed missing, each in phrasings of its own (not the set's sentences): written
abbreviations, slang and coded money, another currency, bounds after the value, warranty
conclusions drawn from an age, yes/no claims read at the claim word, ASR-split words,
values about something else in the same sentence, and cases the fact does not cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import fact_values as fv
from analysis.facts import FactChecker, FactsOptions
from store.records import Interaction, Turn, content_hash


def _example_checker() -> FactChecker:
    from convoscope import config

    cfg = config.load(str(Path(__file__).resolve().parents[2] / "config.example.toml"))
    return FactChecker(cfg.facts, FactsOptions(semantic_threshold=None))


#: refund 3-5 business days, cancellation fee 25 USD, warranty 2 years, no digital refunds
EXAMPLE = _example_checker()


def _agent(text: str) -> Interaction:
    return Interaction("call", "test", text[:20], content_hash(text, [text]), turns=[Turn(0, "agent", text)])


def _verdict(text: str) -> bool | None:
    """True: a contradiction; False: a checked consistent statement; None: nothing judged."""
    got = EXAMPLE.check(_agent(text))
    if not got:
        return None
    return any(f.contradicts for f in got)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("covered for 2 yrs", 730.0, 730.0),
        ("give it 3 wks", 21.0, 21.0),
        ("a full year", 365.0, 365.0),
        ("one and a half years", 547.5, 547.5),
        ("a month and a half", 45.0, 45.0),
        ("five business days max", 0.0, 7.0),
        ("two weeks minimum", 14.0, float("inf")),
        ("a few days", 3.0, 5.0),  # vague: a range, so it neither states nor denies 3-5 business days
    ],
)
def test_duration_forms(text: str, low: float, high: float) -> None:
    got = fv.durations(fv.normalise(text))
    assert got and (got[0].low, got[0].high) == pytest.approx((low, high)), got


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("thirty five u s dollars", "USD", 35.0),
        ("EUR 40.00 on cancellation", "EUR", 40.0),
        ("nineteen dollars ninety nine", "USD", 19.99),
        ("it's a tenner", "USD", 10.0),  # slang: the fact's currency
        ("twenty quid", "GBP", 20.0),
    ],
)
def test_money_forms(text: str, currency: str, amount: float) -> None:
    got = fv.money(fv.normalise(text), "USD")
    assert got and (got[0].dim, got[0].low) == (currency, pytest.approx(amount)), got


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        # money: other currency, slang, coded, waived, not a fixed fee
        ("Ending your contract early is 25 pounds.", True),
        ("Terminating before the term is up costs a tenner.", True),
        ("Early exit fee: GBP 25.", True),
        ("Breaking the contract early is twenty five dollars.", False),
        ("You'll owe the rest of the contract payments if you leave early.", True),
        ("Good news, you won't be charged the $25 fee for cancelling, we've waived it.", None),
        ("There's no penalty at all for cancelling your contract early.", True),
        # cases outside the fact: after the term, another thing cancelled, money given back
        ("Once your contract is up you can cancel with no fee.", None),
        ("Cancelling your booking is free.", None),
        ("If your contract has ended, cancelling costs nothing.", None),
        ("If you cancel before your contract has ended, it's a $100 charge.", True),
        ("It's going to cost you 200 dollars to get out of the contract.", True),
        ("I've cancelled the order and refunded the $80.", None),
        # "cancel" alone is the fee's subject only in a sentence about paying (weak_hints + claims)
        ("Cancelling the roadside cover saves you twelve dollars a month.", None),
        ("Once you've cancelled, your last invoice comes to $70.", None),
        ("Cancelling will cost you ninety dollars.", True),
        ("Cancellation requests are handled within 3 business days.", None),
        ("The refund for your returned order reaches you in two weeks.", True),
        # durations: bounds after, abbreviations, mixed stages, action windows, other things
        ("The refund will reach you in ten working days minimum.", True),
        ("The warranty is valid for 3 yrs.", True),
        ("We sent the refund within the hour, then it takes 3-5 business days to show up.", False),
        ("You have 60 days to send it back for a refund.", None),
        ("I've issued your refund, and a text confirmation comes through in a few seconds.", None),
        ("Refunds are never same-day here; allow four business days at least.", False),
        ("Refunds land in one to two weeks.", True),  # a range that only touches 4.2-7 days
        ("Refunds land in three to five days.", False),  # shares most of its width
        ("Your warranty repair should be done within five days.", None),
        ("Fixes under warranty are usually finished in two weeks.", None),
        ("We'll refund three months of your broadband.", None),  # an amount of service
        ("The extended warranty is 4 dollars a month.", None),  # a rate
        ("Warranty registration only takes 5 minutes.", None),  # the hint as a modifier
        ("Your parcel gets to you in 4 business days and the refund in 2 days.", True),
        ("Your parcel gets to you in 2 days and the refund in 4 business days.", False),
        ("the warranty is two years sorry no eighteen months", True),  # "no" answers the slip
        ("the warranty is eighteen months sorry no two years", False),
        # the warranty's length drawn from an age
        ("Since you bought it ten months ago, the warranty has already expired.", True),
        ("That camera is two and a half years old, so it's still covered.", None),  # no hint word
        ("That camera is two and a half years old, so it's still under warranty.", True),
        ("That camera is 22 months old, so it's still under warranty.", False),
        ("It's four years old now, which is past the warranty.", False),
        # yes/no at the claim word: conditions and idioms are not denials
        ("Audiobooks can be refunded as long as you haven't finished them.", True),
        ("If the game code didn't arrive, we'll refund it.", True),
        ("Sure, no worries, I'll refund that download now.", True),
        ("We aren't able to refund software licences, sorry.", False),
        ("I've refunded the charger, but the e-book stays on your account.", None),
        ("digital stuff is non refundable i'm afraid", False),
        ("An audiobook isn't something we can refund.", False),
        # ASR: split words, dropped apostrophes, a main clause after a condition
        ("okay the re fund should be with you in two weeks", True),
        ("if you want to end the con tract now there's a sixty dollar charge", True),
        ("yeah we cant refund the down load sorry", False),
        # ASR mishearings that sound like a hint word
        ("the warren tee on that is eighteen months", True),
        ("um the cancel asian fee is forty bucks", True),
        ("i warned it would take two days", None),  # sounds alike, spelt far from "warranty"
        # what remains of a period is no length of it
        ("you've got about four months left on the warranty", False),
        ("there's still three years remaining on your warranty", True),
        ("The warranty expires one year after purchase.", True),
    ],
)
def test_statement_shapes(text: str, verdict: bool | None) -> None:
    assert _verdict(text) is verdict, EXAMPLE.check(_agent(text))


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        # round 6: a decimal point ends no sentence, so the subject before it carries over
        ("We sent a refund of $19.50 to your Mastercard. Give it three weeks to arrive.", True),
        ("We sent a refund of $19.50 to your Mastercard. Give it four working days.", False),
        # "a week or two": the second number counts the first's unit
        ("your money back usually lands within a day or two", True),
        ("the reimbursement takes a week or so", False),
        # a fee per month left or a share of what is left is no fixed fee
        ("Terminating early costs $25 for each month left on the plan.", True),
        ("Breaking the contract means paying 15 percent of the outstanding balance.", True),
        ("the early termination fee is 25 dollars and your last bill is $40 a month", False),
        # a waived amount named as the fee states the fee
        ("I've waived the standard $45 exit fee for you today.", True),
        ("I've waived the $25 early termination fee this once.", False),
        # goods that are often digital, named as what the refund is about
        ("Sure, I'll refund the film you rented last night.", True),
        ("We can give you your money back for the ringtone.", True),
        ("The in-game coins aren't refundable, I'm afraid.", False),
        ("You can check the status of your refund in the app.", None),  # the app is where, not what
        ("Refunds apply to the original payment method.", None),  # "apply" is no "app"
        # someone else decides the refund: not our claim
        ("Google handles refunds for Play Store downloads.", None),
        # a correction of a yes/no claim: what follows counts
        ("we can't refund audiobooks oh actually okay i'll make an exception", True),
        ("We don't refund software licences. Actually, I have refunded it this time.", True),
        ("We can refund the e-book. Sorry, no, we can't refund it.", False),
        # the subject denied outright is a period of nothing; a condition is not
        ("That blender doesn't come with a warranty.", True),
        ("There's no warranty once the seal is broken.", None),
        ("There's no extended warranty on refurbished units.", None),
        # a corrected number keeps the unit of the one it replaces
        ("refunds take two to four working days sorry i mean nine to twelve", True),
        # a contraction's tail is no mishearing of a hint ("don't charge", not "t charge")
        ("we don't charge a thing if you end your contract early", True),
        # a deadline at the end of a calendar period
        ("the refund will be back in your account by the end of the month", True),
        ("the refund will be back in your account by the end of the week", False),
        # an add-on's cover is not the warranty's length
        ("The protection plan gives you cover for 4 years beyond the standard warranty.", None),
        # a term that has ended is no early cancellation
        ("When your minimum term is up, cancelling costs nothing.", None),
    ],
)
def test_round6_shapes(text: str, verdict: bool | None) -> None:
    assert _verdict(text) is verdict, EXAMPLE.check(_agent(text))


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        # "quicker than", "faster than" bound a value like "within"
        ("Your reimbursement lands faster than five working days.", False),
        ("Expect the money back sooner than two weeks.", True),
        # "before" opening a clause does not make the value an age
        ("It'll be three weeks before you get the refund.", True),
        ("I bought it a year before the warranty changed.", None),
        # an amount with a hyphenated currency word
        ("There's a sixty-dollar charge to end your contract early.", True),
        ("There's a twenty-five-dollar charge to end your contract early.", False),
        # "in no time" is instant; "refundable within" is the customer's window
        ("Your money back arrives in no time at all.", True),
        ("Vouchers are refundable within 60 days; the refund itself takes four business days.", False),
        # "refund/reimburse you for" a digital good
        ("We'll reimburse you for the song you bought twice.", True),
    ],
)
def test_round6_forms(text: str, verdict: bool | None) -> None:
    assert _verdict(text) is verdict, EXAMPLE.check(_agent(text))


def test_a_yes_no_fact_without_hint_words_reads_its_weak_hints() -> None:
    """A fact described without `hints` (only weak hints and claim words) is judged, not a
    crash: its goods named as what the claim is about still make a claim."""
    from analysis.facts import FactOptions

    fact = FactOptions(subject="refunds on digital goods", value="no", description="digital refunds",
                       claims=["refund"], weak_hints=["game"], type="yesno")  # fmt: skip
    checker = FactChecker([fact], FactsOptions(semantic_threshold=None))
    got = checker.check(_agent("I can refund the game for you today."))
    assert got and got[0].contradicts
    blank = FactOptions(subject="refunds on digital goods", value="no", claims=["refund"], weak_hints=[" "],
                        hints=["download"], type="yesno")  # fmt: skip
    assert FactChecker([blank], FactsOptions(semantic_threshold=None)).check(_agent("Your refund is on its way.")) == []
