"""The typed query: the one description of "which interactions, and what about them".

Every surface builds one of these and nothing else — the Slack bot and `convoscope ask`
(from a parsed question), the TUI's filter form, `convoscope export` and the local API —
and `store/` compiles it to SQL in one place, so a filter means the same thing everywhere.
It is plain data (frozen dataclasses, JSON round-trip through `to_dict` / `from_dict`), so a
question's interpretation can be printed (`ask --json`), compared in tests against the
phrasing corpus, logged, and produced by an optional model translator that is only ever
allowed to return one of these — never SQL.

Contract (kept small on purpose; extend by adding values, not meanings):

* `subject` — what the answer is made of: `interactions` (a list or a count of them),
  `flags`, `agents`, `topics`, `clusters` or `customers` (rankings / breakdowns of those).
* `view` — which answer to give. `list`, `count`, `ranking` (top-N of `group_by` by the
  first measure), `breakdown` (every group with all measures), `comparison` (the measures in
  `period` next to `compare_to`), `detail` (one interaction, `ref`), or one of the pattern
  answers in `PATTERN_VIEWS` (they read the patterns job's tables, filtered by `filters`
  where the pattern supports it), or `help`.
* `period` — half-open `[start, end)` of aware datetimes plus the words that say it;
  `None` only for views that take no period (`detail`, `help`, `contest`).
* `filters` — a conjunction. `Match` is "field is one of values" (or none of them when
  `negate`); `Compare` is a metric condition. Values are as the user means them after
  entity linking: canonical agent names, queue names, topic labels as stored, flag families
  from `FLAG_FAMILIES` (or `kind:<exact flag kind>`), review states from `REVIEW_STATES`.
* `group_by`, `measures`, `order`, `limit` — the shape of rankings and breakdowns.
* `ignored` — the words of the question the parser did not use; answers say them aloud
  ("I ignored: 'urgently'") so nothing a user typed is silently dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

Subject = Literal["interactions", "flags", "agents", "topics", "clusters", "customers"]
View = Literal[
    "list", "count", "ranking", "breakdown", "comparison", "detail", "help",
    # pattern and personal answers (read the patterns job's tables or one person's data)
    "top_issues", "rising", "repeat_contacts", "traits", "phrases", "fcr", "qa",
    "agent_summary", "my_week", "contest", "accuracy", "followups",
]  # fmt: skip
PATTERN_VIEWS = ("top_issues", "rising", "repeat_contacts", "traits", "phrases", "fcr", "qa")

MatchField = Literal[
    "channel",  # call | email | chat
    "agent",  # canonical agent name or id as stored in interactions.agent
    "queue",  # queue name as stored
    "topic",  # topic label (scores.top_topic / topics)
    "cluster",  # cluster id (as text) or cluster label
    "flag",  # a family of FLAG_FAMILIES, or "kind:<exact kind>"; "any" = flagged at all
    "review",  # a state of REVIEW_STATES, about the flags that `flag` selects
    "customer",  # customer key (email address, phone, external id) as stored
    "direction",  # inbound | outbound
    "text",  # full-text search over (redacted) turns: "calls mentioning router"
    "resolution",  # resolved | unresolved | pending (interaction_resolution verdict)
    "repeat",  # "yes": the customer contacted us again within the repeat window
    "id",  # interaction ids (a screen's selection; added by #14 part A)
]
Metric = Literal[
    "sentiment",  # overall, -1..1 (follows the customer, see METRICS.md)
    "customer_sentiment",
    "agent_sentiment",
    "anger",  # 0..1
    "duration",  # seconds
    "silence",  # non-talk seconds
    "silence_pct",  # non-talk share, 0..1
    "interruptions",  # count
    "response_time",  # first response, seconds
    "agent_talk_ratio",  # 0..1
    "turns",  # number of turns / messages
]
Op = Literal["<", "<=", ">", ">=", "=", "between"]
Group = Literal["agent", "queue", "topic", "channel", "day", "week", "cluster", "customer", "flag"]
MeasureKind = Literal["count", "average", "rate", "share", "sum", "min", "max"]

#: Flag families a question can name; `store/` maps each to flag kinds. "any" = any flag.
FLAG_FAMILIES = (
    "any", "angry", "compliance", "prohibited", "escalation", "churn", "repeat", "trend",
    "unresolved", "incorrect_information", "profanity", "silence",
)  # fmt: skip
REVIEW_STATES = ("open", "confirmed", "dismissed", "contested")
#: "negative"/"positive" interactions are sentiment conditions, not flags (no flag has that
#: name; every scored interaction has a sentiment): these are the thresholds words map to.
NEGATIVE_BELOW = -0.25
POSITIVE_ABOVE = 0.25
#: "angry calls" without a flag filter is `flag=angry`; "anger above" is a Compare on anger.


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range `[start, end)` of aware datetimes and the words that say it
    ("this week (Mon 30 Nov → now)")."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True, slots=True)
class Match:
    """`field` is one of `values` (or none of them when `negate`)."""

    field: MatchField
    values: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Compare:
    """A metric condition: `metric op value` (`between`: value <= metric < value2).
    Units are the metric's own (seconds for durations, -1..1 for sentiment)."""

    metric: Metric
    op: Op
    value: float
    value2: float | None = None
    negate: bool = False


Filter = Match | Compare


@dataclass(frozen=True, slots=True)
class Measure:
    """What to compute per group (or overall).

    `count` interactions; `average`/`sum`/`min`/`max` of `metric`; `rate` = share of the
    group's interactions with flag family `flag` (0..1); `share` = the group's count as a
    share of all matching interactions."""

    kind: MeasureKind
    metric: Metric | None = None
    flag: str | None = None

    @property
    def name(self) -> str:
        """A stable column name: count, average_sentiment, rate_angry, share."""
        return "_".join(p for p in (self.kind, self.metric, self.flag) if p)


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by a measure's `name`, or by `started_at` / a metric for lists."""

    by: str
    descending: bool = True


@dataclass(frozen=True, slots=True)
class Query:
    subject: Subject = "interactions"
    view: View = "list"
    period: Span | None = None
    compare_to: Span | None = None
    filters: tuple[Filter, ...] = ()
    group_by: tuple[Group, ...] = ()
    measures: tuple[Measure, ...] = ()
    order: Order | None = None
    limit: int | None = None
    #: for `detail`: the interaction's id or external reference; for `contest`: flag id
    ref: str | None = None
    #: free text the view needs (a contest's reason, the rule an accuracy question names)
    note: str | None = None
    #: words of the question the parser did not use, in order
    ignored: tuple[str, ...] = ()
    #: the question as typed (empty when built by a form or the API)
    text: str = ""
    #: True when the question named no period and `period` is the view's default
    period_default: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def matches(self, fld: str) -> list[Match]:
        """The Match filters on one field (a question can say "not billing" and "in sales")."""
        return [f for f in self.filters if isinstance(f, Match) and f.field == fld]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (datetimes as ISO 8601); `from_dict` reads it back."""
        d = asdict(self)
        for key in ("period", "compare_to"):
            if d[key] is not None:
                d[key]["start"] = d[key]["start"].isoformat()
                d[key]["end"] = d[key]["end"].isoformat()
        d["filters"] = [
            {"match" if isinstance(f, Match) else "compare": _compact(asdict(f))} for f in self.filters
        ]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Query:
        """Read `to_dict` output (or a model translator's JSON), validating every enum:
        an unknown subject, view, field, metric, op, group or measure raises ValueError."""
        d = dict(d)
        _check(d.get("subject", "interactions"), Subject, "subject")
        _check(d.get("view", "list"), View, "view")
        for key in ("period", "compare_to"):
            if d.get(key) is not None:
                p = d[key]
                d[key] = Span(_dt(p["start"]), _dt(p["end"]), str(p.get("label", "")))
        filters: list[Filter] = []
        for item in d.get("filters", ()):
            if "match" in item:
                m = item["match"]
                _check(m["field"], MatchField, "field")
                filters.append(Match(m["field"], tuple(str(v) for v in m["values"]), bool(m.get("negate", False))))
            elif "compare" in item:
                c = item["compare"]
                _check(c["metric"], Metric, "metric")
                _check(c["op"], Op, "op")
                v2 = c.get("value2")
                filters.append(Compare(c["metric"], c["op"], float(c["value"]),
                                       None if v2 is None else float(v2), bool(c.get("negate", False))))
            else:
                raise ValueError(f"a filter is {{'match': ...}} or {{'compare': ...}}, got {item!r}")
        d["filters"] = tuple(filters)
        for g in d.get("group_by", ()):
            _check(g, Group, "group_by")
        d["group_by"] = tuple(d.get("group_by", ()))
        measures = []
        for m in d.get("measures", ()):
            _check(m["kind"], MeasureKind, "measure")
            if m.get("metric") is not None:
                _check(m["metric"], Metric, "metric")
            measures.append(Measure(m["kind"], m.get("metric"), m.get("flag")))
        d["measures"] = tuple(measures)
        if d.get("order") is not None:
            d["order"] = Order(str(d["order"]["by"]), bool(d["order"].get("descending", True)))
        d["ignored"] = tuple(d.get("ignored", ()))
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown query keys: {sorted(unknown)}")
        return cls(**d)


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    d = dict(d)
    if isinstance(d.get("values"), tuple):
        d["values"] = list(d["values"])
    if d.get("negate") is False:
        d.pop("negate")
    if "value2" in d and d["value2"] is None:
        d.pop("value2")
    return d


def _check(value: Any, kind: Any, what: str) -> None:
    allowed = get_args(kind)
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


def _dt(value: Any) -> datetime:
    got = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if got.tzinfo is None:
        raise ValueError(f"period bounds must carry a time zone: {value!r}")
    return got
