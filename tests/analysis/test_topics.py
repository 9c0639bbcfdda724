"""Topics (real MiniLM) and keywords (YAKE)."""

from __future__ import annotations

import pytest

from analysis import keywords
from analysis.topics import TopicDef, TopicModel, TopicOptions
from store.records import Turn


def _turns(*texts: str) -> list[Turn]:
    return [Turn(i, ("customer", "agent")[i % 2], t) for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def model() -> TopicModel:
    from analysis import embeddings

    return TopicModel(TopicOptions(), embeddings.encode)


def _top(model: TopicModel, *texts: str) -> list[str]:
    from analysis import embeddings

    turns = _turns(*texts)
    return [t.topic for t in model.score(turns, embeddings.encode([t.text for t in turns]))]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("texts", "topic"),
    [
        (("I was charged twice and I want my money back", "I will process a refund today"), "refund"),
        (("My parcel still has not arrived, tracking is stuck", "Let me contact the courier"), "delivery"),
        (("I can't log in, it says my password is wrong", "I can reset it for you"), "account_access"),
        (("Please close my subscription, I don't need it anymore", "Sorry to see you go"), "cancellation"),
        (("The app keeps crashing with an error since the update", "Try reinstalling it"), "technical_support"),
        (("Why is my invoice higher this month than last?", "The statement includes a new fee"), "billing"),
    ],
)
def test_taxonomy_topics(model: TopicModel, texts: tuple[str, ...], topic: str) -> None:
    assert _top(model, *texts)[0] == topic


@pytest.mark.slow
def test_unrelated_talk_gets_no_topic_and_scores_are_kept(model: TopicModel) -> None:
    from analysis import embeddings

    assert _top(model, "What are your opening hours?", "We open at nine.") == []
    turns = _turns("I want a refund for the double charge", "Sure")
    (best, *_rest) = model.score(turns, embeddings.encode([t.text for t in turns]))
    assert 0 < best.score <= 1 and best.hints == ["refund"] and best.as_dict()["topic"] == "refund"


def test_topic_options_validation() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        TopicOptions(taxonomy=[TopicDef("a", "x"), TopicDef("a", "y")])
    with pytest.raises(ValueError, match="threshold"):
        TopicOptions(threshold=2)


def test_keywords_skip_pii_markers_and_bot_turns() -> None:
    turns = [*_turns("My broadband router keeps dropping the connection every evening [PII:PHONE]", "I will send a replacement router and check the broadband line"), Turn(2, "bot", "Please rate our service survey survey survey")]
    kws = keywords.extract(turns, top=5)
    assert kws and any("router" in k or "broadband" in k for k in kws)
    assert not any("pii" in k or "survey" in k for k in kws)
    assert keywords.extract(_turns("ok"), top=5) == []


def test_compiled_keywords_match_the_reference_yake() -> None:
    """yake-rust ranks, yake's own similarity de-duplicates: the same lists as `yake` alone
    on contact-centre text (near-duplicates such as 'record'/'recorded' included)."""
    convs = [
        _turns("No problem, take your time. This call may be recorded. How can I help?",
               "this call may be record it record it how can i help",
               "Please note our lines are recorded. What's the reason for your call?"),
        _turns("Hi, I was charged twice for my subscription this month, I want my money back.",
               "I have issued a refund, it will show on your statement in 3-5 days.",
               "Thanks, that fixed it. Have a great day! It has been 12 days, ticket 48213 is still open."),
        _turns("My package has not arrived yet and the tracking number shows nothing.",
               "I understand your frustration. I've escalated this to our technical team.",
               "Let me speak to your manager right now, I am fed up with the tracking."),
    ]  # fmt: skip
    assert keywords._compiled(2) is not None, "yake-rust is a dependency"
    for turns in convs:
        ref = keywords.extract(turns, compiled=False)
        assert ref and keywords.extract(turns) == ref
