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
* **the agent's dead end** in its last two substantive turns ("there's nothing further I
  can do", "I'm going to transfer you", a "no" said with an apology), void when the agent
  offers or does something after it; after a strong one the customer's thanks is politeness;
* **how the contact ended**: a silent line ("hello? are you still there?"), the agent's hold
  or hand-over as the last word, the customer's last question answered only with a goodbye,
  agent replies that only apologise;
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analysis import resolution_cues as rc
from analysis.clauses import TurnClauses
from analysis.regex_prefilter import PatternFilter
from store.records import Flag, Interaction, Turn, severity_value

KIND = "unresolved_issue"
#: the confidence of "unresolved" when no agent has answered yet (no flag at the default 0.6)
NO_ANSWER_CONFIDENCE = 0.55
VERDICTS = ("resolved", "unresolved", "pending")

# the cue lists live in analysis/resolution_cues.py (re-exported: configuration docs and
# tests name them here)
RESOLVED_CUES = rc.RESOLVED_CUES
UNRESOLVED_CUES = rc.UNRESOLVED_CUES
COMMITMENT_CUES = rc.COMMITMENT_CUES
CLOSING_ONLY = rc.CLOSING_ONLY
POSITIVE_WORDS = rc.POSITIVE_WORDS
VENDOR_STATUS = rc.VENDOR_STATUS


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


#: one piece of evidence: (weight, kind, evidence); kind is "outcome" / "approval" (fixed)
#: or "open"
Cue = tuple[float, str, dict[str, Any]]


#: a refusal at least this strong makes the customer's later thanks politeness
STRONG_REFUSAL = 1.5
#: the customer's open cues after a promise that make the verdict unresolved, not pending
OPEN_AFTER_PROMISE = 3.0
#: how a customer's own follow-up ("I'll try it tonight and let you know") is described
CUSTOMER_DEFERS = "customer will try and report back: "
#: a leading "no" answers the agent's question; it does not negate the complaint after it
INTERJECTIONS = ("no", "nope", "nah")


def _words(matched: str) -> list[str]:
    """The cue's own words (a negation inside the cue is part of it, not a negation of it)."""
    return re.findall(r"[\w']+", matched.lower())


#: id(cue list) -> (the list, its literal pre-check): the cue lists are module constants
_FILTERS: dict[int, tuple[list[Any], PatternFilter]] = {}


def _live(rxs: list[Any], low: str) -> list[bool] | None:
    """Which regexes of the cue list `rxs` may match `low` (None: all may): a regex whose
    required words are absent cannot match, so skipping it changes no match
    (`analysis.regex_prefilter`); the scan of every cue regex over every turn was most of
    this stage's CPU."""
    got = _FILTERS.get(id(rxs))
    if got is None or got[0] is not rxs:
        got = _FILTERS[id(rxs)] = (rxs, PatternFilter([x[0] if isinstance(x, tuple) else x for x in rxs]))
    return got[1].live(low)


def _read_cues(text: str, seq: int, weight: float) -> list[Cue]:
    """The resolved / unresolved cues of one customer turn, each read in its clause. A
    sarcasm or resignation cue ("thanks anyway", "really solved everything") turns the
    turn's approvals into nothing: the praise is politeness or irony."""
    low = text.replace("\u2019", "'")
    tc: TurnClauses | None = None
    taken: list[tuple[int, int]] = []  # "that fixed it" and "fixed it" are one cue
    out: list[Cue] = []
    cues: list[tuple[list[tuple[re.Pattern[str], float, str]], str, list[bool] | None]] = [
        ([(rx, w, "sarcasm") for rx, w in rc.SARCASM], "unresolved", _live(rc.SARCASM, low)),
        (rc.RES, "resolved", _live(rc.RES, low)),
        ([(rx, w, "open") for rx, w in rc.UNRES], "unresolved", _live(rc.UNRES, low)),
    ]
    sarcastic = False
    for group, label, live in cues:
        for n, (rx, w, kind) in enumerate(group):
            if live is not None and not live[n]:
                continue
            for m in rx.finditer(low):
                if any(m.start() < b and a < m.end() for a, b in taken):
                    continue
                taken.append(m.span())
                tc = tc or _clauses(low)
                r = tc.read(m.start(), m.end(), own=_words(m.group(0)))
                if r.negated in INTERJECTIONS:
                    # "no, that didn't help" / ASR "nope same problem" / "no its faster now":
                    # the answer to the agent's question, not a negation of the cue
                    r = replace(r, negated=None)
                ev = {"seq": seq, "char_start": m.start(), "char_end": m.end(), "matched": text[m.start():m.end()],
                      "signal": label}  # fmt: skip
                if r.question or r.hypothetical or r.reported:
                    continue
                if kind == "sarcasm":
                    sarcastic = True
                    out.append((w * weight, "open", {**ev, "note": "politeness or sarcasm"}))
                elif r.negated:
                    if label == "resolved":  # "that didn't fix it"
                        out.append((w * weight, "open", {**ev, "signal": "unresolved", "note": r.describe()}))
                    # a negated complaint is rare and unclear: nothing
                elif kind == "approval" and sarcastic:
                    continue
                else:
                    out.append((w * weight, kind, ev))
    return _self_corrected(low, out)


#: a speaker correcting themselves mid-turn ("same as before um actually no it's faster now",
#: "it's black now oh wait it's coming on"): what follows replaces what came before
_SELF_CORRECTION = re.compile(r"\b(?:actually|oh wait|no wait|wait no|hang on|scratch that|sorry i mean|i mean)\b", re.I)


def _self_corrected(low: str, cues: list[Cue]) -> list[Cue]:
    """Drops a turn's cues that a later self-correction contradicts: a cue before the
    correction whose side (open / fixed) is the opposite of a cue after it."""
    marks = [m.start() for m in _SELF_CORRECTION.finditer(low)]
    if not marks or len(cues) < 2:
        return cues
    cut = marks[-1]
    after = {kind == "open" for _w, kind, e in cues if e["char_start"] >= cut}
    return [(w, kind, e) for w, kind, e in cues
            if not (e["char_end"] <= cut and after and (kind == "open") not in after)]  # fmt: skip


#: ASR writes no punctuation, so a whole turn reads as one clause and a cue inherits the
#: frame of an earlier one ("you said it would work after the restart it doesn't" reads as
#: reported speech, "i wouldn't say fixed it's still slow" as hypothetical). Before a new
#: subject with a finite verb a comma is put in place of the space (same length, so the
#: evidence offsets stay right), unless a condition or a report introduces it ("if it still
#: isn't working tomorrow").
_ASR_CLAUSE = re.compile(
    r"(?<!\bif)(?<!\bwhen)(?<!\bunless)(?<!\bonce)(?<!\bwhether)(?<!\bcase)(?<!\bthat)(?<!\bsay)(?<!\bthink)"
    r" (?=(?:it'?s|it|that'?s|that|this|i'?m|theyr?'?e|they|he'?s|she'?s) "
    r"(?:still|not|never|doesn'?t|didn'?t|isn'?t|won'?t|wasn'?t|hasn'?t|keeps|kept|is|was|just)\b)"
)


def _clauses(low: str) -> TurnClauses:
    """The clause reader for a turn, with clause breaks restored in unpunctuated ASR text."""
    if not re.search(r"[.!?,;:]", low):
        low = _ASR_CLAUSE.sub(",", low)
    return TurnClauses(low)


def _first_match(
    rxs: list[tuple[re.Pattern[str], float]] | list[re.Pattern[str]], text: str, negatable: bool = True
) -> tuple[re.Match[str], float, TurnClauses] | None:
    """The first cue of `rxs` in `text` that reads as an affirmative statement (not a
    question, reported speech or a hypothetical; a negation inside the cue is its own)."""
    low = text.replace("\u2019", "'")
    tc: TurnClauses | None = None
    live = _live(rxs, low)
    for n, item in enumerate(rxs):
        if live is not None and not live[n]:
            continue
        rx, w = item if isinstance(item, tuple) else (item, 1.0)
        for m in rx.finditer(low):
            tc = tc or _clauses(low)
            rd = tc.read(m.start(), m.end(), own=_words(m.group(0)))
            # a leading "no" answers the other side ("no, you'd have to appeal to them"); it does
            # not negate the cue after it
            if (rd.negated and rd.negated not in INTERJECTIONS and negatable) or rd.question or rd.hypothetical or rd.reported:
                continue
            return m, w, tc
    return None


def _refusal(turns: list[Turn], first_customer: int) -> tuple[float, dict[str, Any]] | None:
    """The agent's refusal or dead end in the last two substantive agent turns ("there's
    nothing further I can do", "our chat is now closing"; a turn that only closes — "Is there
    anything else I can help with?" — is looked past), unless the agent offers something
    after it in the same turn ("... but I can ...") or did something about it afterwards
    ("... I've applied a credit instead", "done, try it now")."""
    agent_idx = [k for k, t in enumerate(turns) if t.speaker == "agent" and k > first_customer]
    substantive = [k for k in agent_idx if not rc.AGENT_CLOSING_ONLY.match(turns[k].text.replace("\u2019", "'"))]
    for k in reversed(substantive[-2:]):
        t = turns[k]
        hit = _first_match(rc.REFUSALS, t.text)
        if hit is None:
            continue
        m, w, _tc = hit
        low = t.text.replace("\u2019", "'")
        if rc.AGENT_OFFER.search(low, m.end()) or rc.AGENT_FIX.search(low, m.end()):
            continue
        if any(rc.AGENT_FIX.search(turns[j].text.replace("\u2019", "'")) for j in agent_idx if j > k):
            continue
        return w, {"seq": t.seq, "char_start": m.start(), "char_end": m.end(), "matched": t.text[m.start():m.end()],
                   "signal": "unresolved", "reason": f"agent: '{t.text[m.start():m.end()]}' (turn {t.seq})"}  # fmt: skip
    # bad news the lists do not name, said as bad news: a "no" with an apology in the agent's
    # last real answer ("sorry, we don't have any in stock until June")
    neg = _agent_said_no(turns, first_customer)
    if neg is not None:
        k = next(i for i, t in enumerate(turns) if t.seq == neg["seq"])
        if rc.APOLOGY.search(turns[k].text.replace("\u2019", "'")):
            return STRONG_REFUSAL, {**neg, "reason": f"agent: '{neg['matched']}' with an apology (turn {neg['seq']})"}
    return None


#: an agent turn that agrees or answers, however short ("Sure!", "Yes, have a nice day")
_AGREES = re.compile(r"\b(?:sure|of course|yes|yeah|yep|absolutely|certainly|will do|no problem|you're welcome|welcome|done)\b", re.I)
#: an unpunctuated (ASR) question: a question word at the start of the turn or after a
#: discourse word ("so what am i supposed to do")
_ASR_QUESTION = re.compile(
    r"(?:^|\b(?:so|but|and|then|okay|ok|right|um|uh|well)\s+)(?:what|how|why|when|where|who|which|can you|could you|"
    r"will you|would you|is it|is there|are you|do you|does it|did you|should i|can i|what do i)\b",
    re.I,
)


#: the weight of an agent's plain "no" as the last real answer (see `_agent_said_no`)
NEGATIVE_ANSWER = 1.0
NEGATIVE_REASON = "the agent's last answer was a no, and nothing was done"


def _agent_said_no(turns: list[Turn], first_customer: int) -> dict[str, Any] | None:
    """The agent's last substantive turn answers with a negation ("no new date yet", "that's
    not coming up", "I don't know to be honest") and neither acts, offers nor brings good
    news ("no problem", "you won't be charged"), and the customer did not open with a
    question for information. Weak: it only counts when nothing else in the contact points
    either way."""
    if first_customer < 0 or rc.INFO_QUESTION.search(turns[first_customer].text.replace("\u2019", "'")):
        return None  # a "no" that answers a question for information ("is the pool open on Sunday?") settles it
    agent = [t for k, t in enumerate(turns) if t.speaker == "agent" and k > first_customer
             and not rc.AGENT_CLOSING_ONLY.match(t.text.replace("\u2019", "'").strip())]  # fmt: skip
    if not agent:
        return None
    t = agent[-1]
    low = t.text.replace("\u2019", "'")
    if rc.AGENT_FIX.search(low) or rc.AGENT_OFFER.search(low) or rc.GOOD_NEWS.search(low):
        return None
    m = rc.AGENT_NEGATION.search(low)
    if m is None:
        return None
    return {"seq": t.seq, "char_start": m.start(), "char_end": m.end(), "matched": t.text[m.start():m.end()],
            "signal": "unresolved", "reason": NEGATIVE_REASON}  # fmt: skip


def _unanswered_question(turns: list[Turn], cust: list[Turn]) -> Turn | None:
    """The customer's last real turn (not a bare thanks or goodbye) asks something, and all
    the agent said after it was a closing formula ("Is there anything else?", "Thanks for
    chatting with us!"): the question was left hanging."""
    real = [t for t in cust if not CLOSING_ONLY.match(t.text.strip())
            and not rc.CUSTOMER_DROPPED.match(t.text.replace("\u2019", "'"))]  # fmt: skip
    if not real:
        return None
    q = real[-1]
    k = next(i for i, t in enumerate(turns) if t is q)
    after = [t.text.replace("\u2019", "'") for t in turns[k + 1 :] if t.speaker == "agent"]
    if not after or not all(rc.AGENT_CLOSING_ONLY.match(a) and not _AGREES.search(a) for a in after):
        return None
    text = q.text.replace("\u2019", "'").strip()
    asks = "?" in text if re.search(r"[.!?,;:]", text) else bool(_ASR_QUESTION.search(text))
    return q if asks else None


#: "I'll try again later / tomorrow" with nothing to try: a re-contact, not a follow-up
_RETRY_LATER = re.compile(r"\btry (?:again |back )?(?:later|tomorrow|another (?:time|day)|some other time)\b", re.I)
_REPORT_BACK = re.compile(r"\b(?:let you know|call (?:you )?back|ring (?:you )?back|get back|report back|come back|see if)\b", re.I)


def _commitment(turns: list[Turn], it: Interaction, tz: ZoneInfo, default_days: float) -> tuple[str, datetime | None, dict[str, Any]] | None:  # fmt: skip
    """The agent's last commitment to act after the contact (or the customer's: "I'll try
    that tonight and let you know"), with its due date. Only the last commitment's date is
    parsed: the earlier ones are overwritten, and dateparser is most of this stage's time."""
    found: tuple[str, dict[str, Any]] | None = None
    due_args: tuple[str, datetime | None] = ("", None)
    for t in turns:
        low = t.text.replace("\u2019", "'")
        if t.speaker == "agent":
            hit = _first_match(rc.COMMIT, t.text)
            if hit is None:
                continue
            m, _w, tc = hit
            i = next(k for k, rx in enumerate(rc.COMMIT) if rx.match(low, m.start()))
            if i >= len(rc.COMMIT) - rc.SOFT_COMMITMENTS and rc.COMPLETED_ACTION.search(low):
                continue  # "I've refunded it, you'll get a confirmation": done, not owed
            who = ""
        elif t.speaker == "customer":
            # not negatable: "I'm not at home, I'll try it tonight" (ASR "ill" is no subject
            # the clause reader knows, so "not" would reach it)
            hit = _first_match(rc.DEFER, t.text, negatable=False)
            if hit is None:
                continue
            m, _w, tc = hit
            if _RETRY_LATER.search(low) and not _REPORT_BACK.search(low):
                continue  # "ill just try again later": giving up for now, no fix to report on
            who = CUSTOMER_DEFERS
        else:
            continue
        a, b = tc.clause_span(m.start(), m.end())
        sent_end = max(b, min(len(low), m.end() + 80))
        what = who + " ".join(t.text[a:sent_end].split())[:200]
        when_base = t.sent_at or it.started_at
        if when_base is not None and t.start is not None and t.sent_at is None:
            when_base = when_base + timedelta(seconds=t.start)
        due_args = (low[m.start():sent_end], when_base)
        ev = {"seq": t.seq, "char_start": m.start(), "char_end": m.end(),
              "matched": t.text[m.start():m.end()], "signal": "commitment"}  # fmt: skip
        found = (what, ev)
    if found is None:
        return None
    return found[0], _due(due_args[0], due_args[1], tz, default_days), found[1]


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
    ev_all: list[Cue] = []
    turns = [t for t in it.turns if t.text and t.text.strip()]
    # the customer's reactions: their turns after the agent first answered (the opening
    # complaint, "it still doesn't work since Monday", is the problem, not the outcome)
    first_agent = next((k for k, t in enumerate(turns) if t.speaker == "agent"), None)
    first_cust = next((k for k, t in enumerate(turns) if t.speaker == "customer"), -1)
    cust = [t for t in turns[first_agent + 1 :] if t.speaker == "customer"] if first_agent is not None else []
    closing = cust[-opts.closing_turns :]
    for k, t in enumerate(closing):
        # the last turns count most: a problem "still not working" at the start of a call
        # that ends with "that fixed it" was fixed
        ev_all += _read_cues(t.text, t.seq, 1.0 + 0.5 * (k - len(closing) + 1) + 0.5)
    # a complaint the agent then acted on ("it's still wrong" -> "I've corrected it now"):
    # the later fix answers it; only complaints after the agent's last fix still count
    fixes = [t.seq for t in turns if t.speaker == "agent" and rc.AGENT_FIX.search(t.text.replace("\u2019", "'"))
             and _first_match(rc.REFUSALS, t.text) is None]  # fmt: skip
    if fixes:
        ev_all = [(w, kind, e) for w, kind, e in ev_all if not (kind == "open" and int(e.get("seq", -1)) < fixes[-1])]
    refusal = _refusal(turns, first_cust) if first_agent is not None else None
    promise = _commitment(turns, it, tz, opts.default_follow_up_days) if first_agent is not None else None
    if (promise is not None and refusal is not None and refusal[0] >= STRONG_REFUSAL
            and promise[0].startswith(CUSTOMER_DEFERS) and promise[2]["seq"] > refusal[1]["seq"]):
        # "ok i'll try tomorrow then" after "the system is down, please try again tomorrow":
        # the customer will contact again, there is no fix of theirs to try
        promise = None
    commitment, due, commit_ev = promise if promise else (None, None, None)
    if refusal is not None:
        ev_all.append((refusal[0], "open", refusal[1]))
    if first_agent is not None and turns[-1].speaker == "agent" and commitment is None:
        last_low = turns[-1].text.replace("\u2019", "'")
        m = rc.AGENT_WAITING.search(last_low) or rc.AGENT_HOLDING.search(last_low.strip())
        if m is not None:
            ev_all.append((1.2, "open", {"seq": turns[-1].seq, "char_start": m.start(), "char_end": m.end(),
                                         "matched": turns[-1].text[m.start():m.end()], "signal": "unresolved",
                                         "reason": "the agent's last turn waits for the customer"}))  # fmt: skip
    if cust and turns[-1] is cust[-1] and rc.CUSTOMER_DROPPED.match(cust[-1].text.replace("\u2019", "'")):
        # "hello? are you still there?": the line went quiet before anything was settled
        ev_all.append((1.5, "open", {"seq": cust[-1].seq, "signal": "unresolved",
                                     "reason": "the customer was left calling into a silent line"}))  # fmt: skip
    replies = [t for t in turns[first_cust + 1 :] if t.speaker == "agent"] if first_cust >= 0 else []
    if replies and commitment is None and all(
        rc.AGENT_CLOSING_ONLY.match(t.text.replace("\u2019", "'").strip()) and not _AGREES.search(t.text) for t in replies
    ):
        # "We apologise for the inconvenience. Kind regards": the agent never said anything
        # about the problem
        ev_all.append((1.5, "open", {"seq": replies[-1].seq, "signal": "unresolved",
                                     "reason": "the agent only apologised or said goodbye"}))  # fmt: skip
    asked = _unanswered_question(turns, cust)
    if asked is not None:
        ev_all.append((1.5, "open", {"seq": asked.seq, "signal": "unresolved",
                                     "reason": f"the customer's last question (turn {asked.seq}) got only a goodbye"}))  # fmt: skip
    if closing and not ev_all and commitment is None and refusal is None and (neg := _agent_said_no(turns, first_cust)):
        # no cue anywhere, but the agent's last real answer was a "no" ("there's no express
        # option, sorry") and did nothing: open unless the customer's last word is friendly
        ev_all.append((NEGATIVE_ANSWER, "open", neg))
    if closing and POSITIVE_WORDS.search(closing[-1].text) and all(
        e.get("reason") == NEGATIVE_REASON for _w, _k, e in ev_all
    ):
        # a friendly last word with no cue ("Thank you, you're awesome"): weakly approving
        ev_all.append((1.0 + NEGATIVE_ANSWER * bool(ev_all), "approval", {"seq": closing[-1].seq, "signal": "resolved",
                                         "reason": "the customer's last turn is positive"}))  # fmt: skip
    # the customer wrote last (text channels), with more than a thank-you, or with a new
    # question ("Thanks. Also, how do I get the payment back?")
    if it.channel in ("email", "chat") and turns and turns[-1].speaker == "customer" and first_agent is not None:
        last = turns[-1]
        outcome_last = any(e.get("seq") == last.seq and kind == "outcome" for _w, kind, e in ev_all)
        asks = "?" in last.text
        if not outcome_last and not CLOSING_ONLY.match(last.text.strip()) and (
            asks or not POSITIVE_WORDS.search(last.text)
        ) and not any(e.get("seq") == last.seq and kind != "open" for _w, kind, e in ev_all):
            ev_all.append((1.2, "open", {"seq": last.seq, "signal": "unresolved",
                                         "reason": "customer replied after the agent's last answer"}))  # fmt: skip
        elif asks and not outcome_last:
            ev_all = [(w, kind, e) for w, kind, e in ev_all if not (kind == "approval" and e.get("seq") == last.seq)]
            ev_all.append((1.2, "open", {"seq": last.seq, "signal": "unresolved",
                                         "reason": "customer asked a new question after the agent's last answer"}))  # fmt: skip
    if refusal is not None and refusal[0] >= STRONG_REFUSAL:
        # thanks after a refusal is politeness, not approval ("ok thanks anyway"); after a
        # mere redirection ("you'd need to contact the courier") it may be real thanks
        ev_all = [(w, kind, e) for w, kind, e in ev_all
                  if not (kind == "approval" and int(e.get("seq", -1)) > refusal[1]["seq"])]  # fmt: skip
    su_text = sum(w for w, kind, _e in ev_all if kind == "open")
    # the vendor's status
    meta = it.metadata or {}
    status = next((str(meta[k]).lower() for k in ("ticket_status", "state", "status") if meta.get(k)), None)
    pending_vendor = False
    # the customer wrote after the agent's last answer with more than a goodbye: a desk's
    # "solved" was set before that reply (or by an automatic close) and is stale; after the
    # agent's own dead end ("I can't see why", "I don't have a date") a "closed" status only
    # says the contact ended, so it weighs half
    replied = any(e.get("reason", "").startswith("customer replied") or e.get("reason", "").startswith("customer asked")
                  for _w, _k, e in ev_all)  # fmt: skip
    cust_outcome = any(kind == "outcome" for _w, kind, _e in ev_all)
    if status in VENDOR_STATUS:
        sig, w = VENDOR_STATUS[status]
        ev = {"signal": sig, "vendor_status": status}
        if sig == "resolved" and replied and not cust_outcome:
            ev["note"] = "stale: the customer replied after it"
        elif sig == "resolved":
            if refusal is not None and refusal[0] >= STRONG_REFUSAL and not cust_outcome:
                w *= 0.5
            ev_all.append((w, "outcome", ev))
        elif sig == "unresolved":
            ev_all.append((w, "open", ev))
        else:
            # a desk's "on hold" while the customer's text says it is still open is open
            pending_vendor = su_text == 0
            ev_all.append((w * 0.5, "open", ev))
    su = sum(w for w, kind, _e in ev_all if kind == "open")
    so = sum(w for w, kind, _e in ev_all if kind == "outcome")
    sr = so + sum(w for w, kind, _e in ev_all if kind == "approval")
    if first_agent is None and not ev_all and status is None:
        # nobody answered yet (an e-mail waiting, a single text scored alone): open, but
        # nothing to judge an agent on — below any sensible flag threshold
        return Resolution(iid, "unresolved", NO_ANSWER_CONFIDENCE, ["no agent answer in the interaction"],
                          [], None, None, None)  # fmt: skip
    if first_cust == -1 and status is None and commitment is None:
        # no customer words at all (one agent sentence scored alone, a voicemail without a
        # promise): an agent's "I cannot guarantee …" is not an unresolved customer problem
        return Resolution(iid, "unresolved", NO_ANSWER_CONFIDENCE, ["no customer turn in the interaction"],
                          [], None, None, None)  # fmt: skip
    ranked = sorted(ev_all, key=lambda x: -x[0])
    reasons = [_reason(e) for _w, _k, e in ranked[:4]]
    # a promise stays pending unless the customer says the problem is already gone: thanks
    # and "that's fine" approve of the plan, they do not mean the visit has happened
    # ... and unless the customer is still clearly unhappy after it ("You haven't said
    # anything about the payment"): the promise does not cover what they asked
    after = commit_ev["seq"] if commit_ev else -1
    still_open = sum(w for w, kind, e in ev_all if kind == "open"
                     and int(e.get("seq", -1)) > after and e.get("seq") in {t.seq for t in cust})  # fmt: skip
    # only the customer's own word that it is done beats a promise: a desk marks a ticket
    # "solved" while the letter it promised is still in the post
    so_said = sum(w for w, kind, e in ev_all if kind == "outcome" and "vendor_status" not in e)
    if (commitment or pending_vendor) and not so_said > su + 1.0 and not still_open >= OPEN_AFTER_PROMISE:
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
    evidence = [e for _w, _k, e in ranked]
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
