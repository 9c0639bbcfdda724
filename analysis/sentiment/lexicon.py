"""Lexicon features fused with the encoder's pooled layers (recipe v6).

The frozen MiniLM head reads contact-centre turns and airline tweets well but carries less
to other text (film criticism, product reviews: 0.65-0.80 polarity), where a sentiment
lexicon with hand-written rules (VADER: ~7,500 rated words, negation, boosters, "but",
capitals, exclamation marks) is robust but crude (0.64-0.73). Their errors differ, so a
learned combination can beat both: the head reads six VADER numbers per turn beside the
1,536 pooled values, all standardised, in the same logistic regression
(analysis/sentiment/fit.py), and the features' standard deviations are divided by
`lexicon_scale` before the fit so the L2 penalty does not drown six numbers among 1,536
(scaling a standardised feature up is the same as penalising its weight less).

The six features are VADER's compound score, its positive / negative / neutral shares,
and log(1 + sum) of the positive and of the negative word valences after VADER's negation,
booster and "but" rules (what its compound score is normalised from). VADER ships with
`vaderSentiment` (PyPI, MIT), already a dependency; nothing is downloaded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

LEXICONS = ("", "vader")
NAMES = ("vader_compound", "vader_pos", "vader_neg", "vader_neu", "vader_pos_valence", "vader_neg_valence")
#: features of an empty text (never scored: empty turns are neutral before the head runs)
_EMPTY = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@lru_cache(maxsize=1)
def _analyzer():  # -> SentimentIntensityAnalyzer (loading the lexicon takes ~0.1 s)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=8192)
def vader_features(text: str) -> tuple[float, ...]:
    """The six VADER numbers of one text (see the module docstring). Cached per text, like
    the encoder's rows: agents' scripted lines repeat, and VADER costs ~0.1-0.5 ms a turn."""
    if not text.strip():
        return _EMPTY
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    a = _analyzer()
    scores = a.polarity_scores(text)
    # the per-word valences VADER's score_valence sums (polarity_scores does not return
    # them): the same loop, over the text as given (polarity_scores first spells emoji out
    # as words; here an emoji adds nothing, as in the selection runs)
    sentitext = SentiText(text)
    words = sentitext.words_and_emoticons
    valences: list[float] = []
    for i, item in enumerate(words):
        low = item.lower()
        if low in BOOSTER_DICT or (low == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of"):
            valences.append(0)
            continue
        valences = a.sentiment_valence(0, sentitext, item, i, valences)
    valences = a._but_check(words, valences)
    pos = sum(v for v in valences if v > 0)
    neg = -sum(v for v in valences if v < 0)
    return (float(scores["compound"]), float(scores["pos"]), float(scores["neg"]), float(scores["neu"]),
            math.log1p(pos), math.log1p(neg))


def features(name: str, texts: Sequence[str]) -> np.ndarray:
    """[n, len(NAMES)] lexicon features of `texts` (the head's own inputs), float64."""
    if name != "vader":
        raise ValueError(f"unknown sentiment lexicon {name!r}; known: vader")
    if not texts:
        return np.zeros((0, len(NAMES)))
    return np.asarray([vader_features(t) for t in texts], dtype=np.float64)
