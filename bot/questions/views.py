"""Answers computed from a typed query (`store.query.Query`): lists, counts, rankings,
breakdowns and comparisons, as plain text (for `convoscope ask`) and Block Kit (Slack).

The numbers come from `store.query_views`, the same functions the TUI, the API and exports
use, so a filter means the same thing in every answer. Roles decide what leaves: rankings
and breakdowns are aggregates (any role that may see counts), but agent names are
pseudonymised for roles without `agent_names`, and customers are always pseudonyms.
What the question was understood to mean is said by the interpretation line that
`Engine.interpreted` puts in front of every answer (one place, see there).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from bot import blocks as bk
from store import query_views as qv
from store.permissions import allowed, pseudonym
from store.query import Measure, Query

if TYPE_CHECKING:
    from bot.questions.answers import Answer, Engine

CHANNEL_NOUN = {"call": "calls", "email": "emails", "chat": "chats", None: "interactions"}
GROUP_WORD = {"agent": "agent", "queue": "queue", "topic": "topic", "channel": "channel", "day": "day",
              "week": "week", "cluster": "issue group", "customer": "customer", "flag": "flag"}  # fmt: skip
METRIC_WORD = {"sentiment": "sentiment", "customer_sentiment": "customer sentiment",
               "agent_sentiment": "agent sentiment", "anger": "anger", "duration": "duration",
               "silence": "silence", "silence_pct": "silence share", "interruptions": "interruptions",
               "response_time": "first response", "agent_talk_ratio": "agent talk share", "turns": "turns"}  # fmt: skip
_SECONDS = ("duration", "silence", "response_time")
_SHARES = ("silence_pct", "agent_talk_ratio")


def measure_word(m: Measure) -> str:
    """'interactions', 'avg sentiment', 'angry rate', 'share'."""
    if m.kind == "count":
        return "interactions"
    if m.kind == "share":
        return "share"
    if m.kind == "rate":
        return f"{(m.flag or '').removeprefix('kind:')} rate"
    word = METRIC_WORD.get(m.metric or "", m.metric or "?")
    return {"average": f"avg {word}", "sum": f"total {word}", "min": f"min {word}", "max": f"max {word}"}[m.kind]


def fmt_value(m: Measure, v: Any) -> str:
    """A measure's value as people read it: counts whole, rates and shares in percent,
    durations in seconds (minutes past 10 min), scores with sign and two decimals."""
    if v is None:
        return "–"
    if m.kind == "count":
        return f"{int(v):,}"
    if m.kind in ("rate", "share") or m.metric in _SHARES:
        return f"{float(v):.0%}"
    if m.metric in _SECONDS:
        return f"{float(v) / 60:.1f} min" if float(v) >= 600 else f"{float(v):.0f} s"
    if m.metric in ("interruptions", "turns"):
        return f"{float(v):.1f}"
    return f"{float(v):+.2f}"


def fmt_change(m: Measure, a: Any, b: Any) -> str:
    """'+3 (+33%)', 'no change', '+0.12' — the change from `b` (before) to `a` (now)."""
    if a is None or b is None:
        return "–"
    if a == b:
        return "no change"
    d = float(a) - float(b)
    if m.kind == "count":
        return f"{int(d):+,d}" + (f" ({d / float(b):+.0%})" if b else "")
    if m.kind in ("rate", "share") or m.metric in _SHARES:
        return f"{d * 100:+.0f} pts"
    if m.metric in _SECONDS:
        return f"{d:+.0f} s"
    return f"{d:+.2f}"


def _group_value(engine: Engine, t: qv.Table, g: str, v: Any, role: str) -> str:
    if v is None:
        return f"(no {GROUP_WORD.get(g, g)})"
    if g == "agent" and not allowed(role, "agent_names"):
        return str(pseudonym(str(v)))
    if g == "cluster":
        return t.labels.get(str(v)) or f"group {v}"
    if g == "day":
        return v.strftime("%a %d %b")
    if g == "week":
        return f"week of {v:%d %b}"
    return str(v)


def _noun(q: Query, n: int | None = None) -> str:
    """"calls", "emails", "chats" or "interactions" — singular when `n` is 1."""
    chans = [v for m in q.matches("channel") if not m.negate for v in m.values]
    noun = CHANNEL_NOUN.get(chans[0] if len(chans) == 1 else None, "interactions")
    return noun[:-1] if n == 1 and noun.endswith("s") else noun


def answer_list(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """A page of matching interactions (worst first when flagged), or their count for
    roles that may not see lists."""
    from bot.questions.answers import Answer

    noun = _noun(q)
    if not allowed(role, "lists"):
        return answer_count(engine, q, role, page)
    size = engine.page_size
    found = qv.find(engine.store, q, limit=size, offset=page * size)
    if found.total == 0:
        text = f"No matching {noun}."
        return Answer(q.text, text, [], [bk.section(text)], intent="list", total=0)
    pages = max(1, math.ceil(found.total / size))
    items = [engine._item(r, role) for r in found.rows]
    first = page * size + 1
    head = f"{found.total:,} {_noun(q, found.total)}" + (f" (showing {first}–{first + len(items) - 1})" if pages > 1 else "")
    lines = [engine._line(it) for it in items]
    text = head + ":\n" + "\n".join(lines)
    blocks = [bk.section(f"*{bk.escape(head)}*"), *(bk.section(line) for line in lines)]
    blocks += bk.pager(q.text, page, pages)
    return Answer(q.text, text, items, blocks, intent="list", page=page, pages=pages, total=found.total)


def answer_count(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """How many match, by channel; with `compare_to`, next to that period with the change."""
    from bot.questions.answers import Answer

    if q.compare_to is not None:  # "how many chats today vs yesterday"
        return answer_comparison(engine, q, role, page)
    by = qv.count_by_channel(engine.store, q)
    n = sum(by.values())
    text = f"{n:,} {_noun(q, n)}."
    if len(by) > 1:
        text += " By channel: " + ", ".join(f"{CHANNEL_NOUN[c]} {k:,}" for c, k in by.items()) + "."
    items = [{"count": n, "by_channel": by}]
    return Answer(q.text, text, items, [bk.section(bk.escape(text))], intent="count", total=n)


def answer_table(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """A ranking (top N of a group by the first measure) or a breakdown (every group,
    every measure) as a ranked table."""
    from bot.questions.answers import Answer

    t = qv.aggregate(engine.store, q, tz=str(engine.tz))
    measures = qv.measures_of(q)
    if not t.groups:
        return answer_count(engine, q, role, page)
    if not t.rows:
        text = f"No matching {_noun(q)}, so nothing to rank."
        return Answer(q.text, text, [], [bk.section(text)], intent=q.view, total=0)
    group_words = " and ".join(GROUP_WORD.get(g, g) for g in t.groups)
    header = [group_words] + [measure_word(m) for m in measures]
    rows_txt, items = [], []
    for k, r in enumerate(t.rows):
        keys = [_group_value(engine, t, g, r[g], role) for g in t.groups]
        vals = [fmt_value(m, r[m.name]) for m in measures]
        rows_txt.append([f"{k + 1}. " + " · ".join(keys) if q.view == "ranking" else " · ".join(keys), *vals])
        items.append({**{g: keys[j] for j, g in enumerate(t.groups)}, **{m.name: r[m.name] for m in measures}})
    head = (f"Top {len(t.rows)} by {measure_word(measures[0])}" if q.view == "ranking"
            else f"{', '.join(measure_word(m) for m in measures).capitalize()} by {group_words}")  # fmt: skip
    head += f" ({t.total:,} {_noun(q, t.total)})"
    lines = [f"{r[0]}: " + ", ".join(f"{h} {v}" for h, v in zip(header[1:], r[1:], strict=True)) for r in rows_txt]
    text = head + ":\n" + "\n".join(lines)
    blocks = [bk.section(f"*{bk.escape(head)}*"), bk.table(header, rows_txt)]
    return Answer(q.text, text, items, blocks, intent=q.view, total=t.total)


def answer_comparison(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """The measures in the period next to `compare_to`, with the change (per group when
    the question groups: "angry calls by queue this week vs last week")."""
    from bot.questions.answers import Answer

    if q.period is None or q.compare_to is None:
        return Answer(q.text, "A comparison needs two periods, e.g. \"this week vs last week\".",
                      intent="comparison")  # fmt: skip
    t = qv.compare(engine.store, q, tz=str(engine.tz))
    measures = qv.measures_of(q)
    a_label, b_label = q.period.label, q.compare_to.label
    items = []
    if not t.groups:
        row = t.rows[0] if t.rows else {}
        parts = []
        for m in measures:
            a, b = row.get(m.name), row.get(f"{m.name}_before")
            parts.append(f"{measure_word(m)}: {fmt_value(m, a)} {a_label} vs {fmt_value(m, b)} {b_label} "
                         f"({fmt_change(m, a, b)})")  # fmt: skip
            items.append({"measure": m.name, "now": a, "before": b, "change": row.get(f"{m.name}_change")})
        text = f"{_noun(q).capitalize()} — " + "; ".join(parts) + "."
        return Answer(q.text, text, items, [bk.section(bk.escape(text))], intent="comparison", total=t.total)
    m = measures[0]
    header = [" and ".join(GROUP_WORD.get(g, g) for g in t.groups), a_label, b_label, "change"]
    rows_txt = []
    for r in t.rows:
        key = " · ".join(_group_value(engine, t, g, r[g], role) for g in t.groups)
        a, b = r[m.name], r[f"{m.name}_before"]
        rows_txt.append([key, fmt_value(m, a), fmt_value(m, b), fmt_change(m, a, b)])
        items.append({**{g: r[g] if g != "agent" or allowed(role, "agent_names") else pseudonym(r[g])
                         for g in t.groups}, "now": a, "before": b, "change": r[f"{m.name}_change"]})  # fmt: skip
    head = f"{measure_word(m).capitalize()}, {a_label} vs {b_label}"
    text = head + ":\n" + "\n".join(f"{r[0]}: {r[1]} vs {r[2]} ({r[3]})" for r in rows_txt)
    blocks = [bk.section(f"*{bk.escape(head)}*"), bk.table(header, rows_txt)]
    return Answer(q.text, text, items, blocks, intent="comparison", total=t.total)


#: typed view -> answer function (the pattern and personal views go through the engine's
#: older handlers, see Engine.answer_query)
VIEWS = {"list": answer_list, "count": answer_count, "ranking": answer_table, "breakdown": answer_table,
         "comparison": answer_comparison}  # fmt: skip


def answer_repeat_contacts(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """Customers who contacted us again about the same issue (the patterns job's repeat
    chains), as pseudonyms: customer keys are phone numbers and addresses."""
    from bot.questions.answers import Answer
    from store import patterns

    if not allowed(role, "lists"):
        return Answer(q.text, "Sorry, repeat contacts are for supervisors and analysts.", intent="repeat_contacts")
    start, end = (q.period.start, q.period.end) if q.period is not None else (None, None)
    rows = patterns.repeat_contacts(engine.store, start, end)[: engine.page_size]
    label = q.period.label if q.period is not None else ""
    if not rows:
        text = f"No repeat contacts {label} (or the patterns job has not run yet)."
        return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="repeat_contacts", total=0)
    header = ["customer", "contacts", "channels", "topics"]
    table = [[r.customer_key, str(r.contacts), ", ".join(r.channels), ", ".join(r.topics[:3])] for r in rows]
    items = [{"customer": r.customer_key, "contacts": r.contacts, "interactions": r.interaction_ids,
              "channels": r.channels, "topics": r.topics} for r in rows]  # fmt: skip
    head = f"Customers who contacted us more than once {label}"
    text = head + ":\n" + "\n".join(f"{t[0]}: {t[1]} contacts ({t[2]}; {t[3]})" for t in table)
    return Answer(q.text, text, items, [bk.section(f"*{bk.escape(head)}*"), bk.table(header, table)],
                  intent="repeat_contacts", total=len(rows))  # fmt: skip


def answer_qa(engine: Engine, q: Query, role: str, page: int) -> Answer:
    """QA scorecard results per agent (the patterns job's scorecards), best first."""
    from bot.questions.answers import Answer
    from store import patterns

    start, end = (q.period.start, q.period.end) if q.period is not None else (None, None)
    agents = {v.lower() for m in q.matches("agent") if not m.negate for v in m.values}
    rows = [r for r in patterns.agent_scorecards(engine.store, start, end, q.note)
            if not agents or (r.agent or "").lower() in agents]  # fmt: skip
    label = q.period.label if q.period is not None else ""
    if not rows:
        text = f"No QA scores {label} (or the patterns job has not scored any yet)."
        return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="qa", total=0)
    rows.sort(key=lambda r: (-(r.mean_score or 0), r.agent or ""))
    named = allowed(role, "agent_names")
    header = ["agent", "scorecard", "interactions", "mean", "min", "max"]
    table = [[str(r.agent if named else pseudonym(r.agent)), r.scorecard, str(r.interactions),
              *(("–" if v is None else f"{v:.2f}") for v in (r.mean_score, r.min_score, r.max_score))]
             for r in rows[: engine.page_size]]  # fmt: skip
    items = [dict(zip(header, t, strict=True)) for t in table]
    head = f"QA scores {label}"
    text = head + ":\n" + "\n".join(f"{t[0]} ({t[1]}): mean {t[3]} over {t[2]}" for t in table)
    return Answer(q.text, text, items, [bk.section(f"*{bk.escape(head)}*"), bk.table(header, table)],
                  intent="qa", total=len(rows))  # fmt: skip


#: pattern views with no handler in the older engine
PATTERN_ANSWERS = {"repeat_contacts": answer_repeat_contacts, "qa": answer_qa}
