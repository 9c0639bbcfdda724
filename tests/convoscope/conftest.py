"""Fixtures shared by the API tests: a generated store copied per test, and the served API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apidata import NOW, TOKEN, generator

from convoscope import api
from store import search
from store.db import Store


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-store") / "base.duckdb"
    generator().generate(path, 300, seed=5, now=NOW, agents=10)
    st = Store.open(path)
    search.refresh_search_index(st)
    st.close()
    return path


@pytest.fixture
def store(base_db: Path, tmp_path: Path) -> Iterator[Store]:
    dst = tmp_path / "store.duckdb"
    shutil.copyfile(base_db, dst)
    st = Store.open(dst)
    yield st
    st.close()


@pytest.fixture
def served(store: Store) -> Iterator[api.ApiHandle]:
    handle = api.serve_api(store, "127.0.0.1", 0, TOKEN)
    yield handle
    handle.stop()
