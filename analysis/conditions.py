"""Rule conditions and how they evaluate on one interaction (split from analysis.rules).

`analysis.rules` parses a rule's TOML `when` table into these objects (`compile_condition`)
and runs them (`RuleEngine`); this module holds what they do: the per-interaction context
(tokenised turns, times, vectors, clause readings, all prepared once), the text conditions
(phrase / near / semantic: ASR-tolerant matching, then the clause reading of
`analysis.clauses` through a `ClausePolicy`), metric and attribute conditions, and the
all / any / not combinators. Every outcome carries its evidence and the matches that did not
count, with the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.clauses import Reading, TurnClauses
from analysis.matching import (
    CompiledPhrase,
    Match,
    NearSide,
    PhraseSet,
    TurnText,
    near_alternatives,
    near_pairs,
    phrase_candidates,
)
from analysis.phrase_text import normalise
from store.records import Interaction

if TYPE_CHECKING:
    from analysis.phrase_index import ExactIndex


@lru_cache(maxsize=512)
def shared_phrase_set(phrases: tuple[str, ...], fuzzy: float, phonetic: bool) -> PhraseSet:
    """One `PhraseSet` per (phrases, fuzzy, phonetic), shared by every rule set that lists it.

    Why: a `PhraseSet` is fixed once made (its phrases, their compiled forms and indexes), and
    every engine built from the same rules (the analyzer, `convoscope score`, each test's own
    engine) built them again; the shipped families hold ~190,000 expanded phrases, more than
    `compile_phrase`'s cache keeps, so each engine after the first paid the whole compile
    again (~6 s of CPU here). Shared, it pays it once per process."""
    return PhraseSet(phrases, fuzzy=fuzzy, phonetic=phonetic)

log = logging.getLogger(__name__)
#: heads whose `context` could not read the turn vectors, warned about once per process
_CONTEXT_WARNED: set[str] = set()

#: turns longer than this are also compared sentence by sentence in semantic conditions
LONG_TURN_CHARS = 300
MAX_SENTENCES = 40
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
#: matches of one condition tried per turn before giving up on it (each may not count)
MAX_CANDIDATES_PER_TURN = 6
#: matches that did not count, kept per condition as evidence of why
MAX_NOT_COUNTED = 5

# -- evaluation context -------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    ok: bool
    evidence: list[dict[str, Any]]
    score: float | None = None
    #: matches found but not counted (negated, a question, ...), each with `why`
    not_counted: list[dict[str, Any]] = field(default_factory=list)


class RuleContext:
    """One interaction prepared once for all rules: tokenised turns, times, metric values."""

    def __init__(
        self,
        interaction: Interaction,
        values: Mapping[str, Any],
        turn_vectors: np.ndarray | None = None,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
        exact: ExactIndex | None = None,
    ) -> None:
        self.interaction = interaction
        self.turns = [TurnText(t) for t in interaction.turns]
        #: the rule set's exact-layer index (`analysis.phrase_index`), for `PhraseSet.live`
        self.exact = exact
        self.values = values
        self._vectors = turn_vectors
        self._embed = embed
        self._sentences: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}
        self._clauses: dict[int, TurnClauses] = {}
        self._words: dict[int, Any] = {}
        #: (speaker, within_seconds, within_turns) -> the turns in that scope (`_Scope.turns`)
        self.scoped: dict[tuple[str, float | None, int | None], list[int]] = {}
        first: datetime | None = min(
            (t.sent_at for t in interaction.turns if t.sent_at), default=None
        )
        self.offsets: list[float | None] = []
        for t in interaction.turns:
            if t.start is not None:
                self.offsets.append(t.start)
            elif t.sent_at is not None and first is not None:
                self.offsets.append((t.sent_at - first).total_seconds())
            else:
                self.offsets.append(None)

    def turn_words(self, i: int) -> Any:
        """Turn i's words for the classifier heads (`analysis.rule_classifier.TurnWords`): on
        first use, tokenised once for every head that reads the turn; its hashed features
        only when a head's vector part leaves them able to decide."""
        if i not in self._words:
            from analysis.rule_classifier import TurnWords  # (it imports this module)

            self._words[i] = TurnWords(self.interaction.turns[i].text)
        return self._words[i]

    def clauses(self, i: int) -> TurnClauses:
        """Turn i tokenised for clause reading (on first use: most turns never need it)."""
        tc = self._clauses.get(i)
        if tc is None:
            tc = self._clauses[i] = TurnClauses(self.interaction.turns[i].text)
        return tc

    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            if self._embed is None:
                raise RuntimeError("a semantic rule needs an embedding function")
            self._vectors = self._embed([t.text for t in self.interaction.turns])
        return self._vectors

    def can_embed(self) -> bool:
        """An embedding function is at hand (for text other than the whole turns)."""
        return self._embed is not None

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts` with the turns' embedding function (`can_embed` first)."""
        if self._embed is None:
            raise RuntimeError("a semantic rule needs an embedding function")
        return self._embed(list(texts))

    def sentences(self, i: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Sentence spans of a long turn and their vectors (encoded once, on first use).

        A whole e-mail as one vector blurs a single sentence that matters ("I want to speak
        to a manager"), so semantic conditions compare long turns sentence by sentence.
        """
        if i not in self._sentences:
            text = self.interaction.turns[i].text
            spans = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group(0).strip()]
            spans = spans[:MAX_SENTENCES] or [(0, len(text))]
            if self._embed is None:
                raise RuntimeError("a semantic rule needs an embedding function")
            self._sentences[i] = (spans, self._embed([text[a:b] for a, b in spans]))
        return self._sentences[i]


# -- conditions ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Scope:
    speaker: str = "any"
    within_seconds: float | None = None
    within_turns: int | None = None

    def turns(self, ctx: RuleContext) -> list[int]:
        """The turns in scope (computed once per interaction and scope: ~50 conditions of
        the shipped rules share a handful of scopes). Callers must not change the list."""
        key = (self.speaker, self.within_seconds, self.within_turns)
        got = ctx.scoped.get(key)
        if got is None:
            got = ctx.scoped[key] = self._turns(ctx)
        return got

    def _turns(self, ctx: RuleContext) -> list[int]:
        out = []
        for i, tt in enumerate(ctx.turns):
            if self.within_turns is not None and i >= self.within_turns:
                break
            if self.speaker != "any" and tt.turn.speaker != self.speaker:
                continue
            off = ctx.offsets[i]
            if self.within_seconds is not None and off is not None and off > self.within_seconds:
                continue
            out.append(i)
        return out

    def describe(self) -> str:
        parts = []
        if self.speaker != "any":
            parts.append(f"by {self.speaker}")
        if self.within_seconds is not None:
            parts.append(f"in the first {self.within_seconds:g} s")
        if self.within_turns is not None:
            parts.append(f"in the first {self.within_turns} turns")
        return " ".join(parts)


class Condition:
    negate: bool = False

    def evaluate(self, ctx: RuleContext) -> Outcome:
        out = self._evaluate(ctx)
        if not self.negate:
            return out
        return _negated(out, self.describe())

    def _evaluate(self, ctx: RuleContext) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def uses_semantic(self) -> bool:
        return False


def _negated(out: Outcome, what: str) -> Outcome:
    if out.ok:
        return Outcome(False, [])
    absent: dict[str, Any] = {"absent": what}
    if out.not_counted:  # "the disclosure was said, but negated": say so on the flag
        absent["not_counted"] = out.not_counted[:MAX_NOT_COUNTED]
    return Outcome(True, [absent])


@dataclass(frozen=True, slots=True)
class ClausePolicy:
    """Which readings of a text match count (the `negated` / `in_*` keys of a condition).

    `negated`: False (default) counts affirmative matches only ("I guarantee it", not
    "I can't guarantee it"), True only negated ones (to look for "I won't help you"), None
    (`negated = "any"`) either. `in_questions` / `in_reported` / `in_hypotheticals`: True
    counts a match inside a question, someone else's reported words, or a supposition too
    (default False: "did you say it's guaranteed?" is not a promise). A required disclosure
    sets all three: "did you know this call is recorded?" still discloses it.
    `in_hypotheticals = "conditional"` counts a match under a plain condition ("unless you
    object this call will be recorded") but not one the speaker does not assert at all: a
    counterfactual ("if this call were recorded you'd have heard a message"), a wish or an
    embedded question ("you asked whether we record calls"; `Reading.irrealis`).
    """

    negated: bool | None = False
    in_questions: bool = False
    in_reported: bool = False
    in_hypotheticals: bool | str = False

    def judge(self, r: Reading) -> tuple[bool, str]:
        """(counts?, why) for one reading, the why naming the cue."""
        if self.negated is True and not r.negated:
            return False, "not negated (the rule looks for negated forms)"
        if self.negated is False and r.negated:
            return False, f"negated by '{r.negated}'"
        hyp_ok = self.in_hypotheticals is True or (self.in_hypotheticals == "conditional" and not r.irrealis)
        for cue, allowed, what in (
            (r.question, self.in_questions, "in a question"),
            (r.reported, self.in_reported, "reported speech"),
            (r.hypothetical, hyp_ok, "hypothetical" if self.in_hypotheticals is False or not r.irrealis
             else "not asserted"),
        ):
            if cue and not allowed:
                return False, f"{what} ('{cue}')"
        return (
            True,
            r.describe()
            if r.negated or r.question or r.reported or r.hypothetical
            else "affirmative",
        )

    @property
    def reads_clauses(self) -> bool:
        """False when every reading counts (`negated = "any"` and all `in_*` true)."""
        return not (
            self.negated is None
            and self.in_questions
            and self.in_reported
            and self.in_hypotheticals is True
        )


def _evidence(ctx: RuleContext, i: int, m: Match, label: str) -> dict[str, Any]:
    tt = ctx.turns[i]
    return {
        "seq": tt.turn.seq,
        "speaker": tt.turn.speaker,
        "char_start": m.start,
        "char_end": m.end,
        "matched": tt.turn.text[m.start : m.end],
        "start": tt.time_at(m.start),
        "end": tt.time_at(m.end),
        "how": m.how,
        "score": m.score,
        "condition": label,
    }


def _not_counted(ctx: RuleContext, i: int, m: Match, why: str) -> dict[str, Any]:
    """A match that did not count: enough to show it and why (no `char_start`, so the TUI
    does not highlight it as flagged)."""
    tt = ctx.turns[i]
    return {"seq": tt.turn.seq, "speaker": tt.turn.speaker, "matched": tt.turn.text[m.start : m.end],
            "how": m.how, "why": why}  # fmt: skip


class _TextCondition(Condition):
    scope: _Scope
    policy: ClausePolicy

    def _candidates(self, ctx: RuleContext, i: int) -> Iterator[tuple[Match, frozenset[str]]]:
        """Matches in turn i, best first, each with the pattern's own words."""
        raise NotImplementedError  # pragma: no cover - abstract

    #: `except = [...]`: a match inside one of these phrases is a look-alike and does not count
    excepts: PhraseSet | None = None
    #: `context = "<head>"`: a match counts only in a turn the learned head reads as the flag's
    #: (probability >= `context_threshold`): (head name, its `HeadScorer` — the scoring code
    #: of `classifier` conditions —, threshold)
    context: tuple[str, Any, float] | None = None

    def uses_semantic(self) -> bool:
        return self.context is not None  # the context head reads the turn vectors

    def _context(self, ctx: RuleContext, i: int) -> tuple[bool, str]:
        """Does turn i read as the head's flag? A short form such as "cancel it." is churn
        after a complaint and not after "the parcel is late": the head, reading the whole
        turn, tells them apart where a phrase cannot. With another embedding model (another
        width) the head cannot read the vectors and the match does not count."""
        assert self.context is not None
        name, scorer, thr = self.context
        vec = ctx.vectors()[i]
        if vec.shape != scorer.weights.shape:
            if name not in _CONTEXT_WARNED:
                _CONTEXT_WARNED.add(name)
                log.warning("rules: the %s head reads %d-dimensional turn vectors, these have %d: phrases "
                            "with context = %r never count with this embedding model", name,
                            scorer.weights.shape[0], vec.shape[0], name)  # fmt: skip
            return False, f"context: the {name} head cannot read these vectors"
        # the exact probability (no threshold: evidence prints it), by the classifier's code
        p = float(scorer.probs([ctx.interaction.turns[i].text], vec[None, :], lambda _k: ctx.turn_words(i))[0])
        if p >= thr:
            return True, f"in context ({name} head {p:.2f} >= {thr:g})"
        return False, f"out of context ({name} head {p:.2f} < {thr:g})"

    def _look_alike(self, ctx: RuleContext, i: int, m: Match, cache: dict[int, list[tuple[int, int, str]]]) -> str | None:
        """The `except` phrase this match lies in ("cancel my order" for "cancel"), or None."""
        if self.excepts is None:
            return None
        if i not in cache:
            cache[i] = self.excepts.spans(ctx.turns[i], ctx.exact)
        return next((p for a, b, p in cache[i] if a < m.end and m.start < b), None)

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        ev: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        cache: dict[int, list[tuple[int, int, str]]] = {}
        for i in self.scope.turns(ctx):
            for n, (m, own) in enumerate(self._candidates(ctx, i)):
                if n >= MAX_CANDIDATES_PER_TURN:
                    break
                if not self.policy.reads_clauses:
                    ok, why = True, "counted in any clause"
                else:
                    ok, why = self.policy.judge(ctx.clauses(i).read(m.start, m.end, own))
                if ok:  # the clause reading's reason first; then: is it a listed look-alike?
                    alike = self._look_alike(ctx, i, m, cache)
                    if alike is not None:
                        ok, why = False, f"look-alike ('{alike}')"
                if ok and self.context is not None:
                    ok, said = self._context(ctx, i)
                    why = f"{why}, {said}" if ok else said
                if ok:
                    e = _evidence(ctx, i, m, self.describe())
                    e["counted"], e["clause"] = True, why
                    ev.append(e)
                    break
                if len(skipped) < MAX_NOT_COUNTED:
                    skipped.append(_not_counted(ctx, i, m, why))
        best = max((e["score"] for e in ev), default=None)
        return Outcome(bool(ev), ev, best, skipped)


class PhraseCondition(_TextCondition):
    def __init__(self, phrases: list[str], scope: _Scope, fuzzy: float, phonetic: bool,
                 policy: ClausePolicy = ClausePolicy()) -> None:  # fmt: skip
        self.phrases, self.scope, self.fuzzy, self.phonetic = phrases, scope, fuzzy, phonetic
        self.policy = policy
        self.set = shared_phrase_set(tuple(phrases), fuzzy, phonetic)  # once, not per turn

    @property
    def compiled(self) -> list[CompiledPhrase]:
        """The compiled phrases (built on first use: see `PhraseSet`)."""
        return self.set.compiled

    @cached_property
    def own(self) -> list[frozenset[str]]:
        """Each phrase's own words, for the clause reader (which must not read them as cues)."""
        return [cp.wordset for cp in self.set.compiled]

    def _candidates(self, ctx: RuleContext, i: int) -> Iterator[tuple[Match, frozenset[str]]]:
        """The best first match over all phrases (as before clause reading), then the rest.

        Only the phrases the one-pass prefilter lets through are searched (`PhraseSet.live`).
        """
        tt = ctx.turns[i]
        live = self.set.live(tt, ctx.exact)
        if not live:
            return
        gens = {
            k: phrase_candidates(tt, self.compiled[k], fuzzy=self.fuzzy, phonetic=self.phonetic)
            for k in live
        }
        heads: list[tuple[Match, int]] = []
        started = 0
        for n, k in enumerate(live):
            started = n + 1
            m = next(gens[k], None)
            if m is not None:
                heads.append((m, k))
                if m.score >= 100 and m.how == "exact":
                    break
        heads.sort(key=lambda h: (-h[0].score, h[0].start))
        for m, k in heads:
            yield m, self.own[k]
        for _m, k in heads:
            for later in gens[k]:
                yield later, self.own[k]
        for k in live[started:]:  # phrases not tried because an exact match came first
            for later in gens[k]:
                yield later, self.own[k]

    def describe(self) -> str:
        said = " / ".join(f'"{p}"' for p in self.phrases)
        return f"{said} {self.scope.describe()}".strip()


class NearCondition(_TextCondition):
    """Two words (or two lists of alternatives, each one or more words) within `distance`
    words of each other: "speak" near "your manager", in either order."""

    def __init__(self, first: str | list[str], second: str | list[str], distance: int, scope: _Scope,
                 fuzzy: float, policy: ClausePolicy = ClausePolicy()) -> None:  # fmt: skip
        self.first, self.second, self.distance, self.scope, self.fuzzy = (
            first,
            second,
            distance,
            scope,
            fuzzy,
        )
        self.policy = policy
        self._a, self._b = NearSide(first), NearSide(second)
        self.own = frozenset(w for alt in (*self._a.alts, *self._b.alts) for w in alt)

    def _candidates(self, ctx: RuleContext, i: int) -> Iterator[tuple[Match, frozenset[str]]]:
        """Pairs, closest first, each with the words its two sides matched (the pattern's
        own words for the clause reader)."""
        tt = ctx.turns[i]
        alts = near_alternatives(tt, self._a, self._b, fuzzy=self.fuzzy)
        if alts is not None:
            yield from near_pairs(tt, *alts, distance=self.distance, fuzzy=self.fuzzy)

    def describe(self) -> str:
        def side(x: str | list[str]) -> str:
            if isinstance(x, str):
                return f'"{x}"'
            return " / ".join(f'"{w}"' for w in x[:4]) + (f" (+{len(x) - 4})" if len(x) > 4 else "")

        return f"{side(self.first)} within {self.distance} words of {side(self.second)} {self.scope.describe()}".strip()


_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "be",
        "been",
        "being",
        "to",
        "of",
        "for",
        "and",
        "or",
        "this",
        "that",
        "it",
        "my",
        "your",
        "our",
        "we",
        "i",
        "you",
    ]
)


class SemanticCondition(Condition):
    def __init__(self, texts: list[str], threshold: float, scope: _Scope,
                 policy: ClausePolicy = ClausePolicy()) -> None:  # fmt: skip
        self.texts, self.threshold, self.scope, self.policy = texts, threshold, scope, policy
        self.vectors: np.ndarray | None = None  # set by the engine (encoded once)
        #: `except = [...]`: a similar turn (or sentence) holding one of these is a look-alike
        self.excepts: PhraseSet | None = None
        self.own = frozenset(w for t in texts for w in normalise(t).split())
        self._content = self.own - _STOP

    def uses_semantic(self) -> bool:
        return True

    def _anchor(self, tc: TurnClauses, span: tuple[int, int]) -> tuple[int, int]:
        """The clause of the span that shares most content words with the rule's texts: a
        similar sentence is read where its meaning sits ("Hi, just so you know, this call is
        not recorded" is judged on "this call is not recorded")."""
        best, best_n = span, 0
        for a, b in tc.clauses():
            if a < span[0] or b > span[1]:
                continue
            n = len(set(normalise(tc.text[a:b]).split()) & self._content)
            if n > best_n:
                best, best_n = (a, b), n
        return best

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        idx = self.scope.turns(ctx)
        if not idx or self.vectors is None:
            return Outcome(False, [])
        sims = ctx.vectors()[idx] @ self.vectors.T
        ev, skipped = [], []
        for row, i in enumerate(idx):
            tt = ctx.turns[i]
            span = (0, len(tt.turn.text))
            s = float(sims[row].max())
            if len(tt.turn.text) > LONG_TURN_CHARS:
                spans, vecs = ctx.sentences(i)
                per_sentence = (vecs @ self.vectors.T).max(axis=1)
                best = int(per_sentence.argmax())
                if float(per_sentence[best]) > s:
                    s, span = float(per_sentence[best]), spans[best]
            if s >= self.threshold:
                m = Match(span[0], span[1], round(100 * s, 1), "semantic")
                ok, why = True, "counted in any clause"
                if self.policy.reads_clauses:
                    tc = ctx.clauses(i)
                    a, b = self._anchor(tc, span)
                    ok, why = self.policy.judge(tc.read(a, b, self.own))
                if ok and self.excepts is not None:
                    # the whole similar turn or sentence, not its anchor clause: the look-alike
                    # often sits outside it ("do you want a recording of | this call sent to you")
                    alike = next(
                        (p for a, b, p in self.excepts.spans(tt) if a < span[1] and span[0] < b),
                        None,
                    )
                    if alike is not None:
                        ok, why = False, f"look-alike ('{alike}')"
                if ok:
                    e = _evidence(ctx, i, m, self.describe())
                    e["counted"], e["clause"] = True, why
                    ev.append(e)
                elif len(skipped) < MAX_NOT_COUNTED:
                    skipped.append(_not_counted(ctx, i, m, why))
        return Outcome(bool(ev), ev, max((e["score"] for e in ev), default=None), skipped)

    def describe(self) -> str:
        return f'meaning like "{self.texts[0]}" (>= {self.threshold:g}) {self.scope.describe()}'.strip()
