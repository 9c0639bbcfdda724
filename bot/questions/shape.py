"""The shape of an answer: grouping ("by queue", "which agent", "top 5 queues"), measures
("average sentiment", "angry rate", "number of calls and …") and ranking order ("most",
"fewest", "worst"), then the view (list, count, ranking, breakdown, comparison).

Rules (tests/data/questions_conventions.md §5): a ranking word makes a ranking, a grouping
without one a breakdown; the default measure is a count; "best"/"worst" alone rank by
average sentiment, "worst … for <flag>" by the count of that flag; "<flag> rate" is the
share of the group's interactions with that flag; a metric named in a ranking, breakdown
or comparison is averaged; measures keep the order they were said in.
"""

from __future__ import annotations

import re

from bot.questions import vocab as V
from bot.questions.linking import Linker
from bot.questions.state import State, Text
from store.query import Match, Measure, Order

GROUP_ALT = "|".join(f"(?:{w})" for w, _g in V.GROUP_WORDS)
METRIC_ALT = "|".join(f"(?:{w})" for w, _m in V.METRIC_WORDS)
FLAG_ALT = "|".join(f"(?:{w})" for w, _f in V.FLAG_WORDS)
#: ranking words → True when the highest value comes first
RANK_WORDS = {
    "most": True, "highest": True, "biggest": True, "largest": True, "top": True, "best": True,
    "longest": True, "slowest": True, "busiest": True, "leading": True, "more": True,
    "fewest": False, "least": False, "lowest": False, "smallest": False, "shortest": False,
    "fastest": False, "quickest": False, "bottom": False, "worst": False, "quietest": False,
}  # fmt: skip
_RANK_ALT = "|".join(sorted(RANK_WORDS, key=len, reverse=True))
_NUMS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "twenty": 20}  # fmt: skip
_N = r"(\d+|" + "|".join(_NUMS) + ")"

_BY_RX = re.compile(rf"\b(?:by|per|for each|for every|each|broken down by|split by|grouped by|breakdown by|across)"
                    rf"\s+(?:the\s+|each\s+)?({GROUP_ALT})\b")  # fmt: skip
_AND_GROUP_RX = re.compile(rf"^\s*(?:and|,|&)\s+(?:by\s+|per\s+)?({GROUP_ALT})\b")
_WHICH_RX = re.compile(rf"\b(?:which|what)\s+(?:(?:one\s+)?of\s+(?:my|our|the|your)\s+)?({GROUP_ALT})\b")
_WHO_RX = re.compile(r"\bwho(?:'s| is| are| has| have| had| got| gets| was| were)?\b(?:\s+(?:got|had|been))?")
_RANK_RX = re.compile(rf"\b({_RANK_ALT})(?:\s+{_N})?(?:\s+({GROUP_ALT}))?\b")
_LEAD_GROUP_RX = re.compile(rf"(?:^|[?.!;]\s*)\s*(?:the\s+)?(?:{_N}\s+)?({GROUP_ALT})\s+(?=with\b|ranked\b|by\b|sorted\b|ordered\b)")
#: "rank the queues by …", "order the agents by …": a ranking over that group
_RANK_GROUP_RX = re.compile(rf"\b(?:rank|order|sort|list)\s+(?:the\s+|our\s+|my\s+|all\s+)?({GROUP_ALT})\s+(?=by|on|for)\b")
#: "lowest-sentiment queue", "highest anger agent": rank word, metric, group in one phrase
_RANK_METRIC_RX = re.compile(rf"\b({_RANK_ALT})[- ]({METRIC_ALT})\s+({GROUP_ALT})\b")
_RANKED_RX = re.compile(r"\b(?:ranked|sorted|ordered|rank(?:ed)?)\s+by\b|\brank\b")

_COUNT_M_RX = re.compile(r"\b(?:(?:total )?number of|count of|counts?|volumes?|how many)\b")
_AVG_RX = re.compile(rf"\b(average|avg\.?|mean|typical)\s+(?:of\s+(?:the\s+)?)?(?:(call|chat|email)\s+)?({METRIC_ALT})\b")
_ON_AVG_RX = re.compile(rf"\b(?:({METRIC_ALT})\s+)?on (?:an? )?average\b|\b({METRIC_ALT})\s+on avg\b")
_SHARE_RX = re.compile(r"\b(?:share|percentage|proportion|percent|fraction) of\b")
_SUM_RX = re.compile(rf"\btotal\s+({METRIC_ALT}|(?:minutes|hours|time)(?:\s+spent)?)\b")
_RATE_RX = re.compile(rf"\b({FLAG_ALT})\s+rates?\b|\b(?:rates?|share|percentage|proportion|percent|fraction|%) of"
                      rf"\s+(?:the\s+)?({FLAG_ALT})(?:\s+(?:customers?|callers?|clients?|ones))?\b")
_ADJ_RX = re.compile(r"\b(longest|shortest)\s+(?=(?:calls?|chats?|emails?|interactions?|conversations?)\b)"
                     r"|\b(slowest|fastest|quickest)\s+(?:(?:to|at|in)\s+)?(?:first\s+)?(?:responding|replying|answering|response|reply|answer|respond)s?(?:\s+times?)?\b"
                     r"|\btalks? the most\b|\btalk(?:ed|s)? (?:the )?(?:most|least)\b")  # fmt: skip
_METRIC_RX = re.compile(rf"\b({METRIC_ALT})\b")


def group_of(word: str) -> str | None:
    for rx, g in V.GROUP_RX:
        if rx.fullmatch(word.strip()):
            return g
    return None


def metric_of(word: str | None) -> str | None:
    if not word:
        return None
    for rx, metric in V.METRIC_RX:
        if rx.fullmatch(word.strip()):
            return metric
    return None


def _names_next(t: Text, end: int, linker: Linker) -> bool:
    """Whether a name or an id follows `end` ("by agent 1042", "by Maria"): not a grouping."""
    m = re.match(r"\s+([\w'.-]+(?:\s+[\w'.-]+)?)", t.s[end:])
    if not m:
        return False
    first = m.group(1).split()[0]
    if re.fullmatch(r"#?\d[\w.-]*", first):
        return True
    for cand in (m.group(1), first):
        if linker.lookup(cand.removesuffix("'s"), ("agent", "queue", "customer"), fuzzy=False):
            return True
    return False


def _add_group(st: State, g: str | None) -> None:
    if g and g not in st.group_by:
        st.group_by.append(g)


def grouping(t: Text, st: State, linker: Linker) -> None:
    """Groupings, ranking words and measures; consumes the words it used."""
    for m in list(_BY_RX.finditer(t.s)):
        g = group_of(m.group(1))
        if g is None or _names_next(t, m.end(), linker):
            continue
        t.take(*m.span())
        _add_group(st, g)
        am = _AND_GROUP_RX.match(t.s[m.end():])
        if am and group_of(am.group(1)):
            t.take(m.end(), m.end() + am.end())
            _add_group(st, group_of(am.group(1)))
    wm = _WHICH_RX.search(t.s)
    if wm and group_of(wm.group(1)) and not _names_next(t, wm.end(), linker):
        t.take(*wm.span())
        st.group_by.insert(0, group_of(wm.group(1))) if group_of(wm.group(1)) not in st.group_by else None
        st.extra["which"] = True
    lm = _LEAD_GROUP_RX.search(t.s)
    if lm and group_of(lm.group(2)):
        t.take_words(lm, 2)
        if lm.group(1):
            t.take(*lm.span(1))
            st.limit = int(_NUMS.get(lm.group(1), lm.group(1)) if not lm.group(1).isdigit() else lm.group(1))
        _add_group(st, group_of(lm.group(2)))
    gm = _RANK_GROUP_RX.search(t.s)
    if gm and group_of(gm.group(1)):
        t.take(gm.start(), gm.end(1))
        _add_group(st, group_of(gm.group(1)))
        st.rank = st.rank or "ranked"
        t.search(r"\b(?:by|on)\s+(?:how\s+(?:many|much)\b)?")
        if re.search(r"\b(?:escalations?|flags?|calls?|chats?|emails?|\w+ed)\b", t.s):
            st.extra.setdefault("count_words", []).append((gm.start(), gm.start()))
    mm = _RANK_METRIC_RX.search(t.s)
    if mm and group_of(mm.group(3)) and metric_of(mm.group(2)):
        t.take(*mm.span())
        _add_group(st, group_of(mm.group(3)))
        st.rank = mm.group(1)
        st.add_measure(mm.start(), Measure("average", metric_of(mm.group(2))))
    for tm in list(re.finditer(r"\b(?:trends?|over time|evolution|progression)\b", t.s)):
        if "day" in st.group_by or "week" in st.group_by:
            t.take(*tm.span())  # "sentiment trend per week": the grouping is the trend
    rr = _RANKED_RX.search(t.s)
    if rr:
        t.take(*rr.span())
        st.rank = st.rank or "ranked"
    _measures(t, st)
    if not st.group_by and not st.extra.get("which") and not _WHO_RX.search(t.s):
        _list_order(t, st)
    for m in list(_RANK_RX.finditer(t.s)):
        word, n, gw = m.group(1), m.group(2), m.group(3)
        g = group_of(gw) if gw else None
        if word == "more":
            continue
        context = st.group_by or n or _WHO_RX.search(t.s) or st.extra.get("which") \
            or any(isinstance(f, Match) for f in st.filters) or st.measures
        if g is None and not context and word not in ("best", "worst", "top", "bottom", "biggest"):
            continue
        if word == "top" and g is None and not n:
            continue
        t.take(*m.span(1))
        if n:
            t.take(*m.span(2))
            st.limit = int(n) if n.isdigit() else _NUMS[n]
        if gw:
            t.take(*m.span(3))
            _add_group(st, g)
        st.rank = word
        break
    if st.rank and not st.group_by:
        wh = _WHO_RX.search(t.s)
        if wh:
            t.take(*wh.span())
            _add_group(st, "agent")
    elif st.rank:
        wh = _WHO_RX.search(t.s)
        if wh and "agent" in st.group_by:
            t.take(*wh.span())


_LATEST_RX = re.compile(rf"\b(?:the\s+)?(?:last|latest|most recent|newest|(first|oldest|earliest))\s+{_N}\b"
                        r"(?=\s+\w*\s*(?:calls?|chats?|emails?|interactions?|conversations?|contacts?|tickets?|flags?)\b)")


_SUPER_RX = re.compile(rf"\b(?:the\s+)?(?:{_N}\s+)?(most negative|most positive|happiest|angriest|most angry"
                       r"|most interruptions|most interrupted|most silence|most silent|longest silences?)\b")
#: a superlative over the items of a list → (metric to sort by, highest first)
_SUPER_ORDER = {"most negative": ("sentiment", False), "most positive": ("sentiment", True),
                "happiest": ("sentiment", True), "angriest": ("anger", True), "most angry": ("anger", True),
                "most interruptions": ("interruptions", True), "most interrupted": ("interruptions", True),
                "most silence": ("silence", True), "most silent": ("silence", True),
                "longest silence": ("silence", True), "longest silences": ("silence", True)}  # fmt: skip


def _list_order(t: Text, st: State) -> None:
    """"the 5 most negative chats", "angriest calls": a list sorted by a metric."""
    m = _SUPER_RX.search(t.s)
    if not m:
        return
    t.take(*m.span())
    by, desc = _SUPER_ORDER[m.group(2)]
    st.order = Order(by, desc)
    if m.group(1):
        st.limit = int(m.group(1)) if m.group(1).isdigit() else _NUMS[m.group(1)]


def _measures(t: Text, st: State) -> None:
    lm = _LATEST_RX.search(t.s)
    if lm:  # "last 10 angry calls": the newest ten
        t.take(*lm.span())
        st.limit = int(lm.group(2)) if lm.group(2).isdigit() else _NUMS[lm.group(2)]
        st.order = Order("started_at", lm.group(1) is None)
    for m in list(_AVG_RX.finditer(t.s)):
        metric = metric_of(m.group(3))
        if metric:
            t.take_words(m, 1, 3)
            st.add_measure(m.start(), Measure("average", _pct(t, m.end(), metric)))
    for m in list(_ON_AVG_RX.finditer(t.s)):
        metric = metric_of(m.group(1) or m.group(2))
        t.take(*m.span())
        if metric:
            st.add_measure(m.start(), Measure("average", metric))
        else:
            st.extra["on_average"] = m.start()
    for m in list(_SUM_RX.finditer(t.s)):
        metric = metric_of(m.group(1)) or ("duration" if re.match(r"minutes|hours|time", m.group(1)) else None)
        if metric:
            t.take(*m.span())
            st.add_measure(m.start(), Measure("sum", "duration" if metric in ("duration",) else metric))
    for m in list(_RATE_RX.finditer(t.s)):
        word = m.group(1) or m.group(2)
        fam = next((f for rx, f in V.FLAG_RX if rx.fullmatch(word)), None)
        if fam:
            t.take(*m.span())
            st.add_measure(m.start(), Measure("rate", None, fam))
    for m in list(_SHARE_RX.finditer(t.s)):
        t.take(*m.span())
        st.add_measure(m.start(), Measure("share"))
    for m in list(_ADJ_RX.finditer(t.s)):
        word = (m.group(1) or m.group(2) or m.group(0)).split()[0]
        if m.group(1):
            metric = "duration"
        elif m.group(2):
            metric = "response_time"
        else:
            metric = "agent_talk_ratio"
        if metric == "duration" and "on_average" not in st.extra and not st.group_by and not _WHICH_RX.search(t.s) \
                and not _WHO_RX.search(t.s):  # fmt: skip
            # "the longest calls" alone is a list sorted by duration, not a ranking
            t.take(*m.span(1))
            st.order = Order("duration", word == "longest")
            continue
        t.take(*m.span())
        st.rank = st.rank or ("most" if metric == "agent_talk_ratio" else word)
        if metric == "agent_talk_ratio" and "least" in m.group(0):
            st.rank = "least"
        st.add_measure(m.start(), Measure("average", metric))
    for m in list(_COUNT_M_RX.finditer(t.s)):
        st.extra.setdefault("count_words", []).append((m.start(), m.end()))


def _pct(t: Text, end: int, metric: str) -> str:
    """"average silence percentage" is the silence share."""
    pm = re.match(r"\s*(?:percentage|percent|pct|share|%)\b", t.s[end:])
    if pm and metric == "silence":
        t.take(end, end + pm.end())
        return "silence_pct"
    return metric


def decide_view(t: Text, st: State, counted: bool) -> None:
    """The view and, for rankings and breakdowns, the subject, measures and order."""
    shaped = st.view is None or st.view in ("comparison",)
    if st.view is None:
        if st.compare is not None:
            st.view = "comparison"
        elif st.group_by and st.rank:
            st.view = "ranking"
        elif st.group_by:
            st.view = "breakdown"
        elif st.rank and st.measures:
            st.view = "ranking"
            _add_group(st, "agent")
        elif counted:
            st.view = "count"
        elif st.measures:  # "average anger for billing calls": one row, all measures
            st.view = "breakdown"
    if not shaped:
        return
    count_words = st.extra.pop("count_words", [])
    if st.view in ("ranking", "breakdown", "comparison"):
        # count words said among other measures ("number of calls and average sentiment")
        for s, e in count_words:
            if st.view != "comparison" or st.measures:
                t.take(s, e)
                st.add_measure(s, Measure("count"))
        if st.view != "comparison" or st.measures or not _bare_metric(t, st, dry=True):
            pass
        _bare_metric(t, st)
    if st.view in ("ranking", "breakdown") and st.group_by:
        g = st.group_by[0]
        st.subject = {"agent": "agents", "topic": "topics", "cluster": "clusters", "customer": "customers",
                      "flag": "flags"}.get(g, "interactions")  # fmt: skip
    if st.view in ("ranking", "breakdown", "comparison") and not st.measures:
        has_flag = any(isinstance(f, Match) and f.field == "flag" for f in st.filters)
        if st.view == "ranking" and st.rank in ("best", "worst") and not has_flag:
            st.add_measure(0, Measure("average", "sentiment"))
        else:
            st.add_measure(0, Measure("count"))
    if st.view == "ranking":
        first = sorted(st.measures, key=lambda pm: pm[0])[0][1]
        desc = RANK_WORDS.get(st.rank or "most", True)
        if st.rank == "worst" and first.kind in ("count", "rate"):
            desc = True  # the worst for a flag has the most of it
        if st.rank == "worst" and first.kind == "average" and first.metric in ("anger", "duration", "silence",
                                                                                  "silence_pct", "interruptions",
                                                                                  "response_time"):  # fmt: skip
            desc = True
        st.order = Order(first.name, desc)


def _bare_metric(t: Text, st: State, *, dry: bool = False) -> bool:
    """A metric named without a measure word ("lowest sentiment", "by talk ratio"):
    its average."""
    found = False
    for m in list(_METRIC_RX.finditer(t.s)):
        metric = metric_of(m.group(1))
        if metric is None or (metric in ("turns",) and not st.group_by):
            continue
        found = True
        if dry:
            return True
        t.take(*m.span())
        st.add_measure(m.start(), Measure("average", _pct(t, m.end(), metric)))
    return found
