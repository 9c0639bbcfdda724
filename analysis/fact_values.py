"""Values in what people say: durations, money, plain numbers, as intervals.

A policy ("refund processing takes 5-7 business days") and an agent's statement ("you'll
have it back within two days") are compared as *intervals* on one scale: a duration in
days, an amount in a currency, a count. "more than a week" is (7, inf), "no more than a
week" / "it won't take more than a week" is [0, 7], "5-7 business days" is [7, 9.8]
(a business day is 7/5 of a calendar day). Two values contradict when their intervals
do not meet (after a relative tolerance), so "it won't take more than a week" against
5-7 business days is *not* a contradiction, "two days" is.

Spoken and written numbers are the same number: `text_to_num.alpha2digit` (text2num)
turns "five to seven" into "5 to 7" and "twenty-five dollars" into "25 dollars"
before the patterns below read them. Why a small grammar and not quantulum3 /
price-parser: both read one quantity per string, without the range and bound words
("up to", "no more than", "between ... and") that decide the comparison here, and
quantulum3 turns "a week" into nothing; the grammar is documented in the patterns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from text_to_num import alpha2digit

#: unit word -> (dimension, factor to the dimension's base unit)
DURATION_UNITS: dict[str, float] = {
    "minute": 1 / 1440, "min": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "day": 1.0,
    "business day": 7 / 5, "working day": 7 / 5, "work day": 7 / 5, "weekday": 7 / 5,
    "week": 7.0, "fortnight": 14.0, "month": 30.0, "year": 365.0,
}  # fmt: skip
CURRENCY_WORDS: dict[str, str] = {
    "$": "USD", "usd": "USD", "dollar": "USD", "buck": "USD", "€": "EUR", "eur": "EUR",
    "euro": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP",
}  # fmt: skip
#: words for a number before a unit ("a week", "a couple of days")
ARTICLE_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "a couple of": 2.0, "a couple": 2.0,
                   "couple of": 2.0, "a few": 3.0, "few": 3.0, "several": 3.0, "half a": 0.5,
                   "a half": 0.5}  # fmt: skip
#: bound words before a value: (lower bound kept, upper bound kept)
BOUNDS_AT_MOST = ("no more than", "not more than", "no longer than", "up to", "within", "at most",
                  "less than", "under", "fewer than", "max", "maximum", "no later than",
                  "by the latest", "not longer than")  # fmt: skip
BOUNDS_AT_LEAST = ("more than", "over", "at least", "longer than", "minimum", "upwards of")

_NUM = r"(\d+(?:[.,]\d+)?)"
_UNIT_WORDS = sorted(DURATION_UNITS, key=len, reverse=True)
_UNIT = r"(" + "|".join(re.escape(u) for u in _UNIT_WORDS) + r")s?\b"
_ART = r"(" + "|".join(re.escape(a) for a in sorted(ARTICLE_NUMBERS, key=len, reverse=True)) + r")"
_DURATION_RX = re.compile(
    rf"\b(?:{_NUM}(?:\s*(?:-|–|to|or|and)\s*{_NUM})?|{_ART})\s+(?:more\s+)?{_UNIT}", re.I
)
_BETWEEN_RX = re.compile(rf"\bbetween\s+{_NUM}\s+and\s+{_NUM}\s+{_UNIT}", re.I)
_MONEY_RX = re.compile(
    r"(?:(\$|€|£)\s?" + _NUM + r"(?:\s*(?:-|–|to)\s*(?:\$|€|£)?\s?" + _NUM + r")?"
    r"|\b" + _NUM + r"(?:\s*(?:-|–|to)\s*" + _NUM + r")?\s*(usd|eur|gbp|dollars?|bucks?|euros?|pounds?)\b)",
    re.I,
)
_FREE_RX = re.compile(
    r"\b(?:free(?: of charge)?|no (?:\w+ )?(?:charge|fee|cost)|nothing|won't (?:be )?charged?|don't charge|"
    r"doesn't cost anything|at no cost|zero (?:dollars|euros|pounds))\b",
    re.I,
)
_PLAIN_NUM_RX = re.compile(rf"\b{_NUM}\b")


@dataclass(frozen=True, slots=True)
class Value:
    """An interval on one scale: `dim` is "duration" (days), a currency code, or "count"."""

    dim: str
    low: float
    high: float
    #: the words it was read from ("two days"), for the evidence
    text: str = ""
    #: character span in the *normalised* text it was read from
    start: int = 0
    end: int = 0

    def meets(self, other: Value, tolerance: float = 0.05) -> bool:
        """Whether the intervals overlap, each widened by `tolerance` (relative)."""
        if self.dim != other.dim:
            return True  # not comparable: never a contradiction
        lo1, hi1 = self.low * (1 - tolerance), self.high * (1 + tolerance)
        lo2, hi2 = other.low * (1 - tolerance), other.high * (1 + tolerance)
        return lo1 <= hi2 and lo2 <= hi1

    def describe(self) -> str:
        return self.text


def normalise(text: str) -> str:
    """Spoken numbers as digits ("five to seven" -> "5 to 7"), lower case, straight quotes."""
    low = text.replace("\u2019", "'").replace("\u2013", "-")
    return alpha2digit(low, "en", threshold=0).lower()


def _f(s: str | None) -> float | None:
    return float(s.replace(",", ".")) if s else None


def _bound(text: str, start: int) -> tuple[str | None, bool, int]:
    """The bound word just before `start` ("most"/"least"/None), whether a negation
    precedes it in the clause ("won't take more than" = at most), and where it starts."""
    before = text[max(0, start - 40) : start].rstrip()
    for kind, words in (("most", BOUNDS_AT_MOST), ("least", BOUNDS_AT_LEAST)):
        for w in words:
            if before.endswith(w) and (len(before) == len(w) or not before[-len(w) - 1].isalnum()):
                rest = before[: -len(w)]
                neg = _NEG_BEFORE_RX.search(rest)
                at = max(0, start - 40) + (neg.start() if neg else len(rest))
                return kind, bool(neg), at
    return None, False, start


_NEG_BEFORE_RX = re.compile(r"(?:\b\w*n't|\bnot|\bnever|\bno)\b(?:\s+\w+){0,3}\s*$")


def _apply_bound(lo: float, hi: float, text: str, start: int) -> tuple[float, float, int]:
    """The interval after the bound word before `start`, and where the words it was read
    from begin."""
    kind, neg, at = _bound(text, start)
    if kind == "most":
        kind = "least" if neg else "most"
    elif kind == "least":
        kind = "most" if neg else "least"
    if kind == "most":
        return 0.0, hi, at
    if kind == "least":
        return lo, math.inf, at
    return lo, hi, at


def durations(norm: str) -> list[Value]:
    """Durations in days in normalised text (see `normalise`)."""
    out: list[Value] = []
    taken: list[tuple[int, int]] = []
    for m in _BETWEEN_RX.finditer(norm):
        f = DURATION_UNITS[m.group(3).lower()]
        out.append(Value("duration", _f(m.group(1)) * f, _f(m.group(2)) * f, m.group(0),  # type: ignore[operator]
                         m.start(), m.end()))  # fmt: skip
        taken.append(m.span())
    for m in _DURATION_RX.finditer(norm):
        if any(a <= m.start() < b for a, b in taken):
            continue
        unit = m.group(4).lower()
        f = DURATION_UNITS[unit]
        if m.group(3):
            lo = hi = ARTICLE_NUMBERS[m.group(3).lower()]
        else:
            lo = _f(m.group(1))
            hi = _f(m.group(2)) or lo  # "2 or 3 days" reads as the range 2-3
        assert lo is not None and hi is not None
        lo, hi, bound = _apply_bound(lo * f, hi * f, norm, m.start())
        out.append(Value("duration", lo, hi, _with_bound(norm, m, bound), m.start(), m.end()))
    return out


def _with_bound(norm: str, m: re.Match[str], at: int) -> str:
    """The value's words with its bound words ("no more than 7 days")."""
    return norm[at : m.end()].strip()


def money(norm: str, default_currency: str | None = None) -> list[Value]:
    """Amounts of money; "free" / "no charge" is 0 in `default_currency`."""
    out: list[Value] = []
    for m in _MONEY_RX.finditer(norm):
        if m.group(1):
            cur, lo, hi = CURRENCY_WORDS[m.group(1)], _f(m.group(2)), _f(m.group(3))
        else:
            word = m.group(6).lower().rstrip("s")
            cur, lo, hi = CURRENCY_WORDS.get(word, word.upper()), _f(m.group(4)), _f(m.group(5))
        assert lo is not None
        lo2, hi2, bound = _apply_bound(lo, hi or lo, norm, m.start())
        out.append(Value(cur, lo2, hi2, _with_bound(norm, m, bound), m.start(), m.end()))
    if default_currency:
        for m in _FREE_RX.finditer(norm):
            out.append(Value(default_currency, 0.0, 0.0, m.group(0), m.start(), m.end()))
    return out


def counts(norm: str) -> list[Value]:
    """Plain numbers (for facts that are a count: "up to 3 devices")."""
    out = []
    for m in _PLAIN_NUM_RX.finditer(norm):
        v = _f(m.group(1))
        assert v is not None
        lo, hi, bound = _apply_bound(v, v, norm, m.start())
        out.append(Value("count", lo, hi, _with_bound(norm, m, bound), m.start(), m.end()))
    return out
