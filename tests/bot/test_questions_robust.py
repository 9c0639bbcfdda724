"""The parser never raises on what a user types, and what it returns is always a valid
typed query (it round-trips through JSON and reads back in words): seeded random
questions built from the grammar's own words, numbers, names, punctuation and noise."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.questions.interpret import interpret
from bot.questions.linking import Linker
from bot.questions.parser import parse
from bot.questions.vocab import VOCABULARY
from store.entities import EntityValues
from store.query import Query

LINKER = Linker(EntityValues(agents=("Maria Lopez", "John Carter", "John Okafor", "1042"),
                             queues=("billing", "sales"), topics=("refund", "billing"),
                             clusters=(("7", "double charged"),)))  # fmt: skip
NOISE = ["not", "vs", "between", "and", "or", "by", "per", "top", "5", "-0.5", "10%", "#12", "'", '"', "?",
         "→", "ümlaut", "😀", "\u200b", "--", "///", "0", "99999999999999999999", "since", "on", "in", "week 99",
         "q5", "31 February", "2026-13-45", "John", "maria", "cluster", "7", "+1 312 555 0147", "a@b.c",
         "more than", "less than", "minutes", "hours", "%", "at least", "no", "non-", "n't", "which", "who"]  # fmt: skip
ZONES = [ZoneInfo("America/Chicago"), ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]


def test_random_questions_always_give_a_valid_query() -> None:
    rng = random.Random(14)
    words = list(VOCABULARY) + NOISE
    for i in range(1000):
        n = rng.randint(0, 14)
        text = " ".join(rng.choice(words) for _ in range(n))
        if i % 7 == 0:
            text = text.upper()
        tz = ZONES[i % len(ZONES)]
        now = datetime(2026, 3, 8, 7, 30, tzinfo=UTC) if i % 2 else datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
        q = parse(text, tz, now, LINKER)
        assert Query.from_dict(q.to_dict()).to_dict() == q.to_dict(), text
        if q.period is not None:
            # as instants: in the repeated hour of a DST change wall clocks do not order them
            assert q.period.start.astimezone(UTC) < q.period.end.astimezone(UTC), text
        assert isinstance(interpret(q, now), str)


def test_long_and_empty_input() -> None:
    now = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    assert parse("", ZONES[0], now).view == "help"
    assert parse("   \n\t ", ZONES[0], now).view == "help"
    long = "angry calls " * 40  # the engine refuses questions over 500 characters
    q = parse(long, ZONES[0], now, LINKER)
    assert q.view == "list" and q.matches("flag")
