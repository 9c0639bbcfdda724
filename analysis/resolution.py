"""Resolution per interaction: `resolved`, `unresolved` or `pending` (a follow-up promised).

The verdict is read from what a reviewer would look at, each a signal with a weight:

* **the customer's closing turns** (the last `closing_turns` customer turns, later ones
  weigh more): cues of a fixed problem ("that fixed it", "works now", "all sorted") and
  of an open one ("it's still not working", "that didn't help", "I'll have to call
  back"). Every cue is read in its clause by `analysis.clauses`: a negated resolved cue
  ("that didn't fix it") counts as unresolved, a negated open cue ("it's not broken any
  more") as resolved, and cues in questions ("did that fix it?"), reported speech or
  hypotheticals ("if that doesn't work ...") count for nothing;
* **the agent's commitments** ("I'll call you back tomorrow", "a technician will visit on
  Friday"): the promise makes the verdict `pending` unless the customer confirms the
  problem is solved; its due date is parsed with dateparser relative to the interaction's
  start in the configured time zone (None when the promise names no time);
* **a customer reply after the agent's last answer** (e-mail, chat): the customer wrote
  last and did not close the matter ("thanks, that worked") — the ball is in the agent's
  court;
* **the vendor's own status** where the source stores it (`metadata`): Zendesk
  `ticket_status` (solved/closed = resolved, pending/hold = pending, new/open =
  unresolved), Intercom `state` (closed / snoozed / open), Front `status`
  (archived/resolved / open, assigned, unassigned);
* **afterwards**, a repeat contact on the same issue within the repeat window (the
  patterns job, `analysis.patterns.repeats`) turns an earlier `resolved` into
  `unresolved` — that is done by `downgrade_for_repeats`, not here, because this stage
  sees one interaction.

Verdict: the evidence for "open" (u) and "fixed" (r) are summed; a commitment without a
stronger "fixed" makes `pending`; otherwise `unresolved` when u > r, `resolved` when r > u
or when nothing points either way (no evidence = the default of a contact that ended
quietly, confidence 0.5). Confidence = 0.5 + |u - r| / (2 (u + r) ) scaled by the
evidence mass, in [0.5, 0.99]. An `unresolved_issue` flag is raised when the verdict is
`unresolved` with confidence >= `flag_min_confidence`. Pure: interaction in, verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analysis.clauses import TurnClauses
from store.records import Flag, Interaction, severity_value

KIND = "unresolved_issue"
#: the confidence of "unresolved" when no agent has answered yet (no flag at the default 0.6)
NO_ANSWER_CONFIDENCE = 0.55
VERDICTS = ("resolved", "unresolved", "pending")

#: customer cues that the problem is fixed (regex, weight)
RESOLVED_CUES: list[tuple[str, float]] = [
    (r"(?:that|this|it|which) (?:has |'s )?(?:fixed|solved|sorted|resolved|did) (?:it|the (?:problem|issue|trick))", 2.0),
    (r"(?:fixed|solved|sorted|resolved) (?:it|now|the (?:problem|issue))", 1.5),
    (r"(?:it|that|everything)(?:'s| is)? (?:work(?:s|ing)|fine|ok(?:ay)?|good) (?:now|again)", 2.0),
    (r"(?:all|it's all|that's all|we're all|i'm all) (?:sorted|set|good|fixed|done)", 1.5),
    (r"(?:problem|issue) (?:is |'s |has been )?(?:solved|fixed|resolved|gone|sorted)", 2.0),
    (r"that (?:worked|helped|helps|answers my question|does it|did it)", 1.5),
    (r"(?:i can|i'm able to|i was able to) (?:log ?in|see it|access it|connect)(?: now)?", 1.2),
    (r"(?:perfect|great|brilliant|excellent|wonderful|awesome)[,!.]? (?:thank|thanks|cheers)", 1.0),
    (r"(?:that's|that is) (?:all|everything) i (?:needed|wanted)", 1.2),
    (r"(?:got it|got) (?:working|sorted|fixed)", 1.5),
    (r"i(?:'ve| have) (?:received|got) (?:it|the (?:refund|money|replacement|email|code|package))", 1.2),
    (r"(?:you've|you have) been (?:very |really |so )?helpful", 0.8),
    (r"(?:it's|it is|that's|that is|everything's|everything is|all is|it looks|that looks|looks) (?:all )?(?:fine|good|ok(?:ay)?|great|perfect|back to normal)(?: now)?", 1.2),
    (r"back to normal|(?:is|'s|are|'re) (?:back|up) (?:now|again)?|(?:much|a lot|way) better|went through", 1.2),
    (r"exactly what i (?:wanted|needed|was looking for)|(?:it|that|this) works|sorts? (?:it|that) (?:out)?", 1.2),
    (r"sort(?:ing|ed)? (?:that|it|this|everything) out|(?:has |have |finally )?(?:arrived|came through|showed up|turned up)", 1.2),
    (r"(?:isn't|is not|aren't|not|no longer|doesn't|don't) (?:\w+ ){0,2}any ?more|no more (?:errors?|problems?|issues?|drops?|crash\w*)", 1.5),
]  # fmt: skip
#: customer cues that it is not (regex, weight)
UNRESOLVED_CUES: list[tuple[str, float]] = [
    (r"still (?:not|isn't|doesn't|don't|can't|cannot|won't|no|have(?:n't)?|broken|failing|down|waiting|getting|the same|happening|nothing)", 2.0),
    (r"(?:not|isn't|doesn't|don't|didn't|won't|never) (?:work(?:s|ing)?|help(?:ed|ing)?|fix(?:ed)?|solve[sd]?|resolved?)", 1.8),
    (r"(?:same|this) (?:problem|issue|error) (?:again|still|as before)", 1.5),
    (r"(?:i'll|i will|i'd|i'm going to|i am going to|i have to|i'll have to|i'd have to|i need to) (?:call|phone|ring|write|contact you|come) (?:back|again)", 1.8),
    (r"(?:waste of (?:my )?time|useless|pointless|getting nowhere|going (?:round|around) in circles|no help at all)", 1.8),
    (r"(?:nothing|no one|nobody) (?:has )?(?:changed|fixed|helped|works)", 1.5),
    (r"(?:is|'s|was) not what i (?:asked|need|wanted)", 1.5),
    (r"(?:i'm|i am) (?:still )?(?:stuck|locked out|without (?:service|internet|power))", 1.5),
    (r"(?:no|without a) (?:solution|answer|fix|resolution)", 1.2),
    (r"(?:hasn't|has not|haven't|have not) (?:been )?(?:fixed|solved|resolved|arrived|received|come|worked)", 1.8),
    (r"(?:i'll|i will) (?:take my business|go (?:elsewhere|to a competitor)|cancel)", 1.0),
    (r"(?:crash\w*|down|broken|failing|stopped|dropping|dropped|gone|happening|frozen|freezing) again", 1.8),
    (r"still (?:\w+ ){0,4}(?:there|gone|invalid|slow|broken|down|wrong|missing|happening|an? error|the error|crash\w*|charged)", 1.8),
    (r"(?:haven't|have not|didn't|did not) (?:answer|solve|fix|help|explain|change)", 1.5),
    (r"(?:don't|do not|can't|cannot) see any (?:change|difference)", 1.5),
    (r"(?:i give up|(?:go|switch|move) to (?:another|a different|a competitor|someone else))", 1.5),
    (r"(?:i |we )?(?:can't|cannot|can not|couldn't|still can't) (?:log ?in|sign in|connect|access|get in|pay|use (?:it|the))", 1.5),
    (r"(?:it|that|this) (?:doesn't|does not|didn't|did not|isn't|won't)\s*[.!]*\s*$", 1.5),
]  # fmt: skip
#: agent commitments to act after the contact (regex, what)
COMMITMENT_CUES: list[str] = [
    r"(?:i'll|i will|we'll|we will|i'm going to|we're going to|someone will|somebody will|a colleague will|our team will|the team will|they'll|they will) (?:\w+ ){0,2}(?:call|ring|phone|get back|email|e-mail|contact|reach out|follow up|update|write|send|check back|look into)",
    r"(?:a |our |the )?(?:technician|engineer|courier|specialist|supervisor|manager|team|colleague)s? (?:will|is going to|'ll) (?:\w+ ){0,2}(?:visit|come|call|contact|be (?:there|with you)|arrive|get back|follow up|reach out)",
    r"(?:i've|i have|we've|we have) (?:escalated|raised|opened|logged|created|booked|scheduled) (?:this|it|an? (?:\w+ )?(?:ticket|case|request|investigation|trace|claim|complaint|report|visit|appointment|callback))",
    r"(?:a |the )?(?:technician|engineer|visit|appointment|callback|call-back) (?:is|has been) (?:booked|scheduled|arranged|planned)",
    r"(?:you'll|you will|you should) (?:hear (?:back )?from|get a (?:call|callback|reply|response|email) from)",
    r"(?:expect|you can expect) (?:a |an )?(?:call|callback|reply|response|email|update|visit)",
]  # fmt: skip
#: a reply that closes the matter (the customer writing last with only this is not waiting)
CLOSING_ONLY = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|great|perfect|cool|fine|brilliant|awesome|excellent|thanks?|thank you|"
    r"thx|cheers|much appreciated|appreciate it|bye|goodbye|have a (?:good|nice|great) (?:day|one)|"
    r"you too|will do|got it|understood|sounds good|all good|no|nope|that's all|that's it|nothing else|"
    r"have a (?:nice|good|great) (?:day|evening|weekend)|no thanks|no thank you)\W*)+$",
    re.I,
)
#: a last message with one of these is not read as "the customer is still waiting"
POSITIVE_WORDS = re.compile(
    r"\b(?:thank\w*|thx|cheers|great|perfect|lovely|fantastic|brilliant|awesome|star|wonderful|"
    r"excellent|appreciated?|works now|worked|better|sorted|solved|fixed)\b",
    re.I,
)
#: vendor status -> (signal, weight)
VENDOR_STATUS: dict[str, tuple[str, float]] = {
    "solved": ("resolved", 2.5), "closed": ("resolved", 2.0), "archived": ("resolved", 1.5),
    "resolved": ("resolved", 2.5), "pending": ("pending", 1.5), "hold": ("pending", 1.5),
    "on-hold": ("pending", 1.5), "snoozed": ("pending", 1.5),
    # "open" is weak: conversations are often left open after the customer is helped
    "new": ("unresolved", 0.8), "open": ("unresolved", 0.8), "assigned": ("unresolved", 0.5),
    "unassigned": ("unresolved", 0.8),
}  # fmt: skip
_RES = [(re.compile(rf"\b{p}\b", re.I), w) for p, w in RESOLVED_CUES]
_UNRES = [(re.compile(rf"\b{p}\b", re.I), w) for p, w in UNRESOLVED_CUES]
_COMMIT = [re.compile(rf"\b{p}\b", re.I) for p in COMMITMENT_CUES]


@dataclass
class ResolutionOptions:
    """`[resolution]`: the resolution verdict and its `unresolved_issue` flag."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    enabled: bool = True
    #: how many of the customer's last turns are read for closing cues
    closing_turns: int = 3
    #: an unresolved verdict raises the flag from this confidence on
    flag_min_confidence: float = 0.6
    severity: str = "medium"
    #: time zone in which "tomorrow" / "on Friday" are read (the config's timezone)
    timezone: str = "UTC"
    #: a promise with no time named is due this many days after the contact
    default_follow_up_days: float = 2.0

    def __post_init__(self) -> None:
        if self.closing_turns < 1:
            raise ValueError("resolution.closing_turns must be at least 1")
        if not 0 <= self.flag_min_confidence <= 1:
            raise ValueError("resolution.flag_min_confidence must be in [0, 1]")
        ZoneInfo(self.timezone)


@dataclass
class Resolution:
    """The verdict for one interaction (stored in `interaction_resolution`)."""

    interaction_id: int
    verdict: str
    confidence: float
    reasons: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    #: the agent's promise, when one was made
    commitment: str | None = None
    follow_up_due: datetime | None = None
    vendor_status: str | None = None

    def flag(self, options: ResolutionOptions) -> Flag | None:
        """The `unresolved_issue` flag, when the verdict is unresolved and sure enough."""
        if self.verdict != "unresolved" or self.confidence < options.flag_min_confidence:
            return None
        ev = [dict(e) for e in self.evidence[:8]] or [{"reason": "; ".join(self.reasons)}]
        ev[0]["probability"] = self.confidence
        return Flag(
            interaction_id=self.interaction_id, kind=KIND, rule="resolution",
            severity=severity_value(options.severity), score=self.confidence, evidence=ev,
            summary="issue unresolved: " + "; ".join(self.reasons[:3]),
        )


def _read_cues(
    text: str, seq: int, weight: float, out_u: list[tuple[float, dict[str, Any]]],
    out_r: list[tuple[float, dict[str, Any]]],
) -> None:  # fmt: skip
    """Add the resolved / unresolved cues of one customer turn, each read in its clause."""
    low = text.replace("\u2019", "'")
    tc: TurnClauses | None = None
    taken: list[tuple[int, int]] = []  # "that fixed it" and "fixed it" are one cue
    for cues, same, other, label in ((_RES, out_r, out_u, "resolved"), (_UNRES, out_u, out_r, "unresolved")):
        for rx, w in cues:
            for m in rx.finditer(low):
                if any(m.start() < b and a < m.end() for a, b in taken):
                    continue
                taken.append(m.span())
                tc = tc or TurnClauses(low)
                r = tc.read(m.start(), m.end(), own=m.group(0).lower().split())
                ev = {"seq": seq, "char_start": m.start(), "char_end": m.end(), "matched": text[m.start():m.end()],
                      "signal": label}  # fmt: skip
                if r.question or r.hypothetical or r.reported:
                    continue
                if r.negated:
                    if label == "resolved":  # "that didn't fix it"
                        other.append((w * weight, {**ev, "signal": "unresolved", "note": r.describe()}))
                    continue  # a negated complaint is rare and unclear: nothing
                same.append((w * weight, ev))


def _due(text: str, base: datetime | None, tz: ZoneInfo, default_days: float) -> datetime | None:
    """When a promise falls due: the first date or time in it, relative to the contact."""
    from dateparser.search import search_dates

    ref = (base or datetime.now(UTC)).astimezone(tz)
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": ref.replace(tzinfo=None),
                "TIMEZONE": str(tz), "RETURN_AS_TIMEZONE_AWARE": True}  # fmt: skip
    try:
        found = search_dates(text, languages=["en"], settings=settings) or []
    except (ValueError, OverflowError):  # dateparser rejects odd strings this way
        found = []
    for words, when in found:
        w = words.strip().lower()
        if w in ("now", "today") or len(w) <= 2 or w.isdigit():
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=tz)
        if when >= ref - timedelta(minutes=1):
            return when
    return ref + timedelta(days=default_days)


def assess(it: Interaction, options: ResolutionOptions | None = None) -> Resolution:
    """The resolution verdict of one interaction (see the module docstring)."""
    opts = options or ResolutionOptions()
    tz = ZoneInfo(opts.timezone)
    iid = it.id if it.id is not None else 0
    u: list[tuple[float, dict[str, Any]]] = []
    r: list[tuple[float, dict[str, Any]]] = []
    reasons: list[str] = []
    turns = [t for t in it.turns if t.text and t.text.strip()]
    # the customer's reactions: their turns after the agent first answered (the opening
    # complaint, "it still doesn't work since Monday", is the problem, not the outcome)
    first_agent = next((k for k, t in enumerate(turns) if t.speaker == "agent"), None)
    cust = [t for t in turns[first_agent + 1 :] if t.speaker == "customer"] if first_agent is not None else []
    closing = cust[-opts.closing_turns :]
    for k, t in enumerate(closing):
        # the last turns count most: a problem "still not working" at the start of a call
        # that ends with "that fixed it" was fixed
        _read_cues(t.text, t.seq, 1.0 + 0.5 * (k - len(closing) + 1) + 0.5, u, r)
    # a commitment in the agent's turns after the customer's first turn
    commitment, due, commit_ev = None, None, None
    for t in turns:
        if t.speaker != "agent":
            continue
        low = t.text.replace("\u2019", "'")
        for rx in _COMMIT:
            m = rx.search(low)
            if m is None:
                continue
            tc = TurnClauses(low)
            rd = tc.read(m.start(), m.end(), own=m.group(0).lower().split())
            if rd.negated or rd.question or rd.hypothetical or rd.reported:
                continue
            a, b = tc.clause_span(m.start(), m.end())
            sent_end = max(b, min(len(low), m.end() + 80))
            commitment = " ".join(t.text[a:sent_end].split())[:200]
            when_base = t.sent_at or it.started_at
            if when_base is not None and t.start is not None and t.sent_at is None:
                when_base = when_base + timedelta(seconds=t.start)
            due = _due(low[m.start():sent_end], when_base, tz, opts.default_follow_up_days)
            commit_ev = {"seq": t.seq, "char_start": m.start(), "char_end": m.end(),
                         "matched": t.text[m.start():m.end()], "signal": "commitment"}  # fmt: skip
            break
    if closing and not u and not r and POSITIVE_WORDS.search(closing[-1].text):
        # a friendly last word with no cue ("Thank you, you're awesome"): weakly fixed
        r.append((1.0, {"seq": closing[-1].seq, "signal": "resolved",
                        "reason": "the customer's last turn is positive"}))  # fmt: skip
    # the customer wrote last (text channels), with more than a thank-you
    if it.channel in ("email", "chat") and turns and turns[-1].speaker == "customer":
        last = turns[-1]
        if (any(t.speaker == "agent" for t in turns) and not CLOSING_ONLY.match(last.text.strip())
                and not POSITIVE_WORDS.search(last.text)):
            got_r = any(e.get("seq") == last.seq for _w, e in r)
            if not got_r:
                u.append((1.2, {"seq": last.seq, "signal": "unresolved",
                                "reason": "customer replied after the agent's last answer"}))  # fmt: skip
    # the vendor's status
    meta = it.metadata or {}
    status = next((str(meta[k]).lower() for k in ("ticket_status", "state", "status") if meta.get(k)), None)
    pending_vendor = False
    if status in VENDOR_STATUS:
        sig, w = VENDOR_STATUS[status]
        ev = {"signal": sig, "vendor_status": status}
        if sig == "resolved":
            r.append((w, ev))
        elif sig == "unresolved":
            u.append((w, ev))
        else:
            pending_vendor = True
            u.append((w * 0.5, ev))
    su, sr = sum(w for w, _ in u), sum(w for w, _ in r)
    if first_agent is None and not u and not r and status is None:
        # nobody answered yet (an e-mail waiting, a single text scored alone): open, but
        # nothing to judge an agent on — below any sensible flag threshold
        return Resolution(iid, "unresolved", NO_ANSWER_CONFIDENCE, ["no agent answer in the interaction"],
                          [], None, None, None)  # fmt: skip
    for _w, e in sorted(u + r, key=lambda x: -x[0])[:4]:
        reasons.append(_reason(e))
    if (commitment or pending_vendor) and not sr > su + 1.0:
        verdict = "pending"
        conf = 0.75 if commitment else 0.6
        reasons.insert(0, f"follow-up promised: '{commitment}'" if commitment else f"vendor status {status}")
    elif su > sr:
        verdict = "unresolved"
        conf = _confidence(su, sr)
    elif sr > su:
        verdict = "resolved"
        conf = _confidence(sr, su)
    else:
        verdict, conf = "resolved", 0.5
        reasons.append("no sign of an open issue")
    evidence = [e for _w, e in sorted(u + r, key=lambda x: -x[0])]
    if commit_ev:
        evidence.insert(0, commit_ev)
    return Resolution(iid, verdict, round(conf, 3), reasons, evidence[:10], commitment,
                      due if verdict == "pending" and commitment else None, status)  # fmt: skip


def _confidence(win: float, lose: float) -> float:
    """0.5 for a tie, towards 0.99 as the winning side's share and mass grow."""
    share = win / (win + lose) if win + lose else 0.5
    mass = min(1.0, win / 2.0)
    return min(0.99, 0.5 + (share - 0.5) * mass + 0.25 * mass * share)


def _reason(e: dict[str, Any]) -> str:
    if "vendor_status" in e:
        return f"vendor status '{e['vendor_status']}'"
    if "reason" in e:
        return str(e["reason"])
    extra = f" ({e['note']})" if e.get("note") else ""
    return f"customer: '{e.get('matched')}'{extra} (turn {e.get('seq')})"


def downgrade(res: Resolution, repeat_id: int, gap_hours: float | None) -> Resolution:
    """An earlier `resolved` (or `pending`) verdict after a repeat contact on the same issue:
    the customer came back, so it was not resolved."""
    gap = f" {gap_hours:.0f} h later" if gap_hours is not None else ""
    why = f"customer contacted again on the same issue{gap} (interaction {repeat_id})"
    return Resolution(
        res.interaction_id, "unresolved", max(res.confidence, 0.8), [why, *res.reasons[:3]],
        [{"signal": "unresolved", "repeat_interaction": repeat_id, "gap_hours": gap_hours, "reason": why},
         *res.evidence[:5]],
        res.commitment, None, res.vendor_status,
    )  # fmt: skip
