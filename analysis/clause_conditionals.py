"""The conditional readings of the clause reader (analysis.clauses): what a speaker would do
("I'd cancel but I'm tied in", "id promise if i could"), an option named and then waived
("I'm entitled to escalate it but I'd rather you fixed it"), and the request verb that opens
the consequent of an "if" ("if you can't sort it find me someone who can"). They live apart
from `TurnClauses` because they are the readings review rounds keep tuning (each looks a few
words either side of a match and decides whether it is real), and clauses.py had grown past
600 lines; they read the turn's lower-cased word list only, so they need nothing else of it."""

from __future__ import annotations

from functools import lru_cache

from analysis.clause_cues import (
    FIRST_PERSON,
    IF_CONSEQUENT_VERBS,
    IF_VERB_GOVERNORS,
    SECOND_PERSON,
    SUBJECTS,
    WAIVER_BREAKS,
    WAIVER_CUES,
    WAIVER_GAP,
    WAIVER_PREFERENCES,
    WOULD_IF_SUBJECTS,
    WOULD_IF_VERBS,
    WOULD_OPENERS,
    WOULD_OPENERS_IN_MATCH,
    WOULD_REQUEST_VERBS,
)


def starts_with(words: list[str], i: int, seq: tuple[str, ...]) -> bool:
    return tuple(words[i : i + len(seq)]) == seq


@lru_cache(maxsize=32)
def cues_by_first_word(cues: tuple[tuple[str, ...], ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A cue list indexed by its first word, longest cue first (as the list is ordered)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for c in cues:
        out.setdefault(c[0], []).append(c)
    return {k: tuple(v) for k, v in out.items()}


def cue_at(words: list[str], i: int, cues: tuple[tuple[str, ...], ...]) -> tuple[str, ...] | None:
    """The longest cue starting at token i."""
    for c in cues_by_first_word(cues).get(words[i], ()):
        if starts_with(words, i, c):
            return c
    return None


def would_but(w: list[str], clo: int, first: int, last: int, shi: int) -> bool:
    """The clause opens with "I'd" + a verb that is not a wish or request ("i'd ask for a
    supervisor but ...", "I'd cancel but I'm tied in") and a "but" follows the match in the
    sentence: what the speaker would do, not does."""
    k = clo
    while k < first and not w[k][0].isalnum():
        k += 1
    # the opener may be the match's own first word only as heard "id" ("id promise" heard
    # as "i promise"); a match that opens with "i'd" is the promise or threat itself ("i'd
    # stake my reputation on it, but ...")
    if k > first or (k == first and w[k] not in WOULD_OPENERS_IN_MATCH):
        return False
    if w[k] not in WOULD_OPENERS or k + 1 > last or w[k + 1] in WOULD_REQUEST_VERBS:
        return False
    after = w[last + 1 : shi]
    # "... but ...", or "... if I could" / "if it were up to me" (the same unreal
    # conditional); "if you were to put the price up" is a condition on the listener, a
    # threat that counts
    return "but" in after or any(
        after[j] == "if" and after[j + 1] in WOULD_IF_SUBJECTS and after[j + 2] in WOULD_IF_VERBS
        for j in range(len(after) - 2)
    )


def consequent_verb(w: list[str], a: int, k: int) -> bool:
    """Token k, a request verb (`IF_CONSEQUENT_VERBS`) after at least two words of an "if"
    antecedent starting at token a and not governed by the antecedent (no auxiliary,
    "to", "me" or coordinator just before), opens the consequent: "if you can't sort it
    find me someone who can"; not "if you don't get me a manager" (the antecedent's verb)."""
    return w[k] in IF_CONSEQUENT_VERBS and k - a >= 3 and w[k - 1] not in IF_VERB_GOVERNORS


def waived(w: list[str], slo: int, first: int, last: int, shi: int, own: frozenset[str] = frozenset()) -> bool:
    """An option named and then waived: a `WAIVER_CUES` cue that governs the match (it
    ends at most `WAIVER_GAP` words before it: "I know I'm entitled to escalate it", "I
    could ask for a manager"; not "could you ..." nor a cue earlier in the sentence about
    something else) and, after the match, "but" + a first-person subject + a preference
    ("but I'd rather give you a chance first", "but for now I'm happy to wait"). A cue
    anywhere in the sentence, or a bare "first" / "happy" after "but", hid real requests
    ("Could you cancel my account, but first tell me the final bill"). A match that spans
    the clause (a classifier's whole turn) governs a cue inside it that is not one of the
    pattern's `own` words."""
    before = any(_governing_waiver(w, i, first) for i in range(max(slo, first - WAIVER_GAP - 4), first))
    inside = any(_governing_waiver(w, i, last + 1) for i in range(first, last + 1) if w[i] not in own)
    if not (before or inside):
        return False
    for j in range(last + 1, shi):
        if w[j] == "but":
            near = w[j + 1 : min(shi, j + 8)]
            lead = 2 if near[:2] == ["for", "now"] else 0
            if not any(x in FIRST_PERSON for x in near[lead : lead + 2]):
                return False
            pairs = {" ".join(near[n : n + 2]) for n in range(len(near) - 1)}
            return bool(WAIVER_PREFERENCES & (set(near) | pairs))
    return False


def _governing_waiver(w: list[str], i: int, first: int) -> bool:
    """A waiver cue at token i that ends within `WAIVER_GAP` words before the match and is
    not "could" asking the listener ("could you ...")."""
    cue = cue_at(w, i, WAIVER_CUES)
    if not cue:
        return False
    end = i + len(cue)
    between = w[end:first]
    if end > first or len(between) > WAIVER_GAP:
        return False
    # no punctuation or coordinator between: "entitled to a refund, so cancel it" names
    # another thing than the match
    if any(not x[0].isalnum() or x in WAIVER_BREAKS or x in SUBJECTS for x in between):
        return False
    return not (cue == ("could",) and end < len(w) and w[end] in SECOND_PERSON)
