"""Schema versioning: new versions apply on open, newer files are refused, failures roll back.

The tests taking `store_target` run on both backends (tests/store/conftest.py); the others
are about the DuckDB file itself (its lock, its WAL).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from store import SchemaTooNewError, Store, StoreError, StoreLockedError, latest_version
from store import db as store_db


def test_new_file_gets_every_migration(store_target) -> None:
    with Store.open(store_target("a")) as s:
        assert s.schema_version() == latest_version()
        applied = [r[0] for r in s.conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert applied == [m.version for m in store_db.load_migrations()]


def test_reopen_applies_nothing_twice(store_target) -> None:
    path = store_target("a")
    Store.open(path).close()
    with Store.open(path) as s:
        n = s.conn.execute("SELECT count(*) FROM schema_version").fetchone()[0]
    assert n == len(store_db.load_migrations())


def test_pending_migration_applies_on_open(store_target, monkeypatch: pytest.MonkeyPatch) -> None:
    path = store_target("a")
    Store.open(path).close()
    extra = store_db.Migration(9999, "add_note", "ALTER TABLE interactions ADD COLUMN note VARCHAR;")
    real = store_db.load_migrations
    monkeypatch.setattr(store_db, "load_migrations", lambda: [*real(), extra])
    with Store.open(path) as s:
        assert s.schema_version() == 9999
        cols = [r[0] for r in s.conn.execute("DESCRIBE interactions").fetchall()]
    assert "note" in cols


def test_failed_migration_rolls_back_and_says_which(store_target, monkeypatch: pytest.MonkeyPatch) -> None:
    path = store_target("a")
    Store.open(path).close()
    before = latest_version()
    bad = store_db.Migration(9998, "broken", "CREATE TABLE t_ok (x INT); SELECT * FROM no_such_table;")
    real = store_db.load_migrations
    monkeypatch.setattr(store_db, "load_migrations", lambda: [*real(), bad])
    with pytest.raises(StoreError, match="9998_broken"):
        Store.open(path)
    monkeypatch.setattr(store_db, "load_migrations", real)
    with Store.open(path) as s:
        assert s.schema_version() == before
        tables = {r[0] for r in s.conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "t_ok" not in tables


def test_older_binary_refuses_newer_file(store_target) -> None:
    path = store_target("a")
    Store.open(path).close()
    with Store.open(path) as s:  # as if a newer Convoscope had migrated it
        s.conn.execute("INSERT INTO schema_version (version, name) VALUES (?, 'from_the_future')",
                       [latest_version() + 50])
    with pytest.raises(SchemaTooNewError, match="upgrade Convoscope"):
        Store.open(path)


def test_read_only_open_does_not_migrate(tmp_path: Path) -> None:
    path = tmp_path / "fresh.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(StoreError, match="needs migrating"):
        Store.open(path, read_only=True)


def test_second_writer_gets_a_clear_lock_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    Store.open(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(30)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError, match="convoscope serve"):
            Store.open(path)
    finally:
        holder.kill()
        holder.wait()


def test_close_leaves_everything_in_the_file_not_the_wal(tmp_path: Path) -> None:
    """Close checkpoints, so an abrupt exit right after loses nothing and needs no WAL replay."""
    import threading

    path = tmp_path / "c.duckdb"
    s = Store.open(path)
    t = threading.Thread(target=lambda: s.cursor().execute(
        "INSERT INTO audit_log (actor, action) VALUES ('t', 'from a thread')"))
    t.start()
    t.join()
    s.conn.execute("INSERT INTO audit_log (actor, action) VALUES ('m', 'from main')")
    s.close()
    wal = Path(f"{path}.wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with Store.open(path) as again:
        assert again.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 2
