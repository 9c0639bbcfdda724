"""Conditions inside a question: metric comparisons ("longer than 10 minutes", "sentiment
below -0.5", "more than 3 interruptions"), text search ("mentioning router", quoted
phrases), repeat contacts ("emails from customers who called twice") and count words.
Each recogniser consumes the words it used (`state.Text`)."""

from __future__ import annotations

import re

from bot.questions import vocab as V
from bot.questions.state import State, Text
from store.query import Compare

_COUNT_RX = re.compile(r"\bhow many\b|\b(?:the )?(?:total )?number of\b|\bcount of\b|\bcount\b|\btotal\b|\bhow much\b")
SUBJECT_RX = re.compile(r"\b(?:interactions?|conversations?|contacts?|tickets?|cases?|everything|anything)\b")


def counted(t: Text, *, take: bool = True) -> bool:
    m = _COUNT_RX.search(t.s)
    if m and take:
        t.take(*m.span())
    return m is not None


# -- metric conditions ---------------------------------------------------------------------

_NUM = r"(-?\d+(?:[.,]\d+)?|\b(?:" + "|".join(sorted((re.escape(w) for w in V.NUMBER_WORDS), key=len, reverse=True)) + r")\b)"
_UNIT = r"(?:\s*(hours?|hrs?|h|minutes?|minuts|mins?|m|seconds?|secs?|s|days?|d|%|percent|pct|times)\b|(%))?"
_OP_ALT = "|".join(f"(?:{w})" for w, _op in V.OPS)
_METRIC_ALT = "|".join(f"(?:{w})" for w, _m in V.METRIC_WORDS)
_COND_RX = re.compile(
    # metric first: "sentiment below -0.5", "response time over an hour", "anger > 0.8"
    rf"(?:\b(?P<m1>{_METRIC_ALT})\b(?:\s+(?:is|was|of|score|scores|level|for))?\s*(?P<op1>{_OP_ALT})\s*(?P<n1>{_NUM}){_UNIT.replace('(h', '(?P<u1>h', 1).replace('(%', '(?P<p1>%', 1)}"
    rf"(?:\s+(?:and|to|-)\s+(?P<n1b>{_NUM})\s*(?:hours?|minutes?|mins?|seconds?|secs?|%)?)?(?!\w)"
    # op first: "more than 3 interruptions", "over 5 min silence", "longer than 10 minutes"
    rf"|(?:(?:with|having|that (?:have|had)|lasting|lasted|took|taking|that (?:lasted|took)|(?:dragged|dragging|went|going|ran|running) on(?: for)?|lasts?(?: for)?)\s+)?(?P<op2>{_OP_ALT})\s*(?P<n2>{_NUM}){_UNIT.replace('(h', '(?P<u2>h', 1).replace('(%', '(?P<p2>%', 1)}"
    rf"(?:\s+(?:of\s+)?(?P<m2>{_METRIC_ALT}))?(?!\w)"
    # "with 3+ interruptions", "10+ minutes"
    rf"|(?P<n3>\d+)\s*\+{_UNIT.replace('(h', '(?P<u3>h', 1).replace('(%', '(?P<p3>%', 1)}(?:\s+(?:of\s+)?(?P<m3>{_METRIC_ALT}))?"
    # "between 5 and 10 minutes long", "sentiment between -0.5 and 0"
    rf"|(?:(?P<m4>{_METRIC_ALT})\s+)?between\s+(?P<n4>{_NUM})\s*(?:and|-|to)\s*(?P<n4b>{_NUM}){_UNIT.replace('(h', '(?P<u4>h', 1).replace('(%', '(?P<p4>%', 1)}(?:\s+(?:long|of\s+(?P<m4b>{_METRIC_ALT})))?)"
)  # fmt: skip
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "d": 86400.0}
#: "took more than 2 days to answer": the time to the first response
_TO_ANSWER_RX = re.compile(r"^\s*(?:to|before)\s+(?:be\s+)?(?:first\s+)?(?:answer|respond|reply|get back|pick up)\w*\b")


def _number(raw: str) -> float:
    raw = raw.strip().replace(",", ".")
    return float(V.NUMBER_WORDS[raw]) if raw in V.NUMBER_WORDS else float(raw)


def _metric_of(word: str | None) -> str | None:
    if not word:
        return None
    for rx, metric in V.METRIC_RX:
        if rx.fullmatch(word.strip()):
            return metric
    return None


def _op_of(word: str) -> str:
    for rx, op in V.OP_RX:
        if rx.fullmatch(word.strip()):
            return op
    return ">"


_TALK_RX = re.compile(rf"\b(?:the )?agents? talk(?:ed|s|ing)?(?: for)?\s+(?P<op>{_OP_ALT})\s*(?P<n>\d+(?:\.\d+)?)\s*(?:%|percent)"
                      r"(?:\s+of the (?:time|call|conversation))?")  # fmt: skip


def metrics(t: Text, st: State) -> None:
    tm = _TALK_RX.search(t.s)
    if tm:
        negate = t.negated_before(tm.start())
        t.take(*tm.span())
        st.filters.append(Compare("agent_talk_ratio", _op_of(tm.group("op")), float(tm.group("n")) / 100, None, negate))
    while True:
        m = _COND_RX.search(t.s)
        if not m:
            return
        g = m.groupdict()
        metric_word = g["m1"] or g["m2"] or g["m3"] or g["m4"] or g["m4b"]
        unit = (g["u1"] or g["u2"] or g["u3"] or g["u4"] or g["p1"] or g["p2"] or g["p3"] or g["p4"] or "").lower()
        n_raw = g["n1"] or g["n2"] or g["n3"] or g["n4"]
        op_word = g["op1"] or g["op2"]
        metric = _metric_of(metric_word)
        before = t.s[: m.start()]
        if metric is None:
            if unit and unit[0] in "hmsd" and unit not in ("%",) and not unit.startswith("time"):
                metric = "duration"
                am = _TO_ANSWER_RX.match(t.s[m.end():])
                if am:
                    metric = "response_time"
                    t.take(m.end(), m.end() + am.end())
            elif unit == "times" and re.search(r"\binterrupt\w*\s*$", before):
                metric = "interruptions"
            else:
                # a bare number ("top 5", "more than 3 calls") is not a metric condition
                if g["op2"] and re.match(r"\s*(?:calls?|chats?|emails?|contacts?|times|interactions?)\b",
                                         t.s[m.end():]):  # fmt: skip
                    st.extra.setdefault("min_count", _number(n_raw))
                    t.take(*m.span())
                    nm = re.match(r"\s*(?:calls?|chats?|emails?|contacts?|times|interactions?)\b", t.s[m.end():])
                    if nm:
                        t.take(m.end(), m.end() + nm.end())
                    continue
                return
        value = _number(n_raw)
        value2 = _number(g["n1b"] or g["n4b"]) if (g["n1b"] or g["n4b"]) else None
        if metric in ("duration", "silence", "response_time"):
            scale = _UNIT_SECONDS.get(unit[:1], 60.0 if metric != "response_time" or not unit else 1.0) \
                if unit and unit not in ("%", "percent", "pct") else (60.0 if metric == "duration" else 1.0)
            if unit in ("%", "percent", "pct") and metric == "silence":
                metric, scale = "silence_pct", 0.01
            if not unit and metric in ("silence", "response_time"):
                scale = 1.0
            value *= scale
            value2 = None if value2 is None else value2 * scale
        elif unit in ("%", "percent", "pct"):
            value /= 100.0
            value2 = None if value2 is None else value2 / 100.0
        op = "between" if value2 is not None else (_op_of(op_word) if op_word else (">=" if g["n3"] else ">"))
        if op_word and metric == "duration" and re.search(r"\b(?:shorter|under|less|below)", op_word):
            op = "<" if "no more" not in op_word else "<="
        negate = bool(re.search(r"\bnot\s*$", before))
        t.take(*m.span())
        if negate:
            t.take(before.rfind("not"), m.start())
        st.filters.append(Compare(metric, op, round(value, 6), None if value2 is None else round(value2, 6),  # type: ignore[arg-type]
                                  negate))  # fmt: skip


# -- text search ---------------------------------------------------------------------------
# -- text search ---------------------------------------------------------------------------

_STOP_TEXT = r"(?!(?:and|or|in|by|for|from|on|with|that|which|this|last|not|today|yesterday|since|during|but)\b)"
_TEXT_RX = re.compile(
    r"\b(?:mention(?:s|ed|ing)?|that mention(?:s|ed)?|containing|contains?|with the (?:words?|phrase)|saying"
    r"|where (?:the )?(?:customers?|agents?|callers?|clients?|users?|they|someone) (?:said|says|say|mentioned|mentions"
    r"|talks? about|asked about)"
    r"|said|says|talking about|that talk about|which mention)\s+(?:(?:the |a )?(?:words?|phrases?|terms?|expression)\s+)?"
    r"(?:\"([^\"]+)\"|'([^']+)'|(" + _STOP_TEXT + r"[\w@.+-]+(?: " + _STOP_TEXT
    + r"[\w@.+-]+){0,4}))"
)  # fmt: skip
_QUOTED_RX = re.compile(r"\"([^\"]+)\"|(?<![\w])'([^']{2,})'(?![\w])")


#: "router mentions", "refund mentions in chats": the word before "mentions" is searched for
_POST_TEXT_RX = re.compile(r"\b([a-z][\w@.+-]{2,})\s+mentions\b(?!\s+of\b)")


def text_search(t: Text, st: State) -> None:
    pm = _POST_TEXT_RX.search(t.s)
    if pm and pm.group(1) not in V.STOPWORDS and pm.group(1) not in ("any", "no", "some", "many", "which", "what") \
            and not any(rx.fullmatch(pm.group(1)) for rx, _ in V.CHANNEL_RX + V.FLAG_RX):  # fmt: skip
        t.take(*pm.span())
        st.match("text", t.raw[pm.start(1): pm.end(1)], t.negated_before(pm.start()))
        return
    m = _TEXT_RX.search(t.s)
    if m:
        value = (m.group(1) or m.group(2) or m.group(3)).strip()
        if m.group(3):
            value = re.sub(r"^(?:the|a|an)\s+", "", t.raw[m.start(3): m.end(3)].strip(), flags=re.I)
        negate = t.negated_before(m.start())
        t.take(*m.span())
        st.match("text", value, negate)
    for q in list(_QUOTED_RX.finditer(t.s)):
        if re.search(r"\bcluster\s*$", t.s[: q.start()]):
            continue  # cluster "double charged on invoice": a name, linked later
        t.take(*q.span())
        before = t.s[: q.start()]
        negate = t.negated_before(q.start())
        wm = re.search(r"\b(?:with|containing|saying)\s*$", before)
        if wm:
            t.take(wm.start(), q.start())
        st.match("text", (q.group(1) or q.group(2)).strip(), negate)


# -- repeat contacts -------------------------------------------------------------------------

_REPEAT_RX = re.compile(
    r"\b(?:from |by )?(?:(?:the |our )?(?:customers?|callers?|people|clients?) (?:who|that)(?:'d|'ve| have| had| has)? )?"
    r"(?:(?:already|previously) )?(?:(?:called|contacted us|contacted|wrote|written|chatted|came|come|phoned|rang|rung"
    r"|been in touch|got in touch|reached out)(?: to)?(?: us)?(?: (?:already|previously))? (?:back|again|twice|repeatedly|"
    r"more than once|multiple times|several times|back again|before|in the past)|keeps? (?:calling|contacting us|contacting|writing|coming)"
    r"(?: us)?(?: back| again)?|(?:called|contacted us|contacted) (?:us )?(?:more than once|twice))\b"
    r"|\b(?:from |by )?repeat(?:ed)? (?:contacts?|callers?|customers?)\b"
)  # fmt: skip


def repeat(t: Text, st: State) -> None:
    """"repeat callers" as the whole question is the repeat-contacts view; as a qualifier
    of other interactions ("emails from customers who called twice") it is `repeat=yes`."""
    m = _REPEAT_RX.search(t.s)
    if not m:
        return
    t.take(*m.span())
    before = t.s[: m.start()]
    qualifier = bool(re.search(r"\b(?:from|by)\s*$", before) or m.group(0).startswith(("from", "by"))) \
        or st.view is not None or counted(t, take=False) or st.group_by \
        or any(rx.search(t.s) for rx, _ in V.CHANNEL_RX) or any(rx.search(t.s) for rx, f in V.FLAG_RX if f != "any")
    if st.view is None and st.group_by == ["customer"] and st.extra.get("which") and not st.measures:
        # "which customers have phoned us more than once": the customers are what the view lists
        st.group_by.clear()
        st.extra.pop("which")
        qualifier = bool(re.search(r"\b(?:from|by)\s*$", before) or m.group(0).startswith(("from", "by"))) \
            or counted(t, take=False) or any(rx.search(t.s) for rx, _ in V.CHANNEL_RX)
    if st.view is None and not qualifier:
        st.view = "repeat_contacts"
    else:
        st.match("repeat", "yes")
