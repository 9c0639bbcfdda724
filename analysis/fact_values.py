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
from datetime import datetime

from text_to_num import alpha2digit

#: unit word -> (dimension, factor to the dimension's base unit)
DURATION_UNITS: dict[str, float] = {
    "minute": 1 / 1440, "min": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "day": 1.0,
    "business day": 7 / 5, "working day": 7 / 5, "work day": 7 / 5, "weekday": 7 / 5,
    "week": 7.0, "fortnight": 14.0, "month": 30.0, "year": 365.0,
    # written abbreviations ("1 yr", "6 mos", "2 wks", "48 hrs")
    "yr": 365.0, "mo": 30.0, "wk": 7.0, "biz day": 7 / 5,
}  # fmt: skip
CURRENCY_WORDS: dict[str, str] = {
    "$": "USD", "usd": "USD", "dollar": "USD", "buck": "USD", "€": "EUR", "eur": "EUR",
    "euro": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP", "quid": "GBP",
}  # fmt: skip
#: slang amounts, in the fact's currency ("a fiver to pay", "it's a tenner")
SLANG_AMOUNTS = {"fiver": 5.0, "tenner": 10.0}
#: words for a number before a unit ("a week", "a couple of days")
ARTICLE_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "a couple of": 2.0, "a couple": 2.0,
                   "couple of": 2.0, "a few": 3.0, "few": 3.0, "several": 3.0, "half a": 0.5,
                   "a half": 0.5}  # fmt: skip
#: vague amounts read as a range up to this ("a few days" = 3-5 days: it neither states
#: nor contradicts a 3-5 business-day policy; "a few weeks" still does)
VAGUE_HIGH = {"a few": 5.0, "few": 5.0, "several": 7.0}
#: bound words before a value: (lower bound kept, upper bound kept)
BOUNDS_AT_MOST = ("no more than", "not more than", "no longer than", "up to", "within", "at most",
                  "less than", "under", "fewer than", "max", "maximum", "no later than",
                  "by the latest", "not longer than", "quicker than", "faster than", "sooner than",
                  "shorter than", "inside of", "inside")  # fmt: skip
BOUNDS_AT_LEAST = ("more than", "over", "at least", "longer than", "minimum", "upwards of", "a minimum of")
#: bound words *after* a value ("five business days max", "three working days minimum")
_AFTER_MOST = re.compile(r"^\s*(?:at (?:the )?(?:most|latest)|max(?:imum)?|tops|or (?:less|fewer|sooner|earlier))\b", re.I)
_AFTER_LEAST = re.compile(r"^\s*(?:at (?:the )?least|minimum|min|or (?:more|longer|later)|and up(?:wards)?|plus)\b", re.I)

_NUM = r"(\d+(?:[.,]\d+)?)"
_UNIT_WORDS = sorted(DURATION_UNITS, key=len, reverse=True)
_UNIT = r"(" + "|".join(re.escape(u) for u in _UNIT_WORDS) + r")s?\b"
_ART = r"(" + "|".join(re.escape(a) for a in sorted(ARTICLE_NUMBERS, key=len, reverse=True)) + r")"
_DURATION_RX = re.compile(
    # "90 days", "90-day warranty", "12 month", "a week"
    rf"\b(?:{_NUM}(?:\s*(?:-|–|to|or|and)\s*{_NUM})?|{_ART})(?:\s+|-)(?:more\s+|full\s+|whole\s+|entire\s+|extra\s+|calendar\s+)?"
    rf"{_UNIT}(\s+and\s+a\s+half)?",
    re.I,
)
_BETWEEN_RX = re.compile(rf"\bbetween\s+{_NUM}\s+and\s+{_NUM}\s+{_UNIT}", re.I)
_MONEY_RX = re.compile(
    r"(?:(\$|€|£)\s?" + _NUM + r"(?:\s*(?:-|–|to)\s*(?:\$|€|£)?\s?" + _NUM + r")?"
    r"|\b" + _NUM + r"(?:\s*(?:-|–|to)\s*" + _NUM + r")?(?:\s*|-)(usd|eur|gbp|dollars?|bucks?|euros?|pounds?|quid)\b"
    # a currency code before the amount ("USD 25.00")
    r"|\b(usd|eur|gbp)\s?" + _NUM + r")",
    re.I,
)
_SLANG_RX = re.compile(r"\b(?:an?\s+|one\s+)?(" + "|".join(SLANG_AMOUNTS) + r")s?\b", re.I)
_FREE_RX = re.compile(
    r"\b(?:free(?: of charge)?|no (?:\w+ )?(?:charge|fee|cost|penalty)|penalty[- ]free|without (?:any )?(?:charge|fee|penalty|cost)|(?:costs?|pay|charged?) (?:you )?nothing|nothing to pay|"
    r"won't (?:be )?charged?(?: (?:you )?anything)?|(?:won't|doesn't|does not|will not) cost (?:you )?(?:a (?:penny|cent|thing|dime)|a single \w+)|don't charge|"
    r"(?:won't|don't|will not|do not|doesn't|does not|never) (?:have to |need to )?pay (?:anything|a (?:penny|cent|thing|dime))|(?:doesn't|won't|does not|will not) cost (?:you )?anything|"
    r"at no cost|zero (?:dollars|euros|pounds))\b",
    re.I,
)
#: paying out what is left of a contract: an amount that is no fixed fee
_REST_OF_CONTRACT_RX = re.compile(
    r"\b(?:pay|paying|charge you|charged|owe)\s+(?:off\s+|out\s+|for\s+)?(?:the\s+|all\s+the\s+)?"
    r"(?:remaining|remainder of|rest of|balance of|outstanding)\s+(?:\w+\s+){0,2}?(?:months?|contract|term|plan|payments?)\b"
)
#: an amount charged for each month left, or a share of what is left: a charge that
#: grows with the contract, no fixed fee ("$25 per remaining month", "10% of your
#: remaining contract value")
_PER_REMAINING_RX = re.compile(
    r"^\s*(?:per|a|an|for each|for every|each|for the)\s+(?:remaining\s+|outstanding\s+)?month"
    r"(?:s?\s+(?:left|remaining|to run|to go)|\s+(?:for|of)\s+(?:the\s+)?(?:rest|remainder|remaining))"
    r"|^\s*(?:per|a|for each|for every|each)\s+(?:remaining|outstanding)\s+(?:month|bill|payment)"
)
_SHARE_OF_REST_RX = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:%|percent|per cent)\s+of\s+(?:your\s+|the\s+)?(?:remaining|outstanding|rest of|"
    r"remainder of|unpaid)\b(?:\s+\w+){0,3}"
)
_PLAIN_NUM_RX = re.compile(rf"\b{_NUM}\b")
#: "a week or two", "a day or 2": the second number counts the same unit (normalised text)
_OR_NUMBER_RX = re.compile(
    r"^\s+or\s+(\d+)\b(?![.,]\d|\s*-?\s*(?:minute|min|hour|hr|day|business|working|week|fortnight|month|year|yr|mo|wk))"
)
#: a duration that dates an event instead of stating how long something lasts: "bought it
#: 3 years ago", "a 2 year old phone", "since 6 months", "for the last 2 weeks"
#: ("a month before you see it" is a length: "before" opening a clause is no age)
_AGE_AFTER = re.compile(
    r"^\s*(?:ago|old|before(?!\s+(?:you|we|i|it|they|he|she)\b)|earlier|back)\b", re.I
)
_AGE_BEFORE = re.compile(r"\b(?:since|for the (?:last|past)|over the (?:last|past)|in the (?:last|past))\s*$", re.I)

#: durations said in words, no number: (regex, low, high) in days. Written out because no
#: maintained library reads them as lengths (quantulum3 and dateparser read none of these);
#: day names relative to now ("tomorrow", "tonight") go through dateparser below.
WORD_DURATIONS: list[tuple[str, float, float]] = [
    (r"instant(?:ly|aneous(?:ly)?)?|immediate(?:ly)?|straight away|right away|at once|in real time|"
     r"(?:within|in) (?:a few |some )?(?:seconds|minutes)|on the spot|there and then|(?:take |in )no time(?: at all)?", 0.0, 0.05),
    (r"(?:the )?same[- ]day|later today|(?:by |before )?(?:the )?end of (?:the )?(?:day|business)|"
     r"(?:by |before )?close of business|within the (?:day|hour)", 0.0, 1.0),
    (r"(?:the )?next[- ](?:working |business )?day|overnight", 0.0, 2.0),
    # a deadline at the end of a calendar period: at most that long
    (r"(?:by|before|until|till) (?:the )?end of (?:the |this )?week", 0.0, 7.0),
    (r"(?:by|before|until|till) (?:the )?end of (?:the |this )?month", 0.0, 31.0),
    (r"(?:a |for )?life(?:time|[- ]long)?|for life|forever|for ever|never (?:expires?|runs? out|ends?)|"
     r"indefinite(?:ly)?|unlimited|for as long as you (?:own|have) it|no (?:time )?limit", 36500.0, math.inf),
]  # fmt: skip
_WORD_DUR_RX = [(re.compile(rf"\b(?:{p})\b", re.I), lo, hi) for p, lo, hi in WORD_DURATIONS]
#: a day named relative to today: read by dateparser (to the number of days from now)
_DAY_WORDS_RX = re.compile(
    r"\b(?:(?:by|until|till|before|for|on|from)\s+)?"
    r"((?:the day after )?tomorrow(?: (?:morning|afternoon|evening|night))?|today|tonight|"
    r"this (?:morning|afternoon|evening))\b",
    re.I,
)
_DEADLINE_WORDS = ("by", "until", "till", "before")
#: a day word in a clause about the past dates what was done, not how long it takes ("I've
#: processed the refund today"); a future word after it makes it a promise again
_PAST_RX = re.compile(r"\b(?:i've|we've|i have|we have|has been|have been|was|were|did|\w+ed)\b")
_FUTURE_RX = re.compile(r"\b(?:will|'ll|\w+'ll|should|going to|gonna|can expect|expect)\b")


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


#: ASR writes contractions without the apostrophe; the clause reader knows them with it
#: ("if you cancel now its a forty dollar fee": "it's" starts the main clause)
ASR_CONTRACTIONS = {
    "its": "it's", "thats": "that's", "theres": "there's", "youll": "you'll", "youre": "you're",
    "wont": "won't", "dont": "don't", "cant": "can't", "isnt": "isn't", "doesnt": "doesn't",
    "didnt": "didn't", "arent": "aren't", "well": "well", "weve": "we've", "ive": "i've",
}  # fmt: skip
_CONTRACTION_RX = re.compile(r"\b(" + "|".join(k for k, v in ASR_CONTRACTIONS.items() if k != v) + r")\b")


_WORD_UNIT_HYPHEN = re.compile(
    r"\b([A-Za-z]+)-(minute|hour|day|week|month|year|business|working|dollar|euro|pound|buck)", re.I
)


def normalise(text: str) -> str:
    """Spoken numbers as digits ("five to seven" -> "5 to 7"), lower case, straight quotes,
    ASR contractions with their apostrophe ("its" -> "it's")."""
    low = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", " - ")
    # "two-year", "eighteen-month": text2num reads a number word only when it stands alone
    low = _WORD_UNIT_HYPHEN.sub(r"\1 \2", low)
    low = alpha2digit(low, "en", threshold=0).lower()
    # spoken currency names and cents: "25 u s dollars", "12 dollars 50" (= $12.50)
    low = _US_DOLLARS.sub("dollars", low)
    low = _AND_A_HALF.sub(lambda m: f"{m.group(1)}.5", low)  # "2 and a half years"
    low = _CENTS_AFTER.sub(lambda m: f"{m.group(1)}.{m.group(3)} {m.group(2)}", low)
    return _CONTRACTION_RX.sub(lambda m: ASR_CONTRACTIONS[m.group(1)], low)


_AND_A_HALF = re.compile(r"\b(\d+) and (?:a )?half\b")
_US_DOLLARS = re.compile(r"\bu\.?\s?s\.?\s+dollars\b")
_CENTS_AFTER = re.compile(r"\b(\d+)\s+(dollars?|euros?|pounds?|bucks?)\s+(\d{2})\b(?!\s*(?:%|percent|days?|weeks?|months?|years?|hours?|minutes?))")


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


def _apply_bound(lo: float, hi: float, text: str, start: int, end: int | None = None) -> tuple[float, float, int]:
    """The interval after the bound word before `start` (or, with `end`, after the value:
    "five days max", "three working days minimum"), and where the words it was read from
    begin."""
    kind, neg, at = _bound(text, start)
    if kind is None and end is not None:
        after = text[end:]
        if _AFTER_MOST.match(after):
            kind = "most"
        elif _AFTER_LEAST.match(after):
            kind = "least"
    if kind == "most":
        kind = "least" if neg else "most"
    elif kind == "least":
        kind = "most" if neg else "least"
    if kind == "most":
        return 0.0, hi, at
    if kind == "least":
        return lo, math.inf, at
    return lo, hi, at


def _age(norm: str, start: int, end: int) -> bool:
    """Whether the duration at [start, end) dates an event ("3 years ago") instead of
    stating a length."""
    return bool(_AGE_AFTER.match(norm[end:]) or _AGE_BEFORE.search(norm[:start]))


def _days_from_now(phrase: str) -> float | None:
    """How many days ahead `phrase` ("tomorrow", "tonight") lies, by dateparser, from a
    fixed noon (the comparison needs a length, not a date)."""
    import dateparser

    base = datetime(2026, 1, 7, 12, 0)  # a Wednesday noon; only day offsets are used
    when = dateparser.parse(phrase, languages=["en"],
                            settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"})  # fmt: skip
    if when is None:
        return None
    return float((when.date() - base.date()).days)


def ages(norm: str) -> list[Value]:
    """Durations that date an event ("bought it 14 months ago", "a 3 year old tablet"), in
    days: what `durations` leaves out. A warranty conclusion drawn from one ("so it's out of
    warranty") is a claim about the warranty's length (`analysis.facts`)."""
    out = []
    for m in _DURATION_RX.finditer(norm):
        if not _age(norm, m.start(), m.end()):
            continue
        f = DURATION_UNITS[m.group(4).lower()]
        lo = ARTICLE_NUMBERS[m.group(3).lower()] if m.group(3) else _f(m.group(1))
        hi = lo if m.group(3) else (_f(m.group(2)) or lo)
        assert lo is not None and hi is not None
        half = 0.5 if m.group(5) else 0.0
        out.append(Value("duration", (lo + half) * f, (hi + half) * f, m.group(0), m.start(), m.end()))
    return out


def word_durations(norm: str) -> list[Value]:
    """Durations said without a number: "instantly", "same day", "by tomorrow", "lifetime".
    A day word is the day itself ([d, d+1] days from now) or, after "by"/"until", the
    time up to it ([0, d+1])."""
    out: list[Value] = []
    taken: list[tuple[int, int]] = []
    for rx, lo, hi in _WORD_DUR_RX:
        for m in rx.finditer(norm):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append(m.span())
            lo2, hi2, bound = _apply_bound(lo, hi, norm, m.start())
            out.append(Value("duration", lo2, hi2, _with_bound(norm, m, bound), m.start(), m.end()))
    for m in _DAY_WORDS_RX.finditer(norm):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        before = norm[: m.start()]
        if _PAST_RX.search(before) and not _FUTURE_RX.search(before):
            continue
        d = _days_from_now(m.group(1))
        if d is None:
            continue
        deadline = m.group(0).split()[0].lower() in _DEADLINE_WORDS
        lo, hi, bound = _apply_bound(0.0 if deadline else d, d + 1.0, norm, m.start())
        out.append(Value("duration", lo, hi, _with_bound(norm, m, bound), m.start(), m.end()))
    return sorted(out, key=lambda v: v.start)


def durations(norm: str) -> list[Value]:
    """Durations in days in normalised text (see `normalise`); durations that date an
    event ("bought it 3 years ago") are left out. Without a number in the text, the
    durations said in words (`word_durations`)."""
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
            hi = VAGUE_HIGH.get(m.group(3).lower(), hi)
        else:
            lo = _f(m.group(1))
            hi = _f(m.group(2)) or lo  # "2 or 3 days" reads as the range 2-3
        assert lo is not None and hi is not None
        if m.group(5):  # "a year and a half"
            lo, hi = lo + 0.5, hi + 0.5
        elif (orn := _OR_NUMBER_RX.match(norm[m.end() :])) and float(orn.group(1)) > hi:
            hi = float(orn.group(1))  # "a week or two" = 1-2 weeks
        if _age(norm, m.start(), m.end()):
            continue
        lo, hi, bound = _apply_bound(lo * f, hi * f, norm, m.start(), m.end())
        out.append(Value("duration", lo, hi, _with_bound(norm, m, bound), m.start(), m.end()))
    if not out and not taken:
        return word_durations(norm)
    return sorted(out, key=lambda v: v.start)


def _with_bound(norm: str, m: re.Match[str], at: int) -> str:
    """The value's words with its bound words ("no more than 7 days")."""
    return norm[at : m.end()].strip()


def money(norm: str, default_currency: str | None = None) -> list[Value]:
    """Amounts of money; "free" / "no charge" is 0 in `default_currency`."""
    out: list[Value] = []
    for m in _MONEY_RX.finditer(norm):
        if m.group(1):
            cur, lo, hi = CURRENCY_WORDS[m.group(1)], _f(m.group(2)), _f(m.group(3))
        elif m.group(7):
            cur, lo, hi = CURRENCY_WORDS[m.group(7).lower()], _f(m.group(8)), None
        else:
            word = m.group(6).lower().rstrip("s")
            cur, lo, hi = CURRENCY_WORDS.get(word, word.upper()), _f(m.group(4)), _f(m.group(5))
        assert lo is not None
        lo2, hi2, bound = _apply_bound(lo, hi or lo, norm, m.start())
        if _PER_REMAINING_RX.match(norm[m.end() :]):
            lo2 = hi2 = math.inf  # "$25 per remaining month": grows with the contract
        out.append(Value(cur, lo2, hi2, _with_bound(norm, m, bound), m.start(), m.end()))
    if default_currency:
        for m in _SLANG_RX.finditer(norm):
            v = SLANG_AMOUNTS[m.group(1).lower()]
            out.append(Value(default_currency, v, v, m.group(0), m.start(), m.end()))
        for m in _REST_OF_CONTRACT_RX.finditer(norm):
            # "you'll pay the remaining months": a charge, but not any fixed amount
            out.append(Value(default_currency, math.inf, math.inf, m.group(0), m.start(), m.end()))
        for m in _SHARE_OF_REST_RX.finditer(norm):
            out.append(Value(default_currency, math.inf, math.inf, m.group(0), m.start(), m.end()))
        for m in _FREE_RX.finditer(norm):
            if any(0 <= v.start - m.end() <= 12 and v.low > 0 for v in out):
                continue  # "you won't be charged the $25 fee": names the amount, waived this time
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


#: the bound reading for callers outside this module (`analysis.facts` reads bare amounts)
apply_bound = _apply_bound


def has_bound(norm: str, start: int, end: int) -> bool:
    """Whether a bound word ("up to", "at least", "... max") goes with the value at
    [start, end): only then does a negation before it flip the bound instead of denying
    the value ("never instant" says nothing about how long it takes)."""
    return _bound(norm, start)[0] is not None or bool(_AFTER_MOST.match(norm[end:]) or _AFTER_LEAST.match(norm[end:]))


def asr_contractions(low: str) -> str:
    """Lower-case text with ASR contractions given their apostrophe ("cant" -> "can't")."""
    return _CONTRACTION_RX.sub(lambda m: ASR_CONTRACTIONS[m.group(1)], low)
