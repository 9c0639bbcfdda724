"""Where the store's tables live: one DuckDB file (the default) or a DuckLake.

Every difference between the two backends is in this module, so the rest of `store/`
is one SQL layer that runs unchanged on both:

* **Opening.** `duckdb`: a file (see store/db.py for its crash-safe migrations).
  `ducklake`: an in-memory DuckDB that loads the `ducklake` and `postgres_scanner`
  extensions from their PyPI wheels (nothing is downloaded at run time) and ATTACHes
  `ducklake:postgres:<catalog>` with `DATA_PATH` (a local folder, or `s3://…` through the
  `httpfs` extension wheel), then `USE`s it, so unqualified table names resolve in the lake.
* **Schema dialect.** DuckLake has no sequences, PRIMARY KEY / UNIQUE, CHECK constraints,
  indexes or fixed-size arrays. The lake schema is *derived* from the same migration files
  by `translate()` (no second, hand-kept schema that could drift): constraints and indexes
  are dropped, `FLOAT[384]` becomes `FLOAT[]`, and each `CREATE SEQUENCE` becomes a row of
  the `lake_sequences` table. `tests/store/test_backend.py` checks that both schemas have
  the same tables and columns.
* **Ids.** `next_ids()` hands out ids: `nextval()` on DuckDB; on the lake an
  `UPDATE lake_sequences SET next_value = next_value + n` in the caller's transaction.
  Two writers that allocate at once both update that one row, which DuckLake reports as a
  conflict at commit, so no id is ever handed out twice even without the write lock.
* **Exactly-once under many writers.** DuckLake lets two transactions that *append* to
  one table both commit, so an anti-join ("insert the keys not yet there") alone would
  let two writers insert the same key. Every write transaction on the lake therefore
  holds a PostgreSQL advisory lock (`WriteLock`, one per catalog) from BEGIN to COMMIT:
  writers take turns, each one's snapshot starts after the previous one's commit, so the
  keyed MERGE / anti-join sees every earlier write. Readers (the bot, the TUI) never take
  it. A writer that dies loses its PostgreSQL session and with it the lock. A transaction
  that still hits a DuckLake conflict (a writer outside `Store.transaction`) is retried by
  `Store.retrying`.
* **RETURNING.** DuckLake has none, so the store's writes read back what they wrote
  in the same transaction (one form for both backends).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

BACKENDS = ("duckdb", "ducklake")

#: which sequence gives each table its ids (the `DEFAULT nextval(...)` of the migrations)
SEQUENCES: dict[str, str] = {
    "interactions": "interaction_id_seq",
    "flags": "flag_id_seq",
    "quarantine": "quarantine_id_seq",
    "audit_log": "audit_id_seq",
    "api_users": "api_user_id_seq",
}

LAKE_ALIAS = "lake"


class BackendError(RuntimeError):
    """The backend cannot be set up (a missing extension, an unreachable catalog)."""


@dataclass(frozen=True, slots=True)
class LakeTarget:
    """A DuckLake: its catalog (a libpq connection string to PostgreSQL) and data path.

    The password is never part of `catalog`: libpq reads it from `PGPASSWORD` (or
    `~/.pgpass`), so it stays in the environment.
    """

    catalog: str
    data_path: str

    def describe(self) -> str:
        """A printable name (no secrets: a password= key is masked)."""
        cat = re.sub(r"password=\S+", "password=***", self.catalog)
        return f"ducklake:postgres:{cat} data_path={self.data_path}"


def parse_target(text: str) -> str | LakeTarget:
    """A store target from a string: a DuckDB path, or
    `ducklake:postgres:<libpq key=value …> data_path=<folder or s3://…>`."""
    if not text.startswith("ducklake:"):
        return text
    rest = text.removeprefix("ducklake:").removeprefix("postgres:")
    m = re.search(r"(?:^|\s)data_path=(\S+)", rest)
    if not m:
        raise BackendError(f"{text!r}: a ducklake target needs data_path=<folder or s3://…>")
    catalog = (rest[: m.start()] + rest[m.end():]).strip()
    return LakeTarget(catalog=catalog, data_path=m.group(1))


# -- extensions ---------------------------------------------------------------------------


def _extension_path(package: str, name: str) -> Path | None:
    try:
        mod = __import__(package)
    except ImportError:
        return None
    base = Path(mod.__file__).parent / "extensions"  # type: ignore[arg-type]
    found = sorted(base.glob(f"v{duckdb.__version__}/{name}.duckdb_extension"))
    return found[0] if found else None


def load_extension(con: duckdb.DuckDBPyConnection, name: str, package: str) -> None:
    """LOAD an extension from its PyPI wheel (offline); an installed one is used first."""
    try:
        con.execute(f"LOAD {name}")
        return
    except duckdb.Error:
        pass
    path = _extension_path(package, name)
    if path is None:
        raise BackendError(
            f"the DuckDB extension {name!r} is not installed: pip install "
            f"'{package.replace('_', '-')}=={duckdb.__version__}'"
        )
    con.execute(f"LOAD '{str(path).replace(chr(39), chr(39) * 2)}'")


def connect_lake(target: LakeTarget, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached and in use."""
    con = duckdb.connect(":memory:")
    try:
        load_extension(con, "ducklake", "duckdb_extension_ducklake")
        load_extension(con, "postgres_scanner", "duckdb_extension_postgres_scanner")
        if target.data_path.startswith("s3://"):
            load_extension(con, "httpfs", "duckdb_extension_httpfs")
            s3_secret(con)
        else:
            Path(target.data_path).mkdir(parents=True, exist_ok=True)
        opts = [f"DATA_PATH {_lit(_dir(target.data_path))}"]
        if read_only:
            opts.append("READ_ONLY")
        con.execute(
            f"ATTACH {_lit('ducklake:postgres:' + target.catalog)} AS {LAKE_ALIAS} ({', '.join(opts)})"
        )
        con.execute(f"USE {LAKE_ALIAS}")
    except (duckdb.Error, OSError) as exc:
        con.close()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(f"cannot attach {target.describe()}: {first}") from exc
    return con


def s3_secret(con: duckdb.DuckDBPyConnection, env: dict[str, str] | None = None) -> bool:
    """An S3 secret for httpfs from the standard AWS_* environment variables (secrets only
    from the environment); False when none are set (then DuckDB's defaults apply)."""
    env = dict(os.environ) if env is None else env
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return False
    parts = [f"KEY_ID {_lit(key)}", f"SECRET {_lit(secret)}"]
    if env.get("AWS_SESSION_TOKEN"):
        parts.append(f"SESSION_TOKEN {_lit(env['AWS_SESSION_TOKEN'])}")
    if env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"):
        parts.append(f"REGION {_lit(env.get('AWS_REGION') or env['AWS_DEFAULT_REGION'])}")
    endpoint = env.get("AWS_ENDPOINT_URL")
    if endpoint:  # MinIO and other S3-compatible stores
        host = re.sub(r"^https?://", "", endpoint).rstrip("/")
        parts += [f"ENDPOINT {_lit(host)}", "URL_STYLE 'path'",
                  f"USE_SSL {'false' if endpoint.startswith('http://') else 'true'}"]
    con.execute(f"CREATE OR REPLACE SECRET convoscope_s3 (TYPE s3, {', '.join(parts)})")
    return True


def _dir(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# -- schema dialect -----------------------------------------------------------------------

_SEQUENCE = re.compile(
    r"CREATE\s+SEQUENCE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)(?:\s+START\s+(?:WITH\s+)?(\d+))?\s*;", re.I
)
_INDEX = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*;", re.I)
_NEXTVAL = re.compile(r"\s+DEFAULT\s+nextval\(\s*'\w+'\s*\)", re.I)
_TABLE_KEY = re.compile(r",\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.I)
_INLINE_KEY = re.compile(r"\s+(?:PRIMARY\s+KEY|UNIQUE)\b", re.I)
_FIXED_ARRAY = re.compile(r"\b(FLOAT|DOUBLE|REAL|INTEGER|BIGINT|VARCHAR)\[\d+\]", re.I)
_COMMENT = re.compile(r"--[^\n]*")
# DuckLake refuses `ADD COLUMN … BOOLEAN DEFAULT TRUE` (not a "literal" to it)
_BOOL_ADD = re.compile(
    r"ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)\s+BOOLEAN\s+DEFAULT\s+(TRUE|FALSE)\s*;", re.I
)

LAKE_BOOTSTRAP = (
    "CREATE TABLE IF NOT EXISTS lake_sequences (name VARCHAR NOT NULL, next_value BIGINT NOT NULL)"
)


def _drop_checks(sql: str) -> str:
    out: list[str] = []
    i = 0
    pat = re.compile(r"\s+CHECK\s*\(", re.I)
    while True:
        m = pat.search(sql, i)
        if not m:
            out.append(sql[i:])
            return "".join(out)
        out.append(sql[i:m.start()])
        depth, j = 1, m.end()
        while depth and j < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        i = j


def translate(sql: str) -> str:
    """A migration in DuckLake's dialect (see the module docstring for what changes).

    Comments go first (they mention keys in prose); string literals in the migrations
    hold no `--`.
    """
    sql = _COMMENT.sub("", sql)

    def seq(m: re.Match[str]) -> str:
        name, start = m.group(1), int(m.group(2) or 1)
        return (
            f"INSERT INTO lake_sequences (name, next_value) SELECT '{name}', {start} "
            f"WHERE NOT EXISTS (SELECT 1 FROM lake_sequences WHERE name = '{name}');"
        )

    sql = _SEQUENCE.sub(seq, sql)
    # existing rows get the value; new rows that omit the column get NULL on the lake
    # (the store's writes name it: see store/patterns.py's clusters)
    sql = _BOOL_ADD.sub(
        lambda m: f"ALTER TABLE {m[1]} ADD COLUMN {m[2]} BOOLEAN; UPDATE {m[1]} SET {m[2]} = {m[3]};", sql
    )
    sql = _INDEX.sub("", sql)
    sql = _NEXTVAL.sub("", sql)
    sql = _drop_checks(sql)
    sql = _TABLE_KEY.sub("", sql)
    sql = _INLINE_KEY.sub("", sql)
    return _FIXED_ARRAY.sub(lambda m: f"{m.group(1)}[]", sql)


# -- history --------------------------------------------------------------------------------


def purge_lake_history(con: duckdb.DuckDBPyConnection) -> None:
    """Make deleted rows physically gone from a lake (after an erasure): rewrite data files
    that carry deletes, expire every snapshot but the current one (no time travel back to
    the erased data) and delete the files no snapshot needs. PostgreSQL keeps dead catalog
    tuples until its VACUUM (autovacuum) runs."""
    con.execute(f"CALL ducklake_flush_inlined_data('{LAKE_ALIAS}')")  # catalog-inlined rows to files
    # any delete at all: the default only rewrites files that are mostly deleted
    con.execute(f"CALL ducklake_rewrite_data_files('{LAKE_ALIAS}', delete_threshold => 0)")
    con.execute(f"CALL ducklake_expire_snapshots('{LAKE_ALIAS}', older_than => now())")
    con.execute(f"CALL ducklake_cleanup_old_files('{LAKE_ALIAS}', cleanup_all => true)")


# -- ids ----------------------------------------------------------------------------------


def next_ids(con: duckdb.DuckDBPyConnection, backend: str, table: str, n: int = 1) -> list[int]:
    """`n` fresh ids for `table` (see the module docstring for why this is safe)."""
    if n <= 0:
        return []
    seq = SEQUENCES[table]
    if backend == "duckdb":
        return [int(r[0]) for r in con.execute(f"SELECT nextval('{seq}') FROM range(?)", [n]).fetchall()]
    con.execute("UPDATE lake_sequences SET next_value = next_value + ? WHERE name = ?", [n, seq])
    row = con.execute("SELECT next_value FROM lake_sequences WHERE name = ?", [seq]).fetchone()
    if row is None:
        raise BackendError(f"lake_sequences has no row for {seq}; the lake is not migrated")
    end = int(row[0])
    return list(range(end - n, end))


def set_next_ids(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Move a lake sequence past the largest id in `table` (after copying rows in)."""
    seq = SEQUENCES[table]
    con.execute(
        f"UPDATE lake_sequences SET next_value = greatest(next_value, "
        f"(SELECT coalesce(max(id), 0) + 1 FROM {table})) WHERE name = ?",
        [seq],
    )


# -- the write lock -----------------------------------------------------------------------


class WriteLock:
    """A PostgreSQL advisory lock that serialises the lake's write transactions.

    Held from BEGIN to COMMIT/ROLLBACK; in-process threads queue on a threading lock first
    so one PostgreSQL session serves the whole process. The lock's key is derived from the
    catalog's database name, so every writer of one lake contends for the same lock.
    """

    def __init__(self, catalog: str) -> None:
        self._catalog = catalog
        self._conn: Any = None
        self._thread_lock = threading.RLock()
        self._depth = 0
        db = re.search(r"dbname=(\S+)", catalog)
        digest = hashlib.sha256(f"convoscope-lake:{db.group(1) if db else catalog}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)

    def _session(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            try:
                self._conn = psycopg.connect(self._catalog, autocommit=True)
            except psycopg.Error as exc:
                raise BackendError(f"cannot reach the lake's catalog for its write lock: {exc}") from exc
        return self._conn

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self._session().execute("SELECT pg_advisory_lock(%s)", [self.key])
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._conn is not None and not self._conn.closed:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def is_conflict(exc: BaseException) -> bool:
    """A DuckLake (or DuckDB) write-write conflict: the transaction may simply be retried.

    DuckDB reports two transactions that inserted the same key as a constraint violation
    at COMMIT ("Failed to commit: PRIMARY KEY or UNIQUE constraint violation"); within one
    transaction a duplicate key fails at its statement instead, so at commit it can only
    mean that a concurrent writer got there first."""
    low = str(exc).lower()
    if not isinstance(exc, duckdb.TransactionException):
        return False
    return "conflict" in low or ("failed to commit" in low and "constraint violation" in low)

