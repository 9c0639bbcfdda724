"""Phrase matching that tolerates ASR errors, with the matched span kept as evidence.

Why these three layers: ASR rarely drops a whole phrase but often garbles one word of it
("this call is recorded for quality and training porpoises"). So a phrase matches

1. exactly (case and punctuation ignored, any whitespace between words), else
2. fuzzily: rapidfuzz's `partial_ratio_alignment` finds the best-aligned stretch of the
   turn in C (one call per turn and phrase, cheap enough for bulk scoring), and it counts
   when the similarity of that stretch, widened to whole words, is >= `fuzzy` (0-100), else
3. phonetically: every word's Metaphone code (jellyfish) equals the phrase word's code, in
   order ("recorded" heard as "ricorded"), with at most one word allowed to differ for
   phrases of four or more words.

Every match carries the character span in the turn's text and, for calls, the time (from
the word timings when they line up, else interpolated inside the turn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz

from store.records import Turn

_WORD = re.compile(r"[\w']+")
_NON_WORD = re.compile(r"[^\w']")


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, same length as the input (offsets stay valid)."""
    low = text.lower()
    if len(low) != len(text):  # a few Unicode characters change length when lowered
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return _NON_WORD.sub(" ", low)


@lru_cache(maxsize=4096)
def _metaphone(word: str) -> str:
    return jellyfish.metaphone(word) if word.isalpha() else word


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in a turn: char span [start, end), score 0-100 and how it matched."""

    start: int
    end: int
    score: float
    how: str  # exact / fuzzy / phonetic / semantic


class TurnText:
    """One turn prepared for matching: normalised text, word spans, char -> time."""

    __slots__ = ("_codes", "norm", "spans", "turn", "words")

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.norm = normalise(turn.text)
        self.spans = [(m.start(), m.end()) for m in _WORD.finditer(self.norm)]
        self.words = [self.norm[a:b] for a, b in self.spans]
        self._codes: list[str] | None = None

    @property
    def codes(self) -> list[str]:
        if self._codes is None:
            self._codes = [_metaphone(w) for w in self.words]
        return self._codes

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


def find_phrase(tt: TurnText, phrase: str, *, fuzzy: float = 85.0, phonetic: bool = True) -> Match | None:
    """The best match of `phrase` in the turn, or None (see module docstring)."""
    target = " ".join(_WORD.findall(normalise(phrase)))
    if not target or not tt.words:
        return None
    pattern = r"\b" + r"\s+".join(re.escape(w) for w in target.split()) + r"\b"
    m = re.search(pattern, tt.norm)
    if m:
        return Match(m.start(), m.end(), 100.0, "exact")
    if fuzzy >= 100:
        return None
    align = fuzz.partial_ratio_alignment(target, tt.norm)
    if align is not None and align.score >= min(fuzzy, 60.0):
        a, b = _widen(tt, align.dest_start, align.dest_end)
        stretch = " ".join(_WORD.findall(tt.norm[a:b]))
        score = fuzz.ratio(target, stretch) if stretch else 0.0
        # a partial alignment may cut a word; compare against the whole words too
        score = max(score, align.score if len(target) >= 12 else 0.0)
        if score >= fuzzy and len(stretch) >= 0.6 * len(target):
            return Match(a, b, round(score, 1), "fuzzy")
    if phonetic:
        return _phonetic(tt, target.split())
    return None


def _phonetic(tt: TurnText, words: list[str]) -> Match | None:
    want = [_metaphone(w) for w in words]
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
        else:
            score = 100.0 * (n - misses) / n
            return Match(tt.spans[i][0], tt.spans[i + n - 1][1], round(score, 1), "phonetic")
    return None


def word_positions(tt: TurnText, word: str, *, fuzzy: float = 85.0) -> list[int]:
    """Indexes of the turn's words equal to `word` (or a near-miss of it)."""
    w = normalise(word).strip()
    code = _metaphone(w)
    out = []
    for i, tok in enumerate(tt.words):
        if tok == w or (fuzzy < 100 and (fuzz.ratio(tok, w) >= fuzzy or (len(w) > 3 and tt.codes[i] == code))):
            out.append(i)
    return out


def find_near(
    tt: TurnText, first: str, second: str, *, distance: int = 5, fuzzy: float = 85.0
) -> Match | None:
    """`first` within `distance` words of `second` (either order): the closest pair."""
    if not tt.words:
        return None
    # cheap pre-filter in C before the per-word loop
    if fuzz.partial_ratio(normalise(first).strip(), tt.norm) < min(fuzzy, 80) or fuzz.partial_ratio(
        normalise(second).strip(), tt.norm
    ) < min(fuzzy, 80):
        return None
    a_pos = word_positions(tt, first, fuzzy=fuzzy)
    b_pos = word_positions(tt, second, fuzzy=fuzzy)
    best: tuple[int, int, int] | None = None
    for i in a_pos:
        for j in b_pos:
            d = abs(i - j)
            if 0 < d <= distance and (best is None or d < best[0]):
                best = (d, min(i, j), max(i, j))
    if best is None:
        return None
    _d, i, j = best
    return Match(tt.spans[i][0], tt.spans[j][1], 100.0, "near")
