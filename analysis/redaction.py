"""PII redaction over a whole conversation: cards, codes, SSNs, phones, e-mails, banks, dates.

Why a conversation and not a turn: the most common way a card number reaches a contact
centre is read out in groups while the agent says "mm-hmm", so its digits sit in several
turns of two speakers. `redact_conversation(turns)` lays all turns end to end
(`analysis.redaction_stream`), reads runs of written and spoken digits across turns,
interjections, fillers, self-corrections, "double"/"triple" and "oh", and classifies
each run by its shape and the nearest cue before it (`analysis.redaction_find`, which
lists every rule). Each turn gets its own `RedactionResult` (spans are offsets into that
turn's text), so a card dictated over five turns is replaced in each of them, and the
spans map to seconds of audio through the turns' word timings (`word_times`,
`analysis.redaction_audio`). `redact(text)` is the same engine on a one-turn conversation.

Kinds: CARD, CVV, EXPIRY, SSN, PHONE, EMAIL, IBAN, BANK_ACCOUNT, ROUTING, DOB, ADDRESS.
Spans never overlap (the stronger kind wins: `_PRIORITY`); each replacement is
`[PII:KIND]` and keeps the original offsets so a UI can show where something was removed.

PCI mode (`pci = true`): `PciGuard` is handed to the store, which applies it to every text
it is about to write (turns and their word lists, e-mail bodies and subjects, metadata,
quarantine excerpts), so card numbers and security codes are never stored at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.redaction_find import (
    ANY_CUE,
    Cues,
    Found,
    find_dates,
    find_digit_pii,
    iban_ok,
    luhn_ok,
)
from analysis.redaction_stream import Stream, digit_runs
from analysis.redaction_text import find_addresses, find_emails, find_ibans, find_phones
from store.records import Turn, Word

__all__ = [
    "KINDS",
    "PCI_KINDS",
    "ConversationRedaction",
    "PciGuard",
    "RedactionOptions",
    "RedactionResult",
    "RedactionSpan",
    "iban_ok",
    "luhn_ok",
    "redact",
    "redact_conversation",
    "redact_words",
    "word_times",
]

KINDS = (
    "CARD", "CVV", "EXPIRY", "SSN", "PHONE", "EMAIL", "IBAN", "BANK_ACCOUNT", "ROUTING", "DOB",
    "ADDRESS",
)  # fmt: skip
#: what PCI mode never lets into the store: the card number and its security code
PCI_KINDS = ("CARD", "CVV")


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
    #: PCI DSS mode: card numbers and security codes are removed *before* anything is
    #: stored (turn text, word lists, e-mail bodies, metadata, quarantine excerpts), so the
    #: unredacted digits exist nowhere in the database, whatever `keep_original` says
    pci: bool = False

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


@dataclass(slots=True)
class ConversationRedaction:
    """One `RedactionResult` per turn (same order), and what was found across turns."""

    results: list[RedactionResult]
    found: list[Found]


_PRIORITY = {
    "EMAIL": 0, "IBAN": 0, "CARD": 1, "CVV": 2, "SSN": 2, "EXPIRY": 3, "ROUTING": 3,
    "BANK_ACCOUNT": 3, "DOB": 3, "PHONE": 4, "ADDRESS": 5,
}  # fmt: skip
#: a position-only guess (a bare 3-4 digit number after a card) gives way to anything else
_WEAK = 9


def _speaker_text(t: Turn | tuple[str, str] | str) -> tuple[str, str]:
    if isinstance(t, str):
        return ("customer", t)
    if isinstance(t, tuple):
        return t
    return (t.speaker, t.text or "")


def find_pii(turns: Sequence[tuple[str, str]], options: RedactionOptions | None = None) -> list[Found]:
    """Every piece of PII of the conversation, before overlaps are resolved."""
    opts = options or _DEFAULT
    stream = Stream.of(turns)
    cues = Cues(stream)
    runs = digit_runs(stream, ANY_CUE)
    kinds = set(opts.kinds)
    found = find_digit_pii(stream, cues, runs)
    if kinds & {"DOB", "EXPIRY"}:
        found += find_dates(stream, cues)
    if "EMAIL" in kinds:
        found += find_emails(stream)
    if "IBAN" in kinds:
        found += find_ibans(stream, cues)
    if "PHONE" in kinds:
        found += find_phones(stream, cues, opts.phone_region)
    if "ADDRESS" in kinds:
        found += find_addresses(stream, runs)
    return [f for f in found if f.kind in kinds]


def redact_conversation(
    turns: Sequence[Turn | tuple[str, str] | str], options: RedactionOptions | None = None
) -> ConversationRedaction:
    """Redact a whole conversation: PII found across turns is removed from each turn."""
    pairs = [_speaker_text(t) for t in turns]
    found = find_pii(pairs, options)
    per_turn: list[list[tuple[int, RedactionSpan]]] = [[] for _ in pairs]
    for f in found:
        prio = _WEAK if f.weak else _PRIORITY[f.kind]
        for t, (a, b) in f.pieces.items():
            per_turn[t].append((prio, RedactionSpan(f.kind, a, b, f"[PII:{f.kind}]")))
    results = []
    for (_speaker, text), spans in zip(pairs, per_turn, strict=True):
        chosen = _non_overlapping(spans)
        results.append(RedactionResult(_apply(text, chosen), chosen))
    return ConversationRedaction(results, found)


def redact(text: str, options: RedactionOptions | None = None) -> RedactionResult:
    """Replace PII in one text by `[PII:KIND]` markers (a one-turn conversation)."""
    return redact_conversation([("customer", text)], options).results[0]


def _apply(text: str, spans: Sequence[RedactionSpan]) -> str:
    out: list[str] = []
    pos = 0
    for sp in spans:
        out.append(text[pos : sp.start])
        out.append(sp.replacement)
        pos = sp.end
    out.append(text[pos:])
    return "".join(out)


def _non_overlapping(spans: list[tuple[int, RedactionSpan]]) -> list[RedactionSpan]:
    """Overlapping finds become one span covering all of them (nothing half-redacted).

    Its kind: a card, e-mail or IBAN inside wins (priority <= 1); otherwise the longest
    find, so a ZIP code read as a number does not rename the address around it.
    """
    out: list[RedactionSpan] = []
    cluster: list[tuple[int, RedactionSpan]] = []
    end = -1
    for ps in sorted(spans, key=lambda ps: (ps[1].start, -ps[1].end)):
        if cluster and ps[1].start >= end:
            out.append(_merge(cluster))
            cluster = []
        cluster.append(ps)
        end = max(end, ps[1].end) if len(cluster) > 1 else ps[1].end
    if cluster:
        out.append(_merge(cluster))
    return out


def _merge(cluster: list[tuple[int, RedactionSpan]]) -> RedactionSpan:
    if len(cluster) == 1:
        return cluster[0][1]
    strong = [ps for ps in cluster if ps[0] <= 1]
    pool = strong or cluster
    _prio, best = min(pool, key=lambda ps: (-(ps[1].end - ps[1].start), ps[0]))
    start = min(ps[1].start for ps in cluster)
    stop = max(ps[1].end for ps in cluster)
    return RedactionSpan(best.kind, start, stop, best.replacement)


# -- word timings --------------------------------------------------------------------------------


def _word_offsets(turn: Turn) -> list[int]:
    """Each ASR word's character offset in the turn's text (-1 where it cannot be placed)."""
    out: list[int] = []
    pos = 0
    for w in turn.words or []:
        token = w.word.strip()
        at = turn.text.find(token, pos) if token else -1
        if at >= 0:
            pos = at + len(token)
        out.append(at)
    return out


def word_times(turn: Turn, start: int, end: int) -> tuple[float, float] | None:
    """Seconds covered by the words overlapping characters [start, end) of the turn.

    From the ASR word timings when the words can be placed in the text; else the turn's
    start/end interpolated by character position; None for text channels.
    """
    if turn.start is None or turn.end is None:
        return None
    if turn.words:
        offs = _word_offsets(turn)
        hit = [
            w for w, at in zip(turn.words, offs, strict=True)
            if at >= 0 and at < end and at + len(w.word.strip()) > start
        ]  # fmt: skip
        if hit:
            return (min(w.start for w in hit), max(w.end for w in hit))
    n = max(len(turn.text), 1)
    span = turn.end - turn.start
    return (turn.start + span * min(start, n) / n, turn.start + span * min(end, n) / n)


def redact_words(turn: Turn, result: RedactionResult) -> list[Word] | None:
    """The word list with every word inside a redacted span replaced by its marker.

    A word that cannot be placed in the text and carries a digit becomes "[PII]": a stray
    digit group is never kept.
    """
    if turn.words is None:
        return None
    out: list[Word] = []
    for w, at in zip(turn.words, _word_offsets(turn), strict=True):
        token = w.word.strip()
        word = w.word
        if at >= 0:
            for sp in result.spans:
                if at < sp.end and at + len(token) > sp.start:
                    word = sp.replacement
                    break
        elif any(ch.isdigit() for ch in token) and result.spans:
            word = "[PII]"
        out.append(Word(word, w.start, w.end, w.probability))
    return out


# -- PCI mode: applied by the store before anything is written ------------------------------------


class PciGuard:
    """Removes card numbers and security codes from whatever the store is about to write.

    Handed to the store (`store.text_guard`) by the composition root when `pci = true`;
    the store calls `turns` for an interaction's turns (conversation-level, so a card read
    over several turns is found) and `text` for single texts (e-mail bodies, subjects,
    metadata values, quarantine excerpts).
    """

    def __init__(self, options: RedactionOptions) -> None:
        self.options = RedactionOptions(kinds=list(PCI_KINDS), phone_region=options.phone_region)

    def turns(self, turns: Sequence[Turn]) -> None:
        """Redact the turns in place (text and word list)."""
        res = redact_conversation(list(turns), self.options)
        for t, r in zip(turns, res.results, strict=True):
            if r.changed:
                t.words = redact_words(t, r)
                t.text = r.text
            if t.meta:
                t.meta = self.value(t.meta)

    def text(self, text: str) -> str:
        return redact(text, self.options).text if text and any(c.isdigit() or c.isalpha() for c in text) else text

    def value(self, value: Any) -> Any:
        """Strings anywhere inside JSON-like metadata."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def words_json(words: list[Word] | None) -> str | None:
    """The stored shape of a word list (as store.interactions writes it)."""
    if words is None:
        return None
    return json.dumps([[w.word, round(w.start, 3), round(w.end, 3), round(w.probability, 3)] for w in words],
                      ensure_ascii=False)


_DEFAULT = RedactionOptions()
