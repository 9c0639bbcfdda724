"""Keywords per interaction with YAKE (unsupervised, statistical, no model download).

Why YAKE: it ranks 1-2 word phrases from a single document using position, frequency and
co-occurrence, so it works on one short call without a corpus, and it ships as a small
wheel. Only customer and agent words count (bot/system boilerplate would dominate), the
text is capped (`max_chars`) so a long e-mail thread costs the same as a call, and PII
markers left by redaction are never keywords.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from store.records import Turn

_STOP_MARKERS = ("pii",)


@lru_cache(maxsize=8)
def _extractor(top: int, ngram: int) -> Any:
    import yake

    return yake.KeywordExtractor(lan="en", n=ngram, top=top * 2, dedupLim=0.7)


def extract(turns: Sequence[Turn], *, top: int = 8, ngram: int = 2, max_chars: int = 4000) -> list[str]:
    """The `top` keywords of the conversation, best first (lower-cased, unique)."""
    text = " ".join(t.text for t in turns if t.speaker in ("agent", "customer") and t.text)[:max_chars]
    if len(text.split()) < 3:
        return []
    out: list[str] = []
    for phrase, _score in _extractor(top, ngram).extract_keywords(text):
        k = phrase.lower().strip()
        if not k or any(m in k for m in _STOP_MARKERS) or k in out:
            continue
        out.append(k)
        if len(out) >= top:
            break
    return out
