"""The pattern answers of the question engine: top issues, rising issues, what
low-satisfaction interactions have in common, best agent phrases. Split from
bot/questions/answers.py (#14); the engine's `_topics`, `_rising`, `_traits` and
`_phrases` call these. Rising has one definition, `store.query_views.rising`."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import blocks as bk
from bot.questions.legacy import ParsedQuery as Query
from store import query_views as qv
from store.db import Store
from store.query import Span

if TYPE_CHECKING:
    from bot.questions.answers import Answer, Engine

log = logging.getLogger(__name__)
CHANNEL_NOUN = {"call": "calls", "email": "emails", "chat": "chats", None: "interactions"}


def unscoped(q: Query) -> bool:
    """True when the question has no filter the pattern tables cannot apply."""
    return not (q.channel or q.agent or q.queue or q.topic or q.kinds)


def topics(engine: Engine, q: Query, role: str, page: int) -> Answer:
    from bot.questions.answers import Answer

    rows: list[tuple[str, int]] = []
    if unscoped(q):
        # Issue groups from the pattern engine (clusters) when it has run.
        clusters = pattern_top_clusters(engine.store, q.period.start, q.period.end,
                                        engine.page_size)  # fmt: skip
        rows = [(c.label or ", ".join(c.terms[:3]), c.count) for c in clusters]
    if not rows:
        rows = qv.top_topics(engine.store, engine._query(q), limit=engine.page_size)
    noun = CHANNEL_NOUN[q.channel]
    if not rows:
        text = f"No topics recorded for {noun} {q.period.label}."
        return Answer(q.text, text, [], [bk.section(text)], intent="topics")
    items = [{"topic": t, "count": n} for t, n in rows]
    text = f"Top topics in {noun} {q.period.label}: " + ", ".join(f"{t} ({n})" for t, n in rows) + "."
    lines = "\n".join(f"{i + 1}. {bk.escape(t)} — {n}" for i, (t, n) in enumerate(rows))
    blocks = [bk.section(f"*Top topics in {noun} {q.period.label}*\n{lines}")]
    return Answer(q.text, text, items, blocks, intent="topics")


def rising(engine: Engine, q: Query, role: str, page: int) -> Answer:
    from bot.questions.answers import Answer

    prev = q.period.previous()
    noun = CHANNEL_NOUN[q.channel]
    typed = replace(engine._query(q), compare_to=Span(prev.start, prev.end, prev.label))
    got = qv.rising(engine.store, typed, limit=engine.page_size, tz=str(engine.tz))
    if got and got[0].day is not None:  # the patterns job's detected rises
        items = [{"topic": t.label, "count": t.n, "baseline": round(t.baseline, 2),
                  "ratio": round(t.ratio, 2), "day": t.day.isoformat(),
                  "summary": t.summary} for t in got]  # fmt: skip
        text = f"Rising issues {q.period.label}: " + "; ".join(
            f"{it['topic']} {it['count']} vs usual {it['baseline']:g} ({it['day']})" for it in items
        ) + "."  # fmt: skip
        lines = "\n".join(f"• {bk.escape(it['summary'] or it['topic'])}" for it in items)
        blocks = [bk.section(f"*Rising issues {q.period.label}*\n{lines}")]
        return Answer(q.text, text, items, blocks, intent="rising")
    rows = [{"topic": r.label, "count": r.n, "before": r.before} for r in got]
    if not rows:
        text = f"Nothing is rising in {noun} {q.period.label} compared with {prev.label}."
        return Answer(q.text, text, [], [bk.section(text)], intent="rising")
    text = (f"Rising in {noun} {q.period.label} (vs {prev.label}): "
            + ", ".join(f"{r['topic']} {r['before']}→{r['count']}" for r in rows) + ".")  # fmt: skip
    lines = "\n".join(f"• {bk.escape(r['topic'])}: {r['before']} → {r['count']}" for r in rows)
    blocks = [bk.section(f"*Rising in {noun} {q.period.label}* (vs {prev.label})\n{lines}")]
    return Answer(q.text, text, rows, blocks, intent="rising")


def traits(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """What low-satisfaction interactions have in common (the patterns job's traits)."""
    from bot.questions.answers import Answer

    rows = _patterns_call("low_satisfaction_traits", engine.store, q.queue, limit=5)
    scope = f" in {q.queue}" if q.queue else ""
    if not rows:
        text = (f"No traits of low-satisfaction interactions{scope} computed yet "
                "(the patterns job needs interactions that end negative and positive).")
        return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="traits")
    items = [{"kind": r.kind, "feature": r.feature, "statistic": r.statistic,
              "effect": round(r.effect, 3), "low": r.value_low, "high": r.value_high,
              "n_low": r.n_low, "n_high": r.n_high} for r in rows]
    names = {"topic": "Topics", "metric": "Metrics", "phrase": "Phrases", "resolution": "Resolution"}
    lines = []
    for kind in names:
        got = [it for it in items if it["kind"] == kind]
        if got:
            lines.append(f"*{names[kind]}*: " + ", ".join(
                f"{bk.escape(str(it['feature']))} ({it['statistic']} {it['effect']:+.2f})" for it in got))
    n_low, n_high = rows[0].n_low, rows[0].n_high
    head = (f"What low-satisfaction interactions{scope} have in common "
            f"({n_low} ending negative vs {n_high} ending positive)")
    text = head + ": " + "; ".join(f"{it['feature']} ({it['statistic']} {it['effect']:+.2f})" for it in items) + "."
    return Answer(q.text, text, items, [bk.section(f"*{bk.escape(head)}*\n" + "\n".join(lines))],
                  intent="traits")


def phrases(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """Agent phrases over-represented in interactions that end well."""
    from bot.questions.answers import Answer

    scope_word = q.topic or q.queue
    rows = []
    if scope_word:
        rows = _patterns_call("best_phrases", engine.store, topic=scope_word, limit=engine.page_size)
        if not rows:
            rows = _patterns_call("best_phrases", engine.store, queue=scope_word, limit=engine.page_size)
    else:
        rows = _patterns_call("best_phrases", engine.store, limit=engine.page_size)
    scope = f" for {scope_word}" if scope_word else ""
    if not rows:
        text = f"No best-agent phrases{scope} computed yet (the patterns job needs more interactions)."
        return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="phrases")
    items = [{"phrase": r.phrase, "z": round(r.z, 2), "good": r.count_good, "bad": r.count_bad}
             for r in rows]
    text = f"Phrases of agents whose interactions end well{scope}: " + ", ".join(
        f"\u201c{it['phrase']}\u201d (z {it['z']:.1f})" for it in items) + "."
    lines = "\n".join(f"{i + 1}. \u201c{bk.escape(it['phrase'])}\u201d — z {it['z']:.1f}, "
                      f"in {it['good']} good / {it['bad']} bad" for i, it in enumerate(items))
    return Answer(q.text, text, items,
                  [bk.section(f"*Best agent phrases{bk.escape(scope)}*\n{lines}")], intent="phrases")


def _patterns_call(name: str, *args: Any, **kwargs: Any) -> list[Any]:
    """A `store.patterns` read ([] when the patterns job has not computed it yet). The
    tables always exist (migrations create them), so an error here is a bug and raises."""
    from store import patterns

    return list(getattr(patterns, name)(*args, **kwargs))


def pattern_top_clusters(store: Store, start: datetime, end: datetime, limit: int) -> list[Any]:
    """`store.patterns.top_clusters` ([] before the patterns job has run)."""
    from store import patterns

    return list(patterns.top_clusters(store, start, end, limit=limit))
