"""The exact-layer index (`analysis.phrase_index`) and the trigram pre-check of
`PatternFilter` give the same answers as the per-list code they stand in for (#15)."""

from __future__ import annotations

import re

from analysis.matching import PhraseSet, TurnText
from analysis.phrase_index import ExactIndex
from analysis.regex_prefilter import PatternFilter
from store.records import Turn

TEXTS = [
    "I want to cancel my account, cancel it now!",
    "i want to cancel $ today",
    "Cancel... my   account?? I'll GUARANTEE it’s there tomorrow",
    "100% guaranteed, 100 % sure",
    "speak to your manager speak to a manager",
    "Straße İstanbul cancel my account",
    "",
    "   ",
    "cancel",
]
LISTS = [
    ["cancel my account", "cancel it", "i want to cancel $", "cancel"],
    ["{speak|talk} to {your|a} manager", "manager"],
    ["100% guaranteed", "guarantee it's there", "i'll guarantee"],
    ["straße", "istanbul cancel"],
]


def _sets() -> list[PhraseSet]:
    from analysis.phrase_text import expand_alternatives

    return [
        PhraseSet([x for p in ps for x in expand_alternatives(p)], fuzzy=f, phonetic=True)
        for ps in LISTS
        for f in (100.0, 85.0)
    ]


def test_index_gives_the_same_live_phrases() -> None:
    sets = _sets()
    index = ExactIndex(sets)
    for text in TEXTS:
        plain, indexed = TurnText(Turn(0, "agent", text)), TurnText(Turn(0, "agent", text))
        for s in sets:
            assert s.live(indexed, index) == s.live(plain), (text, s.targets)
    # the exact layer: where the words stand in a row, and only there (a trailing " $" is
    # checked later, by `phrase_candidates`)
    tt = TurnText(Turn(0, "agent", TEXTS[0]))
    got = index.live(tt, sets[0])
    assert got is not None
    assert {sets[0].compiled[k].target for k in got} == {
        "cancel my account",
        "cancel it",
        "i want to cancel",
        "cancel",
    }


def test_a_list_outside_the_index_keeps_its_own_exact_layer() -> None:
    inside, outside = _sets()[:1], PhraseSet(["cancel my account"], fuzzy=100.0, phonetic=False)
    tt = TurnText(Turn(0, "customer", "please cancel my account"))
    index = ExactIndex(inside)
    assert index.live(tt, outside) is None
    assert outside.live(tt, index) == [0]


def test_pattern_filter_trigram_precheck_matches_the_plain_scan() -> None:
    rxs = [
        re.compile(r"\bthat (?:fixed|sorted) it\b", re.I),
        re.compile(r"\bstill (?:not|isn't) working\b", re.I),
        re.compile(r"\bab\b", re.I),
        re.compile(r"[\U0001F644]|:-?\(", re.I),
    ]
    f = PatternFilter(rxs)
    for text in [
        *TEXTS,
        "That fixed it, thanks",
        "it's STILL not working :(",
        "ab",
        "a",
        "xy",
        "\U0001f644",
    ]:
        live = f.live(text)
        if not text.isascii():
            assert live is None
            continue
        low = text.lower()
        present = sum(1 << i for i, s in enumerate(f.vocab) if s in low)
        assert live == [all(present & m for m in ms) for ms in f.masks], text
        # and it is a necessary condition: a regex that matches is live
        assert all(ok for rx, ok in zip(rxs, live, strict=True) if rx.search(text))
