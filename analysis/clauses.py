"""How a rule match reads in its clause: negated, a question, reported speech, hypothetical.

A phrase found in a turn is not yet a verdict: "I cannot guarantee that" holds the word
"guarantee", "did you say it's guaranteed?" asks, "my manager told me to speak to you" reports
someone else, "if you cancel, you lose the discount" supposes. `read()` judges one match in
its clause and names the cue it relied on, so a flag's evidence can say
"negated by 'cannot'".

Why cue-and-scope rules (NegEx-style) and not a parser: no spaCy English pipeline, no
negspacy model and no NLTK data can be installed offline here (checked on PyPI), and turns
are often ASR text without punctuation, where a parser trained on written text does poorly
anyway. The rules below are a small, documented grammar of spoken service English:

* **Sentences** end at . ! ? ; or a line break; **clauses** also at , : — and at clause
  conjunctions (`TERMINATORS`: "but", "although", "because", ...; "and" / "or" / "so"
  only when a new subject follows: "... and I'm cancelling").
* **Negation** (`NEGATION_CUES`, incl. refusal and inability: "can't", "not allowed to",
  "unable to", "no need to") scopes forward over at most `NEG_WINDOW` words in the same
  clause. A new subject ("I", "we", ...) ends the scope, unless the cue governs a verb of
  saying or thinking ("I don't think I'll cancel", "I never said I wanted to cancel").
  Pseudo-negations ("no problem", "don't worry", "not only", "can't wait") are not cues, nor
  is an interjection "no" ("no, I want to cancel" / ASR "no I want to cancel"). A cue inside
  the matched span counts when it is not a word of the pattern itself (a fuzzy match of
  "this call is recorded" on "this call is not recorded" is negated by "not").
* **Questions**: the clause ends with "?", or starts with an inverted auxiliary or a
  wh-word ("did you", "is it", "why") in a sentence that ends with "?" or has no final
  punctuation (ASR). Requests phrased as questions ("can I speak to a manager?", "could
  you cancel it?", "how do I close my account?", "is it possible to ...") are not questions.
* **Reported speech**: a reporting verb ("said", "told", "says", "wants me to",
  "according to", "was told") earlier in the sentence whose subject is not the speaker
  ("my manager told me to speak to you", "you said you'd cancel it"; but "I told you I want
  a manager" is the speaker's own), or a match inside double quotes.
* **Hypotheticals**: a conditional or irrealis cue ("if", "unless", "whether", "suppose",
  "even if", "I wish", "would love to", "could") before the match in its clause; the
  antecedent ends at a comma, "then", or a second subject ("if this isn't fixed I'm
  leaving": "I'm leaving" is the main clause, not the supposition).

Only matches are read (a few per turn at most), so this costs nothing on turns without one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from analysis.clause_conditionals import (
    consequent_verb,
    cue_at,
    starts_with,
    waived,
    would_but,
)
from analysis.clause_cues import (
    ADVERBS,
    ATTRIBUTION_NOUNS,
    ATTRIBUTION_OPENERS,
    ATTRIBUTION_OWNERS,
    ATTRIBUTION_WINDOW,
    AUXILIARIES,
    CBA_BANK_BEFORE,
    CLAUSE_FINAL_ADVERBS,
    COMPLEMENT_CUES,
    CONTRAST_HERE,
    CONTRAST_NEGATION,
    CONTRASTIVE_NOT_NEXT,
    COORDINATED_WH,
    COORDINATORS,
    COUNTERFACTUAL_HAVE,
    COUNTERFACTUAL_MODALS,
    DISCOURSE_MARKERS,
    HAVE_OBJECTS,
    HYPOTHETICAL_CUES,
    IF_CONSEQUENT_VERBS,
    IRREALIS_CUES,
    IRREALIS_VERBS,
    MODAL_NOT_HYPOTHETICAL,
    NEG_RAISERS,
    NEG_SCOPE_ENDERS,
    NEG_WINDOW,
    NEGATION_CUES,
    NOT_VERB_BEFORE,
    OBJECT_PRONOUNS,
    OUT_OF_MY_HANDS,
    POLITE_IF,
    PSEUDO_NEGATION,
    RELATIVE_HEADS,
    STRONG,
    SUBJECT_INTROS,
    SUBJECTS,
    TERMINATOR_PHRASES,
    TERMINATORS,
    TOKEN,
    VOCATIVES,
    WEAK,
    WH_WORDS,
    WHY,
)
from analysis.clause_speech import SpeechReadings


@dataclass(frozen=True, slots=True)
class Reading:
    """How one match reads: each field is the cue found (None when it does not apply).
    `irrealis`: the hypothetical cue marks the match as not asserted at all (a
    counterfactual, a wish, an embedded question: `clause_cues.IRREALIS_CUES`), not a plain
    condition."""

    negated: str | None = None
    question: str | None = None
    reported: str | None = None
    hypothetical: str | None = None
    irrealis: bool = False

    def reasons(self) -> list[str]:
        """Human-readable reasons, e.g. ["negated by 'cannot'", "in a question ('did you')"]."""
        out = []
        if self.negated:
            out.append(f"negated by '{self.negated}'")
        if self.question:
            out.append(f"in a question ('{self.question}')")
        if self.reported:
            out.append(f"reported speech ('{self.reported}')")
        if self.hypothetical:
            out.append(f"hypothetical ('{self.hypothetical}')")
        return out

    def describe(self) -> str:
        return "; ".join(self.reasons()) or "affirmative statement"


@dataclass(frozen=True, slots=True)
class _Tok:
    text: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text[0].isalnum()


class TurnClauses(SpeechReadings):
    """One turn tokenised once (words and punctuation with character offsets); the
    question and reported-speech readings are in `analysis.clause_speech`."""

    __slots__ = ("_bounds", "_pseudo_memo", "text", "toks", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        #: (token, cue) -> whether that negation cue does not negate (`_pseudo`)
        self._pseudo_memo: dict[tuple[int, tuple[str, ...]], bool] = {}
        low = text.lower().replace("\u2019", "'")
        if len(low) != len(text):
            low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text).replace(
                "\u2019", "'"
            )
        toks = []
        for m in TOKEN.finditer(low):
            t = m.group(0)
            if t == "." and m.end() < len(low) and not low[m.end()].isspace():
                continue  # "3.5", "acme.com": not a sentence end
            toks.append(_Tok(t, m.start(), m.end()))
        self.toks = toks
        self.words = [t.text for t in toks]
        #: token i -> `_is_boundary(i)`, filled on first use: every read walks its clause's
        #: tokens, and the terminator phrases were tested again at each one (#15)
        self._bounds: list[bool | None] = [None] * len(toks)

    # -- boundaries ------------------------------------------------------------------

    def _span_tokens(self, start: int, end: int) -> tuple[int, int]:
        """Index of the first and last token overlapping [start, end)."""
        first = next((i for i, t in enumerate(self.toks) if t.end > start), len(self.toks))
        last = first
        for i in range(first, len(self.toks)):
            if self.toks[i].start < end:
                last = i
            else:
                break
        return first, last

    def _is_boundary(self, i: int) -> bool:
        """Token i ends a clause (punctuation) or starts a new one (conjunction)."""
        got = self._bounds[i]
        if got is None:
            got = self._bounds[i] = self._boundary_at(i)
        return got

    def _boundary_at(self, i: int) -> bool:
        w = self.words[i]
        if w in STRONG or w in WEAK:
            return True
        if w in TERMINATORS:
            return True
        if any(starts_with(self.words, i, p) for p in TERMINATOR_PHRASES):
            return True
        nxt = self.words[i + 1] if i + 1 < len(self.words) else ""
        # "..., so yeah consider it done": a discourse marker after the coordinator opens a
        # new clause as a subject does
        return w in COORDINATORS and (nxt in SUBJECTS or nxt in DISCOURSE_MARKERS or nxt in COORDINATED_WH)

    def sentence(self, first: int, last: int) -> tuple[int, int]:
        """Token range [lo, hi) of the sentence around tokens first..last."""
        lo = first
        while lo > 0 and self.words[lo - 1] not in STRONG:
            lo -= 1
        hi = last + 1
        while hi < len(self.toks) and self.words[hi] not in STRONG:
            hi += 1
        return lo, hi

    def clause(self, first: int, last: int) -> tuple[int, int]:
        """Token range [lo, hi) of the clause around tokens first..last."""
        lo = first
        while lo > 0 and not self._is_boundary(lo - 1):
            lo -= 1
        hi = last + 1
        while hi < len(self.toks) and not self._is_boundary(hi):
            hi += 1
        return lo, hi

    def clause_span(self, start: int, end: int) -> tuple[int, int]:
        """Character span of the clause around [start, end)."""
        first, last = self._span_tokens(start, end)
        if first >= len(self.toks):
            return start, end
        lo, hi = self.clause(first, last)
        return self.toks[lo].start if lo < len(self.toks) else start, self.toks[
            hi - 1
        ].end if hi > lo else end

    def clauses(self) -> list[tuple[int, int]]:
        """Character spans of every clause of the turn."""
        out, i = [], 0
        while i < len(self.toks):
            if not self.toks[i].word:
                i += 1
                continue
            lo, hi = self.clause(i, i)
            out.append((self.toks[lo].start, self.toks[hi - 1].end))
            i = max(hi, i + 1)
        return out

    # -- the reading -----------------------------------------------------------------

    def read(self, start: int, end: int, own: Iterable[str] = ()) -> Reading:
        """How the match at [start, end) reads. `own`: the pattern's own words (not cues)."""
        first, last = self._span_tokens(start, end)
        if first >= len(self.toks):
            return Reading()
        own_words = frozenset(own)
        clo, chi = self.clause(first, last)
        slo, shi = self.sentence(first, last)
        hyp, at = self._hypothetical_at(clo, first, last, own_words)
        irrealis = False
        if hyp is None and would_but(self.words, clo, first, last, shi):
            return Reading(hypothetical="i'd ... but", irrealis=True)
        if waived(self.words, slo, first, last, shi, own_words):
            return Reading(hypothetical="an option waived ('... but I'd rather')", irrealis=True)
        if hyp is not None:
            cue = tuple(hyp.split())
            irrealis = cue in IRREALIS_CUES or (cue[0] == "if" and self._counterfactual(at, last, shi))
        return Reading(
            negated=self._negation(clo, first, last, own_words) or self._contrast(chi, shi),
            question=self._question(clo, chi, slo, shi),
            reported=self._reported(slo, first, last, own_words) or self._attributed(last, shi),
            hypothetical=hyp,
            irrealis=irrealis,
        )

    def _counterfactual(self, at: int, last: int, shi: int) -> bool:
        """An "if" at token `at` is counterfactual: a subjunctive "were" / "had" in its clause
        ("if this call were recorded") or a "would have" after it in the sentence ("if we
        recorded calls you would have heard a message")."""
        w = self.words
        if any(x in IRREALIS_VERBS for x in w[at : last + 1]):
            return True
        return any(
            w[k] in COUNTERFACTUAL_HAVE or (w[k] == "have" and w[k - 1] in COUNTERFACTUAL_MODALS)
            for k in range(last + 1, shi)
        )

    def _attributed(self, last: int, shi: int) -> str | None:
        """A company's or regulator's rule named after the match in its sentence makes it the
        rule's words, not the speaker's: "..., that's the regulator's rule", "... under our
        complaints policy" (not "it's my right under consumer law")."""
        w = self.words
        for k in range(last + 1, shi):
            if w[k] not in ATTRIBUTION_NOUNS:
                continue
            lo = max(last + 1, k - ATTRIBUTION_WINDOW)
            if not any(x in ATTRIBUTION_OWNERS for x in w[lo:k]):
                continue
            for j in range(lo, k):
                if w[j] in ATTRIBUTION_OPENERS:
                    return " ".join(x for x in w[j : k + 1] if x[0].isalnum())
        return None

    def _contrast(self, chi: int, shi: int) -> str | None:
        """A contrast right after the match's clause that takes it back for this case:
        "calls may be recorded on some of our lines but not this one" (a negation after the
        match, which the forward-scoping cues cannot see)."""
        w = self.words
        k = chi
        while k < shi and not w[k][0].isalnum():
            k += 1
        for c in CONTRAST_NEGATION:
            if starts_with(w, k, c):
                j = k + len(c)
                for h in CONTRAST_HERE:
                    end = j + len(h)
                    if starts_with(w, j, h) and (end >= shi or not w[end][0].isalnum()):
                        return " ".join((*c, *h))
        return None

    def _negation(self, clo: int, first: int, last: int, own: frozenset[str]) -> str | None:
        w = self.words
        # a cue inside the span that the pattern does not contain ("is not recorded")
        for i in range(first, last + 1):
            if w[i] in own:
                continue
            cue = self._cue_at(i, NEGATION_CUES)
            if (cue and not self._pseudo(i, cue) and not set(cue) & own
                    and not (self._contrastive_not(i, cue) and not own.intersection(w[i + 1 : i + 4]))):  # fmt: skip
                return " ".join(cue)
        # a cue before the span, in scope; it may run into the span ("no need to" before a
        # match of "need" near "a manager")
        for i in range(first - 1, clo - 1, -1):
            cue = self._cue_at(i, NEGATION_CUES)
            if not cue or self._pseudo(i, cue):
                continue
            between = [x for x in w[i + len(cue) : first] if x[0].isalnum()]
            if len(between) > NEG_WINDOW:
                break
            if any(x in NEG_SCOPE_ENDERS for x in between):
                continue  # "i'm not paying for this anymore cancel it": the scope ended
            if len(between) >= 2 and self._contrastive_not(i, cue):
                continue  # "the organ grinder not the monkey put your boss on": "not" negates its noun
            # in an "if" antecedent the negation keeps to its own verb phrase: a request verb
            # after it opens the consequent ("if you can't sort it find me someone who can")
            if len(between) >= 2 and any(x in ("if", "unless") for x in w[clo:i]) and consequent_verb(self.words, i, first):
                continue
            # a new subject ends the scope, the match's own first word too ("if this isn't
            # fixed I'm cancelling")
            stop = first + 1 if w[first] in SUBJECTS else first
            if i + len(cue) < first and self._subject_break(i + len(cue), stop):
                continue
            return " ".join(cue)
        return None

    def _contrastive_not(self, i: int, cue: tuple[str, ...]) -> bool:
        """Whether the "not" at token i negates only the noun phrase after it (constituent
        negation): it follows a content word, not a subject, auxiliary or adverb, and a
        determiner or object pronoun follows it — "the person who decides not you", "the
        organ grinder not the monkey". The callers keep it a negation of the words right after
        it: inside a span when the pattern's own words follow within three tokens, before a
        span when the match starts within two ("I want a refund not a manager" still negates
        "a manager")."""
        w = self.words
        if cue != ("not",) or i == 0 or i + 1 >= len(w):
            return False
        prev, nxt = w[i - 1], w[i + 1]
        if prev in NOT_VERB_BEFORE or prev in AUXILIARIES or not prev[0].isalnum() or nxt not in CONTRASTIVE_NOT_NEXT:
            return False
        return not (prev.endswith("n't") or prev.endswith("ly"))

    def _cue_at(self, i: int, cues: tuple[tuple[str, ...], ...]) -> tuple[str, ...] | None:
        """The longest cue starting at token i."""
        return cue_at(self.words, i, cues)

    def _pseudo(self, i: int, cue: tuple[str, ...]) -> bool:
        """Whether the negation cue at token i does not negate. A run of "no no no ..." is
        an answer when any cue of the run is ("no no don't worry you will ..."); the run is
        walked in a loop, and each position's answer kept, because an ASR repetition loop
        can be a thousand "no"s long (recursion would overflow, and re-walking the run for
        every token of the clause is quadratic)."""
        memo = self._pseudo_memo
        seen: list[tuple[int, tuple[str, ...]]] = []
        w = self.words
        result = False
        while True:
            if (i, cue) in memo:
                result = memo[(i, cue)]
                break
            seen.append((i, cue))
            if self._pseudo_here(i, cue):
                result = True
                break
            if " ".join(cue) not in ("no", "nah") or i + 1 >= len(w):
                break
            after = self._cue_at(i + 1, NEGATION_CUES)
            if not after:
                break
            i, cue = i + 1, after
        for k in seen:
            memo[k] = result
        return result

    def _pseudo_here(self, i: int, cue: tuple[str, ...]) -> bool:
        w = self.words
        nxt = w[i + len(cue)] if i + len(cue) < len(w) else ""
        key = " ".join(cue)
        if key in PSEUDO_NEGATION and nxt in PSEUDO_NEGATION[key]:
            return True
        if key in ("no", "nah") and (nxt == "" or not nxt[0].isalnum()):
            return True  # "No, ..." / "No." is an answer, not a negation of what follows
        if key in ("nah",) and nxt in SUBJECTS:
            return True
        if key == "not" and i > 0 and w[i - 1] == "need" and nxt in PSEUDO_NEGATION["need not"]:
            return True  # "you need not worry" (the cue read from its "not")
        if key in ("no", "nah") and nxt in VOCATIVES:
            return True  # "nah bruv just get me your manager": an answer, then the request
        if key == "cba":
            # typed "can't be bothered" before a gerund or "with" ("cba asking", "cba with
            # this"); never the bank CBA ("moved to cba", "cba bank")
            prev = w[i - 1] if i > 0 else ""
            return not ((nxt == "with" or (len(nxt) > 4 and nxt.endswith("ing"))) and prev not in CBA_BANK_BEFORE)
        if i > 0 and w[i - 1] in WHY:
            return True  # "why don't you ..."
        # "if not", handled as hypothetical; "or not" is a question tag ("can call your
        # manager or not", "whether or not")
        return key == "not" and i > 0 and w[i - 1] in ("if", "whether", "or")

    def _subject_break(self, a: int, b: int) -> bool:
        """A new subject between tokens a and b starts another clause, except after a verb
        of saying or thinking ("I don't think I will ...")."""
        w = self.words
        for k in range(a, b):
            if w[k] in SUBJECTS:
                prev = w[k - 1] if k > 0 else ""
                prev2 = w[k - 2] if k > 1 else ""
                if (w[k] in OBJECT_PRONOUNS and prev and prev[0].isalnum() and prev not in SUBJECT_INTROS
                        and prev not in CLAUSE_FINAL_ADVERBS):  # fmt: skip
                    continue  # "I can't give you my word": "you" is the object here
                if (
                    prev in NEG_RAISERS
                    or (prev == "that" and prev2 in NEG_RAISERS)
                    or prev in RELATIVE_HEADS
                    # "it's not that I want to leave", "not like we're cancelling": the
                    # negation takes the whole clause after "not that" / "not like" (v9 round)
                    or (prev in ("that", "like") and prev2 == "not")
                ):
                    continue
                return True
        return False

    def _polite_if(self, i: int) -> bool:
        """The "if" at token i opens a polite request: "I'd be grateful if", "I would
        appreciate it if" (`POLITE_IF`)."""
        w = self.words
        prev = w[i - 1] if i > 0 else ""
        return prev in POLITE_IF or (prev == "it" and i > 1 and w[i - 2] in POLITE_IF)

    def _hypothetical(self, clo: int, first: int, last: int, own: frozenset[str]) -> str | None:
        return self._hypothetical_at(clo, first, last, own)[0]

    def _hypothetical_at(self, clo: int, first: int, last: int, own: frozenset[str]) -> tuple[str | None, int]:
        """The hypothetical cue of the match and the token it stands at ((None, -1): none)."""
        w = self.words
        # a cue inside the span that the pattern does not spell ("I could promise" matched
        # as "i" near "promise"), then the cues before it
        # (the span's first word too when the pattern does not spell it: a semantic match
        # over a whole sentence starts at its "if")
        for i in [*range(first, last + 1), *range(first - 1, clo - 1, -1)]:
            if i >= first and w[i] in own:
                continue
            cue = self._cue_at(i, HYPOTHETICAL_CUES)
            if not cue or (i < first and i + len(cue) > first):
                continue
            if set(cue) & own and cue not in OUT_OF_MY_HANDS:
                continue  # a cue the pattern spells; the long "if it was up to me" never is
            if cue in (("could", "have"), ("would", "have")) and w[i + 2 : i + 3] and w[i + 2] in HAVE_OBJECTS:
                cue = cue[:1]  # "a team leader I could have a word with": "have" is the verb
            if cue == ("wish",) and i + 1 < len(w) and w[i + 1] == "to":
                continue  # "I wish to cancel" states a wish, "I wish I could" is irrealis
            if cue == ("if",) and self._polite_if(i):
                continue  # "I'd be grateful if a manager could call me": a request
            if cue in (("could",), ("would",)) and (
                any(w[k] == "if" and self._polite_if(k) for k in range(clo, i))
                or (w[i + 1 : i + 2] == ["be"] and w[i + 2 : i + 3] and w[i + 2] in POLITE_IF)
            ):
                continue  # "I would be grateful if someone senior could contact me"
            if cue in (("could",), ("would",)):
                k = i + 1
                while k < len(w) and w[k] in ADVERBS:
                    k += 1
                nxt = w[k] if k < len(w) else ""
                prev = w[i - 1] if i > 0 else ""
                if nxt in MODAL_NOT_HYPOTHETICAL or i == clo or prev in WH_WORDS or self._request(clo):
                    continue  # "I would like to ...", "could you ...", "how could I",
                    # "is there a supervisor I could talk to?"
            # the antecedent ends at "then" or a second subject ("if X I'm leaving"), which
            # may be the match's own first word ("if this happens again I'm gone")
            stop = False
            for k in range(i + len(cue) + 1, first + 1 if w[first] in SUBJECTS or w[first] in IF_CONSEQUENT_VERBS else first):
                if i > first or cue in OUT_OF_MY_HANDS or cue in COMPLEMENT_CUES:
                    break
                if w[k] == "then" or (w[k] in SUBJECTS and w[k - 1] not in NEG_RAISERS) or consequent_verb(self.words, i + len(cue), k):
                    stop = True
                    break
            if stop:
                continue
            return " ".join(cue), i
        return None, -1
