"""`convoscope migrate-store`: copy a DuckDB file into a DuckLake (or another store).

Why it is safe to re-run and to resume after a kill:
- the source is migrated to this binary's schema first (a copy of it, see store/db.py),
  then ATTACHed read-only into the target's connection, so both sides have the same
  tables and columns;
- each table is copied in one transaction of the target (on a lake: under its write
  lock) as a keyed anti-join: rows whose key (the source's PRIMARY KEY / UNIQUE columns,
  read from `duckdb_constraints()`) is already in the target are skipped, so a second run
  copies nothing and a run killed half-way copies only the tables it had not finished;
- the lake's id counters (`lake_sequences`) are moved past the largest copied id, so new
  rows never reuse an id;
- counts are verified at the end: every source row's key must be in the target.
The full-text index is not copied (it is derived): it is rebuilt on the target.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from store import backend as _backend
from store.db import Store, StoreError

#: derived or bookkeeping tables the copy leaves alone
_SKIP = {"schema_version", "lake_sequences"}


@dataclass
class TableCopy:
    table: str
    source_rows: int
    copied: int
    target_rows: int
    key: tuple[str, ...]
    seconds: float


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing

    def lines(self) -> list[str]:
        out = [f"{'table':<28} {'source':>10} {'copied':>10} {'target':>10} {'s':>7}"]
        for t in self.tables:
            out.append(f"{t.table:<28} {t.source_rows:>10,} {t.copied:>10,} {t.target_rows:>10,} {t.seconds:>7.2f}")
        total = sum(t.copied for t in self.tables)
        out.append(f"copied {total:,} rows from {self.source} into {self.target}")
        if self.missing:
            out.append(f"NOT VERIFIED: source rows missing in the target: {self.missing}")
        else:
            out.append("verified: every source row is in the target")
        return out


def _keys(store: Store, alias: str) -> dict[str, tuple[str, ...]]:
    """Each table's key in the source: its PRIMARY KEY, else its first UNIQUE constraint."""
    rows = store.conn.execute(
        "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
        "WHERE database_name = ? AND schema_name = 'main' "
        "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY constraint_type = 'UNIQUE', constraint_index",
        [alias],
    ).fetchall()
    out: dict[str, tuple[str, ...]] = {}
    for table, _kind, cols in rows:
        out.setdefault(table, tuple(cols))
    return out


def _tables(store: Store, catalog: str) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name", [catalog]
    ).fetchall()]


def _columns(store: Store, catalog: str, table: str) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [catalog, table]
    ).fetchall()]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_store(source: str | Path, target: Store) -> CopyReport:
    """Copy every table of the DuckDB file `source` into the open store `target`."""
    src = Path(source).expanduser()
    if target.backend != "ducklake":
        raise StoreError("migrate-store copies a DuckDB file into a DuckLake; to copy a DuckDB "
                         "file use `convoscope backup` and `restore`")
    if not src.is_file():
        raise StoreError(f"database {src} does not exist; nothing to copy")
    # Bring the source to this binary's schema (atomically, on a copy: store/db.py).
    with Store.open(src) as s:
        version = s.schema_version()
    if target.schema_version() != version:
        raise StoreError(f"the source has schema version {version}, the target "
                         f"{target.schema_version()}; open the target once with this Convoscope")
    alias = f"src_{uuid.uuid4().hex[:8]}"
    con = target.conn
    dst_cat = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    con.execute(f"ATTACH '{str(src).replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
    report = CopyReport(source=str(src), target=target.path)
    try:
        keys = _keys(target, alias)
        dst_tables = set(_tables(target, dst_cat))
        for table in _tables(target, alias):
            if table in _SKIP:
                continue
            if table not in dst_tables:
                raise StoreError(f"table {table} of {src} is not in the target (schema drift?)")
            report.tables.append(_copy_table(target, alias, dst_cat, table, keys.get(table, ())))
        with target.transaction() as tx:  # new ids continue after the copied ones
            for table in _backend.SEQUENCES:
                _backend.set_next_ids(tx, table)
        report.missing = _verify(target, alias, dst_cat, report)
    finally:
        con.execute(f"DETACH {alias}")
    return report


def _copy_table(target: Store, alias: str, dst_cat: str, table: str, key: tuple[str, ...]) -> TableCopy:
    t0 = time.perf_counter()
    src_cols = _columns(target, alias, table)
    dst_cols = set(_columns(target, dst_cat, table))
    cols = [c for c in src_cols if c in dst_cols]
    cols_sql = ", ".join(_q(c) for c in cols)
    src_t = f"{alias}.main.{_q(table)}"
    with target.transaction() as tx:
        n_src = int(tx.execute(f"SELECT count(*) FROM {src_t}").fetchone()[0])  # type: ignore[index]
        before = int(tx.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])  # type: ignore[index]
        if key:
            on = " AND ".join(f"d.{_q(k)} IS NOT DISTINCT FROM s.{_q(k)}" for k in key)
            tx.execute(
                f"INSERT INTO {_q(table)} ({cols_sql}) SELECT {', '.join('s.' + _q(c) for c in cols)} "
                f"FROM {src_t} s WHERE NOT EXISTS (SELECT 1 FROM {_q(table)} d WHERE {on})"
            )
        elif before == 0:
            tx.execute(f"INSERT INTO {_q(table)} ({cols_sql}) SELECT {cols_sql} FROM {src_t}")
        elif before != n_src:
            raise StoreError(f"table {table} has no key and already holds {before} rows "
                             f"(source: {n_src}); empty it in the target and run again")
        after = int(tx.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])  # type: ignore[index]
    return TableCopy(table, n_src, after - before, after, key, time.perf_counter() - t0)


def _verify(target: Store, alias: str, dst_cat: str, report: CopyReport) -> dict[str, int]:
    """Source rows whose key is not in the target, per table (empty: all there)."""
    missing: dict[str, int] = {}
    for t in report.tables:
        if t.key:
            on = " AND ".join(f"d.{_q(k)} IS NOT DISTINCT FROM s.{_q(k)}" for k in t.key)
            row = target.conn.execute(
                f"SELECT count(*) FROM {alias}.main.{_q(t.table)} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {_q(t.table)} d WHERE {on})"
            ).fetchone()
            n = int(row[0]) if row else 0
        else:
            n = max(0, t.source_rows - t.target_rows)
        if n:
            missing[t.table] = n
    return missing


# -- lake backups ---------------------------------------------------------------------------


def backup_lake(store: Store, dest: str | Path) -> Any:
    """Back up a lake into the folder `dest` as an ordinary Convoscope DuckDB file (+
    manifest), the same format `convoscope backup` writes for a file.

    The file is created with the DuckDB schema (keys, sequences), every lake table is
    copied into it in ONE transaction (one snapshot of the lake, however busy its writers
    are), and its sequences are moved past the copied ids. So the backup restores either
    as a DuckDB store (`convoscope restore`) or into a new lake (`migrate-store --from`).
    Derived tables (the search postings) are not copied; the index is rebuilt.
    """
    import json
    import os

    import duckdb

    from store.db import _fsync
    from store.lifecycle import (
        BACKUP_FILE,
        MANIFEST,
        BackupInfo,
        _empty_target,
        _size,
        table_counts,
    )

    if store.backend != "ducklake":
        raise StoreError("backup_lake backs up a lake; a DuckDB file uses store.lifecycle.backup_to")
    d = Path(dest).expanduser().absolute()
    _empty_target(d)
    partial = d / f"{BACKUP_FILE}.partial"
    Store.open(partial).close()  # the DuckDB schema at this binary's version
    alias = f"backup_{uuid.uuid4().hex[:8]}"
    con = store.conn
    lake_cat = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    try:
        con.execute(f"ATTACH '{str(partial).replace(chr(39), chr(39) * 2)}' AS {alias}")
        try:
            bk_tables = set(_tables(store, alias))
            con.execute("BEGIN TRANSACTION")
            try:
                for table in _tables(store, lake_cat):
                    if table in _SKIP or table not in bk_tables:
                        continue
                    src_cols = set(_columns(store, lake_cat, table))
                    cols = ", ".join(_q(c) for c in _columns(store, alias, table) if c in src_cols)
                    con.execute(f"INSERT INTO {alias}.main.{_q(table)} ({cols}) SELECT {cols} FROM {_q(table)}")
                for table, seq in _backend.SEQUENCES.items():
                    top = con.execute(f"SELECT coalesce(max(id), 0) FROM {alias}.main.{_q(table)}").fetchone()
                    if top and top[0]:
                        con.execute(f"SELECT max(nextval('{alias}.main.{seq}')) FROM range(?)", [int(top[0])])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.execute(f"DETACH {alias}")
        with duckdb.connect(str(partial)) as own:
            own.execute("CHECKPOINT")
            counts = table_counts(own)
            version = int(own.execute("SELECT coalesce(max(version), 0) FROM main.schema_version").fetchone()[0])  # type: ignore[index]
    except (duckdb.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        Path(f"{partial}.wal").unlink(missing_ok=True)
        raise StoreError(f"backup of {store.path} to {d} failed: {str(exc).splitlines()[0]}") from exc
    _fsync(partial)
    os.replace(partial, d / BACKUP_FILE)
    info = BackupInfo(folder=str(d), file=BACKUP_FILE, created_at=datetime.now(UTC).isoformat(),
                      source=store.path, schema_version=version, duckdb_version=duckdb.__version__,
                      counts=counts, bytes=_size(d / BACKUP_FILE))
    tmp = d / f"{MANIFEST}.partial"
    tmp.write_text(json.dumps(info.__dict__, indent=2), "utf-8")
    _fsync(tmp)
    os.replace(tmp, d / MANIFEST)
    _fsync(d)
    return info
