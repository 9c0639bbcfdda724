"""Conversation stages (greeting -> discovery -> solution -> close) in agent turns.

Each stage is recognised at the first agent turn that matches one of its configured
patterns; the order of first appearances is the interaction's stage sequence, e.g.
"greeting>discovery>solution>close" or "greeting>solution" (no discovery). Comparing the
commonest sequences of good and bad interactions shows what successful agents do in what
order. Patterns are plain, reviewable regular expressions rather than a model, so a QA
lead can adjust them to the team's scripts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from analysis.patterns.options import StageOptions
from store.patterns import StageOrderRow

CANONICAL = ("greeting", "discovery", "solution", "close")


class StageDetector:
    """Compiled stage patterns (compile once, apply to many interactions)."""

    def __init__(self, options: StageOptions) -> None:
        self.patterns = {
            name: [re.compile(p, re.IGNORECASE) for p in pats]
            for name, pats in options.stages().items()
        }

    def sequence(self, agent_turns: Sequence[str]) -> list[str]:
        """Stages in order of first appearance."""
        first: dict[str, int] = {}
        for i, text in enumerate(agent_turns):
            for name, pats in self.patterns.items():
                if name not in first and any(p.search(text) for p in pats):
                    first[name] = i
        # ties (one turn opening two stages) keep the canonical order
        return sorted(first, key=lambda s: (first[s], CANONICAL.index(s)))


def stage_orders(sequences: Iterable[tuple[str, list[str]]], top: int) -> list[StageOrderRow]:
    """The `top` commonest sequences per outcome ('good' / 'bad') with their share."""
    counts: dict[str, Counter[str]] = {}
    for outcome, seq in sequences:
        counts.setdefault(outcome, Counter())[">".join(seq) or "(none)"] += 1
    rows = []
    for outcome, c in counts.items():
        total = sum(c.values())
        for rank, (seq, n) in enumerate(c.most_common(top), start=1):
            rows.append(StageOrderRow(outcome=outcome, sequence=seq, n=n, share=n / total, rank=rank))
    return rows
