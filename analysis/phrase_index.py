"""The exact layer of every phrase list of a rule set, looked up once per turn (issue 15).

`PhraseSet.live` tells which phrases of one condition may match a turn; its exact layer
indexed each list by first and last word and then ran each candidate's regex. With ~60
phrase lists in the shipped rules, every turn paid ~60 index walks and a few hundred
candidate checks, most failing: the largest share of the rules engine's CPU on
`bench/analysis.py`'s turns.

Why one lookup per turn is the same answer: the turn's normalised text (`TurnText.norm`)
holds only word characters (`[\\w'%]`) and spaces, and a phrase's exact regex is its words
joined by `\\s+` between word boundaries (`CompiledPhrase.pattern`), so it matches exactly
where the phrase's words stand one after another among the turn's words (`TurnText.words`).
`ExactIndex` maps every phrase's word tuple to the (list, phrase) pairs that spell it and
looks up each run of the turn's words once (only runs whose first word starts a phrase, and
only the lengths phrases with that first word have), for every list of the rule set at once.
The fuzzy and phonetic layers are unchanged (`PhraseSet.live`).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.matching import PhraseSet, TurnText

#: a phrase's code in the index: its list's slot shifted left by this, plus its index
_SHIFT = 20
#: lists longer than this keep their own exact layer (`PhraseSet.by_first`): the shipped
#: families' largest list (~126,000 expanded phrases) is cheap there, since few of its
#: phrases share both first and last word with a turn, and indexing it would cost ~2/3 of
#: this index's build time and memory
MAX_PHRASES = 50_000


class ExactIndex:
    """Word tuple -> the phrases of the indexed lists that spell it; built once per rule set
    (`RuleEngine`), consulted per turn by `PhraseSet.live` (`RuleContext.exact`)."""

    __slots__ = ("_sets", "by_words", "lengths", "slot")

    def __init__(self, sets: Iterable[PhraseSet]) -> None:
        #: id(list) -> its slot; the lists are kept (`_sets`) so an id is never reused
        self.slot: dict[int, int] = {}
        self._sets: list[PhraseSet] = []
        #: word tuple -> the code of the phrase that spells it (a tuple of codes when several do)
        self.by_words: dict[tuple[str, ...], int | tuple[int, ...]] = {}
        by_words = self.by_words
        lengths: dict[str, set[int]] = {}
        for s in sets:
            if id(s) in self.slot or len(s.compiled) > MAX_PHRASES:
                continue  # listed twice, or so long that its own index is cheaper to keep
            slot = len(self._sets)
            self.slot[id(s)] = slot
            self._sets.append(s)
            for k, cp in enumerate(s.compiled):
                code = (slot << _SHIFT) | k
                got = by_words.get(cp.words)
                by_words[cp.words] = (
                    code if got is None else (*(got if isinstance(got, tuple) else (got,)), code)
                )
                lengths.setdefault(cp.words[0], set()).add(len(cp.words))
        #: first word -> the word counts of the phrases that start with it, ascending
        self.lengths = {w: tuple(sorted(ns)) for w, ns in lengths.items()}

    def live(self, tt: TurnText, s: PhraseSet) -> AbstractSet[int] | None:
        """The phrases of list `s` whose words stand in a row in the turn (the exact layer
        of `PhraseSet.live`); None when `s` is not indexed here."""
        slot = self.slot.get(id(s))
        if slot is None:
            return None
        hits = tt.exact_hits
        if hits is None:
            hits = tt.exact_hits = self._hits(tt.words)
        return hits.get(slot, _NONE)

    def _hits(self, words: list[str]) -> dict[int, set[int]]:
        """slot -> the phrases of that list found in `words` (one pass for every list)."""
        out: dict[int, set[int]] = {}
        by_words, lengths, n_words = self.by_words, self.lengths, len(words)
        mask = (1 << _SHIFT) - 1
        for i, w in enumerate(words):
            ns = lengths.get(w)
            if ns is None:
                continue
            for n in ns:
                if i + n > n_words:
                    break
                codes = by_words.get(tuple(words[i : i + n]))
                if codes is None:
                    continue
                for c in codes if isinstance(codes, tuple) else (codes,):
                    out.setdefault(c >> _SHIFT, set()).add(c & mask)
        return out


_NONE: frozenset[int] = frozenset()
