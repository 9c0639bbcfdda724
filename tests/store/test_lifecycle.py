"""The file's life cycle: a WAL that does not replay is a clear error, `doctor` finds it,
`doctor --recover` brings the database back (losing nothing when DuckDB can replay the
log some other way), backups restore exactly.

The broken WALs are made for real: a child process writes rows, runs DDL that DuckDB
1.5.5 cannot replay (ALTER TABLE on a table with `current_timestamp` defaults) or has its
log damaged, and exits without closing (as a SIGKILL would leave it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from convoscope.cli import main
from store import Store, StoreError, StoreUnreadableError
from store.db import wal_path
from store.lifecycle import backup_file, check, recover, restore, verify_backup

REPO = Path(__file__).resolve().parents[2]


def _add(con: duckdb.DuckDBPyConnection, start: int, n: int) -> None:
    con.execute(
        "INSERT INTO interactions (channel, source, external_id, content_hash) "
        "SELECT 'chat', 'test', 'x' || range, 'h' FROM range(?, ?)", [start, start + n])


def _crash_after(db: Path, sql: str) -> None:
    """In a child: add 50 rows (WAL only), run `sql`, exit without closing."""
    code = (
        "import duckdb, os, sys\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "c.execute(\"INSERT INTO interactions (channel, source, external_id, content_hash) "
        "SELECT 'chat', 'test', 'y' || range, 'h' FROM range(50)\")\n"
        "c.execute(sys.argv[2])\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db), sql], check=True)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "life.duckdb"
    with Store.open(path) as s:
        _add(s.conn, 0, 100)
    return path


def _rows(db: Path) -> int:
    con = duckdb.connect(str(db))
    try:
        return int(con.execute("SELECT count(*) FROM interactions").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_unreplayable_wal_is_a_clear_error_everywhere(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _crash_after(db, "ALTER TABLE interactions ADD COLUMN note VARCHAR")
    with pytest.raises(duckdb.Error):  # DuckDB itself: the internal error
        duckdb.connect(str(db))
    with pytest.raises(StoreUnreadableError) as err:
        Store.open(db)
    assert str(db) in str(err.value) and "write-ahead log" in str(err.value)
    assert "doctor --recover" in str(err.value) and err.value.wal_replay
    for cmd in (["ingest"], ["analyze"], ["ask", "calls today"], ["backup", str(db.parent / "bk")]):
        assert main(["--db", str(db), *cmd]) == 2, cmd
        out = capsys.readouterr()
        assert "Traceback" not in out.err and out.err.count("\n") == 1, out.err
        assert str(db) in out.err and "doctor --recover" in out.err, out.err
    assert main(["--db", str(db), "doctor"]) == 1
    report = capsys.readouterr().out
    assert "opens (WAL replayed): NO" in report and "does not replay" in report


def test_recover_replays_the_wal_by_attaching_it_and_loses_nothing(db: Path) -> None:
    _crash_after(db, "ALTER TABLE interactions ADD COLUMN note VARCHAR")
    wal_bytes = wal_path(db).stat().st_size
    rep = recover(db)
    assert rep.method == "reattached" and rep.ok
    kept = Path(rep.kept_in)
    assert (kept / db.name).is_file() and (kept / wal_path(db).name).stat().st_size == wal_bytes
    assert rep.counts_after["interactions"] == 150  # the 50 rows only the WAL held are there
    assert check(db).ok
    with Store.open(db) as s:  # and it opens as usual again
        assert s.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 150


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_recover_keeps_the_log_prefix_before_a_damaged_entry(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = (
        "import duckdb, os, sys\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "for i in range(20):\n"
        "    c.execute(\"INSERT INTO interactions (channel, source, external_id, content_hash) "
        "SELECT 'chat', 'b' || $i, 'z' || range, 'h' FROM range(200)\", {'i': i})\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=True)
    wal = wal_path(db)
    size = wal.stat().st_size
    with wal.open("r+b") as f:  # a torn write in the middle of the log
        f.seek(size // 2)
        f.write(os.urandom(64))
    assert main(["--db", str(db), "doctor"]) == 1
    capsys.readouterr()
    assert main(["--db", str(db), "doctor", "--recover"]) == 0
    out = capsys.readouterr().out
    assert "LOST" in out and "damaged at byte" in out and "fetches again" in out, out
    n = _rows(db)
    assert 100 <= n < 100 + 20 * 200  # the checkpoint, plus the log before the damage
    assert n > 100, "the transactions before the damaged entry were replayed"
    assert check(db).ok


def test_recover_sets_the_wal_aside_when_nothing_replays_it(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last resort: no way to replay the log (here the re-attach is made to fail too,
    as no real WAL we could produce defeats it), so it is set aside and the loss said."""
    from store import lifecycle

    _crash_after(db, "ALTER TABLE interactions ADD COLUMN note VARCHAR")

    def no_replay(p: Path) -> None:
        raise duckdb.IOException("replay refused for this test")

    monkeypatch.setattr(lifecycle, "_reattach_replay", no_replay)
    assert main(["--db", str(db), "doctor", "--recover"]) == 0
    out = capsys.readouterr().out
    assert "LOST" in out and "set aside" in out and "fetches again" in out, out
    assert not wal_path(db).exists()
    assert _rows(db) == 100  # back at the last checkpoint
    kept = next(db.parent.glob(f"{db.name}.recovery-*"))
    assert (kept / f"{wal_path(db).name}.set-aside").is_file() and (kept / db.name).is_file()


def test_backup_restores_exactly(db: Path, tmp_path: Path) -> None:
    with Store.open(db) as s:
        s.conn.execute("INSERT INTO audit_log (actor, action) VALUES ('me', 'test')")
        next_before = s.conn.execute("SELECT max(id) FROM interactions").fetchone()[0]
    info = backup_file(db, tmp_path / "bk")
    assert info.counts["interactions"] == 100 and info.counts["audit_log"] == 1
    assert verify_backup(tmp_path / "bk").counts == info.counts
    with pytest.raises(StoreError, match="not an empty folder"):
        backup_file(db, tmp_path / "bk")
    with Store.open(db) as s:  # work after the backup...
        _add(s.conn, 1000, 7)
    with pytest.raises(StoreError, match="--force"):
        restore(tmp_path / "bk", db)
    rep = restore(tmp_path / "bk", db, force=True)
    assert rep.old_kept_in and (Path(rep.old_kept_in) / db.name).is_file()
    assert rep.counts == info.counts  # ...is gone, the backup's rows are back
    with Store.open(db) as s:
        _add(s.conn, 2000, 1)  # sequences continue where the backup left them
        assert s.conn.execute("SELECT max(id) FROM interactions").fetchone()[0] == next_before + 1


def test_restore_into_an_empty_place_and_a_damaged_backup(db: Path, tmp_path: Path) -> None:
    backup_file(db, tmp_path / "bk")
    target = tmp_path / "elsewhere" / "moved.duckdb"
    rep = restore(tmp_path / "bk", target)
    assert rep.old_kept_in is None and rep.counts["interactions"] == 100
    with (tmp_path / "bk" / "convoscope.duckdb").open("r+b") as f:
        f.truncate(8192)
    with pytest.raises(StoreError):
        restore(tmp_path / "bk", tmp_path / "third.duckdb")
    assert not (tmp_path / "third.duckdb").exists()


def test_an_upgrade_killed_right_after_migrating_leaves_a_file_that_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrades: a new release's ALTER TABLE never sits in the live file's WAL."""
    db = tmp_path / "old.duckdb"
    with Store.open(db) as s:
        _add(s.conn, 0, 10)
    code = (
        "import os, sys\n"
        "from store import db as store_db\n"
        "real = store_db.load_migrations\n"
        "extra = store_db.Migration(9999, 'add_note', "
        "'ALTER TABLE interactions ADD COLUMN note VARCHAR;')\n"
        "store_db.load_migrations = lambda: [*real(), extra]\n"
        "s = store_db.Store.open(sys.argv[1])\n"
        "os._exit(0)\n"  # killed right after the migration, before any close
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, env=env)
    con = duckdb.connect(str(db))  # opens without help
    cols = [r[0] for r in con.execute("DESCRIBE interactions").fetchall()]
    con.close()
    assert "note" in cols
    assert not db.with_name(db.name + ".migrating").exists()
    from store import db as store_db

    real = store_db.load_migrations
    extra = store_db.Migration(9999, "add_note", "ALTER TABLE interactions ADD COLUMN note VARCHAR;")
    monkeypatch.setattr(store_db, "load_migrations", lambda: [*real(), extra])
    with Store.open(db) as s:
        assert s.schema_version() == 9999
        assert s.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 10


def test_a_wal_without_its_database_is_not_replayed_onto_a_new_file(db: Path) -> None:
    _crash_after(db, "SELECT 1")
    db.unlink()  # someone deleted the database but not its log
    with Store.open(db) as s:
        assert s.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 0
    assert list(db.parent.glob(f"{db.name}.wal.orphan-*"))


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_a_damaged_database_file_is_one_line_and_doctor_says_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bad.duckdb"
    db.write_bytes(os.urandom(50_000))
    assert main(["--db", str(db), "ingest"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a valid DuckDB database file" in err and str(db) in err
    assert main(["--db", str(db), "doctor"]) == 1
    assert "restore a backup" in capsys.readouterr().out
    rep = recover(db)
    assert rep.method == "failed" and not rep.ok and (Path(rep.kept_in) / db.name).is_file()


def test_cursors_of_finished_threads_are_closed(tmp_path: Path) -> None:
    """A server that runs each request in a new thread must not keep a cursor per request
    (seen: ~20 MB per 300 threads of the Slack HTTP server before)."""
    import threading

    store = Store.open(tmp_path / "c.duckdb")
    try:
        for _ in range(20):
            t = threading.Thread(target=lambda: store.cursor().execute("SELECT 1").fetchone())
            t.start()
            t.join()
        holder = threading.Thread(target=lambda: store.cursor().execute("SELECT 1").fetchone())
        holder.start()
        holder.join()
        assert len(store._cursors) == 1  # only the last thread's, created after the others ended
    finally:
        store.close()


def test_a_file_still_attached_elsewhere_is_opened_once_it_is_detached(tmp_path: Path) -> None:
    """In a busy `serve` the backup's DETACH only takes effect when an older transaction on
    another thread ends; opening the copy meanwhile must wait for it, not fail the backup."""
    import threading

    from store.lifecycle import _connect_detached

    path = tmp_path / "copy.duckdb"
    service = duckdb.connect()
    service.execute(f"ATTACH '{path}' AS held")
    with pytest.raises(duckdb.BinderException, match="Unique file handle conflict"):
        duckdb.connect(str(path))  # what the backup met
    timer = threading.Timer(0.3, lambda: service.execute("DETACH held"))
    timer.start()
    try:
        own = _connect_detached(path, wait_s=60)
        own.execute("CHECKPOINT")
        own.close()
    finally:
        timer.join()
        service.close()
    with pytest.raises(duckdb.IOException):  # any other failure is not waited on
        _connect_detached(tmp_path / "no-such-dir" / "x.duckdb", wait_s=60)
