"""The conversation's word stream and the digit runs read from it, across turns.

Why a stream and not one turn at a time: a card number is dictated in groups while the
agent says "mm-hmm", so its digits sit in five turns of two speakers. This module lays
every turn's tokens (with their character offsets in that turn) end to end and reads
*runs* of digits the way a listener would:

- written digits ("4111"), spoken digits ("four", "oh"/"o"/"nought"/"zero" for 0),
  "double five" / "triple one", teens and tens ("forty five" -> 45, "seven thirty seven"
  -> 737), "X hundred" (the "one eight hundred" of toll-free numbers), mixed freely;
- separators (commas, dashes, slashes, dots, the word "dash") and up to three fillers
  ("uh", "um", "sorry", "and then", "okay") between digits keep the run going;
- a turn of *another* speaker keeps it going when it is an interjection ("mm-hmm", "yes",
  "okay, go on": no digits, at most eight words, no PII cue) or an echo (the agent reading
  back the last digits: those are redacted with the run);
- a correction cue ("no", "sorry", "I mean", "wait", "actually") between digits is kept
  as a correction point: the classifier also tries the digits with the corrected group
  dropped ("four one - no, four two" reads 42, not 4142).

Every digit remembers the token it came from, so a run (or a part of it, when a card
number runs straight into its expiry date) maps back to character spans per turn and,
through the word timings, to seconds of audio. Tens and teens need another number
next to them to count ("twenty minutes" is no run at all in practice: one number alone is
never classified without a cue).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

TOKEN = re.compile(r"\d+|[A-Za-z]+(?:['\u2019][A-Za-z]+)*|\S")

UNITS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "naught": "0", "one": "1", "two": "2",
    "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
TEENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}  # fmt: skip
TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6",
    "seventy": "7", "eighty": "8", "ninety": "9",
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}
#: words before a pronoun "one" ("send a new one to ...")
_DETERMINERS = {
    "a", "an", "the", "new", "this", "that", "another", "which", "each", "every", "other", "any",
    "no", "old", "right", "wrong", "same", "only", "good", "last", "first", "next",
}  # fmt: skip
#: ASR homophones that count as digits only between two other digits ("one for one")
HOMOPHONES = {"to": "2", "too": "2", "for": "4", "fore": "4", "won": "1", "ate": "8", "free": "3", "tree": "3"}
SEPARATORS = {",", ".", "-", "\u2013", "\u2014", "(", ")", "/", "dash", "hyphen", "slash", "…"}
FILLERS = {
    "uh", "um", "umm", "uhm", "er", "erm", "ah", "eh", "hmm", "mm", "mhm", "like", "so", "and",
    "then", "okay", "ok", "yeah", "yes", "yep", "right", "it's", "is", "the", "next", "space",
}  # fmt: skip
CORRECTIONS = {"no", "sorry", "wait", "actually", "mean", "i", "correction", "not", "scratch", "that"}
#: words of another speaker's turn that may sit inside a dictated number
ACKS = {
    "mm", "hmm", "mhm", "uh", "huh", "um", "yes", "yeah", "yep", "yup", "ok", "okay", "right",
    "sure", "go", "on", "got", "it", "and", "then", "next", "great", "perfect", "thanks",
    "thank", "you", "alright", "all", "fine", "good", "continue", "please", "the", "ahead",
    "mhmm", "uhhuh", "i", "see", "following", "with", "you're", "im", "i'm", "so", "far",
}  # fmt: skip


@dataclass(slots=True)
class Tok:
    """One token: the turn it is in, its [start, end) in that turn's text, lower-cased text."""

    turn: int
    start: int
    end: int
    low: str


@dataclass(slots=True)
class Stream:
    """All tokens of a conversation in order; `first[t]` is the index of turn t's first."""

    speakers: list[str]
    texts: list[str]
    toks: list[Tok]
    first: list[int]

    @classmethod
    def of(cls, turns: Sequence[tuple[str, str]]) -> Stream:
        toks: list[Tok] = []
        first: list[int] = []
        for ti, (_speaker, text) in enumerate(turns):
            first.append(len(toks))
            toks.extend(Tok(ti, m.start(), m.end(), m.group(0).lower()) for m in TOKEN.finditer(text))
        first.append(len(toks))
        return cls([s for s, _ in turns], [t for _, t in turns], toks, first)

    def speaker_of(self, i: int) -> str:
        return self.speakers[self.toks[i].turn]

    def adjacent(self, i: int, j: int) -> bool:
        """Tokens i and j touch (no space between them, same turn): 'smith42', '4111-'."""
        a, b = self.toks[i], self.toks[j]
        return a.turn == b.turn and a.end == b.start


@dataclass(slots=True)
class Run:
    """Digits read from the stream, each with the index of the token it came from."""

    speaker: str
    digits: str = ""
    digit_tok: list[int] = field(default_factory=list)
    #: digit offsets where a new group starts (after a separator, filler or turn change)
    group_starts: list[int] = field(default_factory=list)
    #: digit offsets right after a correction cue
    corrections: list[int] = field(default_factory=list)
    #: token indices of another speaker's read-back of these digits
    echo_toks: list[int] = field(default_factory=list)
    spoken: bool = False
    written: bool = False
    plus: int | None = None  # index of a leading "plus" / "+"

    def add(self, digits: str, tok_first: int, tok_last: int, new_group: bool, spoken: bool) -> None:
        if new_group or not self.digits:
            self.group_starts.append(len(self.digits))
        # the first digit maps to the first token, the rest to the last ("double five")
        for k in range(len(digits)):
            self.digit_tok.append(tok_first if k == 0 else tok_last)
        self.digits += digits
        self.spoken = self.spoken or spoken
        self.written = self.written or not spoken

    def groups(self) -> list[str]:
        bounds = [*self.group_starts, len(self.digits)]
        return [self.digits[a:b] for a, b in pairwise(bounds) if b > a]

    def first_tok(self) -> int:
        return self.plus if self.plus is not None else self.digit_tok[0]

    def sub(self, a: int, b: int) -> Run:
        """The digits [a, b) as a run of their own (a card followed by its expiry)."""
        r = Run(self.speaker, self.digits[a:b], self.digit_tok[a:b], spoken=self.spoken, written=self.written)
        r.group_starts = [g - a for g in self.group_starts if a <= g < b] or [0]
        if r.group_starts[0] != 0:
            r.group_starts.insert(0, 0)
        r.corrections = [c - a for c in self.corrections if a < c < b]
        if a == 0:
            r.echo_toks = list(self.echo_toks)
        return r


def read_number(stream: Stream, i: int, in_run: bool) -> tuple[str, int, bool] | None:
    """The digits token i starts (digits, index of the last token used, spoken) or None."""
    toks = stream.toks
    low = toks[i].low
    n = len(toks)
    if low.isdigit():
        return low, i, False
    if low in ("oh", "o"):
        nxt = _peek_number(stream, i + 1) or (
            i + 1 < n and toks[i + 1].low in ("oh", "o") and _peek_number(stream, i + 2)
        )  # "o oh two"
        if nxt or (in_run and i > 0 and _is_spoken_digit(toks[i - 1].low)):
            return "0", i, True
        return None
    if low == "one" and i > 0 and toks[i - 1].low in _DETERMINERS and not _peek_number(stream, i + 1):
        return None  # "a new one", "the other one": the pronoun
    if low in UNITS:
        if i + 1 < n and toks[i + 1].low == "hundred" and toks[i + 1].turn == toks[i].turn:
            return UNITS[low] + "00", i + 1, True
        return UNITS[low], i, True
    if low in TEENS:
        return TEENS[low], i, True
    if low in TENS:
        j = i + 1
        if j < n and toks[j].low == "-" and toks[j].turn == toks[i].turn:
            j += 1
        if j < n and toks[j].turn == toks[i].turn and toks[j].low in UNITS and toks[j].low not in ("oh", "o", "zero"):
            return TENS[low] + UNITS[toks[j].low], j, True
        return TENS[low] + "0", i, True
    if low in REPEATS:
        j = i + 1
        if j < n and toks[j].low == "-":
            j += 1
        if j < n and toks[j].turn == toks[i].turn:
            w = toks[j].low
            d = UNITS.get(w) or (w if w.isdigit() and len(w) == 1 else None)
            if d is not None:
                return d * REPEATS[low], j, True
        return None
    if (
        low in HOMOPHONES and in_run and i > 0 and _is_spoken_digit(toks[i - 1].low)
        and i + 1 < n and toks[i + 1].turn == toks[i].turn and _is_spoken_digit(toks[i + 1].low)
    ):  # fmt: skip
        return HOMOPHONES[low], i, True
    return None


def _is_spoken_digit(low: str) -> bool:
    return low in UNITS or low.isdigit() or low in TEENS or low in TENS


def _peek_number(stream: Stream, i: int) -> bool:
    if i >= len(stream.toks) or stream.toks[i].turn != stream.toks[i - 1].turn:
        return False
    low = stream.toks[i].low
    return low.isdigit() or (low in UNITS and low not in ("oh", "o")) or low in REPEATS or low in TEENS or low in TENS


def _turn_has_number(stream: Stream, t: int) -> bool:
    """Digits in the turn, other than a count of digits asked for ("the next four?")."""
    a = stream.first[t]
    return any(
        read_number(stream, i, False) and not (i > a and stream.toks[i - 1].low in ("next", "last", "first", "other"))
        for i in range(a, stream.first[t + 1])
    )


def is_interjection(stream: Stream, t: int, cue: re.Pattern[str]) -> bool:
    """Another speaker's short acknowledgement inside a dictated number ("mm-hmm", "yes")."""
    a, b = stream.first[t], stream.first[t + 1]
    words = [tok.low for tok in stream.toks[a:b] if tok.low[0].isalnum()]
    if len(words) > 8 or _turn_has_number(stream, t):
        return False
    if cue.search(stream.texts[t]):
        return False
    return sum(w not in ACKS for w in words) <= 3


#: words that open "card capture": the card number is being dictated
CARD_WORDS = {"card", "visa", "mastercard", "debit", "credit", "amex", "discover"}
#: words that close it (the next thing asked for is not the card number)
CARD_END = {"security", "cvv", "cvc", "code", "expiry", "expiration", "expires", "exp", "social", "phone", "email"}
#: tokens card capture stays open without either
CARD_SPAN = 80


def digit_runs(stream: Stream, cue: re.Pattern[str]) -> list[Run]:
    """Read every run of digits in the conversation (see the module docstring).

    While a card number is being dictated (after a card word, until a cue for something
    else), two kinds of ASR noise measured on Whisper transcripts are tolerated: up to two
    unknown words between digit groups ("473 Nilo 971", "... 22541855 Got" / "it, go on"),
    and digits that bled into the other speaker's short turn ("mmM1", "okay 4"), which are
    read as part of the number and redacted with it.
    """
    runs: list[Run] = []
    cur: Run | None = None
    toks = stream.toks
    card_until = -1
    for t in range(len(stream.speakers)):
        speaker = stream.speakers[t]
        a, b = stream.first[t], stream.first[t + 1]
        if cur is not None and speaker != cur.speaker:
            if is_interjection(stream, t, cue):
                continue
            echo = _echo(stream, t, cur)
            if echo:
                cur.echo_toks += echo
                continue
            if a <= card_until and _bleed(stream, t, cur):
                continue
            runs.append(cur)
            cur = None
        gap = cur is not None  # a turn change is a group boundary
        fillers = 0
        unknown = 0
        correction = False
        i = a
        while i < b:
            low = toks[i].low
            if low in CARD_WORDS:
                card_until = i + CARD_SPAN
                if cur is not None:
                    # a card word announces a new number: the digits before it ("call me
                    # on 415 555 0199. Card 4111 ...") are another run, not ASR noise
                    runs.append(cur)
                    cur = None
                    fillers = unknown = 0
                    correction = False
                    i += 1
                    continue
            elif low in CARD_END:
                card_until = -1
            num = read_number(stream, i, cur is not None and not gap)
            if num is not None:
                digits, last, spoken = num
                if cur is None:
                    cur = Run(speaker)
                    if i > a and toks[i - 1].low in ("plus", "+"):
                        cur.plus = i - 1
                elif correction:
                    cur.corrections.append(len(cur.digits))
                new_group = gap or (i > a and not stream.adjacent(i - 1, i) and not spoken)
                cur.add(digits, i, last, new_group or gap, spoken)
                gap = False
                fillers = unknown = 0
                correction = False
                i = last + 1
                continue
            if cur is not None:
                if low in SEPARATORS:
                    gap = True
                elif low in CORRECTIONS and fillers < 4:
                    gap = correction = True
                    fillers += 1
                elif low in FILLERS and fillers < 3:
                    gap = True
                    fillers += 1
                elif i <= card_until and unknown < 2 and low[0].isalpha() and _number_follows(stream, i, b):
                    gap = True
                    unknown += 1
                else:
                    runs.append(cur)
                    cur = None
                    fillers = unknown = 0
                    correction = False
            i += 1
    if cur is not None:
        runs.append(cur)
    return runs


def _number_follows(stream: Stream, i: int, b: int) -> bool:
    """A number within the next four tokens of this turn, or the turn ends here."""
    for j in range(i + 1, min(i + 5, b)):
        if read_number(stream, j, True):
            return True
    return i + 1 >= b or all(not stream.toks[j].low[0].isalnum() for j in range(i + 1, b))


def _bleed(stream: Stream, t: int, cur: Run) -> bool:
    """Another speaker's short turn holding a digit or two of the number being dictated."""
    a, b = stream.first[t], stream.first[t + 1]
    words = [tok.low for tok in stream.toks[a:b] if tok.low[0].isalpha()]
    if len(words) > 4 or any(w in CARD_END for w in words):
        return False
    got: list[tuple[str, int, int, bool]] = []
    i = a
    while i < b:
        num = read_number(stream, i, bool(got))
        if num:
            got.append((num[0], i, num[1], num[2]))
            i = num[1] + 1
            continue
        i += 1
    if not got or sum(len(d) for d, *_ in got) > 4:
        return False
    for digits, first, last, spoken in got:
        cur.add(digits, first, last, True, spoken)
        cur.echo_toks.extend(range(first, last + 1))
    return True


def _echo(stream: Stream, t: int, cur: Run) -> list[int]:
    """Token indices of digits in turn t when they only repeat the end of `cur`."""
    a, b = stream.first[t], stream.first[t + 1]
    got = ""
    idx: list[int] = []
    words = 0
    i = a
    while i < b:
        num = read_number(stream, i, bool(got))
        if num:
            got += num[0]
            idx.extend(range(i, num[1] + 1))
            i = num[1] + 1
            continue
        if stream.toks[i].low[0].isalpha():
            words += 1
        i += 1
    if len(got) >= 2 and words <= 6 and cur.digits.endswith(got):
        return idx
    return []


def turn_pieces(stream: Stream, tok_indices: Sequence[int]) -> dict[int, tuple[int, int]]:
    """turn -> [start, end) covering the given tokens of that turn (fillers in between too)."""
    out: dict[int, tuple[int, int]] = {}
    for i in tok_indices:
        tok = stream.toks[i]
        s, e = out.get(tok.turn, (tok.start, tok.end))
        out[tok.turn] = (min(s, tok.start), max(e, tok.end))
    return out
