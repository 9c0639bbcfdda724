"""Phrase matching that tolerates ASR errors, with the matched span kept as evidence.

Why these three layers: ASR rarely drops a whole phrase but often garbles one word of it
("this call is recorded for quality and training porpoises"). So a phrase matches

1. exactly (case and punctuation ignored, any whitespace between words), else
2. fuzzily: a stretch of whole words (the phrase's word count, or one fewer or more, as
   ASR joins and splits words) whose rapidfuzz similarity to the phrase is >= `fuzzy`
   (0-100); rapidfuzz scores every stretch of a turn in one C call, and a one-pass
   `partial_ratio` prefilter over all phrases of a rule (`PhraseSet`) skips the phrases that
   cannot reach the threshold, else
3. phonetically: every word's Metaphone code (jellyfish) equals the phrase word's code, in
   order ("recorded" heard as "ricorded"), with at most one word allowed to differ for
   phrases of four or more words.

Every match carries the character span in the turn's text and, for calls, the time (from
the word timings when they line up, else interpolated inside the turn). What is compared
(normalised words, `{a|b}` expansion, Metaphone codes, past forms) is `analysis.phrase_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from analysis.phrase_text import WORD, metaphone, normalise, past_forms
from store.records import Turn

if TYPE_CHECKING:
    from analysis.phrase_index import ExactIndex

#: a phrase may not start or end inside a word (`WORD`'s characters)
_BEFORE, _AFTER = r"(?<![\w'%])", r"(?![\w'%])"
#: a phrase ending in " $" matches only where nothing that could be its object follows:
#: the end of the turn, punctuation, or one of these words ("i want to cancel $" is "I want
#: to cancel." or "i want to cancel today", not "I want to cancel my order")
CLAUSE_END_WORDS = frozenset(
    ["please", "pls", "plz", "now", "today", "asap", "then", "immediately", "right", "already", "and", "but", "because", "cause", "cos", "so", "i", "i'm", "im", "i've", "i'll", "it's", "its", "altogether", "completely", "lol", "thanks", "thank", "ty", "mate", "ok", "okay", "yeah", "honestly", "seriously", "if", "unless", "when", "or"]
)


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in a turn: char span [start, end), score 0-100 and how it matched."""

    start: int
    end: int
    score: float
    how: str  # exact / fuzzy / phonetic / semantic


class TurnText:
    """One turn prepared for matching: normalised text, word spans, char -> time."""

    __slots__ = ("_codes", "_codeset", "_positions", "_wordset", "exact_hits", "norm", "spans", "turn", "words")

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.norm = normalise(turn.text)
        self.spans = [(m.start(), m.end()) for m in WORD.finditer(self.norm)]
        self.words = [self.norm[a:b] for a, b in self.spans]
        self._codes: list[str] | None = None
        self._codeset: frozenset[str] | None = None
        #: (word, fuzzy) -> indexes, shared by every near condition of the rule set
        self._positions: dict[tuple[str, float], list[int]] = {}
        self._wordset: frozenset[str] | None = None
        #: the hits of the rule set's exact-layer index in this turn (`ExactIndex.live`)
        self.exact_hits: dict[int, set[int]] | None = None

    @property
    def wordset(self) -> frozenset[str]:
        """The turn's distinct words: a phrase with a word missing here has no exact match."""
        if self._wordset is None:
            self._wordset = frozenset(self.words)
        return self._wordset

    def ends_clause(self, char: int) -> bool:
        """True when nothing that could be an object follows `char` (see `CLAUSE_END_WORDS`):
        the end of the turn, punctuation before the next word, or a word that starts a new
        clause or closes the request ("please", "now", "and", "i'm", ...)."""
        nxt = next(((a, b) for a, b in self.spans if a >= char), None)
        if nxt is None:
            return True
        between = self.turn.text[char : nxt[0]]
        if any(ch in between for ch in ".!?,;:\n"):
            return True
        return self.norm[nxt[0] : nxt[1]] in CLAUSE_END_WORDS

    @property
    def codes(self) -> list[str]:
        if self._codes is None:
            self._codes = [metaphone(w) for w in self.words]
        return self._codes

    @property
    def codeset(self) -> frozenset[str]:
        """The turn's distinct Metaphone codes: a phrase with a code missing here cannot
        match phonetically, which a set test says without walking the words."""
        if self._codeset is None:
            self._codeset = frozenset(self.codes)
        return self._codeset

    def time_at(self, char: int) -> float | None:
        """Seconds from the call start at this character (None for text channels)."""
        t = self.turn
        if t.start is None or t.end is None:
            return None
        if t.words and len(t.words) == len(self.spans):
            for (a, b), w in zip(self.spans, t.words, strict=True):
                if char < b:
                    return round(w.start if char <= a else w.end, 3)
            return round(t.words[-1].end, 3)
        n = max(len(self.norm), 1)
        return round(t.start + (t.end - t.start) * min(char, n) / n, 3)

    def word_index(self, char: int) -> int:
        for i, (_a, b) in enumerate(self.spans):
            if char < b:
                return i
        return max(len(self.spans) - 1, 0)


def _widen(tt: TurnText, start: int, end: int) -> tuple[int, int]:
    """Grow a char span to whole words."""
    for a, b in tt.spans:
        if a <= start < b:
            start = a
        if a < end <= b:
            end = b
    while start < end and tt.norm[start] == " ":
        start += 1
    while end > start and tt.norm[end - 1] == " ":
        end -= 1
    return start, end


class CompiledPhrase:
    """One phrase prepared once per rule set: its normalised words, regex and Metaphone codes.

    Building these per turn (as `find_phrase` with a string does) costs more than the match
    itself on short turns, so the rules engine compiles every phrase when it loads. Build them
    with `compile_phrase`, which shares one per phrase text across rule sets (a compiled
    phrase holds no per-turn state; its regex is compiled on first use and then reused).
    """

    __slots__ = ("_pattern", "at_end", "codes", "codeset", "past", "phrase", "target", "words", "wordset")

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase
        #: "i want to cancel $": only where the clause ends (`TurnText.ends_clause`)
        self.at_end = phrase.rstrip().endswith("$")
        self.target = " ".join(WORD.findall(normalise(phrase.rstrip().rstrip("$"))))
        self.words = tuple(self.target.split())
        self.wordset = frozenset(self.words)
        self._pattern: re.Pattern[str] | None = None
        self.codes = tuple(metaphone(w) for w in self.words)
        self.codeset = frozenset(self.codes)
        #: past forms of the phrase's words that it does not spell itself (the tense guard)
        self.past = frozenset().union(*(past_forms(w) for w in self.words)) - set(self.words)

    @property
    def pattern(self) -> re.Pattern[str]:
        """The exact-match regex, compiled on first use (an expanded `{a|b}` list has hundreds
        of phrases and most are never looked for: their words are not in the turn)."""
        if self._pattern is None:
            self._pattern = re.compile(_BEFORE + r"\s+".join(re.escape(w) for w in self.words) + _AFTER)
        return self._pattern

    def changes_tense(self, words: Sequence[str]) -> bool:
        """True when a candidate stretch has a past form of one of the phrase's verbs."""
        return bool(self.past) and any(w in self.past for w in words)

    def may_sound_in(self, tt: TurnText) -> bool:
        """False when the phonetic layer cannot match this phrase in the turn (too many of its
        Metaphone codes are absent from it)."""
        return len(self.codeset - tt.codeset) <= (1 if len(self.codes) >= 4 else 0)


@lru_cache(maxsize=1 << 18)
def compile_phrase(phrase: str) -> CompiledPhrase:
    """The `CompiledPhrase` of `phrase`, shared by every rule set that lists it.

    Why: the config validates its rules by compiling them, and every engine built from that
    config (the analyzer, `convoscope score`, each test) compiles them again; the shipped
    families expand to tens of thousands of phrases, so without sharing each load costs
    seconds of CPU (every CLI command paid it, since loading the config validates the rules).
    The size is above the shipped families' ~192,000 distinct expansions: a cache smaller than
    one pass over them misses on every phrase when they are walked in order (LRU), which is
    what `1 << 17` did; the entries are the objects the phrase sets hold anyway.
    """
    return CompiledPhrase(phrase)


def fuzzy_cutoff(fuzzy: float) -> float:
    """The alignment score below which a fuzzy match of at least `fuzzy` is not looked for:
    widening an alignment to whole words changes its score by a few points, not by ten."""
    return max(60.0, fuzzy - 10.0)


class PhraseSet:
    """The phrases of one rule condition, compiled once, with a prefilter that tells in one
    C pass per turn which of them can match at all (most turns match none).

    The phrases are compiled and indexed on first use, not when the set is made: loading a
    config validates its rules by building their conditions, and most commands (`review`,
    `ask`, `export`, the TUI) never match a phrase, so they should not pay the shipped
    families' tens of thousands of phrases (about a second of CPU per process).
    """

    __slots__ = ("_phrases", "by_code", "by_first", "compiled", "fuzzy", "phonetic", "targets")

    compiled: list[CompiledPhrase]
    targets: list[str]
    #: first word -> last word -> the phrases that start and end with them (the exact
    #: layer's index: an expanded list such as "{moving to|going to} {sky|bt|...}" has
    #: hundreds of phrases per first word, but few whose last word is in the turn too)
    by_first: dict[str, dict[str, list[int]]]
    #: Metaphone code -> the phrases that cannot sound in a turn without it (the first
    #: code; for long phrases, which may miss one word, the first or the second)
    by_code: dict[str, set[int]]

    def __init__(self, phrases: Sequence[str], *, fuzzy: float = 85.0, phonetic: bool = True) -> None:
        self._phrases = tuple(phrases)
        self.fuzzy, self.phonetic = fuzzy, phonetic

    def __getattr__(self, name: str) -> Any:
        # called only for a slot not yet set: the compiled phrases and their indexes
        if name in ("compiled", "targets", "by_first", "by_code"):
            self._build()
            return object.__getattribute__(self, name)
        raise AttributeError(name)

    def _build(self) -> None:
        compiled = [cp for cp in map(compile_phrase, self._phrases) if cp.target]
        by_first: dict[str, dict[str, list[int]]] = {}
        by_code: dict[str, set[int]] = {}
        for k, cp in enumerate(compiled):
            by_first.setdefault(cp.words[0], {}).setdefault(cp.words[-1], []).append(k)
            for code in cp.codes[: 2 if len(cp.codes) >= 4 else 1]:
                by_code.setdefault(code, set()).add(k)
        self.targets = [cp.target for cp in compiled]
        self.by_first, self.by_code = by_first, by_code
        self.compiled = compiled  # last: once it is set, __getattr__ is not asked again

    def spans(
        self, tt: TurnText, exact_index: ExactIndex | None = None
    ) -> list[tuple[int, int, str]]:
        """Every match of every phrase in the turn: (start, end, phrase). For `except` lists,
        where any match is enough. `exact_index` as for `live`."""
        out = []
        for k in self.live(tt, exact_index):
            cp = self.compiled[k]
            for m in phrase_candidates(tt, cp, fuzzy=self.fuzzy, phonetic=self.phonetic):
                out.append((m.start, m.end, cp.phrase))
        return out

    def live(self, tt: TurnText, exact_index: ExactIndex | None = None) -> list[int]:
        """Indexes of the phrases that may match in the turn, in list order.

        `exact_index` is the rule set's exact-layer index (`analysis.phrase_index`): when it
        holds this list, its one lookup per turn replaces this list's own exact layer.
        """
        if not tt.words:
            return []
        ws = tt.wordset
        exact = exact_index.live(tt, self) if exact_index is not None else None
        live: set[int] = set(exact) if exact is not None else set()
        for w in ws & self.by_first.keys() if exact is None else ():
            by_last = self.by_first[w]
            for k in (k for last in ws & by_last.keys() for k in by_last[last]):
                cp = self.compiled[k]
                if cp.wordset <= ws and cp.pattern.search(tt.norm):
                    live.add(k)
        if self.fuzzy < 100:
            cut = fuzzy_cutoff(self.fuzzy)
            for _t, _score, k in process.extract(tt.norm, self.targets, scorer=fuzz.partial_ratio,
                                                 score_cutoff=cut, limit=None):  # fmt: skip
                live.add(k)
        if self.phonetic and self.fuzzy < 100:  # at fuzzy 100 only the exact layer runs
            maybe = set().union(*(self.by_code[c] for c in tt.codeset & self.by_code.keys()))
            live.update(k for k in maybe - live if self.compiled[k].may_sound_in(tt))
        return sorted(live)


def find_phrase(
    tt: TurnText, phrase: str | CompiledPhrase, *, fuzzy: float = 85.0, phonetic: bool = True
) -> Match | None:
    """The best match of `phrase` in the turn, or None (see module docstring)."""
    return next(iter(phrase_candidates(tt, phrase, fuzzy=fuzzy, phonetic=phonetic)), None)


#: how many fuzzy alignments one turn is searched for (each one masks the last)
MAX_FUZZY_CANDIDATES = 3


def phrase_candidates(
    tt: TurnText, phrase: str | CompiledPhrase, *, fuzzy: float = 85.0, phonetic: bool = True
) -> Iterator[Match]:
    """Every match of `phrase` in the turn, best kind first (exact, fuzzy, phonetic), lazily.

    The first one is `find_phrase`'s answer. The clause-aware rules ask for the next one
    when a match does not count ("I can't guarantee X, but Y is guaranteed"), so later
    candidates are only computed then.
    """
    cp = phrase if isinstance(phrase, CompiledPhrase) else CompiledPhrase(phrase)
    if not cp.target or not tt.words:
        return
    if cp.at_end:
        for m in _candidates(tt, cp, fuzzy=fuzzy, phonetic=phonetic):
            if tt.ends_clause(m.end):
                yield m
        return
    yield from _candidates(tt, cp, fuzzy=fuzzy, phonetic=phonetic)


def _candidates(tt: TurnText, cp: CompiledPhrase, *, fuzzy: float, phonetic: bool) -> Iterator[Match]:
    found = False
    for m in cp.pattern.finditer(tt.norm):
        found = True
        yield Match(m.start(), m.end(), 100.0, "exact")
    if found or fuzzy >= 100:
        return
    given: list[tuple[int, int]] = []
    for m in _word_windows(tt, cp, fuzzy):
        given.append((m.start, m.end))
        yield m
    if phonetic and cp.may_sound_in(tt):
        for m in _phonetic(tt, cp.codes, exclude=given, words=cp.words):
            if not cp.changes_tense(WORD.findall(tt.norm[m.start : m.end])):
                yield m


def _word_windows(tt: TurnText, cp: CompiledPhrase, fuzzy: float) -> list[Match]:
    """Stretches of whole words (the phrase's word count, one fewer or one more: ASR joins
    and splits words, "maybe" / "may be") whose similarity to the phrase is >= `fuzzy`,
    best first, not overlapping, at most MAX_FUZZY_CANDIDATES.

    Whole words on both sides, so "to my account" is not "cancel my account" with a cut
    word, while "cancle my acount" is. rapidfuzz's `partial_ratio_alignment` (in C) says
    where in the turn to look; only the word stretches around that place are scored, then
    the place is masked and the next one looked for.
    """
    m, words, spans = len(cp.words), tt.words, tt.spans
    cut = fuzzy_cutoff(fuzzy)
    norm = tt.norm
    out: list[Match] = []
    taken: list[tuple[int, int]] = []
    for _ in range(MAX_FUZZY_CANDIDATES):
        align = fuzz.partial_ratio_alignment(cp.target, norm, score_cutoff=cut)
        if align is None or align.score < cut:
            break
        lo = next((k for k, (_a, e) in enumerate(spans) if e > align.dest_start), len(spans) - 1)
        hi = next((k for k, (st, _e) in enumerate(spans) if st >= align.dest_end), len(spans)) - 1
        best: tuple[float, int, int] | None = None
        for n in range(max(1, m - 1), m + 2):
            for i in range(max(0, lo - n + 1), min(hi, len(words) - n) + 1):
                j = i + n - 1
                if any(i <= y and x <= j for x, y in taken):
                    continue
                score = fuzz.ratio(cp.target, " ".join(words[i : j + 1]), score_cutoff=fuzzy)
                if score and (best is None or score > best[0]) and not cp.changes_tense(words[i : j + 1]):
                    best = (score, i, j)
        a, b = spans[lo][0], spans[max(lo, hi)][1]
        norm = norm[:a] + " " * (b - a) + norm[b:]  # look elsewhere next time
        if best is None:
            if not out:
                break  # the best place is not good enough: later ones are worse
            continue
        score, i, j = best
        taken.append((i, j))
        out.append(Match(spans[i][0], spans[j][1], round(score, 1), "fuzzy"))
    out.sort(key=lambda mt: (-mt.score, mt.start))
    return out


#: the one word a long phrase may miss phonetically is a short function word ("the" for
#: "a") or still looks like the phrase's word; "spoke" may not stand in for "talk"
_MISS_SIMILARITY = 60.0


def _phonetic(
    tt: TurnText, want: Sequence[str], exclude: Sequence[tuple[int, int]] = (), words: Sequence[str] = ()
) -> Iterator[Match]:
    n = len(want)
    allowed_misses = 1 if n >= 4 else 0
    codes = tt.codes
    for i in range(len(codes) - n + 1):
        misses = 0
        for j in range(n):
            if codes[i + j] != want[j]:
                misses += 1
                if misses > allowed_misses:
                    break
                if words and len(words[j]) > 3 and fuzz.ratio(words[j], tt.words[i + j]) < _MISS_SIMILARITY:
                    misses = allowed_misses + 1
                    break
        else:
            a, b = tt.spans[i][0], tt.spans[i + n - 1][1]
            if any(x <= a < y for x, y in exclude):
                continue
            score = 100.0 * (n - misses) / n
            yield Match(a, b, round(score, 1), "phonetic")


def word_positions(tt: TurnText, word: str, *, fuzzy: float = 85.0) -> list[int]:
    """Indexes of the turn's words equal to `word` (or a near-miss of it)."""
    key = (word, fuzzy)
    got = tt._positions.get(key)
    if got is not None:
        return got
    w = normalise(word).strip()
    if fuzzy >= 100:
        out = [i for i, tok in enumerate(tt.words) if tok == w]
    else:
        code = metaphone(w)
        past = past_forms(w)  # the tense guard: "canceled" is not "cancel"
        out = [
            i
            for i, tok in enumerate(tt.words)
            if tok == w
            or (tok not in past and (fuzz.ratio(tok, w) >= fuzzy or (len(w) > 3 and tt.codes[i] == code)))
        ]
    tt._positions[key] = out
    return out


def _sequence_spans(tt: TurnText, words: Sequence[str], fuzzy: float) -> list[tuple[int, int]]:
    """Word index spans [i, j] where `words` stand one after another."""
    starts = word_positions(tt, words[0], fuzzy=fuzzy)
    if len(words) == 1:
        return [(i, i) for i in starts]
    out = []
    for i in starts:
        if all(i + k in word_positions(tt, w, fuzzy=fuzzy) for k, w in enumerate(words[1:], 1)):
            out.append((i, i + len(words) - 1))
    return out


def near_words(side: str | Sequence[str]) -> list[tuple[str, ...]]:
    """One side of a `near` condition as its alternatives, each a tuple of words."""
    alts = [side] if isinstance(side, str) else list(side)
    return [tuple(WORD.findall(normalise(a))) for a in alts if WORD.findall(normalise(a))]


class NearSide:
    """One side of a `near` condition, compiled once: its alternatives indexed by first word,
    so a turn only looks at the alternatives whose first word it has (a side may spell
    hundreds: "{your|a|the} {manager|supervisor|...}")."""

    __slots__ = ("alts", "by_first")

    def __init__(self, side: str | Sequence[str]) -> None:
        self.alts = near_words(side)
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for a in self.alts:
            self.by_first.setdefault(a[0], []).append(a)

    def present(self, tt: TurnText) -> list[tuple[str, ...]]:
        """The alternatives whose every word is in the turn (exact words)."""
        ws = tt.wordset
        return [a for w in ws & self.by_first.keys() for a in self.by_first[w] if ws.issuperset(a)]


def find_near(
    tt: TurnText, first: str | Sequence[str] | NearSide, second: str | Sequence[str] | NearSide, *,
    distance: int = 5, fuzzy: float = 85.0,
) -> Match | None:
    """`first` within `distance` words of `second` (either order): the closest pair."""
    return next(iter(near_candidates(tt, first, second, distance=distance, fuzzy=fuzzy)), None)


def near_candidates(
    tt: TurnText, first: str | Sequence[str] | NearSide, second: str | Sequence[str] | NearSide, *,
    distance: int = 5, fuzzy: float = 85.0,
) -> Iterator[Match]:
    """Every pair of `first` and `second` within `distance` words, closest first.

    Each side is a word, or a list of alternatives, each one or more words in a row
    ("your manager", "someone senior"). The distance counts from the end of the earlier
    side to the start of the later one ("speak to your manager": "speak" and "your manager"
    are 2 apart); the two sides may not overlap.
    """
    if not tt.words:
        return
    alts = near_alternatives(tt, first, second, fuzzy=fuzzy)
    if alts is None:
        return
    for m, _own in near_pairs(tt, *alts, distance=distance, fuzzy=fuzzy):
        yield m


def near_alternatives(
    tt: TurnText, first: str | Sequence[str] | NearSide, second: str | Sequence[str] | NearSide, *,
    fuzzy: float,
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]] | None:
    """The alternatives of each side that may be in the turn, or None when a side cannot."""
    if not tt.words:
        return None
    a_side = first if isinstance(first, NearSide) else NearSide(first)
    b_side = second if isinstance(second, NearSide) else NearSide(second)
    a_alts, b_alts = a_side.alts, b_side.alts
    if fuzzy >= 100:
        # exact words: only the alternatives whose every word is in the turn can be there
        a_alts = a_side.present(tt)
        if not a_alts:
            return None
        b_alts = b_side.present(tt)
        if not b_alts:
            return None
    else:
        # cheap pre-filter in C before the per-word loop
        if max(fuzz.partial_ratio(" ".join(a), tt.norm) for a in a_alts) < min(fuzzy, 80) or max(
            fuzz.partial_ratio(" ".join(b), tt.norm) for b in b_alts
        ) < min(fuzzy, 80):
            return None
    return a_alts, b_alts


def near_pairs(
    tt: TurnText, a_alts: Sequence[tuple[str, ...]], b_alts: Sequence[tuple[str, ...]], *, distance: int,
    fuzzy: float,
) -> Iterator[tuple[Match, frozenset[str]]]:
    """`near_candidates` with, for each pair, the words the two sides matched: the clause
    reader skips them as cues ("was about to" stays a cue of "ask" near "your manager" even
    when another alternative of the side spells "to")."""
    a_spans = {s for a in a_alts for s in _sequence_spans(tt, a, fuzzy)}
    if not a_spans:
        return
    b_spans = {s for b in b_alts for s in _sequence_spans(tt, b, fuzzy)}
    pairs = set()
    for a in a_spans:
        for b in b_spans:
            gap = b[0] - a[1] if a[1] < b[0] else a[0] - b[1] if b[1] < a[0] else 0
            if 0 < gap <= distance:
                pairs.add((gap, min(a[0], b[0]), max(a[1], b[1]), a, b))
    for _d, i, j, a, b in sorted(pairs):
        own = frozenset(tt.words[a[0] : a[1] + 1]) | frozenset(tt.words[b[0] : b[1] + 1])
        yield Match(tt.spans[i][0], tt.spans[j][1], 100.0, "near"), own
