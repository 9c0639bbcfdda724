"""Diarization error rate (DER), no forgiveness collar, overlapped speech scored.

The NIST md-eval definition on 10 ms frames: with N_ref(t) reference speakers and
N_hyp(t) hypothesis speakers talking in frame t, and N_correct(t) the reference speakers
whose mapped hypothesis speaker also talks,

    DER = Σ_t [max(N_ref, N_hyp) − N_correct] / Σ_t N_ref

which is (missed speech + false alarm + confusion) / reference speech. The mapping of
hypothesis to reference speakers is one-to-one and maximises the jointly talked time
(Hungarian assignment, scipy). Labels are any hashables; segments are (start, end, label)
in seconds. pyannote.metrics computes the same number (without collar, with overlap) but
drags in a dozen packages, so this is the ~40-line version, tested in
tests/analysis/test_diarization_der.py against hand-counted cases.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

STEP = 0.01

Segment = tuple[float, float, Hashable]


@dataclass(frozen=True)
class DerResult:
    """Seconds of each error kind and the reference speech they are measured against."""

    reference: float
    missed: float
    false_alarm: float
    confusion: float
    mapping: dict[Hashable, Hashable]

    @property
    def der(self) -> float:
        return (self.missed + self.false_alarm + self.confusion) / self.reference if self.reference else 0.0


def _grid(segments: Sequence[Segment], n: int) -> tuple[list[Hashable], np.ndarray]:
    labels = sorted({s[2] for s in segments}, key=str)
    grid = np.zeros((len(labels), n), dtype=bool)
    for s, e, lab in segments:
        a, b = round(s / STEP), round(e / STEP)
        grid[labels.index(lab), max(a, 0) : max(b, 0)] = True
    return labels, grid


def der(reference: Sequence[Segment], hypothesis: Sequence[Segment]) -> DerResult:
    """DER of `hypothesis` against `reference` (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment

    end = max([e for _s, e, _l in [*reference, *hypothesis]], default=0.0)
    n = round(end / STEP) + 1
    rl, rg = _grid(reference, n)
    hl, hg = _grid(hypothesis, n)
    n_ref = rg.sum(axis=0)
    n_hyp = hg.sum(axis=0)
    mapping: dict[Hashable, Hashable] = {}
    correct = np.zeros(n, dtype=np.int64)
    if rl and hl:
        joint = rg.astype(np.int64) @ hg.T.astype(np.int64)  # (ref, hyp) frames together
        rows, cols = linear_sum_assignment(-joint)
        for r, c in zip(rows, cols, strict=True):
            if joint[r, c] > 0:
                mapping[hl[c]] = rl[r]
                correct += rg[r] & hg[c]
    missed = np.maximum(n_ref - n_hyp, 0).sum()
    false_alarm = np.maximum(n_hyp - n_ref, 0).sum()
    confusion = (np.minimum(n_ref, n_hyp) - correct).sum()
    return DerResult(float(n_ref.sum() * STEP), float(missed * STEP), float(false_alarm * STEP),
                     float(confusion * STEP), mapping)  # fmt: skip
