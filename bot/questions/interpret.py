"""The typed query in plain words: the first line of every answer.

"Angry calls · agent Maria Lopez · this week (Mon 30 Nov → now)" tells the asker what the
engine understood before any number, so a misreading is visible at once; the words it did
not use follow ("I ignored: 'urgently'"). Pure: a `Query` (and optionally the clock) in,
a string out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from store.query import Compare, Match, Measure, Query, Span

NOUNS = {"call": "calls", "email": "emails", "chat": "chats"}
FLAG_WORDS = {
    "any": "flagged", "angry": "angry", "compliance": "compliance-flagged", "prohibited": "prohibited-phrase",
    "escalation": "escalated", "churn": "churn-risk", "repeat": "repeat-contact", "trend": "trend-flagged",
    "unresolved": "unresolved", "incorrect_information": "incorrect-information", "profanity": "profanity",
    "silence": "long-silence",
}  # fmt: skip
METRIC_WORDS = {
    "sentiment": "sentiment", "customer_sentiment": "customer sentiment", "agent_sentiment": "agent sentiment",
    "anger": "anger", "duration": "duration", "silence": "silence", "silence_pct": "silence share",
    "interruptions": "interruptions", "response_time": "first response time",
    "agent_talk_ratio": "agent talk ratio", "turns": "turns",
}  # fmt: skip
VIEW_TITLES = {
    "top_issues": "Top issues", "rising": "Rising issues", "repeat_contacts": "Repeat contacts",
    "traits": "What low-satisfaction interactions have in common", "phrases": "Best agent phrases",
    "fcr": "First-contact resolution", "qa": "QA scores", "agent_summary": "Agent summary",
    "my_week": "Your work", "accuracy": "Rule accuracy", "followups": "Follow-ups due", "help": "Help",
    "contest": "Contest a flag",
}  # fmt: skip
OPS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "=": "="}


def interpret(q: Query, now: datetime | None = None) -> str:
    """One line: what, filters, period, comparison; then ignored words and open choices."""
    parts = [_what(q)]
    in_noun = q.view not in VIEW_TITLES and q.view != "detail"  # channel and flags are in the noun
    parts += [_filter(f) for f in q.filters if not (isinstance(f, Match) and f.field in ("channel", "flag")
                                                       and not f.negate and in_noun)]
    if q.group_by and q.view in VIEW_TITLES:
        parts.append("by " + " and ".join(q.group_by))
    if q.view == "list" and q.order is not None:
        by = "time" if q.order.by == "started_at" else METRIC_WORDS.get(q.order.by, q.order.by)
        first = ("newest" if q.order.descending else "oldest") if by == "time" else \
            ("highest" if q.order.descending else "lowest")
        parts.append(f"by {by}, {first} first")
    if q.limit:
        parts.append(f"top {q.limit}" if q.view != "list" else f"first {q.limit}")
    if q.period is not None:
        parts.append(span_words(q.period, now) + (" (default)" if q.period_default else ""))
    if q.compare_to is not None:
        parts.append("vs " + span_words(q.compare_to, now))
    line = " · ".join(p for p in parts if p)
    if q.view == "detail" and q.ref:
        line = f"Interaction {q.ref}"
    if q.view == "accuracy" and q.note:
        line += f" · rule {q.note}"
    amb = q.extra.get("ambiguous") if q.extra else None
    if amb:
        for fld, values in amb.items():
            line += f". Which {fld} did you mean: {' or '.join(values)}?"
    if q.ignored:
        line += ". I ignored: " + ", ".join(f"'{w}'" for w in q.ignored)
    return line


def _what(q: Query) -> str:
    if q.view in VIEW_TITLES:
        return VIEW_TITLES[q.view]
    noun = _noun(q)
    if q.view == "count":
        return f"Number of {noun}"
    if q.view in ("ranking", "breakdown"):
        groups = " and ".join(q.group_by) or "agent"
        measures = ", ".join(measure_words(m, noun) for m in q.measures) or f"number of {noun}"
        if q.view == "ranking":
            order = "" if q.order is None else (", highest first" if q.order.descending else ", lowest first")
            return f"{groups.title()}s ranked by {measures}{order}"
        return f"{measures[:1].upper()}{measures[1:]} by {groups}"
    if q.view == "comparison":
        measures = ", ".join(measure_words(m, noun) for m in q.measures) or f"number of {noun}"
        return f"{measures[:1].upper()}{measures[1:]}" + (" by " + " and ".join(q.group_by) if q.group_by else "")
    return noun[:1].upper() + noun[1:]


def _noun(q: Query) -> str:
    """"angry calls", "open flags", "interactions"."""
    if q.subject == "flags":
        return "flags"
    chans = [v for f in q.matches("channel") if not f.negate for v in f.values]
    noun = " and ".join(NOUNS.get(c, c) for c in chans) if chans else "interactions"
    fams = [v for f in q.matches("flag") if not f.negate for v in f.values]
    adj = " or ".join(FLAG_WORDS.get(v, v) for v in fams)
    return f"{adj} {noun}" if adj else noun


def measure_words(m: Measure, noun: str = "interactions") -> str:
    if m.kind == "count":
        return f"number of {noun}"
    if m.kind == "share":
        return f"share of {noun}"
    if m.kind == "rate":
        return f"{FLAG_WORDS.get(m.flag or 'any', m.flag)} rate"
    word = {"average": "average", "sum": "total", "min": "minimum", "max": "maximum"}[m.kind]
    return f"{word} {METRIC_WORDS.get(m.metric or '', m.metric)}"


def _filter(f: Match | Compare) -> str:
    if isinstance(f, Compare):
        value = _metric_value(f.metric, f.value)
        if f.op == "between":
            text = f"{METRIC_WORDS[f.metric]} between {value} and {_metric_value(f.metric, f.value2 or 0)}"
        else:
            text = f"{METRIC_WORDS[f.metric]} {OPS[f.op]} {value}"
        return ("not " if f.negate else "") + text
    values = " or ".join(f.values)
    neg = "not " if f.negate else ""
    if f.field == "text":
        return f"{neg}mentioning " + " or ".join(f"“{v}”" for v in f.values)
    if f.field == "flag":
        return f"{neg}" + " or ".join(FLAG_WORDS.get(v, v) for v in f.values)
    if f.field == "channel":
        return f"{neg}" + " or ".join(NOUNS.get(v, v) for v in f.values)
    if f.field == "review":
        return f"{neg}review {values}"
    if f.field == "repeat":
        return f"{neg}from repeat contacts"
    if f.field in ("direction", "resolution"):
        return f"{neg}{values}"
    if f.field == "queue":
        return f"{neg}in {values}"
    return f"{neg}{f.field} {values}"


def _metric_value(metric: str, v: float) -> str:
    if metric in ("duration", "silence", "response_time"):
        if v >= 3600 and v % 360 == 0:
            return f"{v / 3600:g} h"
        if v >= 60:
            return f"{v / 60:g} min"
        return f"{v:g} s"
    if metric in ("silence_pct", "agent_talk_ratio"):
        return f"{v:.0%}"
    return f"{v:g}"


def span_words(span: Span, now: datetime | None = None) -> str:
    """"this week (Mon 30 Nov → now)", "yesterday (Tue 1 Dec)"."""
    start = span.start
    end = span.end
    label = span.label.split(" (")[0] if span.label else ""

    def day(d: datetime) -> str:
        return f"{d:%a} {d.day} {d:%b}"

    def point(d: datetime) -> str:
        return day(d) + ("" if (d.hour, d.minute) == (0, 0) else f" {d:%H:%M}")

    def last(d: datetime) -> str:
        """An end at midnight is shown as the last day it includes."""
        if (d.hour, d.minute) == (0, 0):
            return day((d - timedelta(hours=12)).replace(hour=0))
        return point(d)

    if now is not None and abs((end - now).total_seconds()) < 1:
        rng = f"{point(start)} → now"
    elif (end - start).total_seconds() <= 25 * 3600 and (start.hour, start.minute) == (0, 0) \
            and (end.hour, end.minute) == (0, 0):  # fmt: skip
        rng = day(start)
    else:
        rng = f"{point(start)} → {last(end)}"
    return f"{label} ({rng})" if label else rng
