"""The text side of phrase matching: `{a|b}` expansion, normalisation and word forms.

Why its own module: `analysis.matching` finds phrases in turns; what it compares is made
here, and other readers need the same words without the matcher (the rules loader expands
`{a|b}` lines, the conditions read a turn's words with `normalise`). One definition of a
word (`WORD`) keeps a phrase's words and a turn's words in step.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish

#: "%" is part of a word, so "100%" is one word (a promise's "100% it'll be there") and not
#: the number 100 ("100 pounds")
WORD = re.compile(r"[\w'%]+")
_NON_WORD = re.compile(r"[^\w'%]")
_ALTERNATION = re.compile(r"\{([^{}]*)\}")


def expand_alternatives(text: str) -> list[str]:
    """`"{speak|talk} to {your|a} manager"` -> the four phrases it stands for.

    Why: a rule author writes one family of phrasings as one line, and each expanded phrase
    is still matched on its own (exact, fuzzy, Metaphone) with its own evidence. An empty
    alternative drops the slot: `"{really |}sorry"`.
    """
    return list(_expanded(text))


@lru_cache(maxsize=8192)
def _expanded(text: str) -> tuple[str, ...]:
    """`expand_alternatives`, kept per line: every rule engine built in one process (the
    CLI's, a worker's, the test suite's many) spells out the same shipped family lines, which
    is ~1 s of CPU per build (196,000 phrases from 346 lines)."""
    return tuple(_expand(text))


def _expand(text: str) -> list[str]:
    m = _ALTERNATION.search(text)
    if m is None:
        return [" ".join(text.split())]
    # a dict keeps first-seen order and dedupes in O(1): a family line of four slots expands
    # to thousands of phrases, and a list's `in` made loading the shipped rules take seconds
    out: dict[str, None] = {}
    for alt in m.group(1).split("|"):
        for rest in _expand(text[: m.start()] + alt + text[m.end() :]):
            if rest:
                out.setdefault(rest)
    return list(out)


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, same length as the input (offsets stay valid).

    A typographic apostrophe (’, as phones and mail clients type it) becomes ', so "can’t"
    is the one word "can't" as the clause reader and the phrase lists spell it.
    """
    low = text.lower()
    if len(low) != len(text):  # a few Unicode characters change length when lowered
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return _NON_WORD.sub(" ", low.replace("\u2019", "'"))


@lru_cache(maxsize=4096)
def metaphone(word: str) -> str:
    """A word's Metaphone code (jellyfish); a word that is not all letters ("100%",
    "can't", "24") is its own code, so the phonetic layer compares it as spelt."""
    return jellyfish.metaphone(word) if word.isalpha() else word


#: past forms that regular -ed rules do not make (for the tense guard, `past_forms`)
IRREGULAR_PAST: dict[str, frozenset[str]] = {
    "speak": frozenset({"spoke", "spoken"}), "leave": frozenset({"left"}), "get": frozenset({"got", "gotten"}),
    "tell": frozenset({"told"}), "take": frozenset({"took", "taken"}), "go": frozenset({"went", "gone"}),
    "send": frozenset({"sent"}), "pay": frozenset({"paid"}), "give": frozenset({"gave", "given"}),
}  # fmt: skip


@lru_cache(maxsize=4096)
def past_forms(word: str) -> frozenset[str]:
    """Past forms of a verb ("cancel" -> "canceled", "cancelled"; "speak" -> "spoke").

    The tense guard: a fuzzy or phonetic match must not turn the phrase's verb into its past
    ("I spoke to a manager yesterday" is not "speak to a manager", and Metaphone hears
    "spoke" and "speak" alike); a phrase that spells the past form itself still matches it.
    """
    if not word.isalpha() or len(word) < 3:
        return frozenset()
    out = {word + "ed", word + word[-1] + "ed"}
    if word.endswith("e"):
        out.add(word + "d")
    if word.endswith("y"):
        out.add(word[:-1] + "ied")
    return frozenset(out | IRREGULAR_PAST.get(word, frozenset())) - {word}
