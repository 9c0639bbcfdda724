"""Recognisers of PII that is not (only) a run of digits: e-mail addresses, IBANs, phone
numbers in written national shapes, and street addresses.

Split from `analysis.redaction_find` (the cues and the digit runs' classifier), which
these reuse. Why tokens and not only regexes: ASR writes "jane dot doe at example dot com"
and "G B eight two W E S T ...", and the written forms are caught by the regexes too.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from analysis.redaction_find import Cues, Found, iban_ok
from analysis.redaction_stream import FILLERS, SEPARATORS, Run, Stream, read_number, turn_pieces

# -- e-mail addresses ------------------------------------------------------------------------

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_TLDS = {
    "com", "org", "net", "edu", "gov", "io", "co", "uk", "us", "de", "fr", "ca", "au", "info",
    "biz", "me", "es", "it", "nl", "ie", "in", "mil", "ai", "app", "dev", "ch", "be", "se", "no",
}  # fmt: skip
_PROVIDERS = {"gmail", "hotmail", "yahoo", "outlook", "aol", "icloud", "protonmail", "msn", "live"}
_DOT = {"dot", "."}
_GLUE = {"dot", ".", "underscore", "_", "dash", "-", "hyphen"}


def find_emails(stream: Stream) -> list[Found]:
    """Written addresses by regex, spoken ones ("jane dot doe at example dot com") by tokens."""
    out = [
        Found("EMAIL", {t: (m.start(), m.end())})
        for t, text in enumerate(stream.texts)
        if "@" in text
        for m in _EMAIL.finditer(text)
    ]
    toks = stream.toks
    for i, tok in enumerate(toks):
        if tok.low not in ("at", "@") or i == 0:
            continue
        j = i + 1
        if j < len(toks) and toks[j].low in ("sign", "symbol"):
            j += 1
        end = _domain_end(stream, j, i)
        if end is None:
            continue
        start = _local_start(stream, i - 1)
        if start is None:
            continue
        out.append(Found("EMAIL", turn_pieces(stream, range(start, end + 1))))
    return out


def _word(low: str) -> bool:
    return low[:1].isalnum() and low not in _GLUE


def _domain_end(stream: Stream, j: int, at: int) -> int | None:
    toks = stream.toks
    turn = toks[at].turn
    if j >= len(toks) or toks[j].turn != turn or not _word(toks[j].low):
        return None
    last = j
    labels = [toks[j].low]
    k = j + 1
    while k + 1 < len(toks) and toks[k].turn == turn and toks[k].low in _DOT | {"-", "dash"} and _word(toks[k + 1].low):
        labels.append(toks[k + 1].low)
        last = k + 1
        k += 2
    if len(labels) >= 2 and (labels[-1] in _TLDS or (len(labels[-1]) == 2 and labels[-1].isalpha())):
        return last
    if labels[0] in _PROVIDERS:
        return last
    return None


_NOT_LOCAL = FILLERS | {"me", "us", "him", "her", "them", "address", "email", "mail", "my", "at"}


def _local_start(stream: Stream, k: int) -> int | None:
    toks = stream.toks
    if k < 0 or not _word(toks[k].low) or toks[k].low in _NOT_LOCAL:
        return None
    turn = toks[k].turn
    start = k
    steps = 0
    while start > 0 and steps < 10 and toks[start - 1].turn == turn:
        prev = toks[start - 1].low
        if prev in _GLUE and start >= 2 and _word(toks[start - 2].low) and toks[start - 2].turn == turn:
            start -= 2
        elif stream.adjacent(start - 1, start) and _word(prev):
            start -= 1
        elif toks[start].low.isdigit() and prev.isalpha() and prev not in _NOT_LOCAL:
            start -= 1  # "jane doe 42 at ..."
        elif len(prev) == 1 and prev.isalpha() and len(toks[start].low) == 1:
            start -= 1  # spelled out: "j o h n at ..."
        else:
            break
        steps += 1
    if toks[start].low in ("is", "it's", "email", "mail", "address"):
        return None
    return start


# -- IBANs ---------------------------------------------------------------------------------------

_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,32}", re.IGNORECASE)


def find_ibans(stream: Stream, cues: Cues) -> list[Found]:
    """Written IBANs (shape + mod-97, longest valid prefix) and spelled-out ones after a cue."""
    out: list[Found] = []
    for t, text in enumerate(stream.texts):
        for m in _IBAN.finditer(text):
            s = m.group(0)
            cuts = [len(s)] + [k for k in range(len(s) - 1, 14, -1) if s[k] == " "]
            for cut in cuts:
                if iban_ok(s[:cut]):
                    out.append(Found("IBAN", {t: (m.start(), m.start() + cut)}))
                    break
    toks = stream.toks
    for end, _kind in cues.of_kind(("IBAN",)):
        chars = ""
        used: list[tuple[int, str]] = []
        i = end + 1
        lead = 0
        while i < len(toks) and len(used) < 40:
            low = toks[i].low
            tok = toks[i]
            letter_o = low == "o" and stream.texts[tok.turn][tok.start : tok.end] == "O"
            num = None if letter_o else read_number(stream, i, bool(chars))
            if num is not None:
                chars += num[0]
                used.append((num[1], chars))
                i = num[1] + 1
                continue
            if low.isalpha() and len(low) <= 4 and low not in FILLERS and low not in ("is", "my", "it's", "the", "for"):
                chars += low.upper()
                used.append((i, chars))
            elif low in SEPARATORS or low in FILLERS or low in ("is", "my", "the"):
                if not chars:
                    lead += 1
                    if lead > 5:
                        break
            else:
                break
            i += 1
        for last, compact in reversed(used):
            if iban_ok(compact):
                first = next(k for k in range(end + 1, last + 1) if toks[k].low[:1].isalnum() and toks[k].low not in ("is", "my", "the") and toks[k].low not in FILLERS)
                out.append(Found("IBAN", turn_pieces(stream, range(first, last + 1))))
                break
    return out


# -- phone numbers in written national shapes ---------------------------------------------------------


def find_phones(stream: Stream, cues: Cues, region: str) -> list[Found]:
    """libphonenumber's matcher on each turn with enough digits ("+44 20 7946 0958")."""
    out: list[Found] = []
    for t, text in enumerate(stream.texts):
        if sum(map(str.isdigit, text)) < 7:  # map: a third of the cost of a generator here
            continue
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            tok = _tok_at(stream, t, match.start)
            if tok is not None and cues.before(tok) == "NEG":
                continue
            out.append(Found("PHONE", {t: (match.start, match.end)}))
    return out


def _tok_at(stream: Stream, t: int, char: int) -> int | None:
    for i in range(stream.first[t], stream.first[t + 1]):
        if stream.toks[i].end > char:
            return i
    return None


# -- street addresses ---------------------------------------------------------------------------------



@lru_cache(maxsize=1)
def _street_types() -> frozenset[str]:
    """USPS street suffixes and their abbreviations, as usaddress knows them (588 words)."""
    import usaddress

    return frozenset(usaddress.STREET_NAMES)


_NOT_STREET = {
    "was", "on", "the", "to", "at", "in", "is", "for", "and", "i", "my", "it", "of", "a", "we", "you",
    "minutes", "days", "dollars", "items", "times", "people", "from", "by", "with", "that", "this",
    "your", "our", "their", "or", "but", "be", "are", "has", "have", "had", "will", "would",
}  # fmt: skip
_UNIT_WORDS = {"apartment", "apt", "suite", "unit", "flat", "#", "number", "floor"}


@lru_cache(maxsize=2048)
def _usaddress_street(words: tuple[str, ...]) -> bool:
    """usaddress tags the words as house number, street name(s) and street type."""
    import usaddress

    tags = [label for _tok, label in usaddress.parse(" ".join(words))]
    # the CRF calls a final suffix "StreetName" when nothing follows ("17066 Heather Grove")
    if not tags or tags[0] != "AddressNumber" or tags[-1] not in ("StreetNamePostType", "StreetName"):
        return False
    middle = set(tags[1:-1])
    return bool(middle) and middle <= {"StreetName", "StreetNamePreDirectional", "StreetNamePreType"}


def find_addresses(stream: Stream, runs: list[Run]) -> list[Found]:
    """House number + up to three street-name words + a street type, checked by usaddress."""
    out: list[Found] = []
    toks = stream.toks
    for whole in runs:
        run = whole.sub(whole.group_starts[-1], len(whole.digits)) if len(whole.group_starts) > 1 else whole
        if not 1 <= len(run.digits) <= 6:
            continue
        last = run.digit_tok[-1]
        turn = toks[last].turn
        k = last + 1
        names: list[str] = []
        best: int | None = None
        while k < len(toks) and toks[k].turn == turn and len(names) < 5:
            low = toks[k].low
            # the longest match: "283 Hickory Ridge Drive" (ridge is a street type too)
            if low in _street_types() and names and _usaddress_street((run.digits, *names, low)):
                best = k
            if not low.isalpha() or low in _NOT_STREET:
                break
            names.append(low)
            k += 1
        if best is not None:
            end = _address_tail(stream, best)
            out.append(Found("ADDRESS", turn_pieces(stream, range(run.first_tok(), end + 1))))
    return out


def _address_tail(stream: Stream, end: int) -> int:
    """Extend over "apartment 4B" and ", Springfield, IL 62704" right after the street."""
    toks = stream.toks
    turn = toks[end].turn
    k = end + 1
    if k + 1 < len(toks) and toks[k].low == "," and toks[k + 1].turn == turn and toks[k + 1].low in _UNIT_WORDS:
        k += 1
    if k < len(toks) and toks[k].turn == turn and toks[k].low in _UNIT_WORDS:
        j = k + 1
        while j < len(toks) and toks[j].turn == turn and (toks[j].low in (".", "#") or toks[j].low.isdigit() or (len(toks[j].low) <= 2 and toks[j].low.isalnum()) or read_number(stream, j, True)):
            end = j
            j += 1
    text = stream.texts[turn]
    m = re.match(r",?\s*(?:[A-Z][a-z]+\s?|\([A-Z][a-z]+\)\s?){1,4},?\s*[A-Z]{2}\s+\d{4,5}(?:-\d{4})?", text[toks[end].end :])
    if m:
        stop = toks[end].end + m.end()
        while end + 1 < len(toks) and toks[end + 1].turn == turn and toks[end + 1].end <= stop:
            end += 1
    return end
