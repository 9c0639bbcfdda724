"""The shared encoder beside the analysis job's Python (#15, round 5): the PyTorch forward
runs as one traced graph (no GIL between operators) with the very same numbers as eager."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.encoder import EncoderOptions, TextEncoder


def _batches(seed: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """Word-piece batches of 1 to 64 rows and 2 to 256 columns, padded and not."""
    rng = np.random.default_rng(seed)
    out = []
    for b, w in [(1, 5), (1, 40), (7, 9), (64, 30), (3, 256), (2, 2)]:
        ids = rng.integers(1000, 29000, size=(b, w))
        ids[:, 0], ids[:, -1] = 101, 102
        out.append((ids, np.ones((b, w), dtype=np.int64)))
        mask = np.ones((b, w), dtype=np.int64)
        for i in range(1, b):
            mask[i, rng.integers(1, w + 1):] = 0
        out.append((ids * mask, mask))
    return out


@pytest.mark.slow  # loads the packaged MiniLM twice
@pytest.mark.parametrize("precision", ["bfloat16", "float32"])
def test_the_traced_forward_gives_eager_pytorchs_numbers_bit_for_bit(precision: str) -> None:
    enc = TextEncoder(EncoderOptions(runtime="torch", precision=precision, threads=1, cache_size=0), None)
    runner = enc._runner
    assert runner._graph() is not False  # traced here (transformers' BERT traces)
    for ids, mask in _batches():
        traced = runner(ids, mask)
        runner._traced = False  # eager, as before round 5
        try:
            eager = runner(ids, mask)
        finally:
            runner._traced = None
        assert np.array_equal(traced, eager), (precision, ids.shape, int(mask.sum()))

