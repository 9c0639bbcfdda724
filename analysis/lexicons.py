"""Word lists for anger: the NRC emotion lexicon (via nrclex), profanity, escalation phrases.

No NLTK corpora are installed here, so text is tokenised with one regular expression and
inflections are matched by trying a few stripped suffixes against the lexicon. The NRC
lexicon tags many routine contact-centre words as "anger" (money, fee, delay, ...); those
are ignored by default (`AngerOptions.lexicon_ignore`) because a customer asking about a
fee is not angry.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")


# Unambiguous anger words (our list): one of these is full lexicon evidence, where an
# ordinary NRC anger word counts half (NRC does not grade intensity and is broad).
STRONG_ANGER = frozenset(
    ["angry", "anger", "furious", "livid", "outraged", "outrageous", "infuriating", "infuriated", "fuming", "pissed", "mad", "disgraceful", "disgrace", "pathetic", "incompetent", "incompetence", "scam", "ridiculous", "absurd", "appalling", "appalled", "disgusted", "disgusting", "hate", "hated", "useless", "worst", "liar", "liars", "lied", "lying", "ripoff", "rude", "insulting", "unacceptable", "unbelievable"]
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens ("don't" stays one token)."""
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=1)
def nrc() -> dict[str, frozenset[str]]:
    """The NRC word → emotions map shipped with nrclex."""
    from nrclex import NRCLex

    return {w: frozenset(tags) for w, tags in NRCLex(None).__lexicon__.items()}


def _candidates(word: str) -> Iterable[str]:
    yield word
    if word.endswith("'s"):
        yield word[:-2]
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e"), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            yield word[: -len(suffix)] + repl


@lru_cache(maxsize=65536)
def lookup(word: str) -> frozenset[str]:
    """The NRC emotions of a word or of its first stripped inflection the lexicon knows.
    Cached: the same few thousand words recur in every interaction, and trying the
    suffixes was most of the anger stage's time (bench/analysis.py profile, #15)."""
    lex = nrc()
    for cand in _candidates(word):
        if cand in lex:
            return lex[cand]
    return frozenset()


def anger_words(words: Sequence[str], ignore: Iterable[str] = ()) -> list[str]:
    """The words of `words` that NRC tags as anger (minus `ignore`)."""
    skip = set(ignore)
    return [w for w in words if w not in skip and (w in STRONG_ANGER or "anger" in lookup(w))]


def anger_weight(words: Sequence[str]) -> float:
    """Lexicon evidence in 0..1: a strong anger word counts 1, an NRC anger word 0.5."""
    return min(1.0, sum(1.0 if w in STRONG_ANGER else 0.5 for w in words))


def emotions(words: Sequence[str]) -> dict[str, float]:
    """Share of NRC emotion tags per emotion (as nrclex's affect frequencies); {} if none."""
    counts: Counter[str] = Counter()
    for w in words:
        counts.update(e for e in lookup(w) if e in EMOTIONS)
    total = sum(counts.values())
    return {e: round(c / total, 3) for e, c in sorted(counts.items())} if total else {}


#: text -> profanity probability; filled a whole analysis batch at a time (`profanity` is
#: one scikit-learn call whose fixed overhead, ~1 ms, dwarfed the work on a few turns)
_PROFANITY: dict[str, float] = {}
_PROFANITY_MAX = 50_000


def profanity(texts: Sequence[str]) -> list[float]:
    """Probability each text is profane (alt-profanity-check's linear SVM).

    Texts seen before (e.g. prefetched for the whole batch by `AngerScorer.prefetch`) are
    not scored again; the model scores each row on its own, so the numbers are the same."""
    if not texts:
        return []
    missing = [t for t in dict.fromkeys(texts) if t not in _PROFANITY]
    if missing:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the pickled model warns on newer scikit-learn
            from profanity_check import predict_prob

            probs = predict_prob(missing)
        if len(_PROFANITY) + len(missing) > _PROFANITY_MAX:
            _PROFANITY.clear()
        got = {t: float(p) for t, p in zip(missing, probs, strict=True)}
        _PROFANITY.update(got)
        return [got[t] if t in got else _PROFANITY[t] for t in texts]
    return [_PROFANITY[t] for t in texts]
