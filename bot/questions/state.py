"""The parser's working state: the question with used words masked out, and what the
recognisers found so far (shared by `parser` and `shape`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.questions.linking import fold
from bot.questions.timeexpr import Period
from store.query import Filter, Match, Measure, Order

#: words that turn the value after them into its negation ("not in billing", "except Maria",
#: "non-flagged", "weren't flagged")
NEGATION = (r"(?:\b(?:not|excluding|exclude|except(?: for)?|other than|but not|apart from|besides|without"
            r"|outside(?: of)?|minus|ignoring|leaving out|no)\b|n't|\bnon-?)")  # fmt: skip


class Text:
    """The question with the words used so far masked out (same offsets throughout)."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.low = fold(raw)
        self.used = [False] * len(raw)
        self._masked: str | None = None

    @property
    def s(self) -> str:
        if self._masked is None:
            self._masked = "".join(" " if u else c for c, u in zip(self.low, self.used, strict=True))
        return self._masked

    def take(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.used[i] = True
        self._masked = None

    def search(self, rx: re.Pattern[str] | str, *, take: bool = True) -> re.Match[str] | None:
        m = re.search(rx, self.s) if isinstance(rx, str) else rx.search(self.s)
        if m and take:
            self.take(*m.span())
        return m

    def take_words(self, m: re.Match[str], *groups: int | str) -> None:
        """Consume only some groups of a match (the rest stays for other recognisers)."""
        for g in groups:
            if m.group(g) is not None:
                self.take(*m.span(g))

    def negated_before(self, pos: int, *, take: bool = True) -> bool:
        """Whether a negation word stands right before `pos` (then consumed)."""
        nm = re.search(NEGATION + r"\s*$", self.s[:pos])
        if nm and take:
            self.take(nm.start(), pos)
        return nm is not None

    def leftovers(self) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(r"[^\W_][\w'.@+-]*", self.s)]


@dataclass(slots=True)
class State:
    """What the recognisers found, before it becomes a Query."""

    view: str | None = None
    subject: str = "interactions"
    period: Period | None = None
    compare: Period | None = None
    filters: list[Filter] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    #: (position in the question, measure): measures are kept in the order said
    measures: list[tuple[int, Measure]] = field(default_factory=list)
    order: Order | None = None
    limit: int | None = None
    ref: str | None = None
    note: str | None = None
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    #: the ranking word said ("most", "worst", "top" …) and whether it sorts high first
    rank: str | None = None
    #: the last linked name (kind, negated, end offset): "billing or sales" shares a negation
    last_link: tuple[str, bool, int] | None = None
    #: the period words name due dates (follow-ups): not clipped to now
    due: bool = False

    def match(self, fld: str, value: str, negate: bool = False) -> None:
        for i, f in enumerate(self.filters):
            if isinstance(f, Match) and f.field == fld and f.negate == negate:
                if value not in f.values:
                    self.filters[i] = Match(fld, (*f.values, value), negate)  # type: ignore[arg-type]
                return
        self.filters.append(Match(fld, (value,), negate))  # type: ignore[arg-type]

    def has(self, fld: str) -> bool:
        return any(isinstance(f, Match) and f.field == fld for f in self.filters)

    def drop(self, fld: str, value: str | None = None) -> None:
        out: list[Filter] = []
        for f in self.filters:
            if isinstance(f, Match) and f.field == fld:
                if value is None:
                    continue
                rest = tuple(v for v in f.values if v != value)
                if rest:
                    out.append(Match(f.field, rest, f.negate))
                continue
            out.append(f)
        self.filters = out

    def add_measure(self, pos: int, m: Measure) -> None:
        if all(m != have for _p, have in self.measures):
            self.measures.append((pos, m))
