"""Shared pieces of the ASR tests (tests/analysis/test_asr*.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def options(transcriber: Any, **changes: Any) -> Iterator[None]:
    """Run a block with some [asr] options changed on the session's one Transcriber (the
    model loads once per session), and put them back after, also when the block fails."""
    old = transcriber.options
    transcriber.options = dataclasses.replace(old, **changes)
    try:
        yield
    finally:
        transcriber.options = old
