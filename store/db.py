"""The DuckDB file: opening it, migrating it, transactions and bulk writes.

DuckDB allows one read-write process per file, so `Store.open` turns DuckDB's lock error
into `StoreLockedError` with a message that says what to do (go through the running
service). Schema changes are numbered SQL files in `store/migrations/` (`NNNN_name.sql`);
numbers may have gaps, they only need to grow. A file written by a newer Convoscope
(a schema version this binary does not know) is refused with `SchemaTooNewError` rather
than being half-understood.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class StoreError(RuntimeError):
    """Base class of the store's own errors: messages are meant for the user."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer Convoscope than this one."""


class StoreLockedError(StoreError):
    """Another process holds the DuckDB file open for writing."""


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


class Store:
    """One open DuckDB file with the Convoscope schema applied.

    Use `Store.open(path)`; the connection is `store.conn`. Threads must not share a
    connection: each thread calls `store.cursor()` (DuckDB's documented way) and
    `store.transaction()` hands out a cursor already inside BEGIN ... COMMIT.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        #: PCI mode: a text guard applied to every text before it is written (store/guard.py)
        self.text_guard: Any = None

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False, migrate: bool = True) -> Store:
        """Open (and create, unless read-only) the database at `path` and migrate it.

        ':memory:' is accepted for tests and one-shot scoring.
        """
        path_s = str(path)
        if path_s != ":memory:":
            p = Path(path_s).expanduser()
            if read_only and not p.exists():
                raise StoreError(f"database {p} does not exist (run `convoscope init` first)")
            p.parent.mkdir(parents=True, exist_ok=True)
            path_s = str(p)
        try:
            conn = duckdb.connect(path_s, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"database {path_s} is in use by another process "
                    "(is `convoscope serve` running? Use its API, or stop it first)"
                ) from exc
            raise StoreError(f"cannot open database {path_s}: {exc}") from exc
        store = cls(conn, path_s, read_only)
        try:
            store._check_and_migrate(apply=migrate and not read_only)
        except Exception:
            conn.close()
            raise
        return store

    def checkpoint(self) -> None:
        """Write the WAL into the database file now.

        DuckDB 1.5 can fail to replay a WAL that holds full-text-index DDL (its macros)
        ("Calling DatabaseManager::GetDefaultDatabase with no default database set"), so
        the store checkpoints after such DDL and on close rather than leaving it in the WAL.
        """
        if not self.read_only:
            self.cursor().execute("CHECKPOINT")

    def close(self) -> None:
        """Checkpoint, close every thread's cursor, then the connection (the file is then
        complete on disk even if the process exits abruptly right after)."""
        with suppress(duckdb.Error):  # closing must not fail; the WAL replays on next open
            self.checkpoint()
        with self._cursors_lock:
            for cur in self._cursors:
                with suppress(duckdb.Error):
                    cur.close()
            self._cursors.clear()
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations ------------------------------------------------------------------

    def schema_version(self) -> int:
        """The version recorded in the file (0 for a new, empty file)."""
        exists = self.conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()
        if not exists or exists[0] == 0:
            return 0
        row = self.conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _check_and_migrate(self, *, apply: bool) -> None:
        current = self.schema_version()
        migrations = load_migrations()
        known = migrations[-1].version if migrations else 0
        if current > known:
            raise SchemaTooNewError(
                f"database {self.path} has schema version {current}, but this Convoscope "
                f"knows versions up to {known}; upgrade Convoscope to open it"
            )
        pending = [m for m in migrations if m.version > current]
        if not pending:
            return
        if not apply:
            raise StoreError(
                f"database {self.path} has schema version {current} and needs migrating to "
                f"{known}; open it once read-write (e.g. `convoscope init`)"
            )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
        )
        for mig in pending:
            self.conn.execute("BEGIN TRANSACTION")
            try:
                self.conn.execute(mig.sql)
                self.conn.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                    [mig.version, mig.name],
                )
                self.conn.execute("COMMIT")
            except Exception as exc:
                self.conn.execute("ROLLBACK")
                raise StoreError(f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc

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
                self._cursors.append(cur)
        return cur

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN ... COMMIT on this thread's connection; ROLLBACK on any exception."""
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    # -- bulk writes ---------------------------------------------------------------------

    def insert_arrow(
        self,
        table: str,
        rows: Sequence[dict[str, Any]] | pa.Table,
        *,
        con: duckdb.DuckDBPyConnection | None = None,
        on_conflict: str = "",
    ) -> int:
        """Insert many rows through Arrow (hundreds of times faster than executemany).

        `rows` is a list of dicts whose keys are column names (all dicts share keys), or
        an Arrow table. `on_conflict` is appended verbatim, e.g. 'ON CONFLICT DO NOTHING'.
        Returns the number of rows offered.
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
            cur.execute(
                f'INSERT INTO {table} ({cols_sql}) SELECT {cols_sql} FROM "{view}" {on_conflict}'
            )
        finally:
            cur.unregister(view)
        return arrow.num_rows


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
