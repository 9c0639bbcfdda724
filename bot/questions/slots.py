"""The typed query as the answer paths of #13 read it (intent + a few slots), for as long
as those paths have not moved to `store.query.Query` (#14 part A rewrites list, count,
ranking, breakdown and comparison answers on the typed query; this adapter then shrinks to
the pattern answers). `SlotQuery` has the fields of the old parser's result and is still
importable as `bot.questions.parser.Query`, so code written against that keeps working.

It loses what the old slots cannot hold — metric conditions, negations, several values of
one field, text search, groupings — and says so: `dropped` lists them, and the answer
prefixes a note, so a question is never answered as if a condition had been applied when
it was not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.questions.timeexpr import Period
from store.query import Compare, Match, Query

#: flag family → ILIKE patterns on flags.kind (the kinds each family's rules raise)
FAMILY_KINDS: dict[str, list[str]] = {
    "any": ["%"], "angry": ["%ang%", "%irate%"],
    "compliance": ["compliance%", "%disclosure%", "%violation%", "%prohibited%"],
    "prohibited": ["%prohibited%"], "escalation": ["%escalat%"], "churn": ["%churn%", "%cancel%"],
    "repeat": ["%repeat%"], "trend": ["%trend%"], "unresolved": ["unresolved_issue"],
    "incorrect_information": ["incorrect_information"], "profanity": ["%profan%", "%abus%"],
    "silence": ["%silence%", "%hold%", "%non_talk%"],
}  # fmt: skip
FAMILY_LABELS = {
    "any": "flagged", "angry": "angry", "compliance": "compliance violations", "prohibited": "prohibited phrases",
    "escalation": "escalations", "churn": "churn risks", "repeat": "repeat contacts", "trend": "trends",
    "unresolved": "unresolved issues", "incorrect_information": "incorrect information",
    "profanity": "profanity", "silence": "long silences",
}  # fmt: skip
INTENT_OF_VIEW = {
    "list": "find", "count": "count", "comparison": "count", "detail": "show", "agent_summary": "agent",
    "top_issues": "topics", "rising": "rising", "repeat_contacts": "find", "traits": "traits",
    "phrases": "phrases", "fcr": "fcr", "qa": "find", "followups": "followups", "my_week": "my_week",
    "contest": "contest", "accuracy": "accuracy", "help": "help", "ranking": "find", "breakdown": "find",
}  # fmt: skip


@dataclass(slots=True)
class SlotQuery:
    """What the #13 answer paths read (see module docstring)."""

    text: str
    intent: str
    period: Period
    period_said: bool = False
    compare: Period | None = None
    kinds: list[str] = field(default_factory=list)
    kind_label: str | None = None
    channel: str | None = None
    agent: str | None = None
    queue: str | None = None
    topic: str | None = None
    ref: str | None = None
    review: str | None = None
    reason: str | None = None
    rule: str | None = None
    #: parts of the typed query these slots cannot hold (said in the answer)
    dropped: list[str] = field(default_factory=list)
    typed: Query | None = None


def _period(span: object, fallback: Period) -> Period:
    if span is None:
        return fallback
    return Period(span.start, span.end, span.label)  # type: ignore[attr-defined]


def to_slots(q: Query, default: Period) -> SlotQuery:
    """The typed query in the old slots; `default` is the period of views that have none."""
    out = SlotQuery(text=q.text, intent=INTENT_OF_VIEW.get(q.view, "find"), period=_period(q.period, default),
                      period_said=not q.period_default and q.period is not None,
                      compare=_period(q.compare_to, default) if q.compare_to else None, ref=q.ref,
                      typed=q)  # fmt: skip
    if q.view == "contest":
        out.reason = q.note
    if q.view == "accuracy":
        out.rule = q.note
    if q.view in ("ranking", "breakdown"):
        out.dropped.append(f"the {q.view}" + (f" by {', '.join(q.group_by)}" if q.group_by else "")
                           + (" of " + ", ".join(m.name for m in q.measures) if q.measures else ""))
    if q.view == "list" and q.order is not None and q.order.by != "started_at":
        out.dropped.append(f"sorted by {q.order.by}")
    if q.view == "list" and q.limit:
        out.dropped.append(f"only {q.limit}")
    if q.view == "repeat_contacts":
        out.kinds, out.kind_label = list(FAMILY_KINDS["repeat"]), FAMILY_LABELS["repeat"]
    labels: list[str] = []
    flag_filters = [f for f in q.filters if isinstance(f, Match) and f.field == "flag" and not f.negate]
    if len(flag_filters) > 1:  # the old slots OR every kind together
        out.dropped.append("all of " + " and ".join("/".join(f.values) for f in flag_filters) + " (any of them shown)")
    for f in q.filters:
        if isinstance(f, Compare):
            out.dropped.append(f"{f.metric} {f.op} {f.value:g}")
            continue
        assert isinstance(f, Match)
        if f.negate or (len(f.values) > 1 and f.field not in ("flag",)):
            out.dropped.append(f"{f.field} {'not ' if f.negate else ''}{' or '.join(f.values)}")
            continue
        value = f.values[0]
        if f.field == "flag":
            for fam in f.values:
                out.kinds.extend(k for k in FAMILY_KINDS.get(fam, [f"%{fam.removeprefix('kind:')}%"])
                                 if k not in out.kinds)  # fmt: skip
                labels.append(FAMILY_LABELS.get(fam, fam))
        elif f.field in ("channel", "agent", "queue", "topic"):
            setattr(out, f.field, value)
        elif f.field == "review":
            out.review = value
        else:
            out.dropped.append(f"{f.field} {value}")
    if "%" in out.kinds:
        out.kinds = ["%"]
    if out.review and not out.kinds:
        out.kinds, labels = ["%"], ["flagged"]
    out.kind_label = " and ".join(labels) or out.kind_label
    return out
