"""migrate-store (DuckDB file → DuckLake), lake backups, and the lake dialect's derivation.

Real parts: a DuckDB file written through the store's own functions, a DuckLake on the
session's PostgreSQL (tests/store/pgserver.py), the real CLI entry point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from convoscope.cli import main
from store import Store, audit, quarantine
from store import flags as flag_q
from store import interactions as iq
from store.backend import SEQUENCES, LakeTarget, translate
from store.db import load_migrations
from store.lifecycle import table_counts, verify_backup
from store.migrate import backup_lake, copy_store
from store.records import Flag, Interaction, QuarantineItem, Turn

# PostgreSQL + DuckLake: seconds per test on 2 cores (`make test`, not `make test-fast`)
pytestmark = pytest.mark.slow


def _chat(i: int) -> Interaction:
    return Interaction(channel="chat", source="zendesk", external_id=f"c{i}", content_hash=f"h{i}",
                       started_at=datetime(2026, 11, 20, 9, tzinfo=UTC), agent="Kim",
                       turns=[Turn(0, "customer", f"my card {i} was charged twice"), Turn(1, "agent", "sorry")])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src.duckdb"
    with Store.open(path) as st:
        ids = iq.upsert(st, [_chat(i) for i in range(30)]).inserted
        for iid in ids[:10]:
            flag_q.replace_for_interaction(st, iid, [Flag(iid, "churn_risk", 3, evidence=[{"seq": 0}])])
        quarantine.record(st, QuarantineItem(source="zendesk", item_key="bad-1", reason="no body"))
        audit.log(st, "test", "seed", None, {"n": 30})
    return path


@pytest.fixture
def new_lake(pg, lake_template: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str) -> LakeTarget:
        data = str(tmp_path / f"{name}.lake")
        return LakeTarget(pg.catalog(pg.clone_db(lake_template, data)), data)
    return make


def _counts(st: Store) -> dict[str, int]:
    return {k: v for k, v in table_counts(st.conn).items() if k not in ("schema_version", "lake_sequences")}


def test_copy_is_verified_idempotent_and_resumable(source: Path, new_lake) -> None:  # type: ignore[no-untyped-def]
    with Store.open(source, read_only=True) as src:
        want = _counts(src)
        max_iid = src.conn.execute("SELECT max(id) FROM interactions").fetchone()[0]
    lake = new_lake("m")
    with Store.open(lake) as st:
        rep = copy_store(source, st)
        assert rep.ok and _counts(st) == want
        assert {t.table: t.copied for t in rep.tables}["interactions"] == 30
        again = copy_store(source, st)  # idempotent: nothing copied twice
        assert again.ok and all(t.copied == 0 for t in again.tables) and _counts(st) == want
        # a copy killed before the turns table committed: the next run copies just those
        st.conn.execute("DELETE FROM turns WHERE interaction_id % 3 = 0")
        resumed = copy_store(source, st)
        assert resumed.ok and _counts(st) == want
        assert {t.table: t.copied for t in resumed.tables}["turns"] == 2 * 10
        # new ids continue after the copied ones (no sequences on the lake)
        (new_id,) = iq.upsert(st, [_chat(99)]).inserted
        assert new_id > max_iid
        assert st.conn.execute("SELECT count(DISTINCT id) = count(*) FROM interactions").fetchone()[0]


def test_cli_migrate_store_with_a_url(source: Path, new_lake, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    lake = new_lake("cli")
    url = f"ducklake:postgres:{lake.catalog} data_path={lake.data_path}"
    assert main(["--db", str(source), "migrate-store", "--to", url]) == 0
    out = capsys.readouterr().out
    assert "verified: every source row is in the target" in out
    with Store.open(lake, read_only=True) as st:
        assert st.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 30
        # the search index was rebuilt on the lake
        assert st.conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] >= 0
    assert main(["migrate-store", "--to", "ducklake:postgres:dbname=x"]) == 2  # no data_path: clear error
    assert "data_path" in capsys.readouterr().err


def test_lake_backup_restores_as_a_file_and_into_a_new_lake(source: Path, new_lake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Store.open(new_lake("b")) as st:
        copy_store(source, st)
        want = _counts(st)
        info = backup_lake(st, tmp_path / "bk")
    assert verify_backup(tmp_path / "bk").counts == info.counts
    # as a DuckDB store: keys and sequences are back, new ids follow the copied ones
    with Store.open(tmp_path / "bk" / "convoscope.duckdb") as f:
        assert {k: v for k, v in _counts(f).items() if k in want} == want
        (nid,) = iq.upsert(f, [_chat(500)]).inserted
        assert nid > 30
        now = {k: v for k, v in _counts(f).items() if k in want}
    # into a new lake, through migrate-store's copy
    with Store.open(new_lake("r")) as st2:
        assert copy_store(tmp_path / "bk" / "convoscope.duckdb", st2).ok
        assert {k: v for k, v in _counts(st2).items() if k in want} == now
        assert now["interactions"] == want["interactions"] + 1


def test_lake_schema_is_derived_from_the_same_migrations(tmp_path: Path, new_lake) -> None:  # type: ignore[no-untyped-def]
    """Same tables and columns on both backends; nothing the lake refuses survives translation."""
    with Store.open(tmp_path / "d.duckdb") as d, Store.open(new_lake("s")) as lk:
        q = ("SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = "
             "current_database() AND table_schema = 'main' ORDER BY 1, 2")
        duck = set(d.conn.execute(q).fetchall())
        lake = set(lk.conn.execute(q).fetchall())
        assert lake - duck == {("lake_sequences", "name"), ("lake_sequences", "next_value")}
        assert duck == lake - {("lake_sequences", "name"), ("lake_sequences", "next_value")}
        seqs = {r[0] for r in lk.conn.execute("SELECT name FROM lake_sequences").fetchall()}
        assert seqs == set(SEQUENCES.values())
    for mig in load_migrations():
        lake_sql = translate(mig.sql).upper()
        for banned in ("PRIMARY KEY", "UNIQUE", "CHECK (", "CREATE SEQUENCE", "NEXTVAL", "[384]"):
            assert banned not in lake_sql, (mig.name, banned)


def test_purging_history_makes_deleted_rows_physically_gone(new_lake) -> None:  # type: ignore[no-untyped-def]
    """An erasure on a lake must not survive in old snapshots' Parquet files."""
    import duckdb

    from store.backend import purge_lake_history

    lake = new_lake("p")
    with Store.open(lake) as st:
        items = [_chat(i) for i in range(40)]
        items[7].turns[0].text = "my secret is zeppelin-4471"
        iq.upsert(st, items)

        def in_files() -> int:
            files = [str(p) for p in Path(lake.data_path).rglob("*.parquet") if p.parent.name == "turns"]
            if not files:
                return 0
            con = duckdb.connect()
            try:
                return int(con.execute(
                    "SELECT count(*) FROM read_parquet(?, union_by_name = true) "
                    "WHERE text LIKE '%zeppelin-4471%'", [files]).fetchone()[0])
            finally:
                con.close()

        assert in_files() >= 1  # the turn went to a data file, not inlined in the catalog
        with st.transaction() as tx:
            tx.execute("DELETE FROM turns WHERE text LIKE '%zeppelin-4471%'")
        assert in_files() >= 1  # still there: an older snapshot needs it
        purge_lake_history(st.cursor())
        assert in_files() == 0
        assert st.conn.execute("SELECT count(*) FROM turns").fetchone()[0] == 79
