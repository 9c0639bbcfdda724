"""Fixtures of the personal-data tests: a real DuckDB file with planted PII."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "privacy.duckdb")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _default_gates() -> Iterator[None]:
    """Each test starts with the default role gates and redaction options."""
    from analysis import outbound
    from analysis.redaction import RedactionOptions
    from convoscope import privacy
    from store import outbound as store_outbound

    yield
    store_outbound.set_original_gate(None)
    privacy.set_erase_gate(None)
    outbound.configure(RedactionOptions())
