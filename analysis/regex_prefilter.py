"""A literal pre-check for long cue regexes: skip a regex that cannot match a text.

The resolution cue lists (analysis/resolution_cues.py) are ~120 case-insensitive regexes,
each built around spoken fillers (`(?:um+|uh+|...)*`) and `\\b`, and Python's `re` tries
every one at every position of every turn: that scan was most of the resolution stage's
CPU (~2 ms of the ~3 ms per interaction on bench/analysis.py's turns). Yet each regex can
only match where certain words stand ("fixed"/"sorted"/"solved" and "that"/"this"/"it"
for "that fixed it"), and most turns lack them.

`required(rx)` reads the regex's own parse tree (the standard library's `re._parser`, the
parser `re.compile` itself runs) and returns OR-sets of strings: every match contains one
string of each set (runs of literals, each alternation's choices, a repeated element's
own strings). `may_match(rx, text)` and `PatternFilter.live` are then substring tests. It
is a necessary condition only: where it says True the regex runs as before, so the matches
(and every verdict made from them) are exactly the regex's. Whatever the reader does not
understand (a character category, a back-reference, an optional element) requires nothing.

The test is case-insensitive (text and strings lower-cased) and applied only to ASCII
text, with ASCII strings: under `re.IGNORECASE` some non-ASCII letters match ASCII ones
("K" Kelvin sign and "k", "ſ" and "s"), which lower-casing does not reproduce, so a
non-ASCII text always runs the regex and a set with a non-ASCII string is not used.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

try:  # the parser re.compile uses (Python 3.11+: re._parser; sre_parse is its old name)
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - an interpreter without it: no pre-check at all
    _c = _p = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: at most this many strings in one exact set (past it a run of literals is cut short: the
#: part so far is still required)
MAX_OPENINGS = 64
#: at most this many OR-sets are tested per regex (the most selective)
MAX_SETS = 4
#: a character class of at most this many characters branches ("[ae]" -> "a", "e")
MAX_CLASS = 8


def _score(s: set[str]) -> tuple[int, int]:
    """How selective an OR-set of required strings is: its shortest string, then fewer."""
    return (min(len(x) for x in s), -len(s))


def _best(reqs: list[set[str]]) -> set[str]:
    return max(reqs, key=_score, default={""})


def _item(op: object, av: object) -> tuple[set[str] | None, list[set[str]]]:
    """(exact, required) of one parsed element: `exact`, every string it can match when
    that is a small finite set (else None); `required`, OR-sets of strings (a match
    contains one string of each set; [] when none can be told)."""
    assert _c is not None
    if op is _c.LITERAL:
        return {chr(av)}, []  # type: ignore[arg-type]
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):  # zero-width: consumes nothing
        return {""}, []
    if op is _c.SUBPATTERN:
        return _seq(av[-1])  # type: ignore[index]
    if op is _c.ATOMIC_GROUP:
        return _seq(av)  # type: ignore[arg-type]
    if op is _c.BRANCH:
        exact: set[str] | None = set()
        either: set[str] = set()  # a match is one alternative's: one of their best sets
        for alt in av[1]:  # type: ignore[index]
            e, r = _seq(alt)
            exact = None if exact is None or e is None else exact | e
            either |= _best(r + ([e] if e else []))
        if exact is not None and len(exact) > MAX_OPENINGS:
            exact = None
        return exact, ([either] if "" not in either else [])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        lo, hi, sub = av  # type: ignore[misc]
        if lo == 0:
            return None, []
        e, r = _seq(sub)
        if lo == hi == 1:
            return e, r
        return None, r + ([e] if e and "" not in e else [])
    if op is _c.IN:
        chars: set[str] = set()
        for kind, val in av:  # type: ignore[union-attr]
            if kind is _c.LITERAL:
                chars.add(chr(val))
            elif kind is _c.RANGE and val[1] - val[0] < MAX_CLASS:
                chars.update(chr(x) for x in range(val[0], val[1] + 1))
            else:  # NEGATE, CATEGORY, a wide range
                return None, []
        if 0 < len(chars) <= MAX_CLASS:
            return chars, []
        return None, []
    return None, []  # ANY, CATEGORY, GROUPREF, NOT_LITERAL, ...


def _seq(items: object) -> tuple[set[str] | None, list[set[str]]]:
    """(exact, required) of a sequence: every element's required sets hold, and so does
    each run of consecutive exact elements, concatenated."""
    reqs: list[set[str]] = []
    run: set[str] = {""}
    whole = True  # every element so far exact
    for op, av in items:  # type: ignore[attr-defined]
        e, r = _item(op, av)
        reqs += r
        if e is None:
            if "" not in run:
                reqs.append(run)
            run, whole = {""}, False
            continue
        nxt = {a + b for a in run for b in e}
        if len(nxt) > MAX_OPENINGS:
            if "" not in run:
                reqs.append(run)
            nxt, whole = set(e), False
        run = nxt
    if "" not in run:
        reqs.append(run)
    return (run if whole else None), reqs


@lru_cache(maxsize=4096)
def required(rx: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """Lower-cased OR-sets of strings: every match of `rx` contains one string of each set.
    () when none can be told (then `may_match` is always True). At most `MAX_SETS`, the
    most selective."""
    if _p is None or not isinstance(rx.pattern, str):
        return ()
    _exact, reqs = _seq(_p.parse(rx.pattern, rx.flags & ~re.DEBUG))
    out: list[tuple[str, ...]] = []
    for req in sorted(reqs, key=_score, reverse=True):
        low = sorted({s.lower() for s in req}, key=len)
        if "" in low or not all(s.isascii() for s in low):
            continue  # a non-ASCII letter of the regex may match an ASCII one ("ſ" "s")
        keep: list[str] = []  # a string containing a shorter one of the set adds nothing
        for s in low:
            if not any(o in s for o in keep):
                keep.append(s)
        if tuple(keep) not in out:
            out.append(tuple(keep))
    return tuple(out[:MAX_SETS])


def may_match(rx: re.Pattern[str], text: str, lowered: str | None = None) -> bool:
    """False only when `rx` cannot match anywhere in `text` (see the module docstring).
    `lowered`: `text.lower()` when the caller has it already (several regexes, one text)."""
    sets = required(rx)
    if not sets or not text.isascii():
        return True
    low = text.lower() if lowered is None else lowered
    return all(any(s in low for s in req) for req in sets)


class PatternFilter:
    """`may_match` for a whole list of regexes at once (a cue list read over every turn):
    each string the list's regexes require is looked for once per text, and a regex runs
    only where every one of its sets has a string present. One call costs a few
    microseconds where the regexes cost tens (~5 µs per regex and text on this machine)."""

    __slots__ = ("by_gram", "masks", "short", "vocab")

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        sets = [required(rx) for rx in patterns]
        self.vocab = sorted({s for per in sets for req in per for s in req})
        bit = {s: 1 << i for i, s in enumerate(self.vocab)}
        #: per regex, one bit mask per required set (empty: the regex always runs)
        self.masks = [tuple(sum(bit[s] for s in req) for req in per) for per in sets]
        # Which strings are present is found from the text's character trigrams (#15): the
        # cue lists have 100-300 strings, and testing each one (`s in low` in a Python loop)
        # cost 40-90 µs per list and turn, while a text holds few of them. A string of 3+
        # characters can only be in the text where one of its trigrams is, so it is tested
        # only when its most selective trigram (shared by the fewest strings) is there;
        # shorter strings are always tested. Every test is still `s in low`: same answer.
        grams = {s: set(zip(s, s[1:], s[2:], strict=False)) for s in self.vocab if len(s) >= 3}
        shared: dict[tuple[str, str, str], int] = {}
        for gs in grams.values():
            for g in gs:
                shared[g] = shared.get(g, 0) + 1
        #: trigram (3 characters) -> the (bit, string) pairs tested when the text has it
        self.by_gram: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
        for s, gs in grams.items():
            key = min(gs, key=lambda g: (shared[g], " " in g, g))
            self.by_gram.setdefault(key, []).append((bit[s], s))
        #: the strings under 3 characters, tested on every text
        self.short = [(bit[s], s) for s in self.vocab if len(s) < 3]

    def live(self, text: str) -> list[bool] | None:
        """Per regex, whether it may match `text`; None when every one may (non-ASCII text)."""
        if not text.isascii():
            return None
        low = text.lower()
        present = 0
        for b, s in self.short:
            if s in low:
                present |= b
        by_gram = self.by_gram
        for g in _trigrams(low).intersection(by_gram):
            for b, s in by_gram[g]:
                if s in low:
                    present |= b
        out = []
        for ms in self.masks:  # a loop, not all(<generator>): ~4x cheaper per regex
            for m in ms:
                if not present & m:
                    out.append(False)
                    break
            else:
                out.append(True)
        return out


@lru_cache(maxsize=16)
def _trigrams(low: str) -> frozenset[tuple[str, str, str]]:
    """The text's character trigrams (as 3-tuples: `zip` builds them without slicing); kept
    for the last few texts, since the resolution stage asks several cue lists about the same
    turn one after another."""
    return frozenset(zip(low, low[1:], low[2:], strict=False))


#: a pattern shaped like the cue lists' and what every match of it must contain
_PROBE = (r"\b(?:um+ )*that (?:fixed|sorted) it\b", {frozenset({"fixed", "sorted"})})


def _reader_works() -> bool:
    """Whether this interpreter's `re._parser` still has the tuple layout the reader was
    written for (Python 3.11). It is private API: a later Python may change it, and then
    the reader must switch the pre-check off (every regex runs, as before it existed)
    instead of failing while a cue list's filter is built or, worse, requiring the wrong
    strings. Checked once, at import, on a pattern whose required words are known."""
    if _p is None:
        return False
    pattern, must = _PROBE
    try:
        _exact, reqs = _seq(_p.parse(pattern, re.IGNORECASE))
    except Exception as exc:  # the reader's own failure on a changed layout, whatever its type
        log.warning("regex pre-check off: re._parser has a layout this reader does not know (%r)", exc)
        return False
    if not must <= {frozenset(r) for r in reqs}:
        log.warning("regex pre-check off: re._parser gave %r for a known pattern", reqs)
        return False
    return True


if not _reader_works():
    _c = _p = None  # type: ignore[assignment]

