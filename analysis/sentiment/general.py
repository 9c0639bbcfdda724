"""General-domain human-rated text added to the training data (recipe v5).

The airline tweets and the contact-centre turns teach the head one domain; out of domain
(film reviews, product tweets) it reads 0.65-0.76 polarity accuracy. Opt-in
(`SentimentOptions.general`): they help out of domain but cost in domain (README). Two human-rated sets
from the VADER paper (Hutto & Gilbert, ICWSM 2014) widen it: ~4,200 tweets about anything
and ~5,200 sentences of New York Times opinion pieces, each rated on -4..+4 by about 20
independent raters (the mean is the label). They ship in the `vaderSentiment` 3.3.2 source
distribution on PyPI (`additional_resources/hutto_ICWSM_2014.tar.gz`, MIT licence); the two
files are copied unchanged (gzip) into `analysis/sentiment/data/` with the licence, so
training stays offline. The same archive's film snippets (the Pang & Lee Rotten Tomatoes
data) and Amazon product snippets are never read here: they are out-of-domain test sets
(bench/ood_polarity.py).

A mean rating at or beyond +/- `GENERAL_THRESHOLD` is positive / negative, anything
between is neutral (0.5, half a point from neutral on the raters' scale: fixed, not searched;
the selection runs that justify using the sets are in bench/data/README.md).
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from analysis.sentiment.corpus import Example, normalise

DATA = Path(__file__).resolve().parent / "data"
#: name in `SentimentOptions.general` -> vendored file
SETS = {
    "hutto2014-tweets": "hutto2014_tweets_GroundTruth.txt.gz",
    "hutto2014-nyt": "hutto2014_nytEditorialSnippets_GroundTruth.txt.gz",
}
GENERAL_THRESHOLD = 0.5


def names(spec: str) -> list[str]:
    """The set names of a `general` option value ("" = none); unknown names are an error."""
    out = [s.strip() for s in spec.split(",") if s.strip()]
    bad = [s for s in out if s not in SETS]
    if bad:
        raise ValueError(f"unknown general sentiment set(s) {bad}; known: {', '.join(SETS)}")
    return out


def label(mean: float, threshold: float = GENERAL_THRESHOLD) -> str:
    return "negative" if mean <= -threshold else "positive" if mean >= threshold else "neutral"


def ratings(name: str) -> list[tuple[str, float]]:
    """(text, mean human rating) of one vendored set, in file order."""
    rows = []
    raw = gzip.decompress((DATA / SETS[name]).read_bytes()).decode("utf-8", errors="replace")
    for n, line in enumerate(raw.splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        try:
            mean = float(parts[1])
        except ValueError as exc:
            raise ValueError(f"{SETS[name]}:{n}: rating {parts[1]!r} is not a number") from exc
        text = normalise(parts[2].replace("&amp;", "&"))
        if text:
            rows.append((text, mean))
    return rows


def examples(spec: str) -> list[Example]:
    """Three-class training examples from every set named in `spec`."""
    return [Example(text, label(mean)) for name in names(spec) for text, mean in ratings(name)]


def digest(spec: str) -> str | None:
    """Hash of the named files' bytes (part of the model's cache key); None when unused."""
    chosen = names(spec)
    if not chosen:
        return None
    h = hashlib.sha256()
    for name in chosen:
        h.update(name.encode())
        h.update((DATA / SETS[name]).read_bytes())
    return h.hexdigest()
