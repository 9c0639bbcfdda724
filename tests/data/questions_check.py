"""Load the phrasing corpus and compare a parsed `Query` with a row's expected query.

The rules are those of `tests/data/questions_conventions.md` §1: keys a row omits are the
dataclass defaults; `text`, period labels and `extra` (other than `extra.ambiguous`) are not
compared; a row with `period_default: true` does not compare `period`; filters compare as a
multiset (a Match's values as a case-insensitive set); measures and group_by in order;
`ignored` as a set of lower-cased content words. Kept free of any parser import so that the
corpus, not the parser, decides what "parsed exactly" means (the parser's test and
`bench/questions.py` import this module).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from store.query import Compare, Match, Query, Span

#: The fixed clock every row assumes (conventions §2).
TIMEZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=TIMEZONE)

CORPUS = Path(__file__).with_name("questions.tsv")
ENTITIES = Path(__file__).with_name("questions_entities.json")

#: Words dropped before `ignored` lists are compared (conventions §7).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "to",
        "and",
        "or",
        "please",
        "me",
        "my",
        "our",
    ]
)


def load(path: str | Path = CORPUS) -> list[tuple[str, dict[str, Any]]]:
    """The rows of a corpus file as (question, expected dict). A malformed line raises
    ValueError naming its line number, so a broken row is never silently skipped."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip():
            raise ValueError(
                f"{path}:{no}: expected 'question<TAB>json', got {len(parts)} field(s)"
            )
        try:
            expected = json.loads(parts[1])
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{no}: expected query is not JSON: {exc}") from exc
        if not isinstance(expected, dict):
            raise ValueError(f"{path}:{no}: expected query must be a JSON object")
        rows.append((parts[0], expected))
    return rows


def expected_query(expected: dict[str, Any]) -> Query:
    """The row as a `Query` (omitted keys take the dataclass defaults)."""
    return Query.from_dict(expected)


def compare(expected: dict[str, Any], got: Query | dict[str, Any]) -> list[str]:
    """The differences between a row's expected query and a parser's, as short strings
    (empty when the question was parsed exactly)."""
    want = expected_query(expected)
    have = got if isinstance(got, Query) else Query.from_dict(got)
    diffs: list[str] = []

    def diff(name: str, a: Any, b: Any) -> None:
        if a != b:
            diffs.append(f"{name}: expected {a!r}, got {b!r}")

    diff("subject", want.subject, have.subject)
    diff("view", want.view, have.view)
    diff("period_default", want.period_default, have.period_default)
    if not want.period_default:
        diff("period", _span(want.period), _span(have.period))
    diff("compare_to", _span(want.compare_to), _span(have.compare_to))

    wf, hf = (
        Counter(_filter_key(f) for f in want.filters),
        Counter(_filter_key(f) for f in have.filters),
    )
    missing, extra = wf - hf, hf - wf
    if missing or extra:
        diffs.append("filters: missing " + _show(missing) + "; unexpected " + _show(extra))
    diff("group_by", list(want.group_by), list(have.group_by))
    diff(
        "measures",
        [(m.kind, m.metric, m.flag) for m in want.measures],
        [(m.kind, m.metric, m.flag) for m in have.measures],
    )
    diff(
        "order",
        None if want.order is None else (want.order.by, want.order.descending),
        None if have.order is None else (have.order.by, have.order.descending),
    )
    diff("limit", want.limit, have.limit)
    diff("ref", _norm(want.ref), _norm(have.ref))
    diff("note", _norm(want.note), _norm(have.note))
    diff("ignored", sorted(ignored_words(want.ignored)), sorted(ignored_words(have.ignored)))
    diff("ambiguous", _ambiguous(want.extra), _ambiguous(have.extra))
    return diffs


def ignored_words(words: tuple[str, ...] | list[str]) -> set[str]:
    """`ignored` as a set of lower-cased content words (phrases split, stop words dropped)."""
    out: set[str] = set()
    for phrase in words:
        for word in re.findall(r"[\w']+", phrase.casefold()):
            if word not in STOP_WORDS:
                out.add(word)
    return out


def _span(span: Span | None) -> tuple[datetime, datetime] | None:
    # aware datetimes compare as instants, whatever offset each side was written in
    return None if span is None else (span.start, span.end)


def _norm(value: str | None) -> str | None:
    return None if value is None else " ".join(value.split()).casefold()


def _value(field: str, value: str) -> str:
    v = " ".join(value.split()).casefold()
    if field == "text":
        v = v.strip("\"'“”‘’")
        if v.startswith("the "):
            v = v[4:]
    return v


def _filter_key(f: Match | Compare) -> tuple[Any, ...]:
    if isinstance(f, Match):
        return ("match", f.field, frozenset(_value(f.field, v) for v in f.values), f.negate)
    v2 = None if f.value2 is None else round(f.value2, 9)
    return ("compare", f.metric, f.op, round(f.value, 9), v2, f.negate)


def _show(keys: Counter[tuple[Any, ...]]) -> str:
    items = []
    for key in keys.elements():
        if key[0] == "match":
            items.append(f"{key[1]}{' not' if key[3] else ''} in {sorted(key[2])}")
        else:
            rhs = f"{key[3]}..{key[4]}" if key[4] is not None else f"{key[3]}"
            items.append(f"{'not ' if key[5] else ''}{key[1]} {key[2]} {rhs}")
    return "[" + ", ".join(items) + "]"


def _ambiguous(extra: dict[str, Any]) -> dict[str, frozenset[str]] | None:
    amb = extra.get("ambiguous") if extra else None
    if not amb:
        return None
    return {str(k): frozenset(str(v).casefold() for v in vals) for k, vals in amb.items()}
