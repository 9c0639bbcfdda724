"""Bridge between the regex parser's result (`bot.questions.parser.Query`) and the typed
query (`store.query.Query`) that the store compiles.

Why it exists: the store side of #14 (one query layer) and the parser side land on separate
branches. Until the parser returns a `store.query.Query` itself, `to_query` turns its
result into one so every answer is computed by `store.query_views`; `from_query` goes the
other way so the older pattern answers can be driven from a typed query (Slack, `ask`, a
model translator). Delete this module once the parser and every handler speak
`store.query.Query` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.questions.timeexpr import Period
from store.query import NEGATIVE_BELOW, Compare, Filter, Match, Query, Span


@dataclass(slots=True)
class ParsedQuery:
    """The regex parser's result, as the older handlers (pattern answers, agent summaries,
    personal answers) read it: the same fields as `bot.questions.parser.Query` today, kept
    here so those handlers keep working when the parser returns the typed query."""

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


#: the parser's flag labels (bot.questions.parser.FLAG_WORDS) -> flag family
LABEL_FAMILY = {
    "angry": "angry", "compliance violations": "compliance", "repeat contacts": "repeat",
    "trends": "trend", "escalations": "escalation", "unresolved issues": "unresolved",
    "incorrect information": "incorrect_information", "churn risks": "churn", "profanity": "profanity",
    "long silences": "silence", "flagged": "any",
}  # fmt: skip
FAMILY_LABEL = {v: k for k, v in LABEL_FAMILY.items()}
#: parser intent -> typed view
INTENT_VIEW = {
    "find": "list", "show": "detail", "agent": "agent_summary", "count": "count", "topics": "top_issues",
    "rising": "rising", "traits": "traits", "phrases": "phrases", "my_week": "my_week", "contest": "contest",
    "accuracy": "accuracy", "fcr": "fcr", "followups": "followups", "help": "help",
}  # fmt: skip
VIEW_INTENT = {v: k for k, v in INTENT_VIEW.items()}


def _span(p: Period | None) -> Span | None:
    return None if p is None else Span(p.start, p.end, p.label)


def to_query(q: Any) -> Query:
    """The typed query a parsed question means (`q`: the regex parser's result or a
    `ParsedQuery`; both have the fields read here)."""
    filters: list[Filter] = []
    if q.channel:
        filters.append(Match("channel", (q.channel,)))
    if q.agent:
        filters.append(Match("agent", (q.agent,)))
    if q.queue:
        filters.append(Match("queue", (q.queue,)))
    if q.topic:
        filters.append(Match("topic", (q.topic,)))
    labels = [x for x in (q.kind_label or "").split(" and ") if x]
    families: list[str] = []
    for label in labels:
        if label == "negative":  # no flag has that name: it is a sentiment condition
            filters.append(Compare("sentiment", "<", NEGATIVE_BELOW))
        elif label in LABEL_FAMILY:
            families.append(LABEL_FAMILY[label])
        else:
            families += [f"kind:{k}" for k in q.kinds if "%" not in k]
    if not families and q.kinds and not labels:
        families = ["any"] if "%" in q.kinds else [f"kind:{k}" for k in q.kinds]
    if families:
        filters.append(Match("flag", tuple(dict.fromkeys(families))))
    if q.review:
        filters.append(Match("review", (q.review,)))
    return Query(
        subject="interactions", view=INTENT_VIEW.get(q.intent, "help"),  # type: ignore[arg-type]
        period=_span(q.period), compare_to=_span(q.compare), filters=tuple(filters), ref=q.ref,
        note=q.reason or q.rule, text=q.text, period_default=not q.period_said,
        extra={"kind_label": q.kind_label} if q.kind_label else {},
    )  # fmt: skip


def from_query(q: Query) -> ParsedQuery:
    """A parser result for `q`, for the answers still written against it (pattern views,
    agent summaries, personal answers)."""
    one = {fld: (ms[0].values[0] if (ms := q.matches(fld)) and not ms[0].negate else None)
           for fld in ("channel", "agent", "queue", "topic", "review")}  # fmt: skip
    fams = [v for m in q.matches("flag") if not m.negate for v in m.values]
    from store.query_sql import FLAG_KINDS

    kinds: list[str] = []
    for f in fams:
        kinds += [f[5:]] if f.startswith("kind:") else list(FLAG_KINDS[f])
    label = " and ".join(FAMILY_LABEL.get(f, f.removeprefix("kind:")) for f in fams) or None
    period = q.period
    p = (Period(period.start, period.end, period.label) if period is not None
         else Period(q.compare_to.start, q.compare_to.end, "") if q.compare_to else None)  # fmt: skip
    if p is None:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        p = Period(now - timedelta(days=7), now, "the last 7 days")
    return ParsedQuery(
        text=q.text, intent=VIEW_INTENT.get(q.view, "find" if q.view == "list" else "help"), period=p,
        period_said=not q.period_default, compare=None if q.compare_to is None else Period(
            q.compare_to.start, q.compare_to.end, q.compare_to.label),
        kinds=kinds, kind_label=label, channel=one["channel"], agent=one["agent"], queue=one["queue"],
        topic=one["topic"], ref=q.ref, review=one["review"],
        reason=q.note if q.view == "contest" else None, rule=q.note if q.view == "accuracy" else None,
    )  # fmt: skip
