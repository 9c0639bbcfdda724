"""How an agent sentence states (or does not state) a fact's value: the readings
`analysis.facts` applies between finding a value and comparing it (issue #19, round 5).

Split from `analysis.facts` by job: these decide *whose* value a number is and *what* a
sentence claims — a yes/no claim's polarity at the claim word, a warranty length drawn from
an age, a time limit for the customer's own action, an amount given back, another thing named
nearer than the subject, a case the fact does not cover — while `analysis.facts` matches
sentences to facts and `analysis.fact_values` reads the numbers.
"""

from __future__ import annotations

import re

from analysis import fact_values as fv

_CURRENCY_DIMS = frozenset(fv.CURRENCY_WORDS.values())


def meets(v: fv.Value, p: fv.Value, tolerance: float) -> bool:
    """`Value.meets`, except that an amount in another currency is a wrong amount ("the
    cancellation fee is 25 euros" against 25 USD)."""
    if v.dim != p.dim and v.dim in _CURRENCY_DIMS and p.dim in _CURRENCY_DIMS:
        return False
    return v.meets(p, tolerance)


#: words between a hint and its claim word that put them in different statements
CONTRAST = re.compile(r"\b(?:but|however|whereas|although|though|while|except)\b|;")
#: idioms with a negation word that deny nothing ("I'll refund it, no problem")
_NEG_IDIOMS = re.compile(
    r"\b(?:no problem|not a problem|no worries|no questions asked|no doubt|no bother|no hassle|no trouble|"
    r"no need to \w+|not happy|non-?stop|not sure why)\b"
)
#: where the clause of a claim word begins or ends: a subordinate clause, a comma, or a
#: new subject ("if the download didn't work we refund it": the negation is the condition's)
_CLAUSE_CUT = re.compile(
    r"\b(?:if|unless|since|because|as long as|provided|providing|once|when|whenever|although|though|while|"
    r"but|so|and then|as soon as)\b|[,;:]|"
    r"\b(?:i|we|they|it|he|she|there|that)(?:'ll|'m|'re|'ve|'d|'s)?\b|"
    r"\byou(?:'ll|'re|'ve|'d)?(?= (?:can|could|will|would|should|may|might|must|get|are|have|need|do|did)\b)|"
    r"\byou(?:'ll|'re|'ve|'d)\b"
)
_CLAIM_NEG = re.compile(r"\b(?:not|no|never|cannot|\w+n't|unable|nor|non|none|nothing)\b|\bnon-|\bnon(?=\w)")


#: "that isn't something we can refund": the denial sits before the new subject
_NOT_SOMETHING = re.compile(
    r"\b(?:isn't|is not|aren't|are not|not|never|nothing)\s+(?:something|anything|one|a thing|(?:an )?items?)?\s*"
    r"(?:that\s+)?(?:we|i)(?:'re|'m)?\s+(?:can|could|are able to|am able to|able to|will|would|do)\s+(?:\w+\s+)?$"
)


def claim_negated(low: str, a: int, b: int) -> bool:
    """Whether the claim word at [a, b) is denied: a negation in its own clause, up to five
    words before it or four after ("we don't refund e-books", "downloads are
    non-refundable", "refunds on gift codes aren't possible"); not one in a condition or
    reason beside it ("if it didn't work we refund it", "since you haven't opened it, I can
    refund it") and not an idiom ("no problem")."""
    low = _NEG_IDIOMS.sub(lambda m: "_" * len(m.group(0)), low)
    before = low[:a]
    cuts = [m.end() for m in _CLAUSE_CUT.finditer(before)]
    seg = before[cuts[-1] if cuts else 0 :]
    if _CLAIM_NEG.search(" ".join(seg.split()[-5:])) or re.search(r"non-?$", before) or _NOT_SOMETHING.search(before):
        return True
    after = low[b:]
    m = _CLAUSE_CUT.search(after)
    return bool(_CLAIM_NEG.search(" ".join(after[: m.start() if m else len(after)].split()[:4])))


#: a hint used as a modifier of another noun: "warranty claim", "refund team"
MODIFIER_AFTER = re.compile(
    r"^\w*\s+(?:request form|claims?|repairs?|registration|certificate|card|details|paperwork|documents?|"
    r"terms|page|receipt|number|service|department|team|form|case|ticket|desk|reference|centre|center|"
    r"agents?|line|policy document)\b"
)
#: a time limit for the customer's own action, not the fact's value: "you can return items
#: within 30 days", "you have 14 days to cancel"
_ACTION_BEFORE = re.compile(
    r"\b(?:return|exchange|swap|send|bring|cancel|claim|request|ask for|apply|report|register|change your mind|refundable|"
    r"get in touch|contact us|let us know)\w*\b(?<!\bthe cancelled)(?<!\byour cancelled)(?<!\bthe returned)"
    r"(?<!\byour returned)(?!\s+(?:to|back to|into|on)\b)(?:\s+[\w'-]+){0,4}\s+"
    r"(?:within|in|by|no later than|up to|for up to)\s*$"
)
_ACTION_AFTER = re.compile(
    r"^\s*(?:\w+\s+)?(?:to|in which to) (?:return|exchange|swap|send|bring|cancel|claim|request|ask|apply|report|"
    r"register|change|get in touch|contact|let us know)\b"
)
#: a duration that measures what is paid or refunded, or a rate: "2 months of your
#: subscription", "refunded for the 3 days without service", "$2 a month"
_QUANTITY_AFTER = re.compile(
    r"^\s*(?:of\s+(?:your\s+|the\s+)?(?:\w+\s+)?(?:service|subscription|plan|fees?|charges?|payments?|rent|usage|"
    r"membership|access|rental|bills?|broadband|cover)\b|without\b)"
)
_QUANTITY_BEFORE = re.compile(r"(?:\bfor the|\d\s*(?:dollars?|euros?|pounds?|bucks?|quid|usd|eur|gbp)?|\bper)\s*$")
#: another thing that takes time or costs money, in the value's clause outside the hint's
#: ("I've sent the refund, you'll get an email confirmation in a few minutes")
_OTHER_THING = re.compile(
    r"\b(?:e-?mail|confirmation|text message|text|sms|notification|receipt|letter|reference number|tracking|"
    r"delivery|parcel|package|courier|engineer|technician|replacement|exchange|repair|shipping|shipment|"
    r"deposit|call ?back|survey|insurance|add-on|points|vouchers?|sim|router|modem)s?\b"
)
#: a money value that is what is given back, not charged: "refunded the $14.99"
_GIVEN_BACK = re.compile(r"\b(?:refund|credit|reimburs|pay (?:you )?back|give (?:you )?back|waive)\w*(?:\s+[\w']+){0,2}\s*$")


#: the amount named as the fee itself ("the usual $30 cancellation charge")
_FEE_NAMED_AFTER = re.compile(r"^\s*(?:[\w-]+\s+){0,2}?(?:fee|charge|penalty)s?\b")
#: a paid add-on with a cover of its own, whose length is not the warranty's
_ADD_ON_BEFORE = re.compile(
    r"\b(?:care plan|protection plan|accidental damage|extended warranty|insurance|service plan|breakdown cover)\b"
    r"(?:\s+[\w'-]+){0,3}\s+(?:for\s+)?(?:another\s+|an extra\s+|up to\s+)?$"
)


def other_subject(norm: str, v: fv.Value, hint_clause: tuple[int, int] | None, hint_before: bool) -> bool:
    """Whether the value at `v` is about something else than the fact's subject: a time
    limit for the customer's action, an amount given back, or another thing in a clause
    of its own."""
    before, after = norm[max(0, v.start - 60) : v.start], norm[v.end :]
    if v.dim == "duration" and (_ACTION_BEFORE.search(before) or _ACTION_AFTER.match(after)):
        return True
    if v.dim == "duration" and (_QUANTITY_AFTER.match(after) or _QUANTITY_BEFORE.search(before)):
        return True  # "we'll refund 2 months of your subscription", "$2 a month": an amount, a rate
    if v.dim not in ("duration", "count") and _GIVEN_BACK.search(before) and not _FEE_NAMED_AFTER.match(after):
        return True  # "refunded the $14.99", but "waived the usual $30 cancellation charge" names the fee
    if v.dim == "duration" and _ADD_ON_BEFORE.search(before):
        return True  # "accidental damage cover for 3 years on top of the warranty": a paid add-on's length
    if hint_clause is not None:
        a, b = hint_clause
        if not (a <= v.start < b or a < v.end <= b):
            lo = b if hint_before else max(0, v.start - 80)
            hi = v.start if hint_before else a
            span = norm[lo:hi] if lo < hi else norm[max(0, v.start - 40) : v.start]
            if _OTHER_THING.search(span):
                return True
    return False


#: the warranty's status drawn from an age: ("out of" | "no longer under" | "expired") or
#: ("still covered" | "still under")
_STATUS_NEG_BEFORE = re.compile(
    r"\b(?:no longer|not|n't|out of|outside(?: of)?|past|beyond|after)\s+(?:\w+\s+){0,3}$"
)
_STATUS_NEG_AFTER = re.compile(r"^\w*\s+(?:\w+\s+){0,2}(?:has |had |is |was )?(?:expired|ended|run out|ran out|lapsed|finished|over)\b")
_STATUS_POS_BEFORE = re.compile(r"\b(?:still|within|inside)\s+(?:\w+\s+){0,3}$")
_STATUS_POS_AFTER = re.compile(r"^\w*\s+(?:\w+\s+){0,1}(?:is |'s )?still (?:valid|active|running|good|in force)\b")


#: a hint used as a status ("under warranty", "out of warranty"): the sentence's values
#: are the period only when said as one ("covered under warranty for 2 years")
STATUS_USE = re.compile(r"\b(?:under|in|out of|within|outside(?: of)?)\s+(?:the\s+|our\s+|your\s+|its\s+|their\s+)?(?:\w+\s+)?$")
PERIOD_BEFORE = re.compile(r"\b(?:for|until|till|lasts?|runs?|of)\s+(?:another\s+|a further\s+|up to\s+|at least\s+|a full\s+)?$")


#: a main clause opening after a condition without a comma (ASR): "if you cancel now
#: there's a fiver to pay" (the clause reader breaks only before a personal subject)
_MAIN_OPENER = re.compile(r"\b(?:there's|there is|there'll|there will be|that's|that is|that'll|it'll|it will|it costs)\b")


def main_after_condition(norm: str, start: int) -> bool:
    """Whether the value at `start` stands in the main clause after an "if"/"when" clause."""
    before = norm[:start]
    cond = list(re.finditer(r"\b(?:if|when|once|unless)\b", before))
    return bool(cond) and bool(_MAIN_OPENER.search(before[cond[-1].end() :]))


def age_claim(norm: str, hn: re.Match[str]) -> fv.Value | None:
    """A period stated through an age: "bought it 14 months ago, so it's out of warranty"
    says the warranty is at most 14 months; "3 years old, so it's still covered" at least 3
    years. None without both an age and such a status."""
    ages = fv.ages(norm)
    if not ages:
        return None
    age = ages[-1]
    before, after = norm[: hn.start()], norm[hn.start() :]
    # the status words sit in the hint's clause, after the age ("..., so it's out of warranty")
    window = before[max(age.end, hn.start() - 40) :]
    if _STATUS_NEG_BEFORE.search(window) or _STATUS_NEG_AFTER.match(after):
        return fv.Value("duration", 0.0, age.high, f"{age.text} old: out of warranty", age.start, age.end)
    if _STATUS_POS_BEFORE.search(window) or _STATUS_POS_AFTER.match(after) or re.search(r"\bcovered\b", window):
        return fv.Value("duration", age.low, float("inf"), f"{age.text} old: still covered", age.start, age.end)
    return None


#: a duration that is what remains of a period ("six months left on the warranty", "it runs
#: out in three months"): the period is at least that long
LEFT_AFTER = re.compile(r"^\s*(?:left|remaining|to go|to run|still to run|more)\b")
LEFT_BEFORE = re.compile(
    r"\b(?:(?:runs? out|expires?|ends?|lapses?)\s+in|another|a further|remaining)\s+(?:about\s+|around\s+)?$"
)


def nearer_other_thing(norm: str, v: fv.Value, hint_rx: re.Pattern[str]) -> bool:
    """Whether another thing is named between the subject's last hint and the value ("your
    package will arrive in 4 business days and your refund in 2 days": the 4 days are the
    package's), not as a complement of the subject ("the refund for your delivery charge")."""
    hints = [m for m in hint_rx.finditer(norm) if m.end() <= v.start]
    between = norm[hints[-1].end() if hints else 0 : v.start]
    for m in _OTHER_THING.finditer(between):
        if not re.search(r"\b(?:for|of|on|to)\s+(?:\w+\s+)?$", between[: m.start()]):
            return True
    return False


def names_other_case(rx: re.Pattern[str] | None, text: str) -> bool:
    """Whether `text` names a case of `not_when`, not after "before"/"until" ("before your
    contract has ended" is the early case itself)."""
    if rx is None:
        return False
    low = text.lower()
    return any(not re.search(r"\b(?:before|until|till|prior to|ahead of)\s+(?:\w+\s+){0,2}$", low[: m.start()])
               for m in rx.finditer(low))  # fmt: skip


#: a weak hint of a yes/no fact (goods that are often digital: "game", "app", "movie")
#: names the subject only as the object of a claim word: "refund the game you bought",
#: "money back for the app", "the season pass can be refunded" (not "track your refund in
#: the app")
_OBJECT_LINK = r"(?:\s+(?:the|your|this|that|a|an|full|money|back|purchase|price|cost|for|on|of|my|whole|through|both|all|those|these|two|three|you|\d+))*\s+"
_PASSIVE_LINK = r"(?:\s+[\w'-]+){0,2}?\s+(?:can|could|will|would|is|are|was|were|has|have|gets?|can't|cannot|won't)(?:n't| not)?\s+(?:be\s+|been\s+)?(?:\w+\s+)?"


def weak_object(low: str, weak_rx: re.Pattern[str], claim_rx: re.Pattern[str]) -> tuple[re.Match[str], re.Match[str]] | None:
    """(weak hint, claim) where the weak hint is what the claim is about (see `_OBJECT_LINK`)."""
    for c in claim_rx.finditer(low):
        for w in weak_rx.finditer(low):
            if w.start() >= c.end() and re.fullmatch(_OBJECT_LINK, low[c.end() : w.start()]):
                return w, c
            if w.end() <= c.start() and re.fullmatch(_PASSIVE_LINK, low[w.end() : c.start()]):
                return w, c
    return None


#: someone else decides or does the refund ("Apple handles refunds for App Store
#: purchases", "the bank processes it"): no claim about what we do
THIRD_PARTY = re.compile(
    r"\b(?:apple|google|amazon|microsoft|sony|steam|paypal|the (?:app|play) store|the (?:retailer|shop|store|seller|"
    r"publisher|developer|manufacturer|bank|card issuer)|your (?:bank|card issuer))\s+(?:\w+\s+){0,2}?"
    r"(?:handles?|process(?:es)?|deals? with|manages?|looks? after|(?:is|are) responsible for|takes? care of|decides?)\b"
)
#: after a correction, agreeing to do what was just refused: "I can't refund it ... oh
#: actually, I'll do it this once", "... I've made an exception"
DO_IT = re.compile(
    r"\b(?:i'll|we'll|i will|we will|i can|we can|let me|i've|we've|i have|we have)\s+(?:just\s+)?"
    r"(?:do (?:it|that|this)|(?:make|made) an exception|go ahead)\b"
)
#: a pronoun standing for goods named in the sentence before ("we don't refund e-books.
#: Actually, I've refunded it.")
PRONOUN_NEAR = re.compile(r"^\s*(?:it|them|that|this|that one|this one|those)\b")


#: the subject denied outright: "there's no warranty on that kettle", "it doesn't come with
#: a warranty" (a period of nothing); not "no longer under warranty", "no extended warranty"
_NO_PERIOD_BEFORE = re.compile(
    r"(?:\b(?:there's|there is|there are|has|have|with|comes with|carries)\s+no|\bno\s+(?=(?:real\s+|actual\s+)?$)|"
    r"\b(?:isn't|is not|aren't|are not)\s+(?:really\s+|actually\s+)?(?:a|any)|"
    r"\b(?:doesn't|does not|don't|do not|won't|will not)\s+(?:come with|have|carry|include|get)\s+(?:a|any))"
    r"\s+(?:(?:real|actual|standard|manufacturer's|kind of)\s+)?$"
)


def no_period(norm: str, hn: re.Match[str]) -> fv.Value | None:
    """A period of nothing when the subject itself is denied (see `_NO_PERIOD_BEFORE`)."""
    after = norm[hn.end() :]
    if re.match(r"^\w*\s+(?:[\w'-]+\s+){0,3}?(?:once|after|if|when|beyond|past|unless|until|for)\b", after):
        return None  # "there's no warranty once it's three years old": a condition, not the period
    if _NO_PERIOD_BEFORE.search(norm[max(0, hn.start() - 40) : hn.start()]) and not MODIFIER_AFTER.match(after):
        return fv.Value("duration", 0.0, 0.0, f"no {hn.group(0)}", hn.start(), hn.end())
    return None


def unit_of(v: fv.Value) -> str:
    """The unit words of a duration as said ("3 to 5 working days" -> "working days")."""
    m = re.search(r"\d\s*([a-z][a-z ]*)$", v.text)
    return m.group(1).strip() if m else ""
