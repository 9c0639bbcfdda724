"""Shared pieces of the rules family tests (tests/analysis/test_rules_families*.py): stand-in
encoders that let the shipped rules be built without MiniLM, the table-driven case list,
and one-turn evaluation. The shipped engines themselves are session fixtures
(tests/analysis/conftest.py), built once per worker instead of once per module."""

from __future__ import annotations

import numpy as np

from analysis.rules import RuleEngine
from store.records import Interaction, Turn


def _bag_embed(texts: list[str]) -> np.ndarray:
    """A bag-of-words encoder so the shipped semantic condition can be built without MiniLM."""
    vocab = ["call", "recorded", "record", "quality", "training"]
    rows = np.array([[1.0 if w in t.lower() else 0.0 for w in vocab] + [0.3] for t in texts])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _blind_embed(texts: list[str]) -> np.ndarray:
    """One-hot vectors by a hash of the text: no two texts are alike, so the disclosure's
    semantic condition never decides and the phrase and `near` conditions are what is tested."""
    import hashlib

    rows = np.zeros((len(texts), 256))
    for i, t in enumerate(texts):
        rows[i, hashlib.sha256(t.encode()).digest()[0]] = 1.0
    return rows


def family_cases(*groups: tuple[str, str, bool, list[str]]) -> list[tuple[str, str, str, bool]]:
    """(flag, speaker, text, fires) rows from (flag, speaker, fires, texts) groups, so a
    round's families and look-alikes are one parametrised test, not a pair per family."""
    return [(flag, speaker, text, fires) for flag, speaker, fires, texts in groups for text in texts]


def _kinds(engine: RuleEngine, speaker: str, text: str, channel: str = "call") -> set[str]:
    turn = Turn(0, speaker, text, start=2.0, end=8.0) if channel == "call" else Turn(0, speaker, text)
    return {h.rule.kind for h in engine.evaluate(Interaction(channel, "t", "x", "h", turns=[turn]), {})}
