"""Fixtures of the pattern tests: a fresh DuckDB file per test (helpers: patterns_data.py),
or, for modules that ask for `store_on_both_backends`, a DuckDB file and a DuckLake on a real
PostgreSQL (tests/store/backends.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "store"))
from backends import BACKENDS, lake_template, pg, target_for  # noqa: F401  (fixtures)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "patterns.duckdb")
    yield s
    s.close()


@pytest.fixture(params=BACKENDS)
def store_on_both_backends(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = Store.open(target_for(request, request.param, tmp_path, "patterns"))
    yield s
    s.close()
