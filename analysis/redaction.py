"""PII redaction: card numbers, SSNs, phone numbers, e-mail addresses and IBANs.

Why not only regexes: ASR writes what it hears, so a card number arrives as "four one one
one, double one ..." as often as "4111 1111 ...". `redact` therefore first reads every run
of digits *and spoken digits* ("zero/oh/o", "one".."nine", "double X", "triple X", with
spaces, commas, dashes or the word "dash" between them) as one digit string that keeps the
character span it came from, then classifies each run:

- 13-19 digits passing the Luhn check -> `[PII:CARD]` (a 16-digit number that fails Luhn is
  left alone: order numbers and tracking ids are not cards), and 12-19 digits right after
  a card word ("card", "credit", "visa", "expiry" ... within 40 characters before): ASR
  often drops or mishears one digit of a dictated card number, which breaks its Luhn check;
- 9 digits written ddd-dd-dddd, or 9 digits all spoken as words -> `[PII:SSN]`;
- 10 digits, or 11 starting with 1 -> `[PII:PHONE]`.

Written phone numbers in other shapes ("+44 20 7946 0958", "(555) 123-4567") are found by
libphonenumber's matcher, e-mail addresses by a regex, IBANs by their shape plus the ISO
13616 mod-97 checksum. Spans never overlap; each replacement keeps the original offsets
so a UI can show where something was removed. Tens and teens spoken as words ("forty one")
are not read as digits: spoken card and phone numbers are dictated digit by digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

__all__ = ["RedactionOptions", "RedactionResult", "RedactionSpan", "luhn_ok", "redact"]

KINDS = ("CARD", "SSN", "PHONE", "EMAIL", "IBAN")


@dataclass
class RedactionOptions:
    """`[redaction]`: what to redact and whether the unredacted text is kept at all."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: false: the analysis job overwrites turns.text (and the word list) with the redacted text
    keep_original: bool = True
    #: which kinds to redact
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    #: region used to read written phone numbers without a country code
    phone_region: str = "US"
    #: when set, calls with redacted PII get a copy of their audio with those seconds
    #: silenced, as <audio_dir>/<interaction id>.flac (see analysis/redaction_audio.py)
    audio_dir: str = ""
    #: seconds of extra silence around each redacted stretch (ASR word times are approximate)
    audio_pad_seconds: float = 0.25

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k.upper() not in KINDS]
        if bad:
            raise ValueError(f"redaction.kinds: unknown {bad}; allowed: {', '.join(KINDS)}")
        self.kinds = [k.upper() for k in self.kinds]
        if self.audio_pad_seconds < 0:
            raise ValueError("redaction.audio_pad_seconds must be >= 0")
        if len(self.phone_region) != 2:
            raise ValueError("redaction.phone_region must be a two-letter region code like US")


@dataclass(frozen=True, slots=True)
class RedactionSpan:
    """One removed piece: `kind`, its [start, end) in the original text, and the marker."""

    kind: str
    start: int
    end: int
    replacement: str


@dataclass(slots=True)
class RedactionResult:
    """The redacted text and the spans (offsets into the *original* text)."""

    text: str
    spans: list[RedactionSpan]

    @property
    def changed(self) -> bool:
        return bool(self.spans)


_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEAT_WORDS = {"double": 2, "triple": 3}
_TOKEN = re.compile(r"\d+|[A-Za-z]+|\S")
_SEPARATORS = {"-", ",", ".", "(", ")", "dash", "hyphen"}
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_SSN_WRITTEN = re.compile(r"^\d{3}-\d{2}-\d{4}$")


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
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    rearranged = s[4:] + s[:4]
    try:
        number = "".join(str(int(c, 36)) for c in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


@dataclass(slots=True)
class _Run:
    digits: str
    start: int
    end: int
    spoken: bool
    written: bool = False


def _digit_runs(text: str) -> list[_Run]:
    """Maximal runs of written or spoken digits with their character spans."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    runs: list[_Run] = []
    cur: _Run | None = None
    pending_sep = False
    i = 0
    while i < len(tokens):
        tok, s, e = tokens[i]
        low = tok.lower()
        digits: str | None = None
        end = e
        spoken = False
        written = False
        if tok.isdigit():
            digits = tok
            written = True
        elif low in _DIGIT_WORDS and (
            low not in ("o", "oh")
            or _next_is_digit(tokens, i)
            or (cur is not None and cur.spoken and not pending_sep)
        ):
            digits = _DIGIT_WORDS[low]
            spoken = True
        elif low in _REPEAT_WORDS and i + 1 < len(tokens) and (
            tokens[i + 1][0].lower() in _DIGIT_WORDS or (tokens[i + 1][0].isdigit() and len(tokens[i + 1][0]) == 1)
        ):
            nxt = tokens[i + 1][0].lower()
            digits = _DIGIT_WORDS.get(nxt, nxt) * _REPEAT_WORDS[low]
            end = tokens[i + 1][2]
            spoken = True
            i += 1
        if digits is not None:
            if cur is None:
                cur = _Run(digits, s, end, spoken, written)
            else:
                cur.digits += digits
                cur.end = end
                cur.spoken = cur.spoken or spoken
                cur.written = cur.written or written
            pending_sep = False
        elif cur is not None and low in _SEPARATORS and not pending_sep:
            pending_sep = True
        else:
            if cur is not None:
                runs.append(cur)
            cur = None
            pending_sep = False
        i += 1
    if cur is not None:
        runs.append(cur)
    return runs


def _next_is_digit(tokens: list[tuple[str, int, int]], i: int) -> bool:
    """'oh' counts as zero only inside a run, or when a digit follows ("oh four ...")."""
    if i + 1 >= len(tokens):
        return False
    nxt = tokens[i + 1][0].lower()
    return nxt.isdigit() or (nxt in _DIGIT_WORDS and nxt not in ("o", "oh"))


_CARD_CONTEXT = re.compile(
    r"\b(card|credit|debit|visa|mastercard|amex|maestro|cvv|expiry|expiration)\b", re.IGNORECASE
)
CARD_CONTEXT_CHARS = 40


def _classify(run: _Run, text: str) -> str | None:
    n = len(run.digits)
    if 13 <= n <= 19 and luhn_ok(run.digits):
        return "CARD"
    if 12 <= n <= 19 and _CARD_CONTEXT.search(text[max(0, run.start - CARD_CONTEXT_CHARS) : run.start]):
        return "CARD"  # ASR lost or misheard a digit, but the customer said it is a card
    raw = text[run.start : run.end]
    if n == 9 and (_SSN_WRITTEN.match(raw) or (run.spoken and not run.written)):
        return "SSN"
    if n == 10 or (n == 11 and run.digits.startswith("1")):
        return "PHONE"
    return None


def redact(text: str, options: RedactionOptions | None = None) -> RedactionResult:
    """Replace PII in `text` by `[PII:KIND]` markers; see the module docstring for the rules."""
    opts = options or _DEFAULT
    kinds = set(opts.kinds)
    found: list[RedactionSpan] = []
    for m in _EMAIL.finditer(text):
        found.append(RedactionSpan("EMAIL", m.start(), m.end(), "[PII:EMAIL]"))
    for m in _IBAN.finditer(text):
        if iban_ok(m.group(0)):
            found.append(RedactionSpan("IBAN", m.start(), m.end(), "[PII:IBAN]"))
    for run in _digit_runs(text):
        kind = _classify(run, text)
        if kind:
            found.append(RedactionSpan(kind, run.start, run.end, f"[PII:{kind}]"))
    if "PHONE" in kinds and any(ch.isdigit() for ch in text):
        for match in phonenumbers.PhoneNumberMatcher(text, opts.phone_region, leniency=phonenumbers.Leniency.VALID):
            found.append(RedactionSpan("PHONE", match.start, match.end, "[PII:PHONE]"))
    spans = _non_overlapping([s for s in found if s.kind in kinds])
    out: list[str] = []
    pos = 0
    for sp in spans:
        out.append(text[pos : sp.start])
        out.append(sp.replacement)
        pos = sp.end
    out.append(text[pos:])
    return RedactionResult("".join(out), spans)


_PRIORITY = {"IBAN": 0, "EMAIL": 0, "CARD": 1, "SSN": 2, "PHONE": 3}


def _non_overlapping(spans: list[RedactionSpan]) -> list[RedactionSpan]:
    """Keep the strongest, longest span where two overlap (a card beats a phone inside it)."""
    chosen: list[RedactionSpan] = []
    for sp in sorted(spans, key=lambda s: (_PRIORITY[s.kind], -(s.end - s.start), s.start)):
        if all(sp.end <= c.start or sp.start >= c.end for c in chosen):
            chosen.append(sp)
    return sorted(chosen, key=lambda s: s.start)


_DEFAULT = RedactionOptions()
