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
the word timings when they line up, else interpolated inside the turn).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz, process

from store.records import Turn

_WORD = re.compile(r"[\w']+")
_NON_WORD = re.compile(r"[^\w']")


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
def _metaphone(word: str) -> str:
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


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in a turn: char span [start, end), score 0-100 and how it matched."""

    start: int
    end: int
    score: float
    how: str  # exact / fuzzy / phonetic / semantic


class TurnText:
    """One turn prepared for matching: normalised text, word spans, char -> time."""

    __slots__ = ("_codes", "_codeset", "norm", "spans", "turn", "words")

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.norm = normalise(turn.text)
        self.spans = [(m.start(), m.end()) for m in _WORD.finditer(self.norm)]
        self.words = [self.norm[a:b] for a, b in self.spans]
        self._codes: list[str] | None = None
        self._codeset: frozenset[str] | None = None

    @property
    def codes(self) -> list[str]:
        if self._codes is None:
            self._codes = [_metaphone(w) for w in self.words]
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
    itself on short turns, so the rules engine compiles every phrase when it loads.
    """

    __slots__ = ("codes", "codeset", "past", "pattern", "phrase", "target", "words")

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase
        self.target = " ".join(_WORD.findall(normalise(phrase)))
        self.words = tuple(self.target.split())
        self.pattern = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in self.words) + r"\b")
        self.codes = tuple(_metaphone(w) for w in self.words)
        self.codeset = frozenset(self.codes)
        #: past forms of the phrase's words that it does not spell itself (the tense guard)
        self.past = frozenset().union(*(past_forms(w) for w in self.words)) - set(self.words)

    def changes_tense(self, words: Sequence[str]) -> bool:
        """True when a candidate stretch has a past form of one of the phrase's verbs."""
        return bool(self.past) and any(w in self.past for w in words)

    def may_sound_in(self, tt: TurnText) -> bool:
        """False when the phonetic layer cannot match this phrase in the turn (too many of its
        Metaphone codes are absent from it)."""
        return len(self.codeset - tt.codeset) <= (1 if len(self.codes) >= 4 else 0)


def fuzzy_cutoff(fuzzy: float) -> float:
    """The alignment score below which a fuzzy match of at least `fuzzy` is not looked for:
    widening an alignment to whole words changes its score by a few points, not by ten."""
    return max(60.0, fuzzy - 10.0)


class PhraseSet:
    """The phrases of one rule condition, compiled once, with a prefilter that tells in one
    C pass per turn which of them can match at all (most turns match none)."""

    __slots__ = ("any_exact", "compiled", "fuzzy", "phonetic", "targets")

    def __init__(self, phrases: Sequence[str], *, fuzzy: float = 85.0, phonetic: bool = True) -> None:
        self.compiled = [CompiledPhrase(p) for p in phrases]
        self.compiled = [cp for cp in self.compiled if cp.target]
        self.targets = [cp.target for cp in self.compiled]
        self.fuzzy, self.phonetic = fuzzy, phonetic
        self.any_exact = re.compile("|".join(f"(?:{cp.pattern.pattern})" for cp in self.compiled) or r"(?!x)x")

    def live(self, tt: TurnText) -> list[int]:
        """Indexes of the phrases that may match in the turn, in list order."""
        if not tt.words:
            return []
        live: set[int] = set()
        if self.any_exact.search(tt.norm):
            live.update(k for k, cp in enumerate(self.compiled) if cp.pattern.search(tt.norm))
        if self.fuzzy < 100:
            cut = fuzzy_cutoff(self.fuzzy)
            for _t, _score, k in process.extract(tt.norm, self.targets, scorer=fuzz.partial_ratio,
                                                 score_cutoff=cut, limit=None):  # fmt: skip
                live.add(k)
        if self.phonetic:
            live.update(k for k, cp in enumerate(self.compiled) if k not in live and cp.may_sound_in(tt))
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
            if not cp.changes_tense(_WORD.findall(tt.norm[m.start : m.end])):
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
    w = normalise(word).strip()
    code = _metaphone(w)
    past = past_forms(w)  # the tense guard: "canceled" is not "cancel"
    out = []
    for i, tok in enumerate(tt.words):
        if tok == w or (
            fuzzy < 100 and tok not in past and (fuzz.ratio(tok, w) >= fuzzy or (len(w) > 3 and tt.codes[i] == code))
        ):
            out.append(i)
    return out


def find_near(
    tt: TurnText, first: str, second: str, *, distance: int = 5, fuzzy: float = 85.0
) -> Match | None:
    """`first` within `distance` words of `second` (either order): the closest pair."""
    return next(iter(near_candidates(tt, first, second, distance=distance, fuzzy=fuzzy)), None)


def near_candidates(
    tt: TurnText, first: str, second: str, *, distance: int = 5, fuzzy: float = 85.0
) -> Iterator[Match]:
    """Every pair of `first` and `second` within `distance` words, closest first."""
    if not tt.words:
        return
    # cheap pre-filter in C before the per-word loop
    if fuzz.partial_ratio(normalise(first).strip(), tt.norm) < min(fuzzy, 80) or fuzz.partial_ratio(
        normalise(second).strip(), tt.norm
    ) < min(fuzzy, 80):
        return
    a_pos = word_positions(tt, first, fuzzy=fuzzy)
    b_pos = word_positions(tt, second, fuzzy=fuzzy)
    pairs = sorted(
        {
            (abs(i - j), min(i, j), max(i, j))
            for i in a_pos
            for j in b_pos
            if 0 < abs(i - j) <= distance
        }
    )
    for _d, i, j in pairs:
        yield Match(tt.spans[i][0], tt.spans[j][1], 100.0, "near")
