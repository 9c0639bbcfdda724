"""The question and reported-speech readings of the clause reader (analysis.clauses): is the
clause a request ("can I speak to a manager"), a question ("did you say it's guaranteed?"),
or someone else's words ("my manager told me to call you", "she said she'd cancel")?

They live apart from `TurnClauses` because clauses.py had grown past 600 lines, and these
readings are one job: each looks back from a match for who is speaking or asking. They read
only the turn's lower-cased word list (`self.words`), so `TurnClauses` takes them as a mixin.
"""

from __future__ import annotations

from analysis.clause_conditionals import cues_by_first_word, starts_with
from analysis.clause_cues import (
    ASKING_SUBJECTS,
    AUXILIARIES,
    CLAUSE_FINAL_ADVERBS,
    COORDINATORS,
    FILLERS,
    FIRST_PERSON,
    IMPERATIVE_OPENERS,
    IMPERATIVE_REPORTING,
    PASSIVE_REPORT,
    QUOTES,
    REASSURANCE_VERBS,
    REPORT_MODALS,
    REPORT_WINDOW,
    REPORTING,
    REPORTING_PHRASES,
    REQUEST_MODALS,
    REQUEST_OPENERS,
    REQUEST_SUBJECTS,
    STRONG,
    SUBJECT_SKIP,
    SUBJECTS,
    TERMINATORS,
    WEAK,
    WH_WORDS,
)

#: the opener and reporting-phrase lists by first word (list order kept): a phrase can only
#: start at a token that is its first word, so each read tests those alone (#15)
_REQUEST_BY_FIRST = cues_by_first_word(REQUEST_OPENERS)
_REPORTING_BY_FIRST = cues_by_first_word(REPORTING_PHRASES)


class SpeechReadings:
    """Requests, questions and reported speech, read over `self.words` (see module doc)."""

    __slots__ = ()
    words: list[str]

    def _request(self, clo: int) -> bool:
        """The clause opens as a request ("is there ...", "can I ...", "could you ...")."""
        w, k = self.words, clo
        while k < len(w) and (w[k] in FILLERS or not w[k][0].isalnum()):
            k += 1
        # only the openers spelled from this word can start here (#15)
        openers = _REQUEST_BY_FIRST.get(w[k] if k < len(w) else "", ())
        return any(starts_with(w, k, r) for r in openers)

    def _question(self, clo: int, chi: int, slo: int, shi: int) -> str | None:
        w = self.words
        # the clause's first words, past fillers ("so", "okay", "um", ...)
        k = clo
        while k < chi and (w[k] in FILLERS or not w[k][0].isalnum()):
            k += 1
        if k >= chi:
            return None
        for r in _REQUEST_BY_FIRST.get(w[k], ()):
            if starts_with(w, k, r):
                return None
        ends_q = chi < len(w) and w[chi] == "?"
        sentence_q = shi < len(w) and w[shi] == "?"
        unpunctuated = shi >= len(w) and not any(x in STRONG for x in w)
        opener = None
        if w[k] in WH_WORDS:
            opener = w[k]
        elif (
            w[k] in AUXILIARIES
            and k + 1 < chi
            and (
                w[k + 1] in SUBJECTS
                or w[k + 1]
                in ("it", "this", "that", "there", "the", "my", "your", "someone", "anyone")
            )
        ):
            opener = f"{w[k]} {w[k + 1]}"
        if opener in ("don't you", "dont you") and k + 2 < chi and w[k + 2] in REASSURANCE_VERBS:
            return None  # "don't you worry love, it'll be fitted tuesday": a reassurance
        if opener == "what" and not ends_q and self._pseudo_cleft(k, chi):
            return None  # "what I can tell you is it'll be back by Monday": a statement
        if ends_q:
            return opener or "?"
        if opener and (sentence_q or unpunctuated) and clo == slo:
            return opener
        return None

    def _pseudo_cleft(self, k: int, chi: int) -> bool:
        """ "what" at token k opens a free relative that a copula then states: "what I can
        tell you is ...", "what we'll do is ..." (subject right after "what", "is" / "was"
        later in the clause)."""
        w = self.words
        if k + 1 >= chi or w[k + 1] not in SUBJECTS:
            return False
        return any(x in ("is", "was") for x in w[k + 3 : chi])

    def _reported(self, slo: int, first: int, last: int, own: frozenset[str]) -> str | None:
        w = self.words
        # quoted: an odd number of double quotes before the match in the turn
        quotes = sum(1 for t in w[:first] if t in QUOTES)
        if quotes % 2 == 1 and any(t in QUOTES for t in w[last + 1 :]):
            return "quoted"
        lo = max(slo, first - REPORT_WINDOW)
        for i in range(last, lo - 1, -1):
            if i >= first and w[i] in own:
                continue
            nxt = w[i + 1] if i + 1 < len(w) else ""
            if i < first and (
                w[i] in TERMINATORS or ((w[i] in COORDINATORS or w[i] in WEAK) and nxt in SUBJECTS)
            ):
                break  # a new clause: "she said X, and I want Y" / "someone told me, I want Y"
            phrase = next((p for p in _REPORTING_BY_FIRST.get(w[i], ()) if starts_with(w, i, p)), None)
            if phrase is None and w[i] not in REPORTING:
                continue
            if phrase in PASSIVE_REPORT:
                return " ".join(phrase)
            j = i - 1
            while j >= slo and (w[j] in SUBJECT_SKIP or w[j] in REPORT_MODALS):
                j -= 1  # "what I can tell you is ...": the subject is before the modal
            subject = w[j] if j >= slo else ""
            if subject in FIRST_PERSON:
                continue  # "I told you I want a manager": the speaker's own words
            if w[i] in IMPERATIVE_REPORTING and (subject in IMPERATIVE_OPENERS or subject in CLAUSE_FINAL_ADVERBS):
                continue  # "Please tell me what I need to do to end my contract", "... anymore just tell me how to leave": a request
            if w[i] == "asking" and not any(x in ASKING_SUBJECTS for x in w[max(slo, i - 2) : i]):
                continue  # "I am asking you to close it": the speaker's own request; "you're asking is ..." is the listener's
            if w[i] in IMPERATIVE_REPORTING and subject in REQUEST_SUBJECTS and j > slo and w[j - 1] in REQUEST_MODALS:
                continue  # "can u tell me how to cancel the renewal": asked of the listener
            if subject == "to" and self._own_infinitive(slo, j):
                continue  # "I am pleased to tell you that ...": the speaker's own words
            verb = " ".join(phrase) if phrase else w[i]
            who = " ".join(w[max(slo, j - 1) : j + 1]) if subject else ""
            return f"{who} {verb}".strip()
        return None

    def _own_infinitive(self, slo: int, to: int) -> bool:
        """The "to" at token `to` hangs on the speaker's own predicate: "I am pleased to tell
        you", "we're happy to confirm", "I'd like to say" (the subject before it, within a few
        words, is first person)."""
        w = self.words
        for k in range(to - 1, max(slo, to - 5) - 1, -1):
            if w[k] in FIRST_PERSON:
                return True
            if w[k] in SUBJECTS or not w[k][0].isalnum():
                return False
        return False
