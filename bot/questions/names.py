"""Names in a question linked to stored values: agents, queues, topics, clusters and
customers (e-mail addresses, phone numbers in E.164, external ids), with the words that
say which kind a name is ("agent", "in", "about", "customer") and negations ("not by
Maria", "not in billing or sales"). An ambiguous name is recorded, never guessed."""

from __future__ import annotations

import re

from bot.questions import vocab as V
from bot.questions.linking import Link, Linker, singular
from bot.questions.state import NEGATION, State, Text
from bot.questions.vocab import VOCABULARY

# -- names ---------------------------------------------------------------------------------

#: words before a name that say which kind it is
_CUES = {
    "agent": r"(?:agent|rep|representative|advisor|operator|handled by|taken by|answered by|by|with agent)",
    "queue": r"(?:queue|team|department|dept|line)",
    "topic": r"(?:about|regarding|re:?|concerning|on the topic of|topic|related to)",
    "customer": r"(?:customer|caller|client|account|from customer)",
    "cluster": r"(?:cluster|issue group)",
}
_NAME_RX = re.compile(r"[\w@.+'-]+")
_CONNECT_RX = re.compile(r"^\s*(?:or|and|,|nor|&|/)\s*(?:or|and)?\s*$")


def names(t: Text, st: State, linker: Linker) -> None:
    """Link every remaining word run (longest first) that names a stored value."""
    _clusters_by_id(t, st, linker)
    _phones(t, st)
    words = []
    for m in _NAME_RX.finditer(t.s):
        nm = re.match(r"non-(?=\w)", m.group(0))  # "non-billing": the negation, then the name
        words.append((m.start() + nm.end(), m.end(), m.group(0)[nm.end():]) if nm else (m.start(), m.end(), m.group(0)))
    i = 0
    while i < len(words):
        done = False
        for n in (5, 4, 3, 2, 1):
            if i + n > len(words):
                continue
            chunk = words[i: i + n]
            if any(t.s[chunk[k][1]: chunk[k + 1][0]].strip() for k in range(n - 1)):
                continue  # a masked word in between: not one phrase
            start, end = chunk[0][0], chunk[-1][1]
            low = t.s[start:end]
            key = re.sub(r"'s$", "", low.strip(".'"))
            phrase = t.raw[start:end]
            if n == 1 and _not_a_name(key, phrase) and not _stored_id(t, key, end, linker):
                continue
            kinds = _kinds_for(t, start)
            links = linker.lookup(key, kinds, fuzzy=len(key) >= 4 and not _is_vocab(key))
            if not links:
                continue
            link = links[0]
            neg_start = _negation_start(t, start)
            negate = neg_start is not None
            if not negate and st.last_link and st.last_link[0] == link.kind \
                    and _CONNECT_RX.match(t.s[st.last_link[2]: start]):
                negate = st.last_link[1]  # "not in billing or sales"
                t.take(st.last_link[2], start)
            cue = _cue_start(t, start if neg_start is None else neg_start, link.kind)
            t.take(start, end)
            if neg_start is not None:
                t.take(neg_start, start)
            if cue is not None:
                t.take(cue, start if neg_start is None else neg_start)
            after = re.match(r"\s*(?:queue|team|topic|cluster|department)\b", t.s[end:])
            if after and link.kind in ("queue", "topic", "cluster"):
                t.take(end, end + after.end())
            _add_link(st, link, negate, t.raw[start:end])
            st.last_link = (link.kind, negate, end)
            i += n
            done = True
            break
        if not done:
            _bare_id(t, st, words[i])
            i += 1


def _clusters_by_id(t: Text, st: State, linker: Linker) -> None:
    for m in list(re.finditer(r"\bcluster\s*[\"']([^\"']+)[\"']", t.s)):
        links = linker.lookup(m.group(1), ("cluster",))
        if links and not links[0].ambiguous:
            negate = t.negated_before(m.start())
            t.take(*m.span())
            st.match("cluster", links[0].values[0], negate)
    for m in list(re.finditer(r"\bcluster\s*#?\s*(\d+)\b", t.s)):
        label = next((lab for cid, lab in linker.values.clusters if cid == m.group(1)), None)
        negate = t.negated_before(m.start())
        t.take(*m.span())
        st.match("cluster", label or m.group(1), negate)


_PHONE_RX = re.compile(r"(?<![\w+])(\+?\d[\d\s().-]{8,}\d)(?!\w)|(?<![\w+])(\(\d{3}\)\s*\d{3}[\s.-]?\d{4})")


def _phones(t: Text, st: State) -> None:
    import phonenumbers

    for m in list(_PHONE_RX.finditer(t.s)):
        raw = m.group(0)
        try:
            num = phonenumbers.parse(raw, "US")
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_possible_number(num):
            continue
        negate = t.negated_before(m.start())
        t.take(*m.span())
        cm = re.search(rf"\b{_CUES['customer']}\s*$|\bfrom\s*$|\b(?:(?:with|on|from)\s+)?(?:the\s+|a\s+)?(?:(?:phone|mobile|cell|tel\.?)"
                       r"(?:\s+(?:number|no\.?|#))?|number)\s*:?\s*$", t.s[: m.start()])
        if cm:
            t.take(cm.start(), m.start())
        st.match("customer", phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164), negate)


def _bare_id(t: Text, st: State, word: tuple[int, int, str]) -> None:
    """"agent 1042", "customer cust-88213", an e-mail address: kept as typed."""
    s, e, w = word
    before = t.s[:s]
    am = re.search(r"\bagent\s*#?\s*$", before)
    if am and re.fullmatch(r"[\w.-]*\d[\w.-]*", w):
        negate = _negation_start(t, am.start())
        t.take(am.start(), e)
        if negate is not None:
            t.take(negate, am.start())
        st.match("agent", t.raw[s:e], negate is not None)
        return
    cm = re.search(rf"\b{_CUES['customer']}\s*#?\s*$", before)
    if re.fullmatch(r"[\w.+-]+@[\w-]+\.[\w.]+", w.rstrip(".")) or (cm and re.search(r"\d", w)):
        negate = _negation_start(t, s)
        t.take(s, e)
        fm = cm or re.search(r"\bfrom\s*$", before)
        if fm:
            t.take(fm.start(), s)
        st.match("customer", t.raw[s:e].rstrip(".?!,"), negate is not None)


_ID_NOUN_RX = re.compile(r"\s+(?:'s\s+)?(?:calls?|chats?|emails?|interactions?|conversations?|contacts?|tickets?|flags?)\b")


def _stored_id(t: Text, key: str, end: int, linker: Linker) -> bool:
    """A bare number that is exactly a stored agent id and stands before an interaction
    noun ("1093 chats"): the agent. Other bare numbers stay numbers (limits, minutes)."""
    return key.isdigit() and len(key) >= 3 and bool(_ID_NOUN_RX.match(t.s[end:])) \
        and bool(linker.lookup(key, ("agent",), fuzzy=False))


def _not_a_name(key: str, phrase: str) -> bool:
    """Single common words are names only when capitalised or told so by a cue."""
    if len(key) < 2 or key.isdigit():
        return True
    return key in V.STOPWORDS and not phrase[:1].isupper()


def _is_vocab(low: str) -> bool:
    w = low.strip()
    if w in V.STOPWORDS or w in VOCABULARY or singular(w) in VOCABULARY:
        return True
    return any(rx.fullmatch(w) for rx, _ in V.CHANNEL_RX) or any(rx.fullmatch(w) for rx, _ in V.FLAG_RX)


def _kinds_for(t: Text, pos: int) -> tuple[str, ...]:
    """The kinds a name at `pos` may be, most likely first, from the words before it."""
    before = t.s[:pos]
    order = ["agent", "queue", "topic", "cluster", "customer"]
    for kind, cue in _CUES.items():
        if re.search(rf"\b{cue}\s*(?:{NEGATION}\s*)?$", before):
            order.remove(kind)
            order.insert(0, kind)
            return tuple(order)
    # "in X", "for X", bare "X calls": a queue before a topic (billing is both)
    order.remove("queue")
    order.insert(0, "queue")
    return tuple(order)


def _negation_start(t: Text, pos: int) -> int | None:
    before = t.s[:pos]
    m = re.search(NEGATION + r"(?:\s+(?:in|from|by|for|about|with|agent|queue|the|of|handled|taken|answered|done"
                  r"|made|regarding|concerning|involving))*\s*$", before)  # fmt: skip
    return m.start() if m else None


def _cue_start(t: Text, pos: int, kind: str) -> int | None:
    before = t.s[:pos]
    m = re.search(rf"\b(?:{_CUES[kind]}|in|from|for|of|with|involving)(?:\s+(?:the|agent|queue))?\s*$", before)
    return m.start() if m else None


def _add_link(st: State, link: Link, negate: bool, typed: str) -> None:
    if link.ambiguous:
        st.ambiguous.setdefault(link.kind, list(link.values))
        st.extra.setdefault("typed", {})[link.kind] = typed
        return
    st.match(link.kind, link.values[0], negate)
