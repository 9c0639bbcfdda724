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


@pytest.mark.slow
def test_a_waiting_thread_runs_another_calls_next_batch_with_the_same_numbers() -> None:
    """`help` runs the next forward pass of a `pooled` call that another thread is in: the
    call's batches (company, widths) are those it has alone, so its numbers are the same
    bit for bit whichever thread ran which batch; with nothing open it waits and says so."""
    import threading

    texts = [f"the {k}th turn about a refund that never came, order {k * 7919}" for k in range(7)]
    opts = EncoderOptions(runtime="torch", precision="float32", threads=1, cache_size=0, batch_size=2)
    alone = TextEncoder(opts, None).pooled(texts)
    enc = TextEncoder(opts, None)
    real = enc._runner
    first, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def held(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        ran.append(threading.current_thread().name)
        if threading.current_thread().name == "owner" and not first.is_set():
            first.set()  # the owner's first batch stops here until a helper has run one
            assert release.wait(timeout=60)
        return real(ids, mask)

    enc._runner = held
    assert enc.help(timeout=0.01) is False  # nothing open
    out: dict[str, np.ndarray] = {}
    t = threading.Thread(target=lambda: out.setdefault("owner", enc.pooled(texts)), name="owner")
    t.start()
    assert first.wait(timeout=60)
    assert enc.help(timeout=1.0) is True  # the call's second batch, run here
    release.set()
    t.join(timeout=60)
    assert ran.count(threading.current_thread().name) == 1 and ran.count("owner") == 3  # 4 batches of <= 2
    assert np.array_equal(out["owner"], alone)


@pytest.mark.slow
def test_an_error_in_a_helpers_batch_is_raised_by_the_call() -> None:
    import threading

    opts = EncoderOptions(runtime="torch", precision="float32", threads=1, cache_size=0, batch_size=1)
    enc = TextEncoder(opts, None)
    real = enc._runner
    first, release = threading.Event(), threading.Event()

    def failing_off_the_owner(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if threading.current_thread().name != "owner":
            raise RuntimeError("out of memory in a helper's batch")
        if not first.is_set():
            first.set()
            assert release.wait(timeout=60)
        return real(ids, mask)

    enc._runner = failing_off_the_owner
    err: list[BaseException] = []

    def owner() -> None:
        try:
            enc.pooled(["one text", "another text", "a third one"])
        except RuntimeError as exc:
            err.append(exc)

    t = threading.Thread(target=owner, name="owner")
    t.start()
    assert first.wait(timeout=60)
    assert enc.help(timeout=1.0) is True
    release.set()
    t.join(timeout=60)
    assert err and "helper's batch" in str(err[0]) and not enc._open
