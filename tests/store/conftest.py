"""Store tests run on both backends: the DuckDB file and a DuckLake on a real PostgreSQL.

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

from store.backend import LakeTarget

Target = Path | LakeTarget


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["duckdb", "ducklake"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], Target]:
    made: dict[str, Target] = {}

    def target(name: str = "t") -> Target:
        if name not in made:
            if backend == "duckdb":
                made[name] = tmp_path / f"{name}.duckdb"
            else:
                server: PgServer = request.getfixturevalue("pg")
                made[name] = LakeTarget(catalog=server.catalog(server.create_db()),
                                        data_path=str(tmp_path / f"{name}.lake"))
        return made[name]

    return target
