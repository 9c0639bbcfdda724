"""Fixtures that run a test on both store backends: the DuckDB file and a DuckLake on a
real PostgreSQL. tests/store/conftest.py uses them for every store test; other folders
import them where a test exercises the store's writes (see tests/bot/test_alerts_exactly_once.py).

`store_target(name)` gives where a test's store lives: a file under tmp_path on the
`duckdb` backend, a fresh PostgreSQL database plus a data folder on `ducklake` (the
same name gives the same lake, so a test can close and reopen it). The PostgreSQL server
(tests/store/pgserver.py) starts once per session, only when a lake test runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pgserver import PgServer, start_postgres

from store import Store
from store.backend import LakeTarget

Target = Path | LakeTarget


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lake_template(pg: PgServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty lake that each test's lake is cloned from (migrating a lake takes
    ~10 s: each DDL statement is a catalog transaction in PostgreSQL)."""
    name = pg.create_db("template")
    Store.open(LakeTarget(catalog=pg.catalog(name), data_path=str(tmp_path_factory.mktemp("tpl")))).close()
    return name


#: the lake variant is `slow` (PostgreSQL, ~5 s per test on 2 cores): `make test` runs it,
#: `make test-fast` keeps to the file
BACKENDS = ["duckdb", pytest.param("ducklake", marks=pytest.mark.slow)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def target_for(request: pytest.FixtureRequest, backend: str, tmp_path: Path, name: str) -> Target:
    """Where a store named `name` lives on `backend` (a new lake cloned from the template)."""
    if backend == "duckdb":
        return tmp_path / f"{name}.duckdb"
    server: PgServer = request.getfixturevalue("pg")
    template: str = request.getfixturevalue("lake_template")
    data = str(tmp_path / f"{name}.lake")
    return LakeTarget(catalog=server.catalog(server.clone_db(template, data)), data_path=data)


@pytest.fixture
def store_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], Target]:
    made: dict[str, Target] = {}

    def target(name: str = "t") -> Target:
        if name not in made:
            made[name] = target_for(request, backend, tmp_path, name)
        return made[name]

    return target
