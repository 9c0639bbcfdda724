"""Keywords per interaction with YAKE (unsupervised, statistical, no model download).

Why YAKE: it ranks 1-2 word phrases from a single document using position, frequency and
co-occurrence, so it works on one short call without a corpus, and it ships as a small
wheel. Only customer and agent words count (bot/system boilerplate would dominate), the
text is capped (`max_chars`) so a long e-mail thread costs the same as a call, and PII
markers left by redaction are never keywords.

Speed (issue 15): the reference implementation (`yake`, pure Python: networkx graphs,
numpy medians per word) cost about 4-5 ms of the ~8 ms of Python per interaction. The
candidates and their scores now come from `yake-rust` (the same algorithm compiled,
segtok's rules ported), about 7x cheaper; it gives the same candidates in the same order
with scores equal to ~1e-15. Its own de-duplication uses another similarity (Levenshtein)
than the reference's (`seqm`, which `yake` 0.7 implements with its own heuristics), so it
is switched off and the reference's similarity function, taken from the installed `yake`
itself, is applied to the ranked candidates exactly as `yake` does it: same keywords, same
order (`bench/keywords.py` compares the two on the bench's and the data sets' texts).
When `yake-rust` is not installed the reference implementation runs alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from store.records import Turn

log = logging.getLogger(__name__)

_STOP_MARKERS = ("pii",)
#: the de-duplication threshold. Until issue 15 this module passed `dedupLim=0.7`, a
#: keyword `yake` 0.7 silently ignores (it reads `dedup_lim`), so every stored keyword list
#: was made with yake's default, 0.9; kept, so keywords do not change with the speed-up.
DEDUP_LIM = 0.9


@lru_cache(maxsize=8)
def _reference(top: int, ngram: int) -> Any:
    """`yake`'s own extractor: the reference output, and the de-duplication similarity."""
    import yake

    return yake.KeywordExtractor(lan="en", n=ngram, top=top * 2, dedup_lim=DEDUP_LIM)


@lru_cache(maxsize=8)
def _compiled(ngram: int) -> Any:
    """`yake-rust` ranking every candidate (no de-duplication: the reference's is applied
    here); None when the package is missing."""
    try:
        import yake_rust
    except ImportError:
        log.warning("keywords: yake-rust is not installed; using the slower pure-Python yake")
        return None
    return yake_rust.Yake(language="en", ngrams=ngram, remove_duplicates=False)


def ranked(text: str, *, top: int = 8, ngram: int = 2, compiled: bool = True) -> list[str]:
    """YAKE's `top * 2` best phrases of `text`, de-duplicated as the reference does.

    `compiled=False` runs the reference implementation (`yake`) alone: the comparison's
    baseline."""
    ref = _reference(top, ngram)
    fast = _compiled(ngram) if compiled else None
    if fast is None:
        return [k for k, _score in ref.extract_keywords(text)]
    # the reference: text.replace("\n", " "), then candidates sorted by score, each kept
    # unless its lower-cased form is too similar (ref.dedup_function) to one kept before
    limit = top * 2
    similar = ref.dedup_function
    kept: list[str] = []
    kept_lower: list[str] = []
    for phrase, _score in fast.get_n_best(text.replace("\n", " "), n=1 << 30):
        low = phrase.lower()
        if any(similar(low, prev) > DEDUP_LIM for prev in kept_lower):
            continue
        kept.append(phrase)
        kept_lower.append(low)
        if len(kept) == limit:
            break
    return kept


def extract(
    turns: Sequence[Turn], *, top: int = 8, ngram: int = 2, max_chars: int = 4000, compiled: bool = True
) -> list[str]:
    """The `top` keywords of the conversation, best first (lower-cased, unique)."""
    text = " ".join(t.text for t in turns if t.speaker in ("agent", "customer") and t.text)[:max_chars]
    if len(text.split()) < 3:
        return []
    out: list[str] = []
    for phrase in ranked(text, top=top, ngram=ngram, compiled=compiled):
        k = phrase.lower().strip()
        if not k or any(m in k for m in _STOP_MARKERS) or k in out:
            continue
        out.append(k)
        if len(out) >= top:
            break
    return out
