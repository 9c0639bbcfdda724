"""Answer a parsed question from the store: text, JSON-able items and Block Kit.

One engine serves Slack (mentions, DMs, `/convoscope`) and `convoscope ask`. Roles decide
what leaves, through the one table in `store.permissions`: supervisors and admins see lists,
redacted excerpts, agent names and review buttons; analysts the same lists with agent names
pseudonymised and no buttons; viewers counts only; agents only their own work ("my week").
Flags a reviewer dismissed count nowhere (store.reviews). No raw transcript text ever goes
into an answer: excerpts come from the store's outbound view (`turn_scores.redacted_text`),
and turns analysis has not redacted yet are withheld; flag summaries pass through the
configured redactor (`bot.safety`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import blocks as bk
from bot import safety
from bot.questions.legacy import ParsedQuery as Query
from bot.questions.legacy import to_query
from bot.questions.parser import HELP_RX
from bot.questions.resolution_view import resolution_item, resolution_line
from bot.questions.understand import choice_answer, typed_query
from store import query_views as qv
from store import questions as sq
from store.db import Store
from store.permissions import allowed, pseudonym
from store.query import Query as TypedQuery

log = logging.getLogger(__name__)

HELP_EXAMPLES = (
    "angry calls today?",
    "compliance violations this week",
    "escalations yesterday in billing",
    "emails about refunds since Monday",
    "show call 4211",
    "how is agent 1042 doing this week?",
    "how many chats today vs yesterday",
    "top topics this week",
    "rising issues this week",
    "what do low-satisfaction calls have in common?",
    "best phrases for billing",
    "repeat callers this month",
    "calls today",
    "unresolved issues this week",
    "how many billing calls were resolved first time?",
    "follow-ups due today",
)
#: Questions longer than this are not parsed (a question is a line, not a document);
#: the asker gets a short note, and the audit log keeps only this many characters.
MAX_QUESTION_CHARS = 500
CHANNEL_NOUN = {"call": "calls", "email": "emails", "chat": "chats", None: "interactions"}


@dataclass(slots=True)
class Answer:
    """What the bot says: fallback `text`, structured `items`, and Slack `blocks`."""

    question: str
    text: str
    items: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    intent: str = "help"
    page: int = 0
    pages: int = 1
    total: int | None = None
    role: str = "supervisor"
    #: the typed query the answer was made from (`Query.to_dict()`; None for help)
    query: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"question": self.question, "text": self.text, "items": self.items}
        if self.query is not None:
            out["query"] = self.query
        return out


Redactor = Callable[[str], str]


def default_redactor() -> Redactor | None:
    """analysis.redaction.redact when that module exists (it may not be installed yet)."""
    return safety.redactor()


class Engine:
    """Answers questions over one store in one time zone."""

    def __init__(
        self,
        store: Store,
        tz: ZoneInfo,
        *,
        page_size: int = 10,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        redactor: Redactor | str | None = "auto",
        max_question_chars: int = MAX_QUESTION_CHARS,
    ) -> None:
        self.store = store
        self.max_question_chars = max_question_chars
        self.tz = tz
        self.page_size = page_size
        self.clock = clock
        self.redactor: Redactor | None = default_redactor() if redactor == "auto" else redactor  # type: ignore[assignment]

    def ask(self, question: str, *, role: str = "supervisor", page: int = 0,
            agent: str | None = None) -> Answer:
        """Answer one question. Never raises on what a user typed: problems become help."""
        if len(question) > self.max_question_chars:
            text = (f"That question is {len(question):,} characters long; questions are limited "
                    f"to {self.max_question_chars}. Please ask something shorter.")  # fmt: skip
            short = cap_text(question, self.max_question_chars)
            return Answer(short, text, [], [bk.section(text)], intent="too_long")
        try:
            typed = typed_query(self, question)  # names linked against the store's values
        except Exception:  # a parser bug must not show a stack trace to the asker
            log.exception("could not parse %r", question)
            return self.help(question, "I could not read that question.")
        choice = choice_answer(typed, role)
        if choice is not None:
            return choice  # an ambiguous name: one button per candidate, never a guess
        try:
            answer = self.answer_query(typed, role=role, page=max(0, page), agent=agent)
            answer = self.interpreted(answer, typed)
            answer.query = typed.to_dict()
            answer.blocks = bk.fit(answer.blocks)
            return answer
        except Exception:
            log.exception("could not answer %r", question)
            return self.help(question, "Something went wrong answering that; try rephrasing.")

    def interpreted(self, answer: Answer, q: TypedQuery) -> Answer:
        """The one place an answer gets the interpretation line in front ("Angry calls ·
        agent Maria Lopez · this week (Mon 30 Nov → now)"), so a misreading shows at once.
        The line is written by `bot.questions.interpret.interpret` (#14, parser side)."""
        from bot.questions.interpret import interpret

        if answer.intent in ("help", "too_long", "contest"):
            return answer
        line = interpret(q, self.clock())
        if line:
            answer.text = f"{line}\n{answer.text}"
            answer.blocks = [bk.context(bk.escape(line)), *answer.blocks]
        return answer

    def answer_query(self, q: TypedQuery, *, role: str, page: int = 0, agent: str | None = None) -> Answer:
        """Answer a typed query: lists, counts, rankings, breakdowns and comparisons from
        `store.query_views` (bot/questions/views.py); the pattern and personal views through
        the handlers below (via `legacy.from_query`)."""
        from bot.questions import views
        from bot.questions.legacy import from_query

        if q.view in views.VIEWS and q.view != "help":
            if role == "agent" or not allowed(role, "counts"):
                return Answer(q.text, "As an agent you can ask about your own work: `my week`.", intent=q.view)
            return views.VIEWS[q.view](self, q, role, max(0, page))
        if q.view in views.PATTERN_ANSWERS:
            return views.PATTERN_ANSWERS[q.view](self, q, role, max(0, page))
        return self.answer(from_query(q), role=role, page=page, agent=agent)

    def answer(self, q: Query, *, role: str, page: int = 0, agent: str | None = None) -> Answer:
        if q.intent == "help":
            asked = not q.text or HELP_RX.match(q.text)
            return self.help(q.text, "Here is what I can answer." if asked else None)
        if q.intent == "my_week":
            from bot.questions.agents_view import my_week

            return my_week(self, q, agent)
        if q.intent == "contest":
            # Contests change state: the Slack layer handles them with the asker's identity.
            return _plain(q, "Contest a flag from Slack: `contest FLAG_ID: your reason`.")
        if role == "agent" or not allowed(role, "counts"):
            return _plain(q, "As an agent you can ask about your own work: `my week`, or "
                             "`contest FLAG_ID: reason` to ask a supervisor to look at a flag again.")  # fmt: skip
        if q.intent == "accuracy":
            from bot.questions.agents_view import accuracy

            return accuracy(self, q)
        if q.intent == "show" and not allowed(role, "transcripts"):
            return _plain(q, "Sorry, only supervisors and analysts can open single interactions. "
                             "You can ask for counts, e.g. \"how many calls today\".")  # fmt: skip
        if q.intent == "agent" and not allowed(role, "agent_names"):
            return _plain(q, "Sorry, summaries of named agents are for supervisors. You can ask for "
                             "counts, e.g. \"how many calls today\".")  # fmt: skip
        if q.intent in ("traits", "phrases") and not allowed(role, "lists"):
            return _plain(q, "Sorry, patterns are for supervisors and analysts. You can ask for "
                             "counts, e.g. \"how many calls today\".")  # fmt: skip
        handler = getattr(self, f"_{q.intent}")
        return handler(q, role, page)

    # -- help ----------------------------------------------------------------------------

    def help(self, question: str, lead: str | None = None) -> Answer:
        intro = lead or "I did not understand that."
        examples = "\n".join(f"• `{e}`" for e in HELP_EXAMPLES)
        text = f"{intro} You can ask me things like:\n{examples}"
        return Answer(question, text, [], [bk.section(text)], intent="help")

    # -- lists of interactions -------------------------------------------------------------

    def _query(self, q: Query, period_start: datetime | None = None,
               period_end: datetime | None = None) -> TypedQuery:  # fmt: skip
        """The typed query the store compiles, optionally for another period."""
        from dataclasses import replace

        from store.query import Span

        typed = to_query(q)
        if period_start is not None or period_end is not None:
            typed = replace(typed, period=Span(period_start or q.period.start, period_end or q.period.end, ""))
        return typed

    def _describe(self, q: Query, *, with_period: bool = True, n: int | None = None) -> str:
        """e.g. "angry calls in billing today"; singular when `n` is 1 ("1 angry call")."""
        one = n == 1
        noun = CHANNEL_NOUN[q.channel]
        if one:
            noun = noun[:-1]
        if q.kind_label and q.channel is None and q.kind_label.endswith("s"):
            label = q.kind_label[:-1] if one else q.kind_label
            parts = [label]  # "compliance violations", not "... interactions"
        else:
            parts = [f"{q.kind_label} {noun}" if q.kind_label else noun]
        if q.review:
            parts.insert(0, {"open": "unreviewed"}.get(q.review, q.review))
        if q.topic:
            parts.append(f"about “{q.topic}”")
        if q.queue:
            parts.append(f"in {q.queue}")
        if q.agent:
            parts.append(f"by agent {q.agent}")
        if with_period:
            parts.append(q.period.label)
        return " ".join(parts)

    def _find(self, q: Query, role: str, page: int) -> Answer:
        f = self._query(q)
        what = self._describe(q)
        if not allowed(role, "lists"):
            n = qv.count(self.store, f)
            text = f"{n} {self._describe(q, n=n)}."
            return Answer(q.text, text, [{"count": n}], [bk.section(text)], intent="find", total=n)
        found = qv.find(self.store, f, limit=self.page_size, offset=page * self.page_size)
        pages = max(1, math.ceil(found.total / self.page_size))
        items = [self._item(r, role) for r in found.rows]
        if found.total == 0:
            text = f"No {what}."
            return Answer(q.text, text, [], [bk.section(text)], intent="find", total=0)
        first = page * self.page_size + 1
        head = f"{found.total} {self._describe(q, n=found.total)}" + (
            f" (showing {first}–{first + len(items) - 1})" if pages > 1 else ""
        )
        lines = [self._line(it) for it in items]
        text = head + ":\n" + "\n".join(lines)
        blocks = [bk.section(f"*{bk.escape(head)}*")]
        blocks += [bk.section(line) for line in lines]
        blocks += bk.pager(q.text, page, pages)
        return Answer(q.text, text, items, blocks, intent="find", page=page, pages=pages,
                      total=found.total)  # fmt: skip

    def _item(self, r: dict[str, Any], role: str = "supervisor") -> dict[str, Any]:
        return {
            "id": r["id"],
            "channel": r["channel"],
            "started_at": r["started_at"].astimezone(self.tz).isoformat() if r["started_at"] else None,
            "agent": r["agent"] if allowed(role, "agent_names") else pseudonym(r["agent"]),
            "queue": r["queue"],
            "topic": r["top_topic"],
            "sentiment": None if r["sentiment"] is None else round(float(r["sentiment"]), 2),
            "sentiment_agent": None if r.get("sentiment_agent") is None else round(float(r["sentiment_agent"]), 2),
            "anger": None if r["anger"] is None else round(float(r["anger"]), 2),
            "flags": [
                {"id": fl["id"], "kind": fl["kind"], "severity": bk.severity_name(fl["severity"]),
                 "review_status": fl["review_status"]}
                for fl in r["flags"]
            ],
        }  # fmt: skip

    def _line(self, it: dict[str, Any]) -> str:
        when = datetime.fromisoformat(it["started_at"]).strftime("%a %d %b %H:%M") if it["started_at"] else "?"
        bits = [f"#{it['id']} {it['channel']} {when}"]
        if it["agent"]:
            bits.append(f"agent {bk.escape(str(it['agent']))}")
        if it["queue"]:
            bits.append(bk.escape(str(it["queue"])))
        if it["sentiment"] is not None:  # the interaction's score is the customer's
            bits.append(f"customer sentiment {it['sentiment']:+.1f}")
        if it.get("sentiment_agent") is not None:
            bits.append(f"agent {it['sentiment_agent']:+.1f}")
        if it["topic"]:
            bits.append(f"topic {bk.escape(str(it['topic']))}")
        flags = ", ".join(f"{fl['kind']} ({fl['severity']}"
                          + (", confirmed" if fl["review_status"] == "confirmed" else "")
                          + (", dismissed" if fl["review_status"] == "dismissed" else "") + ")"
                          for fl in it["flags"])
        if flags:
            bits.append(f"flags: {bk.escape(flags)}")
        return " · ".join(bits)

    # -- one interaction ------------------------------------------------------------------

    def _show(self, q: Query, role: str, page: int) -> Answer:
        assert q.ref is not None
        iid = sq.resolve_interaction(self.store, q.ref, q.channel)
        if iid is None:
            noun = q.channel or "interaction"
            text = f"I found no {noun} {q.ref}."
            return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="show")
        d = sq.interaction_detail(self.store, iid)
        assert d is not None
        excerpt = self._excerpt(d)
        for f in d["flags"]:
            f["summary"] = safety.safe(f["summary"])  # rule summaries quote matched words
        flags = [
            {"id": f["id"], "kind": f["kind"], "severity": bk.severity_name(f["severity"]),
             "summary": f["summary"], "review_status": f["review_status"]}
            for f in d["flags"]
        ]  # fmt: skip
        item = {
            "id": d["id"], "channel": d["channel"], "external_id": d["external_id"],
            "started_at": d["started_at"].astimezone(self.tz).isoformat() if d["started_at"] else None,
            "duration": d["duration"],
            "agent": d["agent"] if allowed(role, "agent_names") else pseudonym(d["agent"]),
            "queue": d["queue"],
            "status": d["status"], "topic": d["top_topic"],
            "sentiment": d["sentiment"], "sentiment_agent": d["sentiment_agent"],
            "sentiment_customer": d["sentiment_customer"], "anger": d["anger"],
            "flags": flags, "excerpt": excerpt, "resolution": resolution_item(d["resolution"], self.tz),
        }  # fmt: skip
        resolution = resolution_line(item["resolution"])
        title = f"{d['channel'].title()} #{d['id']}"
        summary = (
            f"{bk.fmt_time(d['started_at'], self.tz)}"
            + (f" · {d['duration']:.0f}s" if d["duration"] else "")
            + (f" · agent {item['agent']}" if d["agent"] else "")
            + (f" · {d['queue']}" if d["queue"] else "")
            + f" · status {d['status']}"
        )
        scores = (
            f"sentiment {bk.fmt_num(d['sentiment'])} (agent {bk.fmt_num(d['sentiment_agent'])}, "
            f"customer {bk.fmt_num(d['sentiment_customer'])}) · anger "
            + ("–" if d["anger"] is None else f"{d['anger']:.2f}")
            + (f" · topic {d['top_topic']}" if d["top_topic"] else "")
        )
        flag_lines = [
            f"{bk.SEVERITY_ICON.get(f['severity'], '')} {f['kind']} ({bk.severity_name(f['severity'])})"
            + (f": {f['summary']}" if f["summary"] else "") + f" — {f['review_status']}"
            for f in d["flags"]
        ]  # fmt: skip
        ex_lines = [f"{e['speaker']}: {e['text']}" for e in excerpt]
        text = "\n".join(
            [f"{title} — {summary}", scores] + ([resolution] if resolution else [])
            + (["Flags:", *flag_lines] if flag_lines else ["No flags."])
            + (["Excerpt (redacted):", *ex_lines] if ex_lines else [])
        )
        blocks = [bk.header(title), bk.section(bk.escape(summary)), bk.context(bk.escape(scores))]
        if resolution:
            blocks.append(bk.section(bk.escape(resolution)))
        for f, line in zip(d["flags"], flag_lines, strict=True):
            blocks.append(bk.section(bk.escape(line)))
            if allowed(role, "review") and f["review_status"] == "open":
                blocks.append(bk.review_buttons(f["id"], d["id"], f.get("review_rev", 0),
                                                listen=d["channel"] == "call"))
        if ex_lines:
            blocks.append(bk.section("*Excerpt (redacted)*\n>" + "\n>".join(bk.escape(x) for x in ex_lines)))
        return Answer(q.text, text, [item], blocks, intent="show")

    def _excerpt(self, d: dict[str, Any], around: int = 1, max_chars: int = 300) -> list[dict[str, Any]]:
        """Redacted turns around the first flag's evidence (or the opening turns)."""
        turns = d["turns"]
        if not turns:
            return []
        center = None
        for f in d["flags"]:
            for ev in f["evidence"] or []:
                if isinstance(ev, dict):
                    for key in ("seq", "turn", "turn_seq"):
                        if isinstance(ev.get(key), int):
                            center = ev[key]
                            break
                if center is not None:
                    break
            if center is not None:
                break
        by_seq = {t["seq"]: i for i, t in enumerate(turns)}
        idx = by_seq.get(center, around) if center is not None else around
        chosen = turns[max(0, idx - around): idx + around + 1]
        out = []
        for t in chosen:
            # Only the analysis' redacted text leaves; a turn not redacted yet is withheld
            # (the store's outbound view never hands out the original).
            text = t["redacted_text"]
            if text is None:
                text = "[not yet redacted: text withheld]"
            out.append({"seq": t["seq"], "speaker": t["speaker"], "text": bk.clip(text, max_chars)})
        return out

    # -- agent ----------------------------------------------------------------------------

    def _agent(self, q: Query, role: str, page: int) -> Answer:
        assert q.agent is not None
        prev = q.period.previous()
        s, before = sq.agent_summaries(self.store, q.agent, [(q.period.start, q.period.end),
                                                            (prev.start, prev.end)])  # fmt: skip
        if s["interactions"] == 0:
            like = sq.known_agents(self.store, q.agent)
            hint = f" Did you mean: {', '.join(like)}?" if like and like != [q.agent] else ""
            text = f"Agent {q.agent} has no interactions {q.period.label}.{hint}"
            return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="agent")
        delta = ""
        if s["sentiment"] is not None and before["sentiment"] is not None:
            delta = f" ({s['sentiment'] - before['sentiment']:+.1f} vs {prev.label})"
        chans = ", ".join(f"{c['count']} {CHANNEL_NOUN[c['channel']][:-1] if c['count'] == 1 else CHANNEL_NOUN[c['channel']]}"
                          for c in s["by_channel"])  # fmt: skip
        flags = ", ".join(f"{f['kind']} {f['count']} ({f['confirmed']} confirmed, {f['open']} open)"
                          for f in s["flags"]) or "none"
        lines = [
            f"Agent {q.agent} {q.period.label}: {_n(s['interactions'], 'interaction')} ({chans}); "
            f"{before['interactions']} {prev.label}.",
            f"Average customer sentiment {bk.fmt_num(s['sentiment'])}{delta}; average anger "
            + ("–" if s["anger"] is None else f"{s['anger']:.2f}") + ".",
            f"Flags: {flags}.",
        ]
        text = "\n".join(lines)
        item = {
            "agent": q.agent, "period": q.period.label, "interactions": s["interactions"],
            "previous_interactions": before["interactions"],
            "sentiment": s["sentiment"], "previous_sentiment": before["sentiment"],
            "anger": s["anger"], "by_channel": s["by_channel"], "flags": s["flags"],
        }  # fmt: skip
        return Answer(q.text, text, [item], [bk.section(bk.escape(x)) for x in lines], intent="agent")

    # -- counts ---------------------------------------------------------------------------

    def _count(self, q: Query, role: str, page: int) -> Answer:
        periods = [q.period] + ([q.compare] if q.compare else [])
        items = []
        for p in periods:
            by = qv.count_by_channel(self.store, self._query(q, p.start, p.end))
            n = sum(by.values()) if q.channel is None else by.get(q.channel, 0)
            items.append({"period": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(),
                          "count": n, "by_channel": by})  # fmt: skip
        parts = [f"{it['count']} {self._describe(q, with_period=False, n=it['count'])} {it['period']}"
                 for it in items]  # fmt: skip
        text = " vs ".join(parts)
        if len(items) == 2:
            a, b = items[0]["count"], items[1]["count"]
            change = "no change" if a == b else (f"{a - b:+d}" + (f" ({(a - b) / b:+.0%})" if b else ""))
            text += f" — {change}."
        else:
            text += "."
        if q.channel is None and items[0]["by_channel"]:
            text += " By channel: " + ", ".join(
                f"{CHANNEL_NOUN[c]} {n}" for c, n in items[0]["by_channel"].items()
            ) + "."  # fmt: skip
        return Answer(q.text, text, items, [bk.section(bk.escape(text))], intent="count",
                      total=items[0]["count"])  # fmt: skip

    # -- resolution (#19) ------------------------------------------------------------------

    def _fcr(self, q: Query, role: str, page: int) -> Answer:
        """First-contact resolution: first contacts whose verdict is `resolved`."""
        from store import resolution as rs

        total, resolved, judged = rs.first_contact_resolution(
            self.store, q.period.start, q.period.end, channel=q.channel, queue=q.queue, topic=q.topic,
            agent=q.agent,
        )  # fmt: skip
        what = self._describe(q, with_period=False)
        if not judged:
            text = f"No {what} with a resolution verdict {q.period.label}."
        else:
            text = (f"{resolved} of {judged} first-contact {what} {q.period.label} were resolved first time "
                    f"({resolved / judged:.0%}).")  # fmt: skip
            if judged < total:
                text += f" {total - judged} more have no verdict yet."
        items = [{"first_contacts": total, "resolved": resolved, "with_verdict": judged}]
        return Answer(q.text, text, items, [bk.section(bk.escape(text))], intent="fcr", total=resolved)

    def _followups(self, q: Query, role: str, page: int) -> Answer:
        """Promised follow-ups that came due in the period with no later contact."""
        from store import resolution as rs

        if not allowed(role, "lists"):
            n, _rows = rs.follow_ups_due(self.store, q.period.start, q.period.end, limit=0)
            text = f"{_n(n, 'follow-up')} due {q.period.label}."
            return Answer(q.text, text, [{"count": n}], [bk.section(text)], intent="followups", total=n)
        n, rows = rs.follow_ups_due(self.store, q.period.start, q.period.end, limit=self.page_size)
        if not n:
            text = f"No promised follow-ups due {q.period.label} without a later contact."
            return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent="followups", total=0)
        items, lines = [], []
        for r in rows:
            agent = r.agent if allowed(role, "agent_names") else pseudonym(r.agent)
            due = r.due.astimezone(self.tz)
            items.append({"id": r.interaction_id, "channel": r.channel, "agent": agent, "queue": r.queue,
                          "due": due.isoformat(), "commitment": r.commitment})  # fmt: skip
            lines.append(f"#{r.interaction_id} {r.channel} · due {due:%a %d %b %H:%M} · agent {agent or '?'} · "
                         f"“{r.commitment or ''}”")  # fmt: skip
        head = f"{_n(n, 'follow-up')} due {q.period.label} without a later contact"
        text = head + ":\n" + "\n".join(lines)
        blocks = [bk.section(f"*{bk.escape(head)}*")] + [bk.section(bk.escape(line)) for line in lines]
        return Answer(q.text, text, items, blocks, intent="followups", total=n)

    # -- patterns (bot/questions/patterns_view.py) -----------------------------------------

    def _topics(self, q: Query, role: str, page: int) -> Answer:
        from bot.questions import patterns_view

        return patterns_view.topics(self, q, role, page)

    def _rising(self, q: Query, role: str, page: int) -> Answer:
        from bot.questions import patterns_view

        return patterns_view.rising(self, q, role, page)

    def _traits(self, q: Query, role: str, page: int) -> Answer:
        from bot.questions import patterns_view

        return patterns_view.traits(self, q, role, page)

    def _phrases(self, q: Query, role: str, page: int) -> Answer:
        from bot.questions import patterns_view

        return patterns_view.phrases(self, q, role, page)


def cap_text(text: str, limit: int = MAX_QUESTION_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was cut (for logs and audit)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [+{len(text) - limit} chars]"


def _plain(q: Query, text: str) -> Answer:
    return Answer(q.text, text, [], [bk.section(bk.escape(text))], intent=q.intent)


def answer_payload(store: Store, tz: ZoneInfo, question: str, *, page: int = 0,
                   page_size: int = 10, actor: str | None = None, role: str = "supervisor",
                   agent: str | None = None) -> dict[str, Any]:  # fmt: skip
    """`{question, text, items, page, pages}` for one question, as `role` (the API passes
    its token's role): what `convoscope ask` prints, and what the service's API returns to
    it while the service owns the database. With `actor` the question is written to the
    audit log."""
    answer = Engine(store, tz, page_size=page_size).ask(question, role=role, page=page, agent=agent)
    if actor:
        from store import audit

        audit.log(store, actor, "ask", None,
                  {"question": cap_text(question), "length": len(question),
                   "intent": answer.intent, "page": page, "role": role})  # fmt: skip
    return {**answer.to_json(), "page": answer.page, "pages": answer.pages}


def _n(n: int, noun: str) -> str:
    """"1 call", "2 calls"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
