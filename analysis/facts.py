"""Incorrect information: agent statements checked against `[[facts]]` (the knowledge base).

A fact states what is true about one subject, e.g.::

    [[facts]]
    subject = "refund processing time"
    hints = ["refund", "money back"]
    value = "5-7 business days"          # duration | money | count | yes/no | one of a set

For every agent sentence about a fact's subject — a hint word in the sentence, or (with an
encoder) a sentence whose MiniLM vector is close to the fact's description — the values of
the fact's type are read (`analysis.fact_values`) and compared as intervals. A statement
contradicts the fact when its interval does not meet the fact's (5% tolerance); then the
interaction gets an `incorrect_information` flag with the evidence
"agent said '2 days'; policy: 5-7 business days".

Ambiguity is never flagged. A value is skipped when the clause reader
(`analysis.clauses`) finds it in a question ("is it two days?"), in reported speech
("the website says two days"), in a hypothetical ("if it were two days"), or negated
without a bound word ("it doesn't take two days"); and a sentence with a hedge
("I'm not sure", "I can't say exactly", "maybe", "it depends") is skipped whole. A bound
word turns the value into a half-open interval, and a negation before it flips the bound:
"it won't take more than a week" is "at most 7 days".

Yes/no facts ("no refunds on digital goods": `value = "no"`) compare the polarity of the
sentence's hint word: affirmed ("we can refund that") or negated ("we can't refund
that"). One-of-a-set facts (`value = "UPS"`, `choices = ["UPS", "FedEx", "DHL"]`) flag a
sentence naming another choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jellyfish
import numpy as np
from rapidfuzz import fuzz

from analysis import fact_reading as fr
from analysis import fact_values as fv
from analysis.clauses import TurnClauses
from store.records import Flag, Interaction, severity_value

KIND = "incorrect_information"
VALUE_TYPES = ("auto", "duration", "money", "count", "yesno", "choice")
#: a sentence with one of these is ambiguous: it is not read as a claim
HEDGES = re.compile(
    r"\b(?:not sure|unsure|can't say|cannot say|can not say|don't know|do not know|no idea|"
    r"not certain|maybe|perhaps|might|possibly|it depends|depends on|hard to say|"
    r"can't tell|cannot tell|can't promise|cannot promise|i'd have to check|let me check|"
    r"i'll (?:have to )?check|roughly|not exactly)\b",
    re.I,
)
#: a sentence ends at . ! ? ; or a line break, not at a decimal point ("$84.99 to your Visa")
_SENTENCE_RX = re.compile(r"(?:[^.!?;\n]|(?<=\d)\.(?=\d))+[.!?;]?")
#: spoken discourse markers at the start of a sentence: not part of the claim ("let me tell
#: you, ..." would otherwise read as reported speech)
_MARKERS = re.compile(
    r"^(?:\W*(?:ok(?:ay)?|so|right|well|basically|actually|honestly|to be honest|just so you know|"
    r"let me tell you|i can tell you|i can confirm|for your information|fyi)\b[,:]?\s*)+",
    re.I,
)
#: negation anywhere in the clause of a yes/no fact's hint word ("gift codes can't be refunded")
_NEG_WORDS = re.compile(r"\b(?:not|no|never|cannot|\w+n't|non-?refundable|unable|nor)\b", re.I)
#: an "at most" statement this many times looser than the policy's maximum misstates it
LOOSE_FACTOR = 1.4
#: a stated range sharing less than this part of its width with the policy's misstates it
RANGE_SHARE = 0.25
#: a speaker correcting themselves: only what follows counts ("one year, sorry, I mean two")
CORRECTION = re.compile(
    r"\b(?:sorry|i mean|i meant|i misspoke|i misspoke|correction|let me correct (?:that|myself)|scratch that|"
    r"no wait|or rather|my mistake|my apologies|actually)\b[,:;]?",
    re.I,
)
_CORRECTION_LEAD = re.compile(r"(?:\W*\b(?:no|nope|wait|sorry|i mean|er|um|uh)\b)+\W*", re.I)
_YES = {"yes", "true", "allowed", "y"}
_NO = {"no", "false", "not allowed", "n"}


@dataclass
class FactOptions:
    """One `[[facts]]` entry: what is true about a subject."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    subject: str
    #: what the policy is, in words (also what the sentence encoder compares against)
    value: str
    description: str = ""
    #: words that mark a sentence as being about the subject (lower case, whole words)
    hints: list[str] = field(default_factory=list)
    #: "auto" reads the type from `value`
    type: str = "auto"
    #: for type "choice": every option a statement might name
    choices: list[str] = field(default_factory=list)
    #: for type "yesno": words of the claim itself ("refund", "money back"); a sentence is a
    #: claim only when it holds a hint *and* one of these ("the gift card can be used in
    #: store" names a hint but claims nothing about refunds). Empty: any hint sentence
    claims: list[str] = field(default_factory=list)
    #: words that mark the subject only together with one of `claims` (any type): "cancel"
    #: is about the cancellation fee in "cancelling costs $40", not in "cancelling the
    #: add-on saves you $10"
    weak_hints: list[str] = field(default_factory=list)
    #: phrases naming a case the fact does not cover ("after the contract ends" for an
    #: *early* cancellation fee): a sentence holding one states no value of this fact
    not_when: list[str] = field(default_factory=list)
    #: only interactions in these queues / about these products (empty = all)
    queues: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    #: for money facts without a currency in the statement
    currency: str | None = None
    #: relative tolerance when comparing intervals
    tolerance: float = 0.05
    severity: str = "high"

    def __post_init__(self) -> None:
        if self.type not in VALUE_TYPES:
            raise ValueError(f"facts: type must be one of {VALUE_TYPES}; got {self.type!r}")
        if not self.hints and not self.description:
            raise ValueError(f"facts: {self.subject!r} needs hints or a description")
        if not 0 <= self.tolerance < 1:
            raise ValueError("facts: tolerance must be in [0, 1)")
        self.resolved_type()  # validates the value

    def resolved_type(self) -> str:
        if self.type != "auto":
            return self.type
        low = self.value.strip().lower()
        if self.choices:
            return "choice"
        if low in _YES | _NO:
            return "yesno"
        norm = fv.normalise(self.value)
        if fv.durations(norm):
            return "duration"
        if fv.money(norm):
            return "money"
        if fv.counts(norm):
            return "count"
        raise ValueError(f"facts: cannot read a value from {self.value!r} for {self.subject!r}")

    def policy_values(self) -> list[fv.Value]:
        norm = fv.normalise(self.value)
        t = self.resolved_type()
        got = _values(t, norm, self.currency)
        if t in ("duration", "money", "count") and not got:
            raise ValueError(f"facts: no {t} in {self.value!r}")
        return got


def _values(t: str, norm: str, currency: str | None) -> list[fv.Value]:
    if t == "duration":
        return fv.durations(norm)
    if t == "money":
        return fv.money(norm, currency)
    if t == "count":
        return fv.counts(norm)
    return []


@dataclass(frozen=True, slots=True)
class Finding:
    """One contradiction (or, with `contradicts=False`, a checked consistent statement)."""

    fact: str
    seq: int
    sentence: str
    said: str
    policy: str
    contradicts: bool
    char_start: int
    char_end: int
    match: str  # "keyword" or "semantic"
    score: float


@dataclass
class FactsOptions:
    """`[fact_check]`: how statements are matched to facts."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    enabled: bool = True
    #: a sentence without a hint word is about a fact when its MiniLM cosine to the fact's
    #: description is at least this (None: keywords only)
    semantic_threshold: float | None = 0.55
    #: a folder of policy snippets (`*.toml` with [[facts]], `*.md` with TOML front matter)
    #: whose facts are added to `[[facts]]` (analysis/policy_snippets.py); relative to the
    #: configuration file
    policy_dir: str | None = None


def _hint_rx(hints: Sequence[str]) -> re.Pattern[str] | None:
    hs = [h.strip().lower() for h in hints if h.strip()]
    if not hs:
        return None
    # a hint of several words may have up to two words between them ("money goes back",
    # "cancellation of the contract fee" is not, but "termination admin fee" is)
    # inner words of four letters or more may be inflected too ("cancelling your order")
    parts = [
        r"(?:\s+\w+){0,2}\s+".join(_split_word(w) + (r"\w*" if len(w) >= 4 else "") for w in h.split()[:-1])
        + (r"(?:\s+\w+){0,2}\s+" if len(h.split()) > 1 else "") + _split_word(h.split()[-1]) + r"\w*"
        for h in hs
    ]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.I)


def _split_word(word: str) -> str:
    """A hint word as a pattern that also matches it split in two by ASR or typing ("re
    fund", "down load", "con tract", "e book" / "e-book" / "ebook"): one optional space
    or hyphen anywhere inside a word of five letters or more (shorter words split into
    real words too often), and around a hyphen already in it."""
    if "-" in word:
        return r"[\s-]?".join(re.escape(p) for p in word.split("-"))
    if len(word) < 5 or not word.isalpha():
        return re.escape(word)
    alts = [re.escape(word)] + [re.escape(word[:k]) + r"[\s-]" + re.escape(word[k:]) for k in range(1, len(word))]
    return "(?:" + "|".join(alts) + ")"


class FactChecker:
    """Checks agent sentences against the facts. `embed` (texts -> unit vectors) enables the
    semantic match; without it only hint words match."""

    def __init__(
        self,
        facts: Sequence[FactOptions],
        options: FactsOptions | None = None,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        self.facts = list(facts)
        self.options = options or FactsOptions()
        self.embed = embed if self.options.semantic_threshold is not None else None
        self._policy = [f.policy_values() for f in self.facts]
        self._types = [f.resolved_type() for f in self.facts]
        self._hints = [_hint_rx(f.hints) for f in self.facts]
        self._claims = [_hint_rx(f.claims) for f in self.facts]
        self._not_when = [_hint_rx(f.not_when) for f in self.facts]
        self._weak = [_hint_rx(f.weak_hints) for f in self.facts]
        # a weak hint as the object of a yes/no claim: the word itself or its plural ("app",
        # "apps", not "apply")
        self._weak_exact = [
            re.compile(r"\b(?:" + "|".join(re.escape(h.strip().lower()).replace(r"\ ", r"\s+").replace(r"\-", r"[\s-]?")
                                           for h in f.weak_hints if h.strip()) + r")s?\b")
            if any(h.strip() for h in f.weak_hints) else None  # blank words would match everything
            for f in self.facts
        ]
        self._fact_vecs: np.ndarray | None = None
        # hint and claim words long enough to be told by their sound (see `_sound_alike`)
        # (one-word hints and claims: the subject nouns, not "period" of "guarantee period")
        words = {h.lower() for f in self.facts for h in (*f.hints, *f.claims) if " " not in h.strip()}
        self._sound_words = {jellyfish.metaphone(w): w for w in sorted(words) if len(w) >= 6 and w.isalpha()}

    def _sound_alike(self, text: str) -> str:
        """`text` with ASR mishearings of a hint word put back: a word or two adjacent words
        that sound like it (same metaphone code) and are spelt close to it (rapidfuzz ratio
        >= 70 for two words, 80 for one): "warren tee" -> "warranty", "cancel asian" ->
        "cancellation", "warrenty" -> "warranty". Words spelt like a hint already, and other
        words that merely sound alike ("warned it", "refined"), stay."""
        if not self._sound_words:
            return text
        toks = list(re.finditer(r"[A-Za-z]+", text))
        out, last = [], 0
        k = 0
        while k < len(toks):
            done = False
            for n in (2, 1):
                if k + n > len(toks) or (n == 2 and text[toks[k].end() : toks[k + 1].start()] != " "):
                    continue
                if text[toks[k].start() - 1 : toks[k].start()] in ("'", "\u2019"):
                    break  # the tail of a contraction ("don't charge" is no "t charge")
                word = "".join(t.group(0) for t in toks[k : k + n]).lower()
                hint = self._sound_words.get(jellyfish.metaphone(word)) if len(word) >= 5 else None
                if hint and not word.startswith(hint[:-1]) and fuzz.ratio(word, hint) >= (70 if n == 2 else 80):
                    out += [text[last : toks[k].start()], hint]
                    last, k, done = toks[k + n - 1].end(), k + n, True
                    break
            if not done:
                k += 1
        return "".join(out) + text[last:] if out else text

    def _fvecs(self) -> np.ndarray | None:
        if self.embed is None:
            return None
        if self._fact_vecs is None:
            self._fact_vecs = np.asarray(
                self.embed([f"{f.subject}: {f.description}".strip(": ") for f in self.facts])
            )
        return self._fact_vecs

    def check(self, it: Interaction) -> list[Finding]:
        """Every checked agent statement about a fact (contradicting or not)."""
        if not self.facts or not self.options.enabled:
            return []
        applicable = [i for i, f in enumerate(self.facts) if _applies(f, it)]
        if not applicable:
            return []
        sents: list[tuple[int, int, int, str]] = []  # seq, start, end, text
        for t in it.turns:
            if t.speaker != "agent":
                continue
            for m in _SENTENCE_RX.finditer(t.text):
                s = m.group(0).strip()
                if len(s) > 3:
                    sents.append((t.seq, m.start(), m.end(), self._sound_alike(m.group(0))))
        if not sents:
            return []
        sims = None
        fvecs = self._fvecs()
        if fvecs is not None:
            # only sentences with a value of some type are worth encoding
            cand = [k for k, s in enumerate(sents) if _has_value(fv.normalise(s[3]))]
            if cand:
                vecs = np.asarray(self.embed([sents[k][3] for k in cand]))  # type: ignore[misc]
                sims = {k: vecs[j] @ fvecs.T for j, k in enumerate(cand)}
        out: list[Finding] = []
        for k, (seq, start, _end, text) in enumerate(sents):
            for i in applicable:
                rx = self._hints[i]
                hit = rx.search(text) if rx else None
                weak, claim_rx = self._weak[i], self._claims[i]
                if hit is None and weak is not None and claim_rx is not None and claim_rx.search(text):
                    hit = weak.search(text)  # "cancelling costs you $40"
                how, score = ("keyword", 0.95) if hit else ("", 0.0)
                if hit is None and rx is not None and k > 0 and sents[k - 1][0] == seq and rx.search(sents[k - 1][3]):
                    # the subject named in the sentence before, in the same turn: "the refund
                    # was approved. It will be back on your card within 24 hours."
                    how, score = "keyword (previous sentence)", 0.8
                if hit is None and sims is not None and k in sims:
                    sim = float(sims[k][i])
                    thr = self.options.semantic_threshold or 1.0
                    if sim >= thr:
                        how, score = "semantic", min(0.95, 0.6 + (sim - thr))
                if not how:
                    continue
                f = self._finding(i, seq, start, text, hit, how, score)
                if f is not None:
                    if CORRECTION.match(text.strip()) or CORRECTION.match(_MARKERS.sub("", text.strip()) or text.strip()):
                        # "Warranty is one year. Sorry, I mean two years.": the correction
                        # replaces what was said before it in the turn
                        out = [g for g in out if not (g.fact == f.fact and g.seq == seq)]
                    out.append(f)
        return out

    def _finding(
        self, i: int, seq: int, start: int, text: str, hit: re.Match[str] | None, how: str, score: float
    ) -> Finding | None:
        fact, t = self.facts[i], self._types[i]
        if HEDGES.search(text.replace("\u2019", "'")) or text.rstrip().endswith("?"):
            return None  # ambiguous, or a question: not a claim
        if fr.names_other_case(self._not_when[i], text):
            return None  # another case than the one the fact covers
        mk = _MARKERS.match(text)
        if mk and mk.end() < len(text):
            cut = mk.end()
            start, text = start + cut, text[cut:]
            if hit is not None:
                hit = self._hints[i].search(text)  # type: ignore[union-attr]
        corr = [m for m in CORRECTION.finditer(text) if m.start() > 0]
        if corr and t not in ("yesno", "choice"):
            # "one year — sorry, I misspoke, it's two years": the value after the last
            # correction is what the agent meant (the hint stays the sentence's subject)
            cut = corr[-1].end()
            # "two years, sorry, no, one year": the "no" answers the slip, it denies nothing
            lead = _CORRECTION_LEAD.match(text[cut:])
            cut += lead.end() if lead else 0
            tail = text[cut:]
            if (fv.durations(fv.normalise(tail)) if t == "duration" else _has_value(fv.normalise(tail))):
                start, text = start + cut, tail
            elif t == "duration" and re.search(r"\d", fv.normalise(tail)):
                # "three to five working days, no sorry, more like seven to ten": the
                # corrected number keeps the unit of the one it replaces
                head = fv.durations(fv.normalise(text[:cut]))
                unit = fr.unit_of(head[-1]) if head else ""
                if unit:
                    start, text = start + cut, f"{tail.rstrip(' .!')} {unit}"
        if t == "yesno":
            claim_rx = self._claims[i]
            prev = how.startswith("keyword (previous")
            if hit is None and not prev:
                return None
            if claim_rx is not None and not claim_rx.search(text):
                return None  # names the goods, claims nothing about them
            yn = fv.asr_contractions(text.lower().replace("\u2019", "'"))
            if fr.THIRD_PARTY.search(yn):
                return None  # "Apple handles refunds for App Store purchases": not our claim
            hint_rx = self._hints[i]  # None for a fact described without hint words
            hit_n = hint_rx.search(yn) if hint_rx is not None else None
            claims = list(claim_rx.finditer(yn)) if claim_rx is not None else []
            claim: re.Match[str] | None = None
            weak_exact = self._weak_exact[i]
            if hit_n is None and weak_exact is not None and claim_rx is not None:
                # goods that are often digital, named as what the claim is about ("refund the game")
                wo = fr.weak_object(yn, weak_exact, claim_rx)
                if wo is not None:
                    hit_n, claim = wo
            if hit_n is None and prev:
                # the goods named in the sentence before, taken up by a pronoun ("... refunded it")
                claim = next((c for c in claims if fr.PRONOUN_NEAR.match(yn[c.end() :])), None)
                hit_n = claim
            if hit_n is None:
                return None
            if claim is None:
                claim = min(claims, key=lambda m: abs(m.start() - hit_n.start())) if claims else hit_n
            lo_, hi_ = sorted((hit_n.start(), claim.start()))
            if fr.CONTRAST.search(yn[lo_:hi_]) or (claim.start() < hit_n.start() and re.search(r"[,;]", yn[lo_:hi_])):
                return None  # "I've refunded the headphones, but the e-book stays": other goods
            tc = TurnClauses(yn)
            rh = tc.read(hit_n.start(), hit_n.end(), own=hit_n.group(0).split())
            rc = tc.read(claim.start(), claim.end(), own=claim.group(0).split())
            if rh.question or rh.reported or rc.question or rc.reported or rc.hypothetical:
                return None
            said_yes = not fr.claim_negated(yn, claim.start(), claim.end())
            corr = [m for m in CORRECTION.finditer(yn) if m.start() >= claim.end()]
            if corr:
                # "I can't refund the download ... actually, I'll do it this once": what
                # follows the last correction is what the agent meant
                tail_at = corr[-1].end()
                later = [c for c in claims if c.start() >= tail_at]
                if later:
                    said_yes = not fr.claim_negated(yn, later[0].start(), later[0].end())
                elif not said_yes and fr.DO_IT.search(yn[tail_at:]):
                    said_yes = True
            truth_yes = fact.value.strip().lower() in _YES
            span = hit.span() if hit is not None else None
            return self._make(fact, seq, start, text, text.strip(), said_yes != truth_yes, how, score, span)
        if t == "choice":
            truth = {c.strip().lower() for c in re.split(r"[,/]| or ", fact.value) if c.strip()}
            low = text.lower()
            named = [c for c in fact.choices if re.search(rf"\b{re.escape(c.lower())}\b", low)]
            if not named:
                return None
            tc = TurnClauses(text)
            for c in named:
                p = low.index(c.lower())
                r = tc.read(p, p + len(c), own=c.lower().split())
                if r.negated or r.question or r.reported or r.hypothetical:
                    continue
                wrong = c.lower() not in truth
                return self._make(fact, seq, start, text, c, wrong, how, score, (p, p + len(c)))
            return None
        norm = fv.normalise(text)
        cur = fact.currency or _policy_currency(self._policy[i])
        hrx = self._hints[i]
        if (hrx is None or not hrx.search(norm)) and self._weak[i] is not None:
            hrx = self._weak[i]  # matched by a weak hint and a claim word
        hn = hrx.search(norm) if hrx is not None else None
        if hn is not None and fr.MODIFIER_AFTER.match(norm[hn.end():]):
            return None  # "your warranty claim will be processed in 10 days": the claim's time
        policy = self._policy[i]
        tc = TurnClauses(norm)
        status_use = hn is not None and bool(fr.STATUS_USE.search(norm[: hn.start()]))
        if t == "duration" and hn is not None:
            age = fr.age_claim(norm, hn) or fr.no_period(norm, hn)
            if age is not None:
                # "bought it 14 months ago, so it's out of warranty": the period is under 14 months
                wrong = not any(age.meets(p, fact.tolerance) for p in policy)
                return self._make(fact, seq, start, text, age.text, wrong, how, score, None)
        vals = _values(t, norm, cur)
        if not vals and t == "money" and cur:
            vals = _bare_amounts(norm, cur)
        if not vals:
            return None
        hint_clause = tc.clause_span(hn.start(), hn.end()) if hn is not None else None
        if hint_clause is not None and len(vals) > 1:
            # several quantities: the one in the hint's clause is what the sentence says
            # about the subject ("it's 2 years on the warranty, and delivery takes 3 days")
            a, b = hint_clause
            vals = sorted(vals, key=lambda v: not (a <= v.start < b or a < v.end <= b))
        readings: list[tuple[fv.Value, bool]] = []
        for v in vals:
            # a negation inside the value is its own ("won't be charged" = 0)
            r = tc.read(v.start, v.end, own=re.findall(r"[\w']+", norm[v.start:v.end]))
            if r.question or r.reported or (r.hypothetical and not fr.main_after_condition(norm, v.start)):
                continue
            if r.negated and not (fv.has_bound(norm, v.start, v.end) or (v.dim not in ("duration", "count") and v.low == 0.0)):
                continue  # "it doesn't take two days", "never instant": not a claim of a value
            if fr.other_subject(norm, v, hint_clause, hn is not None and hn.start() < v.start):
                continue
            if hrx is not None and fr.nearer_other_thing(norm, v, hrx):
                continue
            if status_use and not fr.PERIOD_BEFORE.search(norm[: v.start]):
                continue  # "repairs under warranty take a week": the repair's time, not the period
            if v.dim == "duration" and (fr.LEFT_AFTER.match(norm[v.end :]) or fr.LEFT_BEFORE.search(norm[: v.start])):
                # "six months left on the warranty": what remains, so the period is at least that
                v = fv.Value(v.dim, v.low, float("inf"), f"{v.text} left", v.start, v.end)
            contradicts = not any(fr.meets(v, p, fact.tolerance) for p in policy)
            ranges = [p for p in policy if p.dim == v.dim and 0.0 < p.low < p.high < float("inf")]
            if not contradicts and 0.0 < v.low < v.high < float("inf") and ranges:
                # a stated range that only touches the policy's range ("one to two weeks"
                # against 3-5 business days = 4.2-7 days) mostly misstates it
                shared = max(max(0.0, min(v.high, p.high) - max(v.low, p.low)) for p in ranges)
                contradicts = shared < RANGE_SHARE * (v.high - v.low)
            if not contradicts and v.low == 0.0 and v.high != float("inf") and policy:
                # "up to a month" against 3-5 business days: true but a gross misstatement
                contradicts = v.high > LOOSE_FACTOR * max(p.high for p in policy)
            readings.append((v, contradicts))
        if not readings:
            return None
        # several readable values where one agrees: stages of one process ("we processed it
        # within 24 hours ..., it should now take 3-5 business days to reach you")
        v, contradicts = next(((v, c) for v, c in readings if not c), readings[0])
        return self._make(fact, seq, start, text, v.text, contradicts, how, score, None)

    def _make(
        self, fact: FactOptions, seq: int, start: int, text: str, said: str, contradicts: bool,
        how: str, score: float, span: tuple[int, int] | None,
    ) -> Finding:  # fmt: skip
        a, b = (start + span[0], start + span[1]) if span else (start, start + len(text))
        return Finding(fact.subject, seq, text.strip(), said, fact.value, contradicts, a, b, how, score)

    def flags(self, interaction_id: int, it: Interaction, findings: Sequence[Finding] | None = None) -> list[Flag]:
        """One `incorrect_information` flag per contradicted fact."""
        found = self.check(it) if findings is None else findings
        by_fact: dict[str, list[Finding]] = {}
        for f in found:
            if f.contradicts:
                by_fact.setdefault(f.fact, []).append(f)
        sev = {f.subject: f.severity for f in self.facts}
        out = []
        for subject, fs in by_fact.items():
            first = fs[0]
            evidence: list[dict[str, Any]] = [
                {"seq": f.seq, "char_start": f.char_start, "char_end": f.char_end,
                 "matched": f.sentence[:200], "said": f.said, "policy": f.policy, "fact": f.fact,
                 "match": f.match, "score": round(f.score * 100, 1)}
                for f in fs[:5]
            ]  # fmt: skip
            out.append(Flag(
                interaction_id=interaction_id, kind=KIND, rule=f"fact:{subject}",
                severity=severity_value(sev.get(subject, "high")), score=round(first.score, 3),
                evidence=evidence,
                summary=f"agent said '{first.said}'; policy: {first.policy} ({subject}, turn {first.seq})",
            ))  # fmt: skip
        return out


def _policy_currency(vals: Sequence[fv.Value]) -> str | None:
    return next((v.dim for v in vals if v.dim not in ("duration", "count")), None)


#: a bare number stated as the amount ("the cancellation charge is 10", ASR dropping the
#: currency word): after a verb of costing, in a money fact's sentence
_BARE_AMOUNT = re.compile(
    r"\b(?:is|are|of|costs?|charges?|pay|be|at)\s+((?:\w+\s+){0,2})(\d+(?:[.,]\d+)?)\b"
    r"(?!\s*(?:%|percent|days?|weeks?|months?|years?|hours?|minutes?|business|working|calendar))"
)


def _bare_amounts(norm: str, currency: str) -> list[fv.Value]:
    """Bare numbers read as amounts in the fact's currency (see `_BARE_AMOUNT`)."""
    out = []
    for m in _BARE_AMOUNT.finditer(norm):
        v = float(m.group(2).replace(",", "."))
        lo, hi, _at = fv.apply_bound(v, v, norm, m.start(2))
        out.append(fv.Value(currency, lo, hi, norm[m.start(1) if m.group(1) else m.start(2) : m.end(2)].strip(),
                            m.start(2), m.end(2)))  # fmt: skip
    return out


def _has_value(norm: str) -> bool:
    return bool(fv.durations(norm) or fv.money(norm) or fv.counts(norm))


def _applies(f: FactOptions, it: Interaction) -> bool:
    if f.queues and (it.queue or "").lower() not in {q.lower() for q in f.queues}:
        return False
    if f.products:
        prod = str((it.metadata or {}).get("product") or "").lower()
        subj = (it.subject or "").lower()
        if not any(p.lower() in prod or p.lower() in subj for p in f.products):
            return False
    return True
