"""Fixtures of the pattern tests: a fresh DuckDB file per test (helpers: patterns_data.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "patterns.duckdb")
    yield s
    s.close()
