"""Answers about one's own work ("my week") and about rule accuracy from reviews.

"My week" is what an agent sees: their interactions, their QA scorecard, their flags with
the verdicts on them and the redacted text the flag was raised on, and the phrases that
work best in their queue. It is built only from the asker's own agent name (their Slack
user mapping), never from a name in the question, so an agent cannot read a colleague's
week. Scores are for coaching: the answer says how to contest a flag that is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import blocks as bk
from bot import safety
from store import questions as sq
from store import reviews

if TYPE_CHECKING:
    from bot.questions.answers import Answer, Engine
    from bot.questions.legacy import ParsedQuery as Query

NOT_MAPPED = ("I don't know which agent you are. Ask a Convoscope admin to map your Slack user "
              "to your agent name (`[access.agents]`).")  # fmt: skip
COACHING = ("These numbers are for coaching, not for punishment. If a flag is wrong, reply "
            "`contest FLAG_ID: why` and a supervisor will review it again.")  # fmt: skip


def my_week(engine: Engine, q: Query, agent: str | None) -> Answer:
    from bot.questions.answers import Answer, _plain

    if not agent:
        return _plain(q, NOT_MAPPED)
    store, p = engine.store, q.period
    s = sq.agent_summary(store, agent, p.start, p.end)
    flags = reviews.agent_flags(store, agent, p.start, p.end)
    qa = _patterns(lambda: [c for c in _agent_scorecards(store, p.start, p.end)
                            if (c.agent or "").lower() == agent.lower()])  # fmt: skip
    queue = reviews.agent_queue(store, agent, p.start, p.end)
    phrases = _patterns(lambda: _best_phrases(store, queue)) if queue else []
    lines = [f"Your work {p.label}: {s['interactions']} interactions"
             + (f", average customer sentiment {bk.fmt_num(s['sentiment'])}" if s["sentiment"] is not None else "")
             + "."]  # fmt: skip
    for c in qa:
        lines.append(f"QA scorecard “{c.scorecard}”: {c.mean_score:.0f}/100 over {c.interactions} "
                     "interactions.")  # fmt: skip
    counted = [f for f in flags if f["review_status"] != "dismissed"]
    lines.append(f"Flags: {len(counted)} that count"
                 + (f", {sum(f['review_status'] == 'dismissed' for f in flags)} dismissed by a reviewer"
                    if len(counted) != len(flags) else "") + ".")  # fmt: skip
    items_flags = []
    for f in flags:
        state = f["review_status"] + (", contested" if f["contested"] else "")
        ev = f["evidence"]
        ev_text = safety.safe(ev) if ev else "[evidence not yet redacted: text withheld]"
        lines.append(f"• flag {f['flag_id']} {f['kind']} ({bk.severity_name(f['severity'])}, {state}) on "
                     f"{f['channel']} #{f['interaction_id']}: “{bk.clip(ev_text or '', 200)}”")
        items_flags.append({**{k: f[k] for k in ("flag_id", "interaction_id", "kind", "review_status",
                                                 "contested", "channel")},
                            "severity": bk.severity_name(f["severity"]), "evidence": ev_text})  # fmt: skip
    if phrases:
        lines.append(f"Phrases that work best in {queue}: "
                     + ", ".join(f"“{r.phrase}”" for r in phrases[:5]) + ".")  # fmt: skip
    lines.append(COACHING)
    text = "\n".join(lines)
    item = {"agent": agent, "period": p.label, "interactions": s["interactions"],
            "sentiment": s["sentiment"], "flags": items_flags,
            "scorecards": [{"scorecard": c.scorecard, "score": c.mean_score, "interactions": c.interactions}
                           for c in qa],
            "phrases": [r.phrase for r in phrases[:5]], "queue": queue}  # fmt: skip
    return Answer(q.text, text, [item], [bk.section(bk.escape(x)) for x in lines], intent="my_week")


def accuracy(engine: Engine, q: Query) -> Answer:
    """'How accurate is the disclosure rule?': what reviewers' verdicts imply."""
    from bot.questions.answers import Answer

    rows = reviews.rule_quality(engine.store, q.period.start, q.period.end, like=q.rule)
    what = f"the {q.rule} rule" if q.rule else "the rules"
    if not rows:
        text = f"No flags from {what} {q.period.label}."
        return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="accuracy")
    prev = q.period.previous()
    before = {(r.kind, r.rule): r for r in reviews.rule_quality(engine.store, prev.start, prev.end, like=q.rule)}
    lines = []
    for r in rows[:10]:
        b = before.get((r.kind, r.rule))
        trend = ""
        if b is not None and b.precision is not None and r.precision is not None:
            trend = f"; {prev.label}: precision {b.precision:.0%} over {b.reviewed} reviews"
        lines.append(r.describe() + trend)
    head = f"Reviews of {what} {q.period.label}:"
    text = head + "\n" + "\n".join(lines)
    items = [{"kind": r.kind, "rule": r.rule, "confirmed": r.confirmed, "dismissed": r.dismissed,
              "open": r.open, "precision": None if r.precision is None else round(r.precision, 3)}
             for r in rows]  # fmt: skip
    return Answer(q.text, text, items, [bk.section(bk.escape(text))], intent="accuracy")


def _patterns(fn: Any) -> list[Any]:
    """A patterns-table read, or [] when the patterns job has not created its tables."""
    import duckdb

    try:
        return list(fn())
    except duckdb.CatalogException:
        return []


def _agent_scorecards(store: Any, start: Any, end: Any) -> list[Any]:
    from store import patterns

    return patterns.agent_scorecards(store, start, end)


def _best_phrases(store: Any, queue: str) -> list[Any]:
    from store import patterns

    return patterns.best_phrases(store, queue=queue, limit=5)
