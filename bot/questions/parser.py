"""Turn a supervisor's question into the typed query (`store.query.Query`).

The grammar is explicit on purpose: contact-center questions use a few hundred words and
a handful of shapes ("angry calls by Maria this week", "calls longer than 10 minutes not
in billing", "which agent has the most angry calls", "average sentiment by queue",
"this week vs last week"), and a fixed mapping is predictable and checked phrase by phrase
against the corpus (tests/data/questions.tsv, whose rules are in
tests/data/questions_conventions.md). The parse is a sequence of recognisers over the
question; each one *consumes* the words it used, so what is left at the end is exactly
what the parser did not understand, and goes to `Query.ignored` for the answer to say
aloud. Names are linked against the store's values (`linking.Linker`); a name that fits
several values is recorded as a choice (`Query.extra["ambiguous"]`), never guessed.

Stages, in order: spelling (typos of the vocabulary, abbreviations) → whole-question views
(help, detail, contest, my week, accuracy, patterns …) → time (period and comparison) →
metric conditions ("longer than 10 minutes") → text search ("mentioning router") →
grouping and measures (`shape`) → names (agents, queues, topics, clusters, customers; with
negations) → flags, channels, directions, review and resolution states → the view →
ignored words.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rapidfuzz.distance import DamerauLevenshtein

from bot.questions import vocab as V
from bot.questions.conditions import SUBJECT_RX, counted, metrics, repeat, text_search
from bot.questions.linking import Linker, fold, singular
from bot.questions.names import names
from bot.questions.shape import decide_view, grouping
from bot.questions.state import State, Text
from bot.questions.timeexpr import Period, default_period, find_periods
from bot.questions.vocab import ABBREVIATIONS, VOCABULARY
from store.entities import EntityValues
from store.query import NEGATIVE_BELOW, POSITIVE_ABOVE, Compare, Match, Span
from store.query import Query as TypedQuery

HELP_RX = re.compile(r"^\s*(?:help|\?|what can you do|commands|usage|how do i use (?:this|you))\s*[?!.]*\s*$", re.I)
_CONTEST_RX = re.compile(r"^\s*(?:(?:i'?d|i would|i want|i wish|we'?d|we would|can i|could i|may i|please|i need)"
                         r"(?:\s+(?:like|love|want))?(?:\s+to)?\s+)?(?:contest|dispute|challenge|appeal)\s+"
                         r"(?:(?:the|this)\s+)?(?:flag|alert)?\s*(?:#|number|no\.?)?\s*(\d+)\s*"
                         r"(?:[:,\-\u2013]|\bbecause\b|\bsince\b|\bas\b)?\s*(.*)$", re.I | re.S)
#: polite or colloquial framing that carries no meaning ("would you mind", "out of interest",
#: "do you reckon", "I'd be grateful for"): consumed before parsing, so never reported as ignored
_FILLER_RX = re.compile(
    r"\b(?:(?:i'?d|i would|we'?d) (?:be (?:very |really |most )?grateful (?:for|if)|love to (?:know|see|get|have)"
    r"|like to (?:know|see|get|have)|appreciate)|(?:sorry|apologies) (?:to bother you|for bothering you)"
    r"|(?:would|do) you mind(?: (?:showing|giving|pulling|getting|finding|listing))?|would it be possible to"
    r"|is it possible to|out of (?:interest|curiosity)|(?:do )?you reckon|i reckon|(?:just )?wondering|i wonder"
    r"|i (?:was|am) wondering|i fancy|fancy|(?:i'?m|i am|we'?re) after|on earth|how (?:are|were) we (?:doing|getting on) (?:on|with|for)|cheers|ta very much|much appreciated"
    r"|if you (?:would|could|can|don't mind)|when you (?:get|have) a (?:chance|sec|second|minute)|in detail)\b")
_ORDINAL_WORDS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                  "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                  "eighteenth", "nineteenth", "twentieth"]  # fmt: skip
#: ordinal words → "1st" … "31st" (dates said in words)
_ORDINALS = {w: f"{i}{'th' if 10 <= i % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(i % 10, 'th')}"
             for i, w in enumerate(_ORDINAL_WORDS, 1)}
_ORDINALS |= {f"twenty-{w}": f"{20 + i}{s[-2:]}" for w, s, i in
              ((w, s, int(s[:-2])) for w, s in list(_ORDINALS.items())[:9])}
_ORDINALS |= {"thirtieth": "30th", "thirty-first": "31st"}
_MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
#: the default period of a view that names none, in days (1 = today)
DEFAULT_DAYS = {"list": 7, "count": 1, "ranking": 7, "breakdown": 7, "comparison": 1, "top_issues": 7,
                "rising": 7, "repeat_contacts": 30, "traits": 30, "phrases": 30, "fcr": 7, "qa": 7,
                "agent_summary": 7, "my_week": 7, "accuracy": 30, "followups": 1}  # fmt: skip
#: the flag kind each family's rule raises (an accuracy question names a rule)
RULE_KINDS = {"compliance": "compliance_missing", "prohibited": "prohibited_phrase", "angry": "angry_customer",
              "escalation": "escalation_request", "churn": "churn_risk", "unresolved": "unresolved_issue",
              "incorrect_information": "incorrect_information", "profanity": "profanity",
              "silence": "long_silence", "trend": "topic_trend", "repeat": "repeat_contact"}  # fmt: skip


def parse(text: str, tz: ZoneInfo, now: datetime, entities: EntityValues | Linker | None = None) -> TypedQuery:
    """Parse one question. Never raises on user input: what it cannot read becomes `help`
    (nothing understood) or `ignored` words (the rest)."""
    linker = entities if isinstance(entities, Linker) else Linker(entities or EntityValues())
    raw = " ".join(text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
                   .replace("\u201d", '"').split())  # fmt: skip
    # "# angry calls", "# of chats": the number of
    raw = re.sub(r"(?:(?<=\s)|^)#\s*(?:of\s+)?(?=[a-z])", "number of ", raw, flags=re.I)
    # "more long than" (a common non-native comparative) is "longer than"
    raw = re.sub(r"(?i)\bmore (long|short|quick|slow|fast|high|low|big|small)\s+(than|then)\b",
                 lambda m: {"big": "bigger", "small": "smaller"}.get(m.group(1).lower(), m.group(1) + "er") + " than", raw)
    # ordinal words before a month are numbers: "the first of November" → "the 1st of November"
    # (also the first end of a range: "between the first and the 9th of November")
    ords = "|".join(o.replace("-", "[- ]") for o in _ORDINALS)
    raw = re.sub(r"(?i)\b(" + ords + r")(?=\s+(?:of\s+)?(?:" + _MONTHS + r")\b"
                 r"|\s+(?:and|to|till|until|through|-)\s+(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)|" + ords + r")\b)",
                 lambda m: _ORDINALS[m.group(1).lower().replace(" ", "-")], raw)
    # breakdown shorthands: "chats/day", "sentiment x queue", "day by day", "calls a day"
    raw = re.sub(r"(?i)(?<=\w)\s*/\s*(?=(?:day|week|agent|queue|channel|topic|hour|month)s?\b)", " per ", raw)
    raw = re.sub(r"(?i)(?<=\w)\s+(?:x|×)\s+(?=(?:agents?|queues?|channels?|topics?|days?|weeks?|teams?)\b)", " by ", raw)
    raw = re.sub(r"(?i)\b(day|week|agent|queue)\s+(?:by|after)\s+\1\b", r"by \1", raw)
    if not raw or HELP_RX.match(raw):
        return TypedQuery(view="help", text=raw)
    cm = _CONTEST_RX.match(raw)
    if cm:
        return TypedQuery(view="contest", ref=cm.group(1), note=cm.group(2).strip() or None, text=raw)
    t = Text(_spell(raw, linker))
    t.search(r"^\s*(?:good\s+)?(?:morning|afternoon|evening)\b\s*[!,.]+")  # a greeting, not a period
    for fm in list(_FILLER_RX.finditer(t.s)):
        t.take(*fm.span())
    st = State()
    _detail(t, st)
    if st.view == "detail":
        return _finish(t, st, tz, now, raw)
    _views(t, st)
    _time(t, st, tz, now)
    metrics(t, st)
    text_search(t, st)
    grouping(t, st, linker)
    repeat(t, st)
    names(t, st, linker)
    _words(t, st)
    said_count = counted(t)
    t.search(r"\b(?:where|when|in which)\s+(?:the\s+)?(?:agent|customer|caller)s?\b")
    decide_view(t, st, said_count)
    if st.view is None:
        if st.filters or st.period is not None or st.ambiguous or SUBJECT_RX.search(t.s):
            st.view = "list"
        else:
            return TypedQuery(view="help", text=raw, ignored=_ignored(t))
    for m in list(SUBJECT_RX.finditer(t.s)):
        t.take(*m.span())
    if st.view in ("rising", "top_issues") and st.group_by in (["topic"], ["cluster"]):
        st.group_by = []  # "which topics are rising": topics are what the view lists
    return _finish(t, st, tz, now, raw)


# -- spelling ------------------------------------------------------------------------------

def _spell(raw: str, linker: Linker) -> str:
    """Abbreviations expanded and vocabulary typos corrected ("angy" → "angry", "yesterdy"
    → "yesterday"); names are left to the linker (which forgives their typos itself)."""
    out: list[str] = []
    raw = re.sub(r"(?i)\bwks?\s*(?=#?\d)", "week ", raw)  # "wk 44" is week 44
    for tok in re.split(r"(\s+)", raw):
        low = fold(tok)
        core = low.strip("?!.,;:")
        if core == "wk" and not re.search(r"\b(?:last|this|past|previous|next|a|per|each|the|of)\s*$",
                                          "".join(out).lower()):  # fmt: skip
            out.append(tok.replace(tok.strip("?!.,;:"), "this week"))  # a bare "wk" is this week
            continue
        if core in ABBREVIATIONS:
            out.append(tok[: len(tok) - len(tok.lstrip("?!.,;:"))] + ABBREVIATIONS[core]
                       + tok[len(tok.rstrip("?!.,;:")):] if core != low else ABBREVIATIONS[core])
            continue
        if (len(core) >= 4 and core.isalpha() and core not in V.STOPWORDS and core not in VOCABULARY
                and not linker.lookup(core, fuzzy=False) and not _known(core)):
            fixed = _closest(core)
            if fixed:
                tok = tok.replace(tok.strip("?!.,;:"), fixed)
        out.append(tok)
    return "".join(out)


def _grammar_words() -> frozenset[str]:
    """Every word the grammar's patterns spell out (never "corrected" into another)."""
    from bot.questions import shape

    sources = [p for p, _ in V.FLAG_WORDS + V.CHANNEL_WORDS + V.METRIC_WORDS + V.OPS + V.GROUP_WORDS
               + V.REVIEW_WORDS + V.RESOLUTION_WORDS + V.DIRECTION_WORDS] + [p for _, p in _VIEW_RX]
    sources += [shape.FLAG_ALT, " ".join(shape.RANK_WORDS), " ".join(V.NUMBER_WORDS)]
    words = {w for src in sources for w in re.findall(r"[a-z]{3,}", src)}
    return frozenset(words | set(VOCABULARY) | set(V.STOPWORDS) | set(ABBREVIATIONS.values()))


def _known(word: str) -> bool:
    """A word some recogniser knows as it is (so not a typo)."""
    return word in GRAMMAR_WORDS or singular(word) in GRAMMAR_WORDS or word + "s" in GRAMMAR_WORDS


def _closest(word: str) -> str | None:
    limit = 2 if len(word) >= 7 else 1
    best: tuple[int, str] | None = None
    for cand in VOCABULARY:
        if abs(len(cand) - len(word)) > limit or cand[0] != word[0]:
            continue
        d = DamerauLevenshtein.distance(word, cand, score_cutoff=limit)
        if d <= limit and (best is None or d < best[0]):
            best = (d, cand)
    return best[1] if best else None


# -- whole-question views ----------------------------------------------------------------


_DETAIL_RX = re.compile(
    r"\b(?:show|open|see|view|details?(?:\s+(?:of|for|on))?|what happened (?:in|on)|pull up|look at)\s+(?:to\s+)?"
    r"(?:me\s+)?(?:the\s+)?"
    r"(?:(call|email|chat|interaction|conversation|ticket|thread)\s*)?(?:#|no\.?|number|id)?\s*"
    r"(\d+|[a-z][\w.-]*\d[\w.-]*)\b(?!\s*(?:%|[.,]\d|(?:h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?|days?)\b))"
)
_BARE_REF_RX = re.compile(r"^\s*(?:(call|email|chat|interaction|ticket)\s*)?(?:#|no\.?|number)\s*(\d+)\s*\??\s*$"
                          r"|^\s*(call|email|chat|interaction|ticket)\s*#?\s*(\d+)\s*\??\s*$")


def _detail(t: Text, st: State) -> None:
    m = _DETAIL_RX.search(t.s)
    if m and (m.group(1) or re.search(r"#|\b(?:show|open|number|id)\b", m.group(0))) and re.search(r"\d", m.group(2)):
        t.take(*m.span())
        st.view, st.ref = "detail", m.group(2)
        return
    b = _BARE_REF_RX.match(t.s)
    if b:
        t.take(*b.span())
        st.view, st.ref = "detail", b.group(2) or b.group(4)


_VIEW_RX: list[tuple[str, str]] = [
    ("my_week", r"\bmy (?:own )?(?:week|day|month|work|scorecard|scores?|flags|stats|performance|numbers)\b"
     r"|\bhow am i doing\b|\bhow did i do\b"),
    ("accuracy", r"\bhow (?:accurate|precise|reliable|good|trustworthy) (?:is|are|were|was|has|have|had)\b|\bhow (?:accurate|precise|reliable)\b|\bprecision of\b|\bprecision\b"
     r"|\baccuracy(?: of)?\b|\bfalse (?:alarms?|positives?)(?: rate)?\b"),
    ("followups", r"\b(?:promised )?(?:follow[- ]?ups?|call[- ]?backs?)(?: (?:are|is))? due\b|\bfollow[- ]?ups?\b"
     r"|\bpromised (?:call[- ]?backs?|visits?|follow[- ]?ups?)\b"),
    ("fcr", r"\b(?:were |was |got )?resolved (?:at |on )?(?:the )?first (?:time|contact|call|go|attempt)\b"
     r"|\bfirst[- ](?:contact|call)[- ]resolution(?: rate)?\b|\bfirst[- ]time (?:fix|resolution)(?: rate)?\b"
     r"|\bfcr(?: rate)?\b"),
    ("qa", r"\bqa (?:scores?|scorecards?|results?|ratings?)\b|\bquality (?:scores?|scorecards?|assurance)\b"
     r"|\bscorecards?(?: results?)?\b|\bqa\b"),
    ("phrases", r"\b(?:best|winning|good|top|successful|effective|magic) (?:agent )?(?:phrases?|wording|lines)\b"
     r"|\b(?:what |which )?(?:phrases?|wordings?|lines) (?:that |which )?(?:seems? to |tends? to |usually |really )?works?(?: (?:best|well))?\b|\bwhat do (?:the )?(?:best|top|good) agents say\b"),
    ("traits", r"\bwhat do\b|\b(?:have|got) in common\b|\bin common\b|\btraits? of\b|\btraits?\b"
     r"|\bwhat makes\b|\bgo(?:es)? badly\b|\bcommon (?:factors|patterns|features)\b"),
    ("rising", r"\b(?:rising|emerging|spiking|growing|increasing|trending(?: up(?:wards?)?)?|on the rise|going up(?:wards?)?|creeping up|picking up)\b"
     r"(?:\s+(?:issues|topics|problems|complaints))?|\bnew issues\b|\bspikes?\b|\bwhat'?s trending\b"),
    ("top_issues", r"\btop(?:\s+(?:\d+|three|five|ten))?\s+(?:issues|problems|complaints|contact reasons|call drivers|drivers|topics|reasons)\b"
     r"|\bwhat\s+(?:are|were|do|did|have|has)\s+(?:(?:our|the|my)\s+)?(?:customers|people|they|callers|clients|users)(?: been)?\s+(?:calling|writing|chatting|emailing|messaging|complaining|complain|contacting us|contact us|call|write|email|ringing|ring|rung|phoning|phone|phoned|getting in touch|get in touch|got in touch|been in touch|reaching out|reach out|reached out)(?: (?:to )?us)? about\b"
     r"|\b(?:topics?|issues|reasons|problems|complaints)\s+(?:(?:are|were|is)\s+)?(?:the\s+)?most (?:frequent|common|popular|mentioned)\b"
     r"|\bmost (?:frequent|common|popular) (?:topics?|issues|reasons|problems|complaints)\b"
     r"|\bwhy (?:are|do|did|have) (?:(?:our|the) )?(?:customers|people|callers)(?: been)? (?:calling|ringing|phoning|getting in touch|contacting us)\b"
     r"|\bmain (?:issues|problems|complaints|reasons)(?: for)?\b"
     r"|\bbiggest (?:issues|problems|complaints)\b|\bwhy (?:are|do) (?:customers|people) (?:calling|call|contact us)\b"),
    ("agent_summary", r"\bhow(?:'s| is| was| are| has| have)\s+(?:working|doing|performing|getting on|coping)\b"
     r"|\bhow(?:'s| is| was| are| has| have|(?=\s+(?!we\b|things\b|you\b|i\b|it\b)[\w.'-]+(?:\s+[\w.'-]+)?\s+(?:is|was|has|have)\b))"
     r"(?!\s+(?:things|you|i|it|everything|everyone|business)\b).*?\b(?:doing|performing|getting on|done|been doing"
     r"|getting along|working|coping|holding up|going)\b"
     r"|\bsummary (?:of|for)\b|\bperformance of\b|\bstats (?:of|for)\b"),
]  # fmt: skip
_VIEW_COMPILED = [(v, re.compile(p)) for v, p in _VIEW_RX]
_TRAIT_CONTRAST_RX = re.compile(r"\b(?:(?:poorly|badly|low(?:ly)?|lowest)[- ]rated|low[- ]satisfaction|bad|poor|badly|unsuccessful"
                                r"|failed|negative)\b")


def _views(t: Text, st: State) -> None:
    for view, rx in _VIEW_COMPILED:
        m = rx.search(t.s)
        if not m:
            continue
        if view == "traits" and m.group(0).startswith("what do") and not re.search(r"\bin common\b", t.s):
            continue
        if view == "agent_summary":
            # only the verb words are the view; the name between them stays for linking
            for w in re.finditer(r"\bhow(?:'s)?|\b(?:is|was|are|were|has|have|doing|performing|getting on|getting along"
                                 r"|done|been|summary|of|for|performance|stats|working|coping|holding up|going)\b",
                                 m.group(0)):  # fmt: skip
                t.take(m.start() + w.start(), m.start() + w.end())
        else:
            t.take(*m.span())
        st.view = view
        if view == "traits":
            t.search(r"\b(?:tends? to\s+|seem to\s+)?(?:have|got|had|share)?\s*in common\b")
        if view == "top_issues":
            nm = re.search(r"\d+|three|five|ten", m.group(0))
            if nm:
                st.limit = {"three": 3, "five": 5, "ten": 10}.get(nm.group(0)) or int(nm.group(0))
        if view == "traits":
            for c in list(_TRAIT_CONTRAST_RX.finditer(t.s)):
                t.take(*c.span())  # the view's own contrast, not a filter
            t.search(r"\bhave\b")
        if view == "accuracy":
            _rule(t, st)
        if view == "followups":
            st.due = True
        if view == "my_week":
            t.search(r"\b(?:go|gone|went|been|look|looking)\b")
        if view != "agent_summary":
            t.search(r"\b(?:a\s+|an\s+)?(?:summary|overview|rundown|recap|report)\s+(?:of|for|on)\b")
        return


def _rule(t: Text, st: State) -> None:
    """The rule an accuracy question names, as the flag kind it raises."""
    for rx, fam in V.FLAG_RX:
        m = rx.search(t.s)
        if m and fam != "any":
            t.take(*m.span())
            st.note = RULE_KINDS.get(fam, fam)
            break
    if st.note is None:
        m = t.search(r"\b(?:the\s+)?([\w-]+)\s+(?=rule|flags?|checks?|detector|detection)")
        if m and m.group(1) not in ("the", "this", "that", "our", "my"):
            st.note = m.group(1)
    t.search(r"\b(?:customers?\s+)?(?:rule|flags?|checks?|detector|detection|alerts?)s?\b")
    t.search(r"\b(?:customers?)\b")


# -- time --------------------------------------------------------------------------------

_VS_RX = re.compile(r"\b(?:vs\.?|versus|(?:compared|comparing|compare it|comparison) (?:to|with|against)|against|relative to"
                    r"|v\.?)\s+|^\s*(?:and|,)\s+")
_COMPARE_WITH_RX = re.compile(r"^\s*(?:with|to|and|against)\s+")
_PREV_RX = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with)|against)\s+(?:the\s+)?(?:previous|prior|preceding)"
                      r"(?:\s+(?:period|one|time))?\b|\b(?:vs\.?|versus|(?:compared|comparing) (?:to|with))\s+(?:the\s+)?(?:\w+\s+)?before\b")  # fmt: skip
_VS_LAST_RX = re.compile(r"\b(this|last) (week|month|quarter|year)(\s+(?:vs\.?|versus|compared (?:to|with)|against)\s+)"
                         r"(last|previous|the one before)\b(?!\s+(?:\d+\s+)?(?:week|month|quarter|year|days?)\b)")


def _time(t: Text, st: State, tz: ZoneInfo, now: datetime) -> None:
    s = _VS_LAST_RX.sub(lambda m: f"{m.group(1)} {m.group(2)}{m.group(3)}"
                        + ("last" if m.group(1) == "this" else "the") + f" {m.group(2)}"
                        + (" before" if m.group(1) != "this" else ""), t.s) if _VS_LAST_RX.search(t.s) else None
    if s is not None:  # "this month vs last" = this month vs last month (same offsets kept)
        vm = _VS_LAST_RX.search(t.s)
        assert vm is not None
        unit = vm.group(2)
        found = find_periods(t.s[: vm.end(3)], tz, now, clip=True)
        if found:
            st.period = found[0].period
            t.take(*found[0].span)
            other = find_periods(f"last {unit}", tz, now) if vm.group(1) == "this" else None
            st.compare = other[0].period if other else st.period.previous()
            t.take(vm.start(3), vm.end())
        return
    found = find_periods(t.s, tz, now, clip=True)
    if not found:
        return
    first = found[0]
    st.period = first.period
    if st.due and first.period.until is not None and re.match(r"today|this ", first.period.label):
        # follow-ups due today / this week: a window of due dates, to its calendar end
        p = first.period
        st.period = Period(p.start, p.until, p.label)  # type: ignore[arg-type]
    t.take(*first.span)
    if len(found) > 1:
        nxt = found[1]
        between = t.s[first.span[1]: nxt.span[0]]
        vm = _VS_RX.search(between) or (_COMPARE_WITH_RX.match(between) if re.search(r"\bcompare\b", t.s) else None)
        a, b = first.period, nxt.period
        if re.fullmatch(r"\s*,?\s*(?:the|that|i\.e\.|so)?\s*", between) \
                and (b.start <= a.start < b.end or a.start <= b.start < a.end):  # fmt: skip
            t.take(*nxt.span)  # "the afternoon of the 27th, the Friday": the same time said twice
        elif vm or re.fullmatch(r"\s*(?:and|,|or)?\s*", between):
            st.compare = nxt.period
            t.take(*nxt.span)
            if vm:
                t.take(first.span[1] + vm.start(), first.span[1] + vm.end())
            t.search(r"^\s*compare\b")
    pm = _PREV_RX.search(t.s)
    if pm and st.compare is None:
        t.take(*pm.span())
        st.compare = st.period.previous()


def _span(p: Period) -> Span:
    return Span(p.start, p.end, p.label)


# -- keywords -----------------------------------------------------------------------------

_NEG_PREFIX = (r"(?:(?:\b(?:not|excluding|except(?: for)?|other than|without|no|never)\b|n't|\bnon-?)"
               r"(?:\s+(?:been|be|the|any|in|an|a|have|had|get|got|being))*\s*)?")  # fmt: skip
_SENTIMENT_RX = re.compile(_NEG_PREFIX + r"\b(negative|unhappy|dissatisfied|unsatisfied|bad|poor|frustrated|"
                           r"positive|happy|satisfied|good|great|pleased)\b")  # fmt: skip
_AGENT_MOOD_RX = re.compile(r"\b(?:the )?agents?(?:'s)? (?:sounded|was|were|seemed|sounding|being|tone was)\s+$")


def _words(t: Text, st: State) -> None:
    found: list[tuple[int, int, str, bool]] = []
    for rx, fam in V.FLAG_RX:
        for m in list(re.finditer(_NEG_PREFIX + rx.pattern, t.s)):
            negate = bool(re.match(r"\s*(?:(?:not|excluding|except|other than|without|no|never)\b|n't|non)", m.group(0)))
            t.take(*m.span())
            found.append((m.start(), m.end(), fam, negate))
    # Separate qualifiers are a conjunction ("angry calls with long silences": two filters);
    # families joined by or / and / a comma are one filter's alternatives (a union).
    last: tuple[int, int] | None = None  # (end offset, index of its filter)
    for start, end, fam, negate in sorted(found):
        if fam == "any" and any(f[2] != "any" for f in found):
            continue  # "trend alerts", "angry flags": the family, not any flag
        if fam == "repeat":
            st.match("repeat", "yes", negate)
            continue
        joined = last is not None and re.fullmatch(r"\s*(?:,|or|and|/|&)\s*(?:or\s*)?", t.low[last[0]:start] or "x")
        if joined and last is not None:
            f = st.filters[last[1]]
            st.filters[last[1]] = Match("flag", (*f.values, fam), f.negate)  # type: ignore[union-attr]
            last = (end, last[1])
            continue
        st.filters.append(Match("flag", (fam,), negate))  # type: ignore[arg-type]
        last = (end, len(st.filters) - 1)
    for m in list(_SENTIMENT_RX.finditer(t.s)):
        word = m.group(1)
        if word in ("good", "bad", "great", "poor") and not re.match(
                r"\s*(?:calls?|chats?|emails?|interactions?|conversations?|ones?|sentiment)\b", t.s[m.end():]):  # fmt: skip
            continue
        sm = re.match(r"\s*sentiment\b", t.s[m.end():])
        if sm:
            t.take(m.end(), m.end() + sm.end())
        negate = bool(re.match(r"\s*(?:(?:not|excluding|except|other than|without|no|never)\b|n't|non)", m.group(0)))
        t.take(*m.span())
        metric = "sentiment"
        am = _AGENT_MOOD_RX.search(t.s[: m.start()] + " ")
        if am:
            metric = "agent_sentiment"
            t.take(am.start(), m.start())
        if word in ("negative", "unhappy", "dissatisfied", "unsatisfied", "bad", "poor", "frustrated"):
            st.filters.append(Compare(metric, "<", NEGATIVE_BELOW, None, negate))  # type: ignore[arg-type]
        else:
            st.filters.append(Compare(metric, ">", POSITIVE_ABOVE, None, negate))  # type: ignore[arg-type]
    for table, fld in ((V.CHANNEL_RX, "channel"), (V.DIRECTION_RX, "direction"), (V.REVIEW_RX, "review")):
        for rx, value in table:
            for m in list(re.finditer(_NEG_PREFIX + rx.pattern, t.s)):
                negate = bool(re.match(r"\s*(?:(?:not|excluding|except|other than|without|no|never)\b|n't|non)", m.group(0)))
                t.take(*m.span())
                if fld == "channel" and st.group_by == ["channel"]:
                    continue
                st.match(fld, value, negate)
    _resolution(t, st)
    if st.has("review") and not st.has("flag"):
        st.match("flag", "any")
    if st.view is None and not st.group_by and _FLAG_NOUN_RX.search(t.low) and not st.has("channel"):
        # the word "flags" said: a list of the flags themselves ("dismissed angry flags")
        st.subject = "flags"
        if not st.has("flag"):
            st.match("flag", "any")


_FLAG_NOUN_RX = re.compile(r"\bflags\b")


def _resolution(t: Text, st: State) -> None:
    rm = re.search(r"\b(?:issues?\s+|problems?\s+)?(?:(?:that\s+)?(?:were|was|are|is)\s+)?(not|n't|never)\s+(?:been\s+|yet\s+)?"
                   r"(resolved|fixed|solved)\b", t.s)
    if rm:
        t.take(*rm.span())
        st.match("resolution", "resolved", True)
    for m in list(re.finditer(r"\b(?:(?:were|was|got|that were|that got|been)\s+)?(resolved|fixed|solved)\b"
                              r"|\b(pending)(?:\s+(?:resolution|verdict))?\b|\bwaiting on a follow[- ]?up\b", t.s)):
        t.take(*m.span())
        st.match("resolution", "resolved" if m.group(1) else "pending")


# -- the view ------------------------------------------------------------------------------


# -- finishing -------------------------------------------------------------------------------

def _ignored(t: Text) -> tuple[str, ...]:
    out = []
    for s, e in t.leftovers():
        word = t.raw[s:e].strip(".'-")
        low = fold(word)
        if not word or low in V.STOPWORDS or singular(low) in V.STOPWORDS or (low.isdigit() and len(low) < 3):
            continue
        out.append(word)
    return tuple(out)


def _finish(t: Text, st: State, tz: ZoneInfo, now: datetime, raw: str) -> TypedQuery:
    view = st.view or "list"
    period_default = False
    period = st.period
    if period is None and view == "my_week":
        found = find_periods("this week", tz, now)
        period = found[0].period
    if period is None and view not in ("detail", "help", "contest"):
        period = default_period(DEFAULT_DAYS.get(view, 7), tz, now)
        period_default = True
    compare = st.compare
    if view == "comparison" and compare is None and period is not None:
        compare = period.previous()
    extra = dict(st.extra)
    if st.ambiguous:
        extra["ambiguous"] = st.ambiguous
    for k in ("which", "on_average", "count_words"):
        extra.pop(k, None)
    measures = tuple(m for _p, m in sorted(st.measures, key=lambda pm: pm[0]))
    filters = tuple(st.filters) if view != "detail" else ()
    return TypedQuery(
        subject=st.subject,  # type: ignore[arg-type]
        view=view,  # type: ignore[arg-type]
        period=_span(period) if period else None,
        compare_to=_span(compare) if compare else None,
        filters=filters,
        group_by=tuple(st.group_by),  # type: ignore[arg-type]
        measures=measures,
        order=st.order,
        limit=st.limit,
        ref=st.ref,
        note=st.note,
        ignored=_ignored(t),
        text=raw,
        period_default=period_default,
        extra=extra,
    )


GRAMMAR_WORDS = _grammar_words()
