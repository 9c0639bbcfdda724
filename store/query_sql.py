"""Compile a typed `store.query.Query` into SQL: the one place a filter gets its meaning.

Every surface (the Slack bot and `convoscope ask`, the TUI's filter form, `convoscope
export`, the local API) builds a `Query`; this module turns its period and filters into
WHERE conditions over `interactions i` (joined to `scores s` only when a condition or a
measure reads a score), and `store.query_views` runs the views (list, count, ranking,
breakdown, comparison) on top. So "not in billing" or "angry" means the same thing on every
screen.

Meanings, decided once here:

* Text fields (agent, queue, direction, customer) match case-insensitively and exactly (the
  parser links names to stored values first); `topic` matches a substring of the stored top
  topic or of an e-mail's subject ("emails about refunds"), as the bot always did.
* Negation keeps the rows with no value: "not in billing" includes interactions with no
  queue, "not negative" includes unscored ones (`NOT coalesce(cond, FALSE)` for columns,
  `NOT IN` for conditions that read another table, whose key columns are never NULL).
* A flag filter counts the flags that count (`store.reviews.counts`: active, not
  dismissed) unless a `review` filter names states; `review` alone means "has a flag in that
  state".
* Metrics come from the `scores` columns analysis fills (store/scores.py; interactions
  scored before migration 0006 have them after a rescore), `turns` from `scores.metrics`;
  `silence_pct` is 0..1 (the column holds percent).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from store.query import FLAG_FAMILIES, REVIEW_STATES, Compare, Match, Query
from store.reviews import contested, counts

#: Flag family (store.query.FLAG_FAMILIES) -> ILIKE patterns on flags.kind. The one mapping
#: from the words people use to the kinds rules, analysis and the patterns job write.
FLAG_KINDS: dict[str, tuple[str, ...]] = {
    "any": ("%",),
    "angry": ("angry%", "%\\_angry%", "%anger%", "%irate%"),
    "compliance": ("compliance%", "%disclosure%", "%violation%", "%prohibited%"),
    "prohibited": ("%prohibited%",),
    "escalation": ("%escalat%",),
    "churn": ("%churn%", "%cancel%"),
    "repeat": ("%repeat%",),
    "trend": ("trend%",),
    "unresolved": ("unresolved_issue",),
    "incorrect_information": ("incorrect_information",),
    "profanity": ("%profan%", "%abus%"),
    "silence": ("%silence%", "%hold%", "%non\\_talk%"),
}
assert set(FLAG_KINDS) == set(FLAG_FAMILIES), "every flag family needs its kinds"


def _json_num(key: str) -> str:
    return f"TRY_CAST(json_extract_string(s.metrics, '$.{key}') AS DOUBLE)"


#: Metric -> (table alias it reads, SQL expression). 'i' = interactions, 's' = scores.
METRICS: dict[str, tuple[str, str]] = {
    "sentiment": ("s", "s.sentiment"),
    "customer_sentiment": ("s", "s.sentiment_customer"),
    "agent_sentiment": ("s", "s.sentiment_agent"),
    "anger": ("s", "s.anger"),
    "duration": ("i", "i.duration"),
    "silence": ("s", "s.non_talk_seconds"),
    "silence_pct": ("s", "s.non_talk_pct / 100.0"),
    "interruptions": ("s", "s.interruptions"),
    "response_time": ("s", "s.first_response_seconds"),
    "agent_talk_ratio": ("s", "s.agent_talk_ratio"),
    # the one metric with no column: reading scores.metrics costs ~3x a column on a
    # million rows (the JSON text is read and parsed for every row of the period)
    "turns": ("s", _json_num("turns")),
}

_TEXT_COLUMNS = {"agent": "i.agent", "queue": "i.queue", "direction": "i.direction"}


def flag_kind_sql(family: str, alias: str, params: list[Any]) -> str:
    """SQL matching `alias.kind` to a family of FLAG_KINDS or `kind:<exact kind>`."""
    if family.startswith("kind:"):
        params.append(family[5:])
        return f"{alias}.kind = ?"
    pats = FLAG_KINDS.get(family)
    if pats is None:
        raise ValueError(f"unknown flag family {family!r}; one of {', '.join(FLAG_FAMILIES)} or kind:<kind>")
    if pats == ("%",):
        return "TRUE"
    params += list(pats)
    return "(" + " OR ".join(f"{alias}.kind ILIKE ? ESCAPE '\\'" for _ in pats) + ")"


def review_sql(states: Sequence[str] | None, alias: str = "fl") -> str:
    """Which flags a question is about: those that count (`states` None), or any of the
    review `states` (open / confirmed / dismissed / contested), dismissed ones included."""
    if not states:
        return counts(alias)
    parts = []
    for st in states:
        if st == "contested":
            parts.append(f"({alias}.active AND {contested(alias)})")
        elif st in ("open", "confirmed", "dismissed"):
            parts.append(f"({alias}.active AND {alias}.review_status = '{st}')")
        else:
            raise ValueError(f"review must be one of {', '.join(REVIEW_STATES)}; got {st!r}")
    return "(" + " OR ".join(parts) + ")"


def review_states(q: Query) -> list[str] | None:
    """The review states `q` asks about (None: the flags that count)."""
    states: list[str] | None = None
    for m in q.matches("review"):
        unknown = [v for v in m.values if v not in REVIEW_STATES]
        if unknown:
            raise ValueError(f"review must be one of {', '.join(REVIEW_STATES)}; got {unknown[0]!r}")
        chosen = [s for s in REVIEW_STATES if (s in m.values) != m.negate]
        states = chosen if states is None else [s for s in states if s in chosen]
    return states


def flag_condition(q: Query, families: Iterable[str], params: list[Any], alias: str = "fl") -> str:
    """Flags of any of `families` that `q`'s review filter selects."""
    fams = list(families)
    kinds: list[str] = []
    for fam in fams:
        kinds.append(flag_kind_sql(fam, alias, params))
    kind = "(" + " OR ".join(kinds) + ")" if kinds else "TRUE"
    return f"{review_sql(review_states(q), alias)} AND {kind}"


@dataclass(slots=True)
class Cond:
    """One WHERE condition and its parameters. `table` says what it reads: 'i'
    (interactions columns), 's' (scores columns) or 'id' (an id test whose SQL has an
    `{id}` placeholder for the interaction id column of the driving table)."""

    table: str
    sql: str
    params: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class Where:
    """The compiled period and filters of a Query."""

    conds: list[Cond]

    @property
    def needs_scores(self) -> bool:
        return any(c.table == "s" for c in self.conds)

    def joined(self) -> tuple[str, list[Any]]:
        """Conditions for `FROM interactions i [LEFT JOIN scores s ...]` ("TRUE" if none)."""
        parts, params = [], []
        for c in self.conds:
            parts.append(c.sql.replace("{id}", "i.id"))
            params += c.params
        return (" AND ".join(parts) or "TRUE"), params

    def driven(self, drive: str) -> tuple[list[str], list[Any]]:
        """Conditions for a query whose FROM is one table, `drive` 'i' (interactions i) or
        's' (scores s): the other table's conditions go in one IN-subquery. Joining the
        million-row `scores` to `interactions` costs ~100 ms; a page needs ~10 ms."""
        idcol = "i.id" if drive == "i" else "s.interaction_id"
        own = [c for c in self.conds if c.table == drive]
        other = [c for c in self.conds if c.table in ("i", "s") and c.table != drive]
        conds = [c.sql for c in own]
        params = [p for c in own for p in c.params]
        if other:
            table, col = ("scores s", "s.interaction_id") if drive == "i" else ("interactions i", "i.id")
            conds.append(f"{idcol} IN (SELECT {col} FROM {table} WHERE "
                         + " AND ".join(c.sql for c in other) + ")")  # fmt: skip
            params += [p for c in other for p in c.params]
        for c in self.conds:
            if c.table == "id":
                conds.append(c.sql.replace("{id}", idcol))
                params += c.params
        return conds, params


def _in(expr: str, values: Sequence[str], params: list[Any], *, lower: bool = True) -> str:
    if lower:
        params += [v.lower() for v in values]
        return f"lower({expr}) IN ({', '.join('?' for _ in values)})"
    params += list(values)
    return f"{expr} IN ({', '.join('?' for _ in values)})"


def _negated(c: Cond, negate: bool) -> Cond:
    """`c` or its negation, keeping rows where the column is NULL (see module docstring)."""
    if not negate:
        return c
    if c.table == "i":
        return Cond("i", f"NOT coalesce({c.sql}, FALSE)", c.params)
    if c.table == "s":  # unscored interactions are "not" anything a score says
        return Cond("id", f"{{id}} NOT IN (SELECT s.interaction_id FROM scores s WHERE {c.sql})", c.params)
    return Cond("id", c.sql.replace("{id} IN (", "{id} NOT IN (", 1), c.params)


def compile_where(q: Query, cur: duckdb.DuckDBPyConnection | None = None) -> Where:
    """The period and filters of `q` as conditions. `cur` is needed for text filters
    (their words are stemmed like the full-text index)."""
    conds: list[Cond] = []
    if q.period is not None:
        conds.append(Cond("i", "i.started_at >= ?", [q.period.start]))
        conds.append(Cond("i", "i.started_at < ?", [q.period.end]))
    for f in q.filters:
        if isinstance(f, Compare):
            conds.append(_negated(_compare(f), f.negate))
        elif f.field == "review":
            if not q.matches("flag"):  # review alone: has a flag in that state
                conds.append(Cond("id", f"{{id}} IN (SELECT fl.interaction_id FROM flags fl WHERE "
                                        f"{review_sql(review_states(q))})"))  # fmt: skip
        else:
            conds.append(_negated(_match(q, f, cur), f.negate))
    return Where(conds)


def _compare(f: Compare) -> Cond:
    if f.metric not in METRICS:
        raise ValueError(f"unknown metric {f.metric!r}")
    table, expr = METRICS[f.metric]
    if f.op == "between":
        if f.value2 is None:
            raise ValueError("a 'between' condition needs value2")
        return Cond(table, f"({expr} >= ? AND {expr} < ?)", [f.value, f.value2])
    if f.op not in ("<", "<=", ">", ">=", "="):
        raise ValueError(f"unknown comparison {f.op!r}")
    return Cond(table, f"{expr} {f.op} ?", [f.value])


def _match(q: Query, m: Match, cur: duckdb.DuckDBPyConnection | None) -> Cond:
    vals = [str(v) for v in m.values]
    if not vals:
        raise ValueError(f"a {m.field} filter needs at least one value")
    p: list[Any] = []
    fld = m.field
    if fld == "channel":
        return Cond("i", _in("i.channel", vals, p, lower=False), p)
    if fld in _TEXT_COLUMNS:
        return Cond("i", _in(_TEXT_COLUMNS[fld], vals, p), p)
    if fld == "customer":
        p2: list[Any] = []
        sql = f"({_in('i.customer_key', vals, p)} OR {_in('i.customer', vals, p2)})"  # boundary: filter only
        return Cond("i", sql, p + p2)
    if fld == "id":
        ids = ",".join(str(int(v)) for v in vals)
        return Cond("i", f"i.id IN ({ids})")
    if fld == "topic":
        pats = [f"%{v}%" for v in vals]
        top = " OR ".join("s.top_topic ILIKE ?" for _ in pats)
        subj = " OR ".join("i.subject ILIKE ?" for _ in pats)  # boundary: filter only
        # topics live in scores, e-mail subjects in interactions: one id test reads both
        period, pp = "", []
        if q.period is not None:
            period, pp = " AND i.started_at >= ? AND i.started_at < ?", [q.period.start, q.period.end]
        sql = (f"{{id}} IN (SELECT s.interaction_id FROM scores s WHERE {top} UNION ALL "
               f"SELECT i.id FROM interactions i WHERE ({subj}){period})")  # fmt: skip
        return Cond("id", sql, [*pats, *pats, *pp])
    if fld == "cluster":
        ids = [int(v) for v in vals if v.lstrip("-").isdigit()]
        labels = [v.lower() for v in vals if not v.lstrip("-").isdigit()]
        parts = []
        if ids:
            parts.append(f"s.cluster_id IN ({','.join(str(i) for i in ids)})")
        if labels:
            parts.append("s.cluster_id IN (SELECT id FROM clusters WHERE lower(label) IN ("
                         + ", ".join("?" for _ in labels) + "))")  # fmt: skip
            p += labels
        return Cond("s", "(" + " OR ".join(parts) + ")", p)
    if fld == "flag":
        cond = flag_condition(q, vals, p)
        return Cond("id", f"{{id}} IN (SELECT fl.interaction_id FROM flags fl WHERE {cond})", p)
    if fld == "text":
        sql, tp = text_ids_sql(cur, vals, _id_range(q, cur))
        return Cond("id", f"{{id}} IN ({sql})", tp)
    if fld == "resolution":
        sql = "{id} IN (SELECT r.interaction_id FROM interaction_resolution r WHERE " + _in("r.verdict", vals, p) + ")"
        return Cond("id", sql, p)
    if fld == "repeat":
        if any(v.lower() not in ("yes", "true", "1") for v in vals):
            raise ValueError("a repeat filter's value is 'yes' (negate it for 'no')")
        # part of a repeat chain: a repeat of an earlier contact, or followed by one
        return Cond("id", "{id} IN (SELECT interaction_id FROM repeat_contacts "
                          "UNION ALL SELECT previous_id FROM repeat_contacts)")  # fmt: skip
    raise ValueError(f"unknown filter field {fld!r}")


def _id_range(q: Query, cur: duckdb.DuckDBPyConnection | None) -> tuple[int, int] | None:
    """The smallest and largest interaction id in `q`'s period (None: no period, or no
    cursor). A bound that is always right — whatever order ids were given in — and, since
    ids mostly follow time, one that lets a scan of a term-and-id-sorted table skip most of
    it: a word's postings for the last week instead of all time."""
    if q.period is None or cur is None:
        return None
    row = cur.execute("SELECT min(id), max(id) FROM interactions WHERE started_at >= ? AND started_at < ?",
                      [q.period.start, q.period.end]).fetchone()  # fmt: skip
    if row is None or row[0] is None:
        return (0, -1)  # nothing in the period: an empty range
    return int(row[0]), int(row[1])


def text_ids_sql(cur: duckdb.DuckDBPyConnection | None, phrases: Sequence[str],
                 id_range: tuple[int, int] | None = None) -> tuple[str, list[Any]]:  # fmt: skip
    """Ids of interactions whose redacted text (`search_docs`) mentions any of `phrases`,
    each phrase needing all its words. Reads the full-text index's postings when built
    (the words stemmed like the index) plus the documents not indexed yet, else scans.
    `id_range` bounds the postings read (see `_id_range`)."""
    from store.search import _index_exists, load_fts, terms

    use_index = cur is not None and load_fts(cur) and _index_exists(cur)
    pending = True
    if use_index:
        assert cur is not None
        # EXISTS stops at the first pending document instead of counting them all
        row = cur.execute("SELECT EXISTS (SELECT 1 FROM search_docs WHERE NOT in_index)").fetchone()
        pending = bool(row and row[0])
    parts: list[str] = []
    params: list[Any] = []
    for phrase in phrases:
        words = terms(phrase)
        if not words:
            continue
        like = " AND ".join("d.body ILIKE ?" for _ in words)
        if use_index:
            assert cur is not None
            stems = sorted({r[0] for r in cur.execute(
                "SELECT stem(unnest(?::VARCHAR[]), 'porter')", [words]).fetchall()})  # fmt: skip
            # one (term, interaction) row per posting: a word is a plain lookup on the
            # term-sorted table; all the words of a phrase intersect (a GROUP BY ... HAVING
            # over the postings is twice as slow on a million documents)
            rng = "" if id_range is None else f" AND p.interaction_id BETWEEN {int(id_range[0])} AND {int(id_range[1])}"
            parts.append("(" + " INTERSECT ".join(
                f"SELECT p.interaction_id FROM search_postings p WHERE p.term = ?{rng}" for _ in stems) + ")")  # fmt: skip
            params += stems
            if pending:
                parts.append(f"SELECT d.interaction_id FROM search_docs d WHERE NOT d.in_index AND {like}")
                params += [f"%{w}%" for w in words]
        else:
            parts.append(f"SELECT d.interaction_id FROM search_docs d WHERE {like}")
            params += [f"%{w}%" for w in words]
    if not parts:
        return "SELECT NULL::BIGINT WHERE FALSE", []
    return " UNION ALL ".join(parts), params
