"""QA scorecards: configured forms answered automatically for every interaction.

Each question reads one source (a flag kind or rule, a conversation stage, a metric, a
sentiment value or the resolution verdict) and answers yes / no / n.a. or a number in a range. Points: yes = 1,
no = 0 (for `expect = "absent"` the reverse), a ranged number scores linearly from
`worst` (0) to `best` (1), clipped. A section's score is the weighted mean of its
answered questions; the form's score is the weighted mean of its sections that have any
answer, times 100. Questions that do not apply (wrong channel, value missing) are n.a.
and leave the denominator, so a chat is not marked down for having no hold time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from analysis.patterns.options import ScorecardOptions, ScorecardQuestion
from analysis.patterns.outcomes import end_sentiment
from analysis.patterns.traits import flatten_metrics
from store.patterns import InteractionFacts, ScorecardResult


def _value(q: ScorecardQuestion, f: InteractionFacts) -> float | None:
    if q.metric is not None:
        return flatten_metrics(f.metrics).get(q.metric)
    if q.sentiment == "customer_end":
        return end_sentiment(f)
    if q.sentiment == "customer":
        return f.sentiment_customer
    return f.sentiment


def answer(
    q: ScorecardQuestion, f: InteractionFacts, flag_kinds: Collection[str], stages: Collection[str]
) -> dict[str, Any]:
    """One question's answer: {"id", "answer": "yes"|"no"|"n.a."|number, "points": 0..1|None}."""
    out: dict[str, Any] = {"id": q.id, "text": q.text, "weight": q.weight}
    if q.channels and f.channel not in q.channels:
        return {**out, "answer": "n.a.", "points": None, "why": f"not asked for {f.channel}"}
    if q.flag is not None:
        present = q.flag in flag_kinds
        good = present if q.expect == "present" else not present
        return {**out, "answer": "yes" if present else "no", "points": 1.0 if good else 0.0}
    if q.resolution is not None:
        if f.resolution is None:
            return {**out, "answer": "n.a.", "points": None, "why": "no resolution verdict"}
        ok = f.resolution in q.resolution
        return {**out, "answer": "yes" if ok else "no", "value": f.resolution, "points": 1.0 if ok else 0.0}
    if q.stage is not None:
        seen = q.stage in stages
        return {**out, "answer": "yes" if seen else "no", "points": 1.0 if seen else 0.0}
    v = _value(q, f)
    if v is None:
        return {**out, "answer": "n.a.", "points": None, "why": "no value"}
    if q.best is not None and q.worst is not None:
        frac = (v - q.worst) / (q.best - q.worst)
        return {**out, "answer": round(float(v), 4), "points": round(min(1.0, max(0.0, frac)), 4)}
    ok = (q.pass_min is None or v >= q.pass_min) and (q.pass_max is None or v <= q.pass_max)
    return {**out, "answer": "yes" if ok else "no", "value": round(float(v), 4),
            "points": 1.0 if ok else 0.0}


def applies(form: ScorecardOptions, f: InteractionFacts) -> bool:
    return (not form.queues or f.queue in form.queues) and (not form.channels or f.channel in form.channels)


def score(
    form: ScorecardOptions, f: InteractionFacts, flag_kinds: Collection[str], stages: Collection[str]
) -> ScorecardResult:
    """Evaluate one interaction with one form."""
    answers: list[dict[str, Any]] = []
    total = 0.0
    weights = 0.0
    for section in form.sections:
        got = 0.0
        w = 0.0
        for q in section.questions:
            a = answer(q, f, flag_kinds, stages)
            a["section"] = section.name
            answers.append(a)
            if a["points"] is not None:
                got += q.weight * a["points"]
                w += q.weight
        if w > 0:
            total += section.weight * (got / w)
            weights += section.weight
    na = sum(1 for a in answers if a["points"] is None)
    return ScorecardResult(
        interaction_id=f.id, scorecard=form.name, agent=f.agent, queue=f.queue,
        started_at=f.started_at, score=round(100.0 * total / weights, 2) if weights else None,
        answered=len(answers) - na, not_applicable=na, answers=answers,
    )


def score_all(
    forms: Sequence[ScorecardOptions],
    facts: Sequence[InteractionFacts],
    flag_kinds: dict[int, set[str]],
    stages: dict[int, list[str]],
) -> list[ScorecardResult]:
    """Every applicable form for every interaction (100 % evaluated)."""
    return [
        score(form, f, flag_kinds.get(f.id, set()), stages.get(f.id, []))
        for f in facts
        for form in forms
        if applies(form, f)
    ]
