"""Incorrect information (#19): values read from agent statements (spoken and written
numbers, ranges, bounds, money, yes/no), clause-aware, compared with `[[facts]]`; and
through the real analysis job the `incorrect_information` flag with its evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.anger import AngerOptions
from analysis.facts import FactChecker, FactOptions, FactsOptions
from analysis.options import AnalysisOptions
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.sentiment import SentimentOptions
from analysis.topics import TopicOptions
from store import flags as flag_store
from store import interactions as istore
from store.db import Store
from store.records import Interaction, Turn, content_hash

FACTS = [
    FactOptions(subject="refund processing time", value="5-7 business days", hints=["refund", "money back"]),
    FactOptions(subject="cancellation fee", value="25 USD", hints=["cancellation fee", "termination fee"]),
    FactOptions(subject="warranty", value="2 years", hints=["warranty"]),
    FactOptions(subject="refunds on digital goods", value="no", hints=["digital", "download"]),
    FactOptions(subject="carrier", value="UPS", choices=["UPS", "FedEx", "DHL"], hints=["ship", "carrier"]),
]
CHECKER = FactChecker(FACTS, FactsOptions(semantic_threshold=None))


def _agent(text: str, queue: str | None = None) -> Interaction:
    return Interaction("chat", "test", text[:20], content_hash(text, [text]), queue=queue,
                       turns=[Turn(0, "agent", text)])  # fmt: skip


@pytest.mark.parametrize(
    ("text", "contradicts"),
    [
        ("Your refund will be processed within two days.", True),
        ("The refund takes five to seven business days.", False),
        ("It won't take more than a week for the refund.", False),  # at most 7 days: meets 7-9.8
        ("Your refund will take more than two weeks.", True),
        ("Refunds take up to six months.", True),  # far looser than the policy
        ("The cancellation fee is twenty-five dollars.", False),
        ("There's no cancellation fee at all.", True),
        ("The termination fee is $50.", True),
        ("The warranty is one year.", True),
        ("The warranty covers 24 months.", False),
        ("We can refund digital purchases.", True),
        ("Sadly downloads cannot be refunded.", False),
        ("We ship with FedEx.", True),
        ("We ship with UPS.", False),
    ],
)
def test_statements_compared_with_facts(text: str, contradicts: bool) -> None:
    got = [f for f in CHECKER.check(_agent(text))]
    assert got, f"no statement read in {text!r}"
    assert got[0].contradicts is contradicts, got


@pytest.mark.parametrize(
    "text",
    [
        "I can't say exactly when the refund arrives.",  # hedge: no value, not judged
        "I'm not sure, maybe the refund takes two days.",  # hedged value
        "Is the refund going to take two days?",  # a question
        "The website says refunds take two days.",  # reported speech
        "If the refund took two days we'd be the fastest.",  # hypothetical
        "It doesn't take two days.",  # negated value without a bound: no claim
    ],
)
def test_ambiguous_statements_are_not_judged(text: str) -> None:
    assert [f for f in CHECKER.check(_agent(text)) if f.contradicts] == []


def test_customer_words_and_other_queues_are_not_checked() -> None:
    it = Interaction("chat", "test", "c", "h", turns=[Turn(0, "customer", "you said the refund takes two days")])
    assert CHECKER.check(it) == []
    scoped = FactChecker([FactOptions(subject="fee", value="25 USD", hints=["fee"], queues=["billing"])],
                         FactsOptions(semantic_threshold=None))  # fmt: skip
    assert scoped.check(_agent("The fee is $40.", queue="sales")) == []
    assert scoped.check(_agent("The fee is $40.", queue="billing"))[0].contradicts


def test_bad_fact_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="cannot read a value"):
        FactOptions(subject="x", value="whenever", hints=["x"])


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_pipeline_raises_incorrect_information_with_evidence(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.duckdb")
    try:
        t0 = datetime(2026, 12, 3, 9, tzinfo=UTC)
        turns = [Turn(0, "customer", "When do I get my money?", sent_at=t0),
                 Turn(1, "agent", "I've pushed it through, the refund will be back on your card within 24 hours.",
                      sent_at=t0),
                 Turn(2, "customer", "Great, thanks!", sent_at=t0)]  # fmt: skip
        istore.upsert(store, [Interaction("chat", "test", "r1", content_hash("r1", ["x"]), started_at=t0,
                                          turns=turns)])  # fmt: skip
        Analyzer(
            AnalysisOptions(transcribe=False), sentiment=SentimentOptions(backend="vader"), anger=AngerOptions(),
            topics=TopicOptions(taxonomy=[]), rules=[], redaction=RedactionOptions(), cache_dir="/nonexistent",
            facts=FACTS, fact_check=FactsOptions(semantic_threshold=None),
        ).run(store)  # fmt: skip
        iid = istore.existing_hashes(store, "test", ["r1"])["r1"][0]
        flags = [f for f in flag_store.for_interaction(store, iid) if f.kind == "incorrect_information"]
        assert len(flags) == 1
        f = flags[0]
        assert f.summary is not None and "agent said 'within 24 hours'" in f.summary
        assert "policy: 5-7 business days" in f.summary
        assert f.evidence[0]["seq"] == 1 and f.confidence is not None and f.confidence > 0.5
    finally:
        store.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_config_loads_example_facts_and_rejects_a_bad_one(tmp_path: Path) -> None:
    from convoscope import config

    root = Path(__file__).resolve().parents[2]
    cfg = config.load(str(root / "config.example.toml"))
    assert {f.subject for f in cfg.facts} >= {"refund processing time", "cancellation fee"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[[facts]]\nsubject = "refund"\nhints = ["refund"]\nvalue = "whenever"\n')
    with pytest.raises(config.ConfigError, match="cannot read a value from 'whenever'"):
        config.load(str(bad))


# -- failure modes of the first fresh set (#19, round 3), in phrasings of their own ---------

#: the example configuration's facts (refund 3-5 business days, fee 25 USD, warranty 2 years,
#: no refunds on digital goods), as shipped
def _example_checker() -> FactChecker:
    from convoscope import config

    cfg = config.load(str(Path(__file__).resolve().parents[2] / "config.example.toml"))
    return FactChecker(cfg.facts, FactsOptions(semantic_threshold=None))


EXAMPLE = _example_checker()


@pytest.mark.parametrize(
    ("text", "contradicts"),
    [
        ("The money goes back to your card immediately.", True),
        ("You'll get your refund by tomorrow at the latest.", True),
        ("We do same-day refunds for card payments.", True),
        ("The refund lands in your account tonight.", True),
        ("Your printer comes with a lifetime warranty.", True),
        ("That laptop has an 18-month warranty.", True),
        ("It carries a 6-month warranty only.", True),
        ("There's a two-year warranty on all our routers.", False),
        ("Refunds reach you within five working days, never later.", False),
        ("I processed the refund this morning, it takes three to five business days to show.", False),
    ],
)
def test_values_in_words_and_hyphenated_units(text: str, contradicts: bool) -> None:
    got = EXAMPLE.check(_agent(text))
    assert got, f"no statement read in {text!r}"
    assert got[0].contradicts is contradicts, got


@pytest.mark.parametrize(
    "text",
    [
        "The phone is four years old, so the warranty no longer applies.",  # an age, not the length
        "You purchased it 30 months ago, which puts it outside the warranty.",
        "The warranty is three years, sorry, I mean two years.",  # a self-correction
        "The warranty lasts one year. Sorry, my mistake, it's two years.",
        "The gift card works in every one of our shops.",  # a digital good, no refund claim
        "Your download link stays valid for 48 hours.",
    ],
)
def test_ages_self_corrections_and_mentions_without_a_claim_are_not_flagged(text: str) -> None:
    assert [f for f in EXAMPLE.check(_agent(text)) if f.contradicts] == []


@pytest.mark.parametrize(
    "text",
    [
        "You won't pay anything to cancel.",
        "there is no charge at all if you want to cancel",
        "if you cancel today its a fifty dollar termination fee",  # ASR "its"
        "the cancellation charge is 60",  # ASR dropped the currency word
        "Sure, I've refunded the e-book for you.",
        "The warranty is one year, I mean, sorry, six months.",  # corrected, still wrong
    ],
)
def test_wrong_values_in_other_forms_are_flagged(text: str) -> None:
    assert [f for f in EXAMPLE.check(_agent(text)) if f.contradicts], text


def test_an_at_most_bound_far_above_the_policy_misstates_it() -> None:
    loose = EXAMPLE.check(_agent("The refund takes up to 10 business days."))  # at most 14 days against 4.2-7
    assert loose and loose[0].contradicts
    fair = EXAMPLE.check(_agent("The refund won't take more than a week."))  # at most 7: the policy's maximum
    assert fair and not fair[0].contradicts


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_policy_snippet_folder_adds_facts_and_names_a_bad_file(tmp_path: Path) -> None:
    from convoscope import config

    pol = tmp_path / "policies"
    pol.mkdir()
    (pol / "delivery.md").write_text(
        '+++\nsubject = "standard delivery time"\nhints = ["delivery", "arrive"]\nvalue = "2-4 business days"\n+++\n'
        "Standard parcels arrive in two to four business days after dispatch.\n"
    )
    (pol / "fees.toml").write_text('[[facts]]\nsubject = "paper bill fee"\nhints = ["paper bill"]\nvalue = "2 USD"\n')
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('[fact_check]\npolicy_dir = "policies"\nsemantic_threshold = 0.6\n')
    cfg = config.load(str(cfg_file))
    subjects = [f.subject for f in cfg.facts]
    assert subjects == ["standard delivery time", "paper bill fee"]
    assert "two to four business days" in cfg.facts[0].description
    checker = FactChecker(cfg.facts, FactsOptions(semantic_threshold=None))
    assert checker.check(_agent("Your parcel will arrive tomorrow."))[0].contradicts
    assert not checker.check(_agent("The paper bill fee is two dollars."))[0].contradicts
    (pol / "broken.md").write_text('+++\nsubject = "x"\nhints = ["x"]\nvalue = "whenever"\n+++\n')
    with pytest.raises(config.ConfigError, match=r"broken\.md"):
        config.load(str(cfg_file))
