"""A small deterministic store (fixed seed, fixed clock) for the TUI and API tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from scriptload import load_script

from store import search
from store.db import Store
from tui.data import LocalSource

ROOT = Path(__file__).resolve().parents[2]
FIXED_NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
N_INTERACTIONS = 400


def load_generator() -> ModuleType:
    """bench/generate_store.py is a script, not a package: load it by path."""
    return load_script("bench/generate_store.py")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tui-store") / "base.duckdb"
    load_generator().generate(path, N_INTERACTIONS, seed=3, now=FIXED_NOW, agents=12)
    st = Store.open(path)
    try:
        search.refresh_search_index(st)
        st.conn.execute("CHECKPOINT")
    finally:
        st.close()
    return path


@pytest.fixture
def db_path(base_db: Path, tmp_path: Path) -> Path:
    """A private copy per test: reviews and exports never leak between tests."""
    dst = tmp_path / "store.duckdb"
    shutil.copyfile(base_db, dst)
    return dst


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    st = Store.open(db_path)
    yield st
    st.close()


@pytest.fixture
def source(store: Store) -> LocalSource:
    return LocalSource(store, now=lambda: FIXED_NOW, reviewer="tester")


async def _settle(pilot, rounds: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Wait until screen workers (queries) finished and their results are rendered."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture
def settle():  # type: ignore[no-untyped-def]
    """`await settle(pilot)`: let queued queries finish and render."""
    return _settle
