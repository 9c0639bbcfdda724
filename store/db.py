"""The DuckDB file: opening it, migrating it, transactions and bulk writes.

DuckDB allows one read-write process per file, so `Store.open` turns DuckDB's lock error
into `StoreLockedError` with a message that says what to do (go through the running
service). Schema changes are numbered SQL files in `store/migrations/` (`NNNN_name.sql`);
numbers may have gaps, they only need to grow. A file written by a newer Convoscope
(a schema version this binary does not know) is refused with `SchemaTooNewError` rather
than being half-understood.

Crash safety (issue 10): DuckDB 1.5 cannot replay `ALTER TABLE` on a table whose columns
have function defaults (`current_timestamp`, `nextval`) from its write-ahead log; after a
kill the file no longer opens ("GetDefaultDatabase with no default database set"). So
migrations never run on the live file: they run on a copy (`<file>.migrating`, nothing to
copy for a new file), which is checkpointed, closed and then renamed over the file in one
`os.replace`. A kill at any moment leaves either the old file or the migrated one, never a
WAL holding DDL. A file that still cannot be opened (an older install's WAL, a damaged
file) raises `StoreUnreadableError` naming the file and the cause, and pointing at
`convoscope doctor --recover`.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from store import backend as _backend
from store.backend import LakeTarget

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class StoreError(RuntimeError):
    """Base class of the store's own errors: messages are meant for the user."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer Convoscope than this one."""


class StoreLockedError(StoreError):
    """Another process holds the DuckDB file open for writing."""


class StoreUnreadableError(StoreError):
    """The file (or its write-ahead log) exists but DuckDB cannot open it."""

    def __init__(self, message: str, *, path: str, cause: str, wal_replay: bool) -> None:
        super().__init__(message)
        self.path = path
        self.cause = cause
        self.wal_replay = wal_replay


def wal_path(path: str | Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return Path(f"{path}.wal")


def _first_line(exc: BaseException) -> str:
    # DuckDB's internal errors carry a C++ stack trace after the first line.
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(path: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect` with every failure turned into a `StoreError` meant for people."""
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.Error as exc:
        msg = _first_line(exc)
        if isinstance(exc, duckdb.IOException) and "lock" in msg.lower():
            raise StoreLockedError(
                f"database {path} is in use by another process "
                "(is `convoscope serve` running? Use its API, or stop it first)"
            ) from exc
        low = msg.lower()
        if "permission denied" in low or "read-only file system" in low:
            raise StoreError(
                f"cannot open database {path}: {msg} (check the permissions of the file "
                "and its folder; DuckDB needs to write the file and its .wal beside it)"
            ) from exc
        replay = "wal" in low and "replay" in low
        if replay:
            raise StoreUnreadableError(
                f"database {path} cannot be opened: its write-ahead log {wal_path(path)} does "
                f"not replay ({msg}). Run `convoscope doctor --recover` to keep a copy and "
                "bring the database back to its last consistent state.",
                path=path, cause=msg, wal_replay=True,
            ) from exc
        raise StoreUnreadableError(
            f"database {path} cannot be opened: {msg.rstrip('!.')}. Run `convoscope doctor` to check it; "
            "`convoscope doctor --recover` keeps a copy and salvages what it can, or "
            "`convoscope restore` brings back a backup.",
            path=path, cause=msg, wal_replay=False,
        ) from exc
    except OSError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc


def storage_failure(exc: BaseException) -> str | None:
    """'full', 'readonly' or 'io' when `exc` is the disk or the database file failing (as
    opposed to bad input), else None.

    Such a failure is not about one record: retrying the next record, quarantining it or
    marking it failed would only write wrong state (or fail the same way), so callers that
    isolate per-item errors re-raise these and the command stops with one clear line.
    DuckDB reports ENOSPC as "No space left on device" inside IO/transaction errors, and a
    file over RLIMIT_FSIZE as "File too large".
    """
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "full"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return "readonly"
    if not isinstance(exc, duckdb.Error):
        return None
    low = str(exc).lower()
    if "no space left" in low or "disk quota" in low or "file too large" in low:
        return "full"
    if "read-only file system" in low or "permission denied" in low:
        return "readonly"
    # Not every IOException: DuckDB also raises it for a missing input file in a query.
    if isinstance(exc, duckdb.FatalException) or "could not write file" in low or (
            "database has been invalidated" in low):
        return "io"
    return None


def _fsync(path: Path) -> None:
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """All migrations shipped with this package, in version order."""
    found: list[Migration] = []
    for entry in resources.files("store.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"duplicate migration numbers in store/migrations: {versions}")
    return found


def latest_version() -> int:
    """The newest schema version this binary knows."""
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


def pending_migrations(conn: duckdb.DuckDBPyConnection, path: str) -> list[Migration]:
    """Migrations newer than the file's version; refuses a file newer than this binary."""
    current = _schema_version(conn)
    migrations = load_migrations()
    known = migrations[-1].version if migrations else 0
    if current > known:
        raise SchemaTooNewError(
            f"database {path} has schema version {current}, but this Convoscope "
            f"knows versions up to {known}; upgrade Convoscope to open it"
        )
    return [m for m in migrations if m.version > current]


def _schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' "
        "AND table_schema = 'main' AND table_catalog = current_database()"
    ).fetchone()
    if not exists or exists[0] == 0:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _apply(conn: duckdb.DuckDBPyConnection, pending: list[Migration], *, lake: bool = False) -> None:
    """Apply `pending` in order, each in its own transaction; on a lake in its dialect."""
    dialect = _backend.translate if lake else (lambda sql: sql)
    conn.execute(dialect(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    ))
    if lake:
        conn.execute(_backend.LAKE_BOOTSTRAP)
    for mig in pending:
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(dialect(mig.sql))
            conn.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                [mig.version, mig.name],
            )
            conn.execute("COMMIT")
        except Exception as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc


def _migrate_atomically(p: Path) -> duckdb.DuckDBPyConnection:
    """Open `p` read-write with every migration applied, never leaving DDL in its WAL.

    Pending migrations run on `<p>.migrating` (a byte copy of the checkpointed file, or a
    new file), which is checkpointed and closed before `os.replace` puts it in place. The
    live file is held open (DuckDB's lock) while it is copied, so no other process writes
    it meanwhile. Leftovers of a migration killed half-way are simply deleted: the live
    file was never touched.
    """
    tmp = p.with_name(p.name + ".migrating")
    for leftover in (tmp, wal_path(tmp)):
        if leftover.exists():  # (unlink of a missing file still fails on read-only media)
            leftover.unlink()
    live: duckdb.DuckDBPyConnection | None = None
    orphan = wal_path(p)
    if not p.exists() and orphan.exists():
        # A WAL without its database (the file was deleted or moved by hand) must not be
        # replayed onto a brand-new file: keep it aside, named, for whoever wants it.
        aside = orphan.with_name(f"{orphan.name}.orphan-{int(time.time())}")
        os.replace(orphan, aside)
        log.warning("%s had no database file; kept aside as %s", orphan, aside)
    if p.exists():
        live = connect(str(p))
        try:
            pending = pending_migrations(live, str(p))
        except Exception:
            live.close()
            raise
        if not pending:
            return live
        try:
            live.execute("CHECKPOINT")
            shutil.copyfile(p, tmp)
        except (duckdb.Error, OSError) as exc:
            live.close()
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot prepare the migration of {p}: {_first_line(exc)}") from exc
    try:
        mconn = connect(str(tmp))
        try:
            _apply(mconn, pending_migrations(mconn, str(p)))
            mconn.execute("CHECKPOINT")
        finally:
            mconn.close()
        _fsync(tmp)
        if wal_path(tmp).exists() and wal_path(tmp).stat().st_size:
            raise StoreError(f"the migrated copy {tmp} still has a write-ahead log; not swapping it in")
        wal_path(tmp).unlink(missing_ok=True)
    except BaseException:
        if live is not None:
            live.close()
        tmp.unlink(missing_ok=True)
        wal_path(tmp).unlink(missing_ok=True)
        raise
    if live is not None:
        live.close()
        wal = wal_path(p)
        if wal.exists() and wal.stat().st_size:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"{wal} was written while {p} was being migrated; try again")
        wal.unlink(missing_ok=True)
    try:
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot put the migrated database in place at {p}: {exc}") from exc
    _fsync(p.parent)
    return connect(str(p))


class Store:
    """One open DuckDB file with the Convoscope schema applied.

    Use `Store.open(path)`; the connection is `store.conn`. Threads must not share a
    connection: each thread calls `store.cursor()` (DuckDB's documented way) and
    `store.transaction()` hands out a cursor already inside BEGIN ... COMMIT.
    """

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        path: str,
        read_only: bool,
        *,
        backend: str = "duckdb",
        lake: LakeTarget | None = None,
    ) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        #: 'duckdb' or 'ducklake' (store/backend.py holds every difference between them)
        self.backend = backend
        self.lake = lake
        self._write_lock = _backend.WriteLock(lake.catalog) if lake and not read_only else None
        self._local = threading.local()
        #: each thread's cursor with its thread, so cursors of finished threads are closed
        #: (servers that start a thread per request would otherwise keep one per request)
        self._cursors: list[tuple[threading.Thread, duckdb.DuckDBPyConnection]] = []
        self._cursors_lock = threading.Lock()
        #: PCI mode: a text guard applied to every text before it is written (store/guard.py)
        self.text_guard: Any = None

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path | LakeTarget, *, read_only: bool = False, migrate: bool = True
    ) -> Store:
        """Open (and create, unless read-only) the database at `path` and migrate it.

        ':memory:' is accepted for tests and one-shot scoring. A `LakeTarget` (or a string
        `ducklake:postgres:<catalog> data_path=<dir>`) opens a DuckLake instead.
        """
        if isinstance(path, str) and path.startswith("ducklake:"):
            path = _backend.parse_target(path)  # type: ignore[assignment]
        if isinstance(path, LakeTarget):
            return cls._open_lake(path, read_only=read_only, migrate=migrate)
        path_s = str(path)
        if path_s == ":memory:":
            store = cls(connect(path_s), path_s, False)
            store._check_and_migrate(apply=migrate)
            return store
        p = Path(path_s).expanduser()
        if read_only and not p.exists():
            raise StoreError(f"database {p} does not exist (run `convoscope init` first)")
        path_s = str(p)
        if read_only or not migrate:
            conn = connect(path_s, read_only=read_only)
        else:
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of database {p}: {exc}") from exc
            conn = _migrate_atomically(p)
        store = cls(conn, path_s, read_only)
        try:
            store._check_and_migrate(apply=False)
        except Exception:
            conn.close()
            raise
        return store

    @classmethod
    def _open_lake(cls, target: LakeTarget, *, read_only: bool, migrate: bool) -> Store:
        try:
            conn = _backend.connect_lake(target, read_only=read_only)
        except _backend.BackendError as exc:
            raise StoreError(str(exc)) from exc
        store = cls(conn, target.describe(), read_only, backend="ducklake", lake=target)
        try:
            if read_only or not migrate:
                store._check_and_migrate(apply=False)
            else:
                # Migrations take the write lock: two instances starting at once apply
                # each migration once, and no writer sees a half-migrated lake.
                with store._locked():
                    pending = pending_migrations(conn, store.path)
                    if pending:
                        _apply(conn, pending, lake=True)
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
            return
        try:
            self._write_lock.acquire()
        except _backend.BackendError as exc:
            raise StoreError(str(exc)) from exc
        try:
            yield
        finally:
            self._write_lock.release()

    def next_ids(self, table: str, n: int = 1, *, con: duckdb.DuckDBPyConnection | None = None) -> list[int]:
        """`n` new ids for `table` (interactions, flags, quarantine, audit_log, api_users);
        call it inside the transaction that inserts the rows."""
        return _backend.next_ids(con or self.cursor(), self.backend, table, n)

    def checkpoint(self) -> None:
        """Write the WAL into the database file now.

        DuckDB 1.5 can fail to replay a WAL that holds full-text-index DDL (its macros)
        ("Calling DatabaseManager::GetDefaultDatabase with no default database set"), so
        the store checkpoints after such DDL and on close rather than leaving it in the WAL.
        """
        if not self.read_only and self.backend == "duckdb":
            self.cursor().execute("CHECKPOINT")

    def close(self) -> None:
        """Checkpoint, close every thread's cursor, then the connection (the file is then
        complete on disk even if the process exits abruptly right after)."""
        with suppress(duckdb.Error):  # closing must not fail; the WAL replays on next open
            self.checkpoint()
        with self._cursors_lock:
            for _thread, cur in self._cursors:
                with suppress(duckdb.Error):
                    cur.close()
            self._cursors.clear()
        self.conn.close()
        if self._write_lock is not None:
            self._write_lock.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations ------------------------------------------------------------------

    def schema_version(self) -> int:
        """The version recorded in the file (0 for a new, empty file)."""
        return _schema_version(self.conn)

    def _check_and_migrate(self, *, apply: bool) -> None:
        """Refuse newer files; apply pending migrations only when asked (':memory:')."""
        pending = pending_migrations(self.conn, self.path)
        if not pending:
            return
        if not apply:
            raise StoreError(
                f"database {self.path} has schema version {self.schema_version()} and needs "
                f"migrating to {latest_version()}; open it once read-write (e.g. `convoscope init`)"
            )
        _apply(self.conn, pending, lake=self.backend == "ducklake")

    # -- connections and transactions ---------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection for the calling thread (DuckDB connections are not thread-safe)."""
        if threading.current_thread() is threading.main_thread():
            return self.conn
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self.conn.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                live: list[tuple[threading.Thread, duckdb.DuckDBPyConnection]] = []
                for thread, other in self._cursors:
                    if thread.is_alive():
                        live.append((thread, other))
                    else:
                        with suppress(duckdb.Error):  # its thread is gone; nothing to keep
                            other.close()
                live.append((threading.current_thread(), cur))
                self._cursors = live
        return cur

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN ... COMMIT on this thread's connection; ROLLBACK on any exception.

        On a lake the transaction holds the lake's write lock (store/backend.py), so
        keyed writes (anti-joins, MERGE) are exactly-once across processes.
        """
        cur = self.cursor()
        with self._locked():
            cur.execute("BEGIN TRANSACTION")
            self._local.in_tx = True
            try:
                yield cur
            except BaseException:
                self._local.in_tx = False
                cur.execute("ROLLBACK")
                raise
            self._local.in_tx = False
            cur.execute("COMMIT")

    @contextmanager
    def writing(self, con: duckdb.DuckDBPyConnection | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The caller's cursor when it is given (its transaction), or this thread's
        transaction when one is open, else a new transaction: a keyed write never runs
        outside a transaction (and so, on a lake, outside the write lock)."""
        if con is not None:
            yield con
        elif getattr(self._local, "in_tx", False):
            yield self.cursor()
        else:
            with self.transaction() as tx:
                yield tx

    def retrying(self, fn: Any, *, attempts: int = 12) -> Any:
        """Run `fn(tx)` in a transaction, again on a write-write conflict (DuckLake detects
        them at commit; the later attempt sees the winner's rows and its anti-joins skip
        them). Each conflict means another writer committed, so the writers as a whole make
        progress; the jittered, growing pause keeps one writer from losing every round."""
        import random

        for attempt in range(attempts):
            try:
                with self.transaction() as tx:
                    return fn(tx)
            except duckdb.Error as exc:
                if not _backend.is_conflict(exc) or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")

    # -- bulk writes ---------------------------------------------------------------------

    def insert_arrow(
        self,
        table: str,
        rows: Sequence[dict[str, Any]] | pa.Table,
        *,
        con: duckdb.DuckDBPyConnection | None = None,
        skip_existing: Sequence[str] = (),
        update: Sequence[str] = (),
    ) -> int:
        """Insert many rows through Arrow (hundreds of times faster than executemany).

        `rows` is a list of dicts whose keys are column names (all dicts share keys), or
        an Arrow table. With `skip_existing` (key columns) rows whose key is already stored
        are skipped (an anti-join: the lake has no ON CONFLICT); with `update` too, those
        columns of stored rows are overwritten instead (a keyed MERGE). Returns the number
        of rows offered.
        """
        if not _IDENT.match(table):
            raise ValueError(f"bad table name {table!r}")
        if isinstance(rows, pa.Table):
            arrow = rows
        else:
            if not rows:
                return 0
            cols = list(rows[0].keys())
            arrow = pa.Table.from_pydict({c: [r.get(c) for r in rows] for c in cols})
        if arrow.num_rows == 0:
            return 0
        cur = con or self.cursor()
        cols_sql = ", ".join(f'"{c}"' for c in arrow.column_names)
        view = f"_arrow_{table}_{threading.get_ident()}"
        cur.register(view, arrow)
        try:
            if not skip_existing:
                cur.execute(f'INSERT INTO {table} ({cols_sql}) SELECT {cols_sql} FROM "{view}"')
            else:
                on = " AND ".join(f't."{k}" = s."{k}"' for k in skip_existing)
                sets = ", ".join(f'"{c}" = s."{c}"' for c in update)
                matched = f" WHEN MATCHED THEN UPDATE SET {sets}" if update else ""
                vals = ", ".join(f's."{c}"' for c in arrow.column_names)
                cur.execute(
                    f'MERGE INTO {table} AS t USING "{view}" AS s ON {on}{matched} '
                    f"WHEN NOT MATCHED THEN INSERT ({cols_sql}) VALUES ({vals})"
                )
        finally:
            cur.unregister(view)
        return arrow.num_rows


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
