"""Long customer text read whole: split into sentences, score each, aggregate (issue #11, v8).

The sentiment head reads `TURN_CHARS` (600) characters of a turn, the same cut as the
sentence embedding. That is the whole of a chat or call turn, but not of a long e-mail, a
long chat message or a product review, whose verdict often comes last ("I had terrible
migraines for years … this fixed them"). With `[sentiment] long_text` set, a text longer
than `long_chars` is split into sentences (segtok, the splitter flair itself uses; line
breaks split too), consecutive short sentences are packed into units of at most
`unit_chars`, every unit of every long text goes through the same head in one batched
encoder pass, and the units' class probabilities are averaged with weights:

* `mean`   — every unit alike;
* `length` — by characters (a one-word line counts little);
* `last`   — a linear ramp, the last unit `n` times the first (the verdict at the end);
* `polar`  — by |P(positive) − P(negative)|, so evaluative units outweigh narration;
* `last-polar` — both.

Texts of at most `long_chars` characters never reach this module: they are scored exactly
as before (same inputs, same encoder call), so short turns pay nothing and do not move.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: the aggregations `[sentiment] long_text` may name ("" = off: the first 600 characters)
AGGREGATES = ("", "mean", "length", "last", "polar", "last-polar")
#: `[sentiment] long_prior`: "" keeps the head's training prior; "flat" moves a customer's
#: long text to equal class priors (Saerens et al., 2002, as the agent correction does)
PRIORS = ("", "flat")


@dataclass(frozen=True)
class LongText:
    """How a text longer than `long_chars` is read: `mode` "" reads its first 600
    characters like any turn. `head` (an `analysis.sentiment.head.SentimentHead`) reads
    the units when set (`long_model`), else the served head does; `customer_ratio` /
    `agent_ratio` are per-class factors applied to each unit of a customer's / an agent's
    long text (label-shift corrections for that head)."""

    mode: str = ""
    long_chars: int = 600
    unit_chars: int = 0
    head: Any = None
    customer_ratio: dict[str, float] | None = None
    agent_ratio: dict[str, float] | None = field(default=None)
    source: str = ""

    def is_long(self, text: str | None) -> bool:
        return bool(self.mode) and len(text or "") > self.long_chars

    def ratio_for(self, speaker: str | None) -> dict[str, float] | None:
        return self.agent_ratio if speaker in ("agent", "bot") else self.customer_ratio

    def describe(self) -> str:
        prior = "+flat" if self.customer_ratio else ""
        by = f"@{self.source}" if self.source else ""
        return f"long:{self.mode}{prior}>{self.long_chars}{by}"


def reader(options: Any, priors: dict[str, dict[str, float]] | None) -> LongText:
    """The `LongText` of `[sentiment]` options (`analysis.sentiment.options.SentimentOptions`);
    `priors` are the served model's label priors ("train", "agent"), used when the units are
    read by the served head. With `long_model` (a trained model's folder or its `head.npz`)
    that head reads the units instead, with the priors from its own meta.json."""
    if not options.long_text:
        return LongText()
    from analysis.sentiment.corpus import LABELS
    from analysis.sentiment.training import agent_ratio

    head = None
    source = ""
    if options.long_model:
        from analysis.sentiment.head import HEAD_FILE, SentimentHead

        path = Path(options.long_model).expanduser()
        path = path / HEAD_FILE if path.is_dir() else path
        if not path.is_file():
            raise FileNotFoundError(f"long_model: no sentiment head at {path} (build that recipe first)")
        head = SentimentHead(path)
        source = path.parent.name
        meta_file = path.parent / "meta.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        priors = meta.get("label_priors")
        if priors is None and meta.get("options"):
            from analysis.sentiment.options import SentimentOptions
            from analysis.sentiment.training import label_priors

            priors = label_priors(SentimentOptions(**meta["options"]))
    train = (priors or {}).get("train")
    if options.long_prior == "flat" and not train:
        raise ValueError("long_prior = \"flat\" needs the long-text head's training priors (meta.json)")
    customer = {c: 1.0 / train[c] for c in LABELS if train.get(c)} if options.long_prior == "flat" and train else None
    agent = agent_ratio(priors) if options.agent_prior and train and priors and priors.get("agent") else None
    return LongText(options.long_text, options.long_chars, options.unit_chars, head, customer, agent, source)
_LINES = re.compile(r"\s*\n\s*")


def split_units(text: str, unit_chars: int = 0, max_chars: int = 600) -> list[str]:
    """The units a long text is scored in: its sentences in order (segtok's `split_multi`
    on each non-empty line), whitespace collapsed; consecutive sentences are packed into
    one unit while it stays within `unit_chars` (0: one sentence a unit), and a sentence
    longer than `max_chars` is cut at word boundaries into pieces of at most that size."""
    from segtok.segmenter import split_multi

    sentences: list[str] = []
    for line in _LINES.split(text or ""):
        for s in split_multi(line):
            s = " ".join(s.split())
            if s:
                sentences.extend(_cut(s, max_chars))
    units: list[str] = []
    for s in sentences:
        if units and unit_chars and len(units[-1]) + 1 + len(s) <= unit_chars:
            units[-1] = f"{units[-1]} {s}"
        else:
            units.append(s)
    return units


def _cut(sentence: str, max_chars: int) -> list[str]:
    """A sentence as pieces of at most `max_chars` characters, cut between words."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    cur = ""
    for word in sentence.split(" "):
        while len(word) > max_chars:  # one unbroken run (a URL, a key-mash): cut it anyway
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        if cur and len(cur) + 1 + len(word) > max_chars:
            pieces.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        pieces.append(cur)
    return pieces


def unit_weights(mode: str, units: Sequence[str], probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Non-negative weights (summing to 1) of a long text's units under `mode`."""
    n = len(units)
    if mode not in AGGREGATES or not mode:
        raise ValueError(f"long_text must be one of {', '.join(repr(a) for a in AGGREGATES[1:])}; got {mode!r}")
    w = np.ones(n, dtype=np.float64)
    if mode == "length":
        w = np.asarray([len(u) for u in units], dtype=np.float64)
    if mode in ("last", "last-polar"):
        w = w * np.arange(1, n + 1, dtype=np.float64)
    if mode in ("polar", "last-polar"):
        pos, neg = labels.index("positive"), labels.index("negative")
        # a small floor: a text whose units are all flat still averages them all
        w = w * (np.abs(probs[:, pos] - probs[:, neg]).astype(np.float64) + 1e-3)
    return w / w.sum()


def aggregate(mode: str, units: Sequence[str], probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """One text's class probabilities ([3], `labels` order) from its units' ([n, 3])."""
    if len(units) != len(probs) or not len(units):
        raise ValueError(f"{len(units)} units but {len(probs)} probability rows")
    w = unit_weights(mode, units, probs, labels)
    return (w[:, None] * probs.astype(np.float64)).sum(axis=0)
