"""Entity linking: case- and accent-insensitive, first names and nicknames, one-letter
typos, and ambiguity kept as a choice (never a guess)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.questions.linking import Linker, fold
from bot.questions.parser import parse
from store.entities import EntityValues
from store.query import Match

VALUES = EntityValues(
    agents=("Maria Lopez", "José Núñez", "John Carter", "John Okafor", "Robert Hughes", "Katherine Ng", "1042"),
    queues=("billing", "Premium Support", "tech_support"),
    topics=("refund", "password_reset", "billing"),
    clusters=(("7", "double charged on invoice"),),
)
LINKER = Linker(VALUES)
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 3, 10, tzinfo=UTC)


def test_fold_keeps_offsets() -> None:
    assert fold("José NÚÑEZ's") == "jose nunez's" and len(fold("Zoë")) == 3


@pytest.mark.parametrize(
    ("typed", "kind", "values"),
    [
        ("maria", "agent", ("Maria Lopez",)),  # first name
        ("LOPEZ", "agent", ("Maria Lopez",)),  # last name, any case
        ("jose nunez", "agent", ("José Núñez",)),  # accents
        ("Bob", "agent", ("Robert Hughes",)),  # nickname
        ("kate", "agent", ("Katherine Ng",)),
        ("Maria Lopes", "agent", ("Maria Lopez",)),  # one typo
        ("biling", "queue", ("billing",)),
        ("premium support", "queue", ("Premium Support",)),
        ("premium", "queue", ("Premium Support",)),  # "… Support" also by its first word
        ("tech support", "queue", ("tech_support",)),
        ("password reset", "topic", ("password_reset",)),
        ("john", "agent", ("John Carter", "John Okafor")),  # ambiguous: both kept
    ],
)
def test_lookup(typed: str, kind: str, values: tuple[str, ...]) -> None:
    links = {link.kind: link.values for link in LINKER.lookup(typed)}
    assert links[kind] == values


def test_common_words_are_not_names() -> None:
    assert LINKER.lookup("calls") == [] and LINKER.lookup("xyzzy") == []


def test_ambiguous_name_is_a_choice_not_a_guess() -> None:
    q = parse("angry calls from John this week", TZ, NOW, LINKER)
    assert q.extra["ambiguous"] == {"agent": ["John Carter", "John Okafor"]} and not q.matches("agent")
    assert parse("calls by john okafor", TZ, NOW, LINKER).matches("agent") == [Match("agent", ("John Okafor",))]


def test_billing_is_a_queue_unless_said_to_be_a_topic() -> None:
    assert parse("calls in billing", TZ, NOW, LINKER).matches("queue") == [Match("queue", ("billing",))]
    assert parse("chats about billing", TZ, NOW, LINKER).matches("topic") == [Match("topic", ("billing",))]
    assert parse("calls in cluster 7", TZ, NOW, LINKER).matches("cluster") == [
        Match("cluster", ("double charged on invoice",))]


def test_unknown_name_is_reported_not_guessed() -> None:
    q = parse("calls by Zebulon today", TZ, NOW, LINKER)
    assert not q.matches("agent") and q.ignored == ("Zebulon",)
