"""Turn a supervisor's question into a `Query`: what they want, about which interactions.

The vocabulary is small and explicit on purpose: contact-center questions use a few
dozen words ("angry", "compliance", "escalations", "calls", "in billing", "agent 1042",
"this week"), and a fixed mapping is predictable and testable where a statistical parser
would not be. Anything that matches no intent becomes `intent="help"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.questions.timeexpr import Period, parse_period

INTENTS = ("find", "show", "agent", "count", "topics", "rising", "traits", "phrases", "my_week",
           "contest", "accuracy", "fcr", "followups", "help")

# word (regex) -> (label, ILIKE patterns on flags.kind)
FLAG_WORDS: list[tuple[str, str, list[str]]] = [
    (r"angry|anger|furious|upset|irate|mad", "angry", ["%ang%", "%irate%"]),
    (r"compliance|violations?|non-?compliant|disclosures?|prohibited", "compliance violations",
     ["compliance%", "%disclosure%", "%violation%", "%prohibited%"]),
    (r"repeat(?:ed)? (?:contacts?|callers?|customers?)|repeats", "repeat contacts", ["%repeat%"]),
    (r"trends?|anomal\w*", "trends", ["trend%"]),
    (r"escalat\w*", "escalations", ["%escalat%"]),
    (r"unresolved(?: issues?| problems?)?|not resolved", "unresolved issues", ["unresolved_issue"]),
    (r"(?:incorrect|wrong|false|inaccurate) (?:info(?:rmation)?|answers?|statements?)|misinform\w*",
     "incorrect information", ["incorrect_information"]),
    (r"churn\w*|cancel\w*", "churn risks", ["%churn%", "%cancel%"]),
    (r"profan\w*|abus\w*|swear\w*", "profanity", ["%profan%", "%abus%"]),
    (r"silen\w*|dead air|long holds?", "long silences", ["%silence%", "%hold%", "%non_talk%"]),
    (r"negative|unhappy|dissatisfied", "negative", ["%negative%", "%sentiment%"]),
    (r"flag(?:ged|s)?|problems?|issues? flagged|alerts?", "flagged", ["%"]),
]  # fmt: skip
_FLAG_RX = [(re.compile(rf"\b(?:{w})\b", re.I), label, pats) for w, label, pats in FLAG_WORDS]

CHANNEL_WORDS = {
    "call": r"calls?|phone calls?|phone",
    "email": r"e-?mails?|mails?",
    "chat": r"chats?|messages?|conversations? on chat",
}
_CHANNEL_RX = {ch: re.compile(rf"\b(?:{w})\b", re.I) for ch, w in CHANNEL_WORDS.items()}

_SHOW_RX = re.compile(
    r"\b(?:show|open|details?(?:\s+(?:of|for|on))?|what happened (?:in|on))\s+(?:me\s+)?(?:the\s+)?"
    r"(?:(call|email|chat|interaction|conversation|ticket|thread)\s*)?#?\s*"
    r"(\d+|[a-z][\w.-]*\d[\w.-]*)\b",
    re.I,
)
_BARE_REF_RX = re.compile(r"^\s*(call|email|chat|interaction)\s+#?(\d+)\s*\??\s*$", re.I)
# "agent 1042", "agent alice", "agent Alex Novak" (following capitalised words belong to the
# name: agents are named as the interaction metadata names them).
_AGENT_RX = re.compile(r"\b[Aa]gent\s+#?([\w.@-]+(?:\s+[A-Z][\w.'-]*)*)")
_AGENT_INTENT_RX = re.compile(
    r"\bhow(?:'s| is| are)\b|\bdoing\b|\bsummary\b|\bperformance\b|\bscorecard\b|\bstats\b", re.I
)
_QUEUE_RX = re.compile(
    r"\b(?:in|queue|for|from)\s+(?:the\s+)?([a-z][\w-]*)(\s+queue)?\b", re.I
)
_QUEUE_STOP = {
    "the", "last", "past", "this", "previous", "a", "an", "my", "our", "agent", "today",
    "yesterday", "total", "all", "general", "calls", "emails", "chats", "call", "email", "chat",
    "week", "month", "day", "days", "hours", "since", "on", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "me", "us", "them", "it", "common",
}  # fmt: skip
_TOPIC_RX = re.compile(
    r"\b(?:about|regarding|re|mentioning|concerning|on the topic of)\s+([a-z][\w -]*?)"
    r"(?=$|\s+(?:today|yesterday|this|last|past|since|on|in|for|by|from|vs|versus|"
    r"compared|agent|queue)\b|[?!.,])",
    re.I,
)
_TOPICS_RX = re.compile(
    r"\btop (?:topics|issues|reasons|drivers)\b|\btopics?\b|\btrending\b|\bcontact reasons?\b|"
    r"\bwhat are (?:customers|people|they) (?:calling|writing|chatting|contacting us) about\b",
    re.I,
)
_RISING_RX = re.compile(r"\brising\b|\bemerging\b|\bspik\w*\b|\bgrowing\b|\bnew issues\b", re.I)
# "what do low-satisfaction calls have in common?", "traits of bad calls"
_TRAITS_RX = re.compile(
    r"\bin common\b|\btraits?\b|\bwhat makes\b.*\b(?:bad|go badly|fail)\b|"
    r"\blow[- ]satisfaction\b|\bgo(?:es)? badly\b|\bwhy (?:do|are) .*\b(?:unhappy|negative|bad)\b",
    re.I,
)
# "best phrases for billing", "what do the best agents say?"
_PHRASES_RX = re.compile(
    r"\b(?:best|winning|good|top|successful) (?:agent )?phrases?\b|\bphrases? (?:that|which) work\b|"
    r"\bwhat do (?:the )?(?:best|top|good) agents say\b",
    re.I,
)
# Review states a question can ask for: "unreviewed flags", "dismissed compliance flags".
REVIEW_WORDS: list[tuple[str, str]] = [
    (r"unreviewed|not (?:yet )?reviewed|awaiting review|pending review|open", "open"),
    (r"confirmed", "confirmed"),
    (r"dismissed|thrown out|rejected", "dismissed"),
    (r"contested|disputed", "contested"),
]
_REVIEW_RX = [(re.compile(rf"\b(?:{w})\b", re.I), state) for w, state in REVIEW_WORDS]
# An agent's own work: "my week", "how am I doing", "my flags", "my scorecard".
_MY_RX = re.compile(
    r"\bmy (?:week|day|month|work|scorecard|scores?|flags|stats|performance)\b|\bhow am i doing\b", re.I
)
# "contest 42: the disclosure was read at 2:10", "contest flag #42 - customer was joking"
_CONTEST_RX = re.compile(r"^\s*contest\s+(?:flag\s+)?#?(\d+)\s*[:,\-\u2013]?\s*(.*)$", re.I | re.S)
# "how accurate is the disclosure rule?", "precision of compliance flags", "rule accuracy"
_ACCURACY_RX = re.compile(
    r"\bhow (?:accurate|precise|reliable|good)\b|\bprecision\b|\baccuracy\b|\bfalse (?:alarms?|positives?)\b",
    re.I,
)
_RULE_NAME_RX = re.compile(r"\b(?:the\s+)?([\w-]+)\s+(?:rule|flags?|checks?)\b", re.I)
_COUNT_RX = re.compile(r"\bhow many\b|\bcount\b|\bnumber of\b|\bvolumes?\b|\btotals?\b", re.I)
_VS_RX = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with)|against)\b", re.I)
_LIST_RX = re.compile(r"\binteractions?\b|\bconversations?\b|\bcontacts?\b|\btickets?\b", re.I)
# "how many billing calls were resolved first time?", "first-contact resolution this week"
_FCR_RX = re.compile(
    r"\bresolved (?:at |on )?(?:the )?first (?:time|contact|call|go)\b|\bfirst[- ]contact resolution\b|"
    r"\bfirst[- ]time (?:fix|resolution)\b|\bfcr\b",
    re.I,
)
# "follow-ups due today", "promised callbacks due this week"
_FOLLOWUPS_RX = re.compile(
    r"\bfollow[- ]?ups?\b|\bcall[- ]?backs? (?:due|promised|owed)\b|\bpromised (?:call[- ]?backs?|visits?)\b",
    re.I,
)
# the word before a channel noun names a queue or topic: "billing calls"
_BEFORE_NOUN_RX = re.compile(r"\b([a-z][\w-]*)\s+(?:calls|emails|chats|contacts|interactions|tickets)\b", re.I)
HELP_RX = re.compile(r"^\s*(?:help|\?|what can you do|commands|usage)\s*\??\s*$", re.I)


@dataclass(slots=True)
class Query:
    """What a question asks for. `period` is always set (a default when none was said);
    `period_said` tells whether the question named it."""

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
    #: a review state asked for ("open", "confirmed", "dismissed", "contested"), else None
    review: str | None = None
    #: for "contest": the reason given; for "accuracy": the rule or kind named
    reason: str | None = None
    rule: str | None = None


def _singular(word: str) -> str:
    w = word.strip().lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _default_period(intent: str, tz: ZoneInfo, now: datetime) -> Period:
    got = parse_period("last 7 days" if intent in ("find", "topics", "rising") else "today", tz, now)
    if intent == "agent":
        got = parse_period("this week", tz, now)
    assert got is not None
    return got[0]


def parse(text: str, tz: ZoneInfo, now: datetime) -> Query:
    """Parse one question. Never raises on user input: unknown questions become help."""
    q = " ".join(text.replace("\u2019", "'").split())
    lowered = q.lower()
    if not q or HELP_RX.match(q):
        return Query(q, "help", _default_period("help", tz, now))

    cm = _CONTEST_RX.match(q)
    if cm:
        return Query(q, "contest", _default_period("contest", tz, now), ref=cm.group(1),
                     reason=cm.group(2).strip() or None)  # fmt: skip
    if _MY_RX.search(q):
        got_p = parse_period(q, tz, now)
        # "my week" is the last 7 days: on a Monday morning "this week" would be empty
        period_p = got_p[0] if got_p else parse_period("last 7 days", tz, now)[0]  # type: ignore[index]
        return Query(q, "my_week", period_p, period_said=got_p is not None)
    if _ACCURACY_RX.search(q):
        got_p = parse_period(q, tz, now)
        period_p = got_p[0] if got_p else parse_period("last 30 days", tz, now)[0]  # type: ignore[index]
        rm = _RULE_NAME_RX.search(q)
        rule = rm.group(1).lower() if rm and rm.group(1).lower() not in ("the", "this", "that") else None
        return Query(q, "accuracy", period_p, period_said=got_p is not None, rule=rule)

    # One interaction by id.
    m = _SHOW_RX.search(q) or _BARE_REF_RX.match(q)
    if m:
        return Query(q, "show", _default_period("show", tz, now), ref=m.group(2),
                     channel=_channel_of(m.group(1)))  # fmt: skip

    # Time: the first expression is the period; one after "vs" is the comparison.
    period: Period | None = None
    compare: Period | None = None
    rest = q
    vs = _VS_RX.search(q)
    head, tail = (q[: vs.start()], q[vs.end():]) if vs else (q, "")
    got = parse_period(head, tz, now)
    if got:
        period = got[0]
        rest = head[: got[1][0]] + " " + head[got[1][1]:]
    if tail:
        got_tail = parse_period(tail, tz, now)
        if got_tail:
            compare = got_tail[0]
    elif vs is None and re.search(r"\bvs\.? (?:before|previous|prior)\b", lowered):
        compare = period.previous() if period else None

    kinds: list[str] = []
    kind_labels: list[str] = []
    for rx, label, pats in _FLAG_RX:
        if rx.search(rest):
            kind_labels.append(label)
            kinds.extend(p for p in pats if p not in kinds)
    if "%" in kinds:
        kinds = ["%"]
    review = next((state for rx, state in _REVIEW_RX if rx.search(rest)), None)
    if review and not kinds:
        kinds = ["%"]  # "dismissed this week" is about flags
        kind_labels.append("flagged")

    channel = None
    for ch, rx in _CHANNEL_RX.items():
        if rx.search(rest):
            channel = ch
            break

    agent = None
    am = _AGENT_RX.search(rest)
    if am:
        agent = am.group(1).rstrip("?.,!")
        rest = rest[: am.start()] + " " + rest[am.end():]

    topic = None
    tm = _TOPIC_RX.search(rest)
    if tm:
        topic = _singular(tm.group(1))
        rest = rest[: tm.start()] + " " + rest[tm.end():]

    queue = None
    for qm in _QUEUE_RX.finditer(rest):
        word = qm.group(1).lower()
        if word in _QUEUE_STOP or any(rx.fullmatch(word) for rx in _CHANNEL_RX.values()):
            continue
        if any(rx.fullmatch(word) for rx, _l, _p in _FLAG_RX):
            continue
        queue = word
        break

    if _FCR_RX.search(q) or _FOLLOWUPS_RX.search(q):
        intent = "fcr" if _FCR_RX.search(q) else "followups"
        kinds, kind_labels = [], []
        bm = _BEFORE_NOUN_RX.search(rest)
        if not queue and bm and bm.group(1).lower() not in _QUEUE_STOP | {"many", "much", "of"}:
            queue = bm.group(1).lower()
        if period is None and intent == "fcr":
            period = _default_period("find", tz, now)  # the last 7 days
    elif _PHRASES_RX.search(q):
        intent = "phrases"
        # "best phrases for billing": the word after for/in/about names a topic or a queue.
        pm = re.search(r"\b(?:for|in|about|on)\s+(?:the\s+)?([a-z][\w-]*)", q[_PHRASES_RX.search(q).end():], re.I)
        topic = topic or (_singular(pm.group(1)) if pm else None)
    elif _TRAITS_RX.search(q):
        intent = "traits"
    elif agent and (_AGENT_INTENT_RX.search(q) or not (kinds or channel or topic)):
        intent = "agent"
    elif _RISING_RX.search(rest):
        intent = "rising"
    elif _TOPICS_RX.search(rest) and not topic:
        intent = "topics"
    elif _COUNT_RX.search(rest) or compare is not None:
        intent = "count"
    elif kinds or channel or topic or _LIST_RX.search(rest):
        intent = "find"
    else:
        return Query(q, "help", _default_period("help", tz, now))

    return Query(
        text=q,
        intent=intent,
        period=period or _default_period(intent, tz, now),
        period_said=period is not None,
        compare=compare,
        kinds=kinds,
        kind_label=" and ".join(kind_labels) or None,
        channel=channel,
        agent=agent,
        queue=queue,
        topic=topic,
        review=review,
    )


def _channel_of(word: str | None) -> str | None:
    if not word:
        return None
    w = word.lower()
    return w if w in ("call", "email", "chat") else None
