"""The recognisers: what kind of PII a run of digits is, and the PII that is not digits.

Each recogniser reads the conversation stream (`analysis.redaction_stream`) and returns
`Found` items (a kind and the tokens or character pieces per turn it covers). Why cues
matter: most numbers in a contact centre are order numbers, prices and times; a number
is PII because of what it is *said to be*. So the nearest cue before a number (within
`CUE_WINDOW` tokens, whoever said it: the agent asks "and the security code?", the
customer answers "seven three seven") decides, and a negative cue ("order", "ticket",
"reference", ...) wins over the shape of the number. Shape rules without any cue:

- 13-19 digits passing Luhn -> CARD (also after correcting a self-correction, and a Luhn
  prefix of a longer run: the card, then its expiry and code said in one breath);
- after a card (within 30 tokens, no other cue): 3 digits -> CVV, 4 digits that read as
  MMYY -> EXPIRY;
- 9 digits in 3-2-4 groups, or 9 spoken digits -> SSN;
- 10 digits, or 11 starting with 1, or "plus" + 8-15 digits -> PHONE; written numbers in
  other national shapes via libphonenumber's matcher.

Cue rules: card cue + 12-20 digits -> CARD (ASR lost or misheard a digit: Luhn fails);
security-code cue + 3-4 -> CVV; expiry cue + 3-6 digits or a date -> EXPIRY; SSN cue +
9 (or the last 4) -> SSN; routing/sort-code cue + 6-9 -> ROUTING; account cue + 5-17 ->
BANK_ACCOUNT; birth cue + a date (words, ordinals, digits) -> DOB; phone cue + 7-15 ->
PHONE; IBAN cue + spelled letters and digits passing mod-97 -> IBAN.
Dates after a birth or expiry cue are read here too (`find_dates`: month names,
ordinals, spoken years). E-mail addresses, IBANs, written phone numbers and street
addresses are in `analysis.redaction_text`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.redaction_stream import (
    TEENS,
    TENS,
    UNITS,
    Run,
    Stream,
    turn_pieces,
)

#: tokens before a number searched for its cue
CUE_WINDOW = 14
#: tokens before a number within which a negative cue ("order", "ticket") applies
NEG_WINDOW = 5
#: tokens after a card within which a bare 3-4 digit number is its code or expiry
AFTER_CARD_WINDOW = 30

_CUES: dict[str, str] = {
    "CVV": r"security (?:code|number|digits?)|cvv ?(?:2|two)?|cvc ?(?:2|two)?|csc|cid|card verification(?: code| value)?"
           r"|(?:three|3|four|4)(?: |-)?digits? (?:code|number)|(?:code|digits|number) on the back|back of the card"
           r"|verification (?:code|number|value)",
    "EXPIRY": r"expiry|expiration|expires?|expiring|exp date|valid (?:thru|through|until|till)|good (?:thru|through)",
    "CARD": r"card|credit|debit|visa|master ?card|amex|american express|discover|maestro|long number|pan",
    "SSN": r"ssn|social security|social|s s n|taxpayer|tax id|itin|tin",
    "ROUTING": r"routing|aba|sort code|transit number|swift|bic",
    "BANK_ACCOUNT": r"account number|bank account|acct|account no|checking account|savings account|checking|savings",
    "DOB": r"date of birth|d o b|dob|born(?: on| in)?|birthday|birth date|birthdate",
    "PHONE": r"phone|telephone|mobile|cell|landline|call me|call back|callback|reach me|text me|fax"
             r"|contact number|number to call",
    "IBAN": r"iban|i ban",
    # "the account is ...": a bank account only when the number is long enough (not a ZIP)
    "ACCT": r"account",
    "NEG": r"order|ticket|case|reference|ref|confirmation|tracking|invoice|booking|reservation|claim"
           r"|serial|model|sku|item|receipt|incident|parcel|shipment|flight|room|extension|ext|policy"
           r"|member|membership|employee|customer id|badge|voucher|coupon|promo|gift card|loyalty"
           r"|ending in|ends in|last four digits of the card|pin",
}
CUE = re.compile("|".join(rf"\b(?P<{k}>{v})\b" for k, v in _CUES.items()))
#: a turn that mentions any cue is not an interjection (it starts a new question)
ANY_CUE = re.compile("|".join(rf"\b(?:{v})\b" for k, v in _CUES.items() if k != "NEG"), re.IGNORECASE)
#: words right after a number that make it a quantity, price or time, not an identifier
_UNIT_AFTER = {
    "dollars", "dollar", "bucks", "cents", "pounds", "euros", "euro", "percent", "%", "minutes",
    "minute", "mins", "hours", "hour", "hrs", "days", "day", "weeks", "months", "years", "am", "pm",
    "o'clock", "gb", "mb", "kg", "lbs", "miles", "items", "points", "times",
}  # fmt: skip
_CURRENCY_BEFORE = {"$", "£", "€", "usd", "eur", "gbp"}


@dataclass(slots=True)
class Found:
    """One piece of PII: its kind and [start, end) per turn it touches."""

    kind: str
    pieces: dict[int, tuple[int, int]]
    #: a guess from position alone (3-4 digits after a card, no cue): loses any overlap
    weak: bool = False


class Cues:
    """Every cue in the conversation, by token position (one regex pass over the stream)."""

    def __init__(self, stream: Stream) -> None:
        # tokens joined by spaces, turns by newlines: a cue never spans two turns
        # ("... and the CVV" / "two two oh" is not the cue "CVV two")
        parts: list[str] = []
        starts: list[int] = []
        pos = 0
        prev_turn = -1
        for tok in stream.toks:
            if parts:
                parts.append("\n" if tok.turn != prev_turn else " ")
                pos += 1
            starts.append(pos)
            parts.append(tok.low)
            pos += len(tok.low)
            prev_turn = tok.turn
        self.text = "".join(parts)
        self.tok_at = starts
        #: (token index of the cue's last token, kind, token index of its first token)
        self.found: list[tuple[int, str, int]] = []
        for m in CUE.finditer(self.text):
            first = bisect.bisect_right(starts, m.start()) - 1
            last = bisect.bisect_right(starts, m.end() - 1) - 1
            self.found.append((last, m.lastgroup or "", first))
        self._ends = [f[0] for f in self.found]
        #: tokens that are part of a cue ("two" in "CVV two") are not digits of the number
        self.covered = {k for last, _kind, first in self.found for k in range(first, last + 1)}

    def before(self, tok: int, window: int = CUE_WINDOW) -> str | None:
        """The kind of the nearest cue ending before token `tok` (within `window`).

        A negative cue counts only within `NEG_WINDOW` tokens ("order number 123..."): an
        order mentioned earlier in the sentence does not make a phone number an order id.
        """
        k = bisect.bisect_left(self._ends, tok) - 1
        while k >= 0 and tok - self._ends[k] <= window:
            kind = self.found[k][1]
            if kind != "NEG" or tok - self._ends[k] <= NEG_WINDOW:
                return kind
            k -= 1
        return None

    def kinds_before(self, tok: int, window: int = CUE_WINDOW) -> list[str]:
        """Kinds of the cues before token `tok` within `window`, nearest first (a negative
        cue only within `NEG_WINDOW`), each kind once."""
        out: list[str] = []
        k = bisect.bisect_left(self._ends, tok) - 1
        while k >= 0 and tok - self._ends[k] <= window:
            kind = self.found[k][1]
            if (kind != "NEG" or tok - self._ends[k] <= NEG_WINDOW) and kind not in out:
                out.append(kind)
            k -= 1
        return out

    def of_kind(self, kinds: Iterable[str]) -> list[tuple[int, str]]:
        want = set(kinds)
        return [(end, kind) for end, kind, _ in self.found if kind in want]


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    if not digits.isdigit() or len(digits) < 12:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    s = candidate.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    try:
        number = "".join(str(int(c, 36)) for c in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


def _variants(run: Run) -> set[str]:
    """The digits as said, and as meant after each self-correction."""
    out = {run.digits}
    for p in run.corrections:
        g = max((s for s in run.group_starts if s < p), default=0)
        out.add(run.digits[:g] + run.digits[p:])
        for k in range(1, min(4, p) + 1):
            out.add(run.digits[: p - k] + run.digits[p:])
    return out


def _mmyy(d: str) -> bool:
    """Reads as a month and a year: 427, 0427, 1227, 042027, 122027."""
    if len(d) == 3:
        return d[0] != "0"
    if len(d) in (4, 6):
        return 1 <= int(d[:2]) <= 12
    return False


def _quantity(stream: Stream, run: Run) -> bool:
    """A price, time or quantity: "$25.99", "10 30 am", "45 minutes"."""
    first, last = run.first_tok(), run.digit_tok[-1]
    nxt = stream.toks[last + 1].low if last + 1 < len(stream.toks) else ""
    prev = stream.toks[first - 1].low if first > 0 else ""
    return nxt in _UNIT_AFTER or prev in _CURRENCY_BEFORE


def classify(stream: Stream, cues: Cues, run: Run, after_card: bool) -> list[tuple[str, Run]]:
    """What the run is (possibly several things, when a card runs into its code)."""
    if run.digit_tok[0] in cues.covered:
        rest = next((k for k, t in enumerate(run.digit_tok) if t not in cues.covered), None)
        if rest is None:
            return []
        run = run.sub(rest, len(run.digits))
    d = run.digits
    n = len(d)
    variants = _variants(run)
    lens = {len(v) for v in variants}
    if any(13 <= len(v) <= 19 and luhn_ok(v) for v in variants):
        return [("CARD", run)]
    kinds = cues.kinds_before(run.first_tok())
    if (kinds and kinds[0] == "NEG") or _quantity(stream, run):
        return []
    # the nearest cue that fits the number's length wins: "the expiry date and security
    # code on your card?" - "Dec-24, 158": 158 is the code, though "card" is nearer
    for cue in kinds:
        got = _by_cue(stream, cues, run, cue, lens)
        if got:
            return got
    if after_card and (not kinds or kinds[0] == "CARD"):
        if n == 3 or (n == 4 and not _mmyy(d)):
            return [("CVV?", run)]
        if n in (4, 6) and _mmyy(d):
            return [("EXPIRY?", run)]
    groups = [len(g) for g in run.groups()]
    if n == 9 and (groups == [3, 2, 4] or (run.spoken and not run.written)):
        return [("SSN", run)]
    if n == 10 or (n == 11 and d.startswith("1")) or (run.plus is not None and 8 <= n <= 15):
        return [("PHONE", run)]
    if n > 13:
        return _split_card(stream, cues, run, force=False) or _trailing_card(stream, cues, run)
    return []


def _trailing_card(stream: Stream, cues: Cues, run: Run) -> list[tuple[str, Run]]:
    """Another number running straight into a card number ("phone 415 555 0199. 4111 1111
    1111 1111"): the Luhn-valid tail is the card, the head is classified on its own."""
    n = len(run.digits)
    for g in run.group_starts:
        if g > 0 and 13 <= n - g <= 19 and luhn_ok(run.digits[g:]):
            head = run.sub(0, g)
            return [*classify(stream, cues, head, after_card=False), ("CARD", run.sub(g, n))]
    return []


def _by_cue(stream: Stream, cues: Cues, run: Run, cue: str, lens: set[int]) -> list[tuple[str, Run]]:
    """The run read as what `cue` announces, when its length fits; else nothing."""
    n = len(run.digits)
    if cue == "CARD":
        if any(12 <= x <= 19 for x in lens) or n == 20:
            return [("CARD", run)]
        if n > 20:
            return _split_card(stream, cues, run, force=True)
        return []
    fits = {
        "CVV": bool(lens & {3, 4}),
        "EXPIRY": 3 <= n <= 8,
        # ASR drops or doubles a digit of a dictated SSN as it does of a card (measured on
        # Whisper transcripts: bench/redaction_asr.py)
        "SSN": bool(lens & {4, 7, 8, 9, 10}),
        "ROUTING": 6 <= n <= 11,
        "BANK_ACCOUNT": 5 <= n <= 17,
        "DOB": 4 <= n <= 8,
        "PHONE": 7 <= n <= 15,
        "ACCT": 8 <= n <= 17,
    }
    if not fits.get(cue):
        return []
    return [("BANK_ACCOUNT" if cue == "ACCT" else cue, run)]


def _split_card(stream: Stream, cues: Cues, run: Run, *, force: bool) -> list[tuple[str, Run]]:
    """A card number followed by more digits (its expiry and code) in one run."""
    starts = [g for g in run.group_starts if g > 0]
    best: int | None = None
    for g in starts:
        if 13 <= g <= 19 and luhn_ok(run.digits[:g]):
            best = g
    if best is None and force:
        cands = [g for g in starts if 12 <= g <= 19]
        best = min(cands, key=lambda g: abs(g - 16)) if cands else None
    if best is None:
        return []
    out: list[tuple[str, Run]] = [("CARD", run.sub(0, best))]
    rest = run.sub(best, len(run.digits))
    r = rest.digits
    if len(r) in (3, 4) and not (len(r) == 4 and _mmyy(r)):
        out.append(("CVV", rest))
    elif len(r) == 4:
        out.append(("EXPIRY", rest))
    elif len(r) in (7, 8) and _mmyy(r[:4]):
        out += [("EXPIRY", rest.sub(0, 4)), ("CVV", rest.sub(4, len(r)))]
    elif len(r) in (6, 7) and _mmyy(r[:3]):
        out += [("EXPIRY", rest.sub(0, 3)), ("CVV", rest.sub(3, len(r)))]
    else:
        out += classify(stream, cues, rest, after_card=True)
    return out


def run_tokens(stream: Stream, run: Run) -> list[int]:
    """The run's own tokens from its first digit to its last (fillers included), plus echoes."""
    first, last = run.first_tok(), run.digit_tok[-1]
    own = [i for i in range(first, last + 1) if stream.speaker_of(i) == run.speaker]
    return own + run.echo_toks


def find_digit_pii(stream: Stream, cues: Cues, runs: list[Run]) -> list[Found]:
    """Classify every digit run of the conversation (`digit_runs(stream, ANY_CUE)`)."""
    out: list[Found] = []
    last_card_end = -(10**9)
    for run in runs:
        after_card = run.first_tok() - last_card_end <= AFTER_CARD_WINDOW
        for kind, part in classify(stream, cues, run, after_card):
            weak = kind.endswith("?")
            kind = kind.rstrip("?")
            out.append(Found(kind, turn_pieces(stream, run_tokens(stream, part)), weak))
            if kind == "CARD":
                last_card_end = part.digit_tok[-1]
    return out


# -- dates after a birth or expiry cue ------------------------------------------------------

MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
_ORDINALS = {
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
    "eighteenth", "nineteenth", "twentieth", "thirtieth", "st", "nd", "rd", "th",
}  # fmt: skip
_DATE_GLUE = {"of", "the", "/", "-", ".", ",", "and", "hundred", "thousand", "slash", "'"}
_NUMBERISH = set(UNITS) | set(TEENS) | set(TENS) | _ORDINALS | {"double", "triple"}


def _dateish(low: str) -> bool:
    return low.isdigit() or low in MONTHS or low in _NUMBERISH or low in _DATE_GLUE


def find_dates(stream: Stream, cues: Cues) -> list[Found]:
    """The date said after each birth or expiry cue: "March third, nineteen eighty five"."""
    toks = stream.toks
    out: list[Found] = []
    for end, kind in cues.of_kind(("DOB", "EXPIRY")):
        i = end + 1
        lead = 0
        while i < len(toks) and not _is_date_start(toks[i].low) and lead < 12:
            lead += 1
            i += 1
        j = i
        parts = 0
        informative: list[int] = []
        while j < len(toks) and toks[j].turn == toks[i].turn and _dateish(toks[j].low) and j - i < 14:
            low = toks[j].low
            if low == "and" and toks[j - 1].low not in ("thousand", "hundred"):
                break  # "two thousand and one" is a year; "Dec-24 and 158" is two things
            if low.isdigit() or low in MONTHS or low in _NUMBERISH or low in ("hundred", "thousand"):
                parts += 1
                informative.append(j)
            j += 1
        if not informative:
            continue
        has_month = any(toks[k].low in MONTHS for k in informative)
        if kind == "DOB" and parts < 2 and not has_month:
            continue
        if kind == "EXPIRY" and not has_month:
            continue  # digit-only expiries are digit runs (classified with their cue)
        sel = [k for k in range(informative[0], informative[-1] + 1)]
        out.append(Found(kind, turn_pieces(stream, sel)))
    return out


def _is_date_start(low: str) -> bool:
    return low.isdigit() or low in MONTHS or (low in _NUMBERISH and low not in ("st", "nd", "rd", "th"))
