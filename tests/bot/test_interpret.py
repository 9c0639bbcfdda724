"""The interpretation line every answer starts with: the typed query in plain words."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from test_questions_corpus import checker, corpus_linker

from bot.questions.interpret import interpret
from bot.questions.parser import parse

CHK = checker()
LINKER = corpus_linker()


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("angry calls by Maria this week", "Angry calls · agent Maria Lopez · this week (Mon 30 Nov → now)"),
        ("calls longer than 10 minutes not in billing yesterday",
         "Calls · duration > 10 min · not in billing · yesterday (Tue 1 Dec)"),
        ("which agent has the most angry calls this week",
         "Agents ranked by number of angry calls, highest first · this week (Mon 30 Nov → now)"),
        ("average sentiment by queue last week", "Average sentiment by queue · last week (Mon 23 Nov → Sun 29 Nov)"),
        ("this week vs last week",
         "Number of interactions · this week (Mon 30 Nov → now) · vs last week (Mon 23 Nov → Sun 29 Nov)"),
        ("show me angry calls urgently today", "Angry calls · today (Wed 2 Dec → now). I ignored: 'urgently'"),
        ("calls from John today",
         "Calls · today (Wed 2 Dec → now). Which agent did you mean: John Carter or John Okafor?"),
        ("the 5 most negative chats yesterday", "Chats · by sentiment, lowest first · first 5 · yesterday (Tue 1 Dec)"),
    ],
)
def test_interpretation_line(question: str, line: str) -> None:
    assert interpret(parse(question, CHK.TIMEZONE, CHK.NOW, LINKER), CHK.NOW) == line
