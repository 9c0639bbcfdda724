"""The database file's life cycle: check it, recover it, back it up, restore it.

`convoscope doctor`, `backup` and `restore` are thin commands over these functions; the
service's API calls `backup_to` on its own open store (DuckDB lets one process write a
file, so while `serve` runs only it can take a consistent snapshot).

Why the choices:
- **Backups are `COPY FROM DATABASE` into a new DuckDB file.** It runs in one read
  transaction, so the snapshot is consistent while the service keeps writing (MVCC), it
  copies every table, sequence (with its current value: new ids continue where they
  were), view and macro, and the result is a plain checkpointed database that opens
  with any later Convoscope, which then migrates it. A raw file copy is only consistent
  while no checkpoint runs, which the service cannot promise; `EXPORT DATABASE` writes
  CSV/Parquet plus DDL whose re-import is a long replay. The backup is written as
  `*.partial` and renamed when complete, so a killed backup never looks like one.
- **Recovery first re-attaches the file.** DuckDB 1.5.5 fails to replay `ALTER TABLE`
  on tables with function defaults when the file is the connection's default database
  ("GetDefaultDatabase with no default database set"), but replays the same WAL when the
  file is ATTACHed to an in-memory database. That loses nothing. A log damaged by a torn
  write ("entry at byte position N ... checksum") is cut at N: DuckDB ignores an incomplete
  tail, so the committed transactions before the damage replay. Only when both fail is
  the WAL set aside (the file then opens at its last checkpoint). Every loss is reported,
  and a copy of file + WAL is kept first.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from store.db import (
    StoreError,
    StoreLockedError,
    StoreUnreadableError,
    _fsync,
    _schema_version,
    connect,
    latest_version,
    wal_path,
)

BACKUP_FILE = "convoscope.duckdb"
_CORRUPT_AT = re.compile(r"entry at byte position (\d+)")
MANIFEST = "manifest.json"


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return 0


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def table_counts(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> dict[str, int]:
    """Rows per base table of the main schema (of `catalog`, default the current one)."""
    cat = catalog or con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name", [cat]
    ).fetchall()]
    out: dict[str, int] = {}
    for name in names:
        row = con.execute(f'SELECT count(*) FROM "{cat}".main."{name}"').fetchone()
        out[name] = int(row[0]) if row else 0
    return out


# -- doctor --------------------------------------------------------------------------------


@dataclass
class DoctorReport:
    path: str
    exists: bool
    size: int = 0
    wal_size: int = 0
    opened: bool = False
    error: str | None = None
    schema_version: int | None = None
    latest: int = field(default_factory=latest_version)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"database: {self.path}"]
        if not self.exists:
            out.append("  file: missing")
        else:
            out.append(f"  file: {self.size:,} bytes; write-ahead log: {self.wal_size:,} bytes")
            out.append(f"  opens (WAL replayed): {'yes' if self.opened else 'NO'}")
            if self.error:
                out.append(f"  error: {self.error}")
            if self.schema_version is not None:
                out.append(f"  schema version: {self.schema_version} (this Convoscope knows up "
                           f"to {self.latest})")
            if self.counts:
                out.append("  rows per table:")
                width = max(len(n) for n in self.counts)
                out += [f"    {n:<{width}}  {c:>10,}" for n, c in self.counts.items()]
        out += [f"  note: {n}" for n in self.notes]
        out += [f"  PROBLEM: {p}" for p in self.problems]
        out.append("  result: " + ("ok" if self.ok else f"{len(self.problems)} problem(s)"))
        return out


def check(path: str | Path) -> DoctorReport:
    """Open the file read-write (which replays its WAL), checkpoint, count rows.

    Raises `StoreLockedError` when another process (the service) holds the file.
    """
    p = Path(path).expanduser()
    rep = DoctorReport(str(p), p.exists())
    if not rep.exists:
        rep.problems.append(f"{p} does not exist (run `convoscope init`, or restore a backup)")
        return rep
    rep.size, rep.wal_size = _size(p), _size(wal_path(p))
    leftover = p.with_name(p.name + ".migrating")
    if leftover.exists():
        rep.notes.append(f"{leftover} is left from an interrupted migration; the next open "
                         "deletes it (the database itself was not touched)")
    try:
        con = connect(str(p))
    except StoreLockedError:
        raise
    except StoreError as exc:
        rep.error = getattr(exc, "cause", None) or str(exc)
        if getattr(exc, "wal_replay", False):
            rep.problems.append("the database does not open: its write-ahead log does not "
                                "replay; run `convoscope doctor --recover`")
        else:
            rep.problems.append("the database file itself does not open: restore a backup "
                                "(`convoscope restore DIR`)")
        rep.opened = False
        return rep
    try:
        rep.opened = True
        rep.schema_version = _schema_version(con)
        if rep.schema_version > rep.latest:
            rep.problems.append(f"schema version {rep.schema_version} is newer than this "
                                f"Convoscope ({rep.latest}): upgrade Convoscope")
        elif rep.schema_version < rep.latest:
            rep.notes.append(f"schema version {rep.schema_version} < {rep.latest}: the next "
                             "read-write open migrates it (atomically)")
        rep.counts = table_counts(con)
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        rep.problems.append(f"reading the tables failed: {str(exc).splitlines()[0]}")
    finally:
        con.close()
    rep.wal_size = _size(wal_path(p))
    return rep


# -- recover -------------------------------------------------------------------------------


@dataclass
class RecoverReport:
    path: str
    kept_in: str
    method: str  # 'opened' | 'reattached' | 'wal-truncated' | 'wal-set-aside' | 'failed'
    wal_bytes: int = 0
    wal_set_aside: str | None = None
    wal_kept: int = 0
    counts_after: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.method != "failed"

    def lines(self) -> list[str]:
        out = [f"database: {self.path}", f"  copy of the file and its WAL kept in: {self.kept_in}"]
        if self.method == "opened":
            out.append("  the database opened normally: nothing to recover, nothing lost")
        elif self.method == "reattached":
            out.append(f"  the write-ahead log ({self.wal_bytes:,} bytes) replayed when the file "
                       "was attached to an in-memory database (DuckDB 1.5 fails to replay some "
                       "DDL only for the default database): nothing lost")
        elif self.method == "wal-truncated":
            out += [
                f"  LOST: the write-ahead log ({self.wal_bytes:,} bytes) is damaged at byte "
                f"{self.wal_kept:,}; the transactions before that point were replayed, the "
                f"last {self.wal_bytes - self.wal_kept:,} bytes are lost (the whole log is in "
                "the copy above)",
                "  connector cursors live in the same database, so they went back with the "
                "data: the next `convoscope ingest` fetches again what was lost",
            ]
        elif self.method == "wal-set-aside":
            out += [
                f"  LOST: the write-ahead log ({self.wal_bytes:,} bytes, set aside as "
                f"{self.wal_set_aside}) did not replay; the database is back at its last "
                "checkpoint and the transactions in that log are gone",
                "  connector cursors live in the same database, so they went back with the "
                "data: the next `convoscope ingest` fetches again what the log held; "
                "analysis results and reviews made after the checkpoint must be redone",
            ]
        else:
            out += [f"  FAILED: {self.error}",
                    "  restore the last backup with `convoscope restore DIR` (the damaged "
                    "file is kept in the folder above)"]
        if self.counts_after:
            out.append("  rows per table now:")
            width = max(len(n) for n in self.counts_after)
            out += [f"    {n:<{width}}  {c:>10,}" for n, c in self.counts_after.items()]
        return out


def _reattach_replay(p: Path) -> None:
    """Replay the WAL with the file ATTACHed (not the default database), then checkpoint."""
    con = duckdb.connect(":memory:")
    alias = f"rec_{uuid.uuid4().hex[:8]}"
    try:
        con.execute(f"ATTACH '{_sql_str(p)}' AS {alias}")
        con.execute(f"CHECKPOINT {alias}")
        con.execute(f"DETACH {alias}")
    finally:
        con.close()


def _sql_str(p: Path | str) -> str:
    return str(p).replace("'", "''")


def _open_counts(p: Path) -> dict[str, int]:
    con = connect(str(p))
    try:
        counts = table_counts(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts


def recover(path: str | Path, *, now: datetime | None = None) -> RecoverReport:
    """Keep a copy of file + WAL in `<file>.recovery-<UTC stamp>/`, then bring the database
    back to the last consistent state DuckDB can reach (see the module docstring)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise StoreError(f"database {p} does not exist; nothing to recover "
                         "(restore a backup with `convoscope restore DIR`)")
    wal = wal_path(p)
    folder = p.with_name(f"{p.name}.recovery-{_stamp(now)}")
    folder.mkdir()
    shutil.copy2(p, folder / p.name)
    if wal.exists():
        shutil.copy2(wal, folder / wal.name)
    for f in folder.iterdir():
        _fsync(f)
    _fsync(folder)
    rep = RecoverReport(str(p), str(folder), "opened", wal_bytes=_size(wal))
    try:
        rep.counts_after = _open_counts(p)
        return rep
    except StoreLockedError:
        shutil.rmtree(folder)
        raise
    except StoreUnreadableError as exc:
        first_error = exc.cause
    try:
        _reattach_replay(p)
        rep.counts_after = _open_counts(p)
        rep.method = "reattached"
        return rep
    except (duckdb.Error, StoreError):
        pass
    m = _CORRUPT_AT.search(first_error)
    if m and wal.exists() and 0 < int(m.group(1)) < _size(wal):
        # A damaged entry: keep the transactions before it (DuckDB ignores an incomplete
        # tail, so a log cut there replays its committed prefix).
        cut = int(m.group(1))
        os.truncate(wal, cut)
        try:
            try:
                rep.counts_after = _open_counts(p)
            except StoreUnreadableError:
                _reattach_replay(p)
                rep.counts_after = _open_counts(p)
            rep.method, rep.wal_kept = "wal-truncated", cut
            return rep
        except (duckdb.Error, StoreError) as exc:
            shutil.copyfile(folder / wal.name, wal)  # back to the whole log, set aside below
            first_error = f"{first_error}; cut at byte {cut}: {getattr(exc, 'cause', exc)}"
    if wal.exists():
        aside = folder / f"{wal.name}.set-aside"
        os.replace(wal, aside)
        _fsync(p.parent)
        rep.wal_set_aside = str(aside)
        try:
            rep.counts_after = _open_counts(p)
            rep.method = "wal-set-aside"
            return rep
        except StoreError as exc:
            first_error = f"{first_error}; without its WAL: {getattr(exc, 'cause', exc)}"
    rep.method, rep.error = "failed", f"the file itself does not open ({first_error})"
    return rep


# -- backup and restore --------------------------------------------------------------------


@dataclass
class BackupInfo:
    folder: str
    file: str
    created_at: str
    source: str
    schema_version: int
    duckdb_version: str
    counts: dict[str, int]
    bytes: int

    def lines(self) -> list[str]:
        total = sum(self.counts.values())
        return [f"backup written to {self.folder} ({self.bytes:,} bytes, schema version "
                f"{self.schema_version}, {len(self.counts)} tables, {total:,} rows)"]

    @classmethod
    def read(cls, folder: str | Path) -> BackupInfo:
        d = Path(folder).expanduser()
        try:
            data = json.loads((d / MANIFEST).read_text("utf-8"))
            return cls(**data)
        except FileNotFoundError as exc:
            raise StoreError(f"{d} is not a Convoscope backup (no {MANIFEST})") from exc
        except (ValueError, TypeError) as exc:
            raise StoreError(f"{d / MANIFEST} is damaged: {exc}") from exc


def _empty_target(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StoreError(f"{dest} exists and is not an empty folder; a backup never "
                         "overwrites files (choose a new folder)")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the backup folder {dest}: {exc}") from exc


def _connect_detached(path: Path, *, wait_s: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open a file this process has just DETACHed. DuckDB keeps a detached database (and its
    file) alive until every transaction that started before the DETACH has ended — in a busy
    `serve`, an ingest transaction on another thread — and refuses a second open of the file
    until then ("Unique file handle conflict"), so wait for it, up to `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.BinderException as exc:
            if "unique file handle conflict" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def backup_to(con: duckdb.DuckDBPyConnection, source: str, dest: str | Path) -> BackupInfo:
    """Write a consistent snapshot of the database open in `con` into the new or empty
    folder `dest` (`convoscope.duckdb` + `manifest.json`)."""
    d = Path(dest).expanduser().absolute()
    _empty_target(d)
    partial = d / f"{BACKUP_FILE}.partial"
    alias = f"backup_{uuid.uuid4().hex[:8]}"
    src = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    try:
        con.execute(f"ATTACH '{_sql_str(partial)}' AS {alias}")
        try:
            con.execute(f'COPY FROM DATABASE "{src}" TO {alias}')
        finally:
            con.execute(f"DETACH {alias}")
        # Checkpoint the copy in a database instance of its own: in the service's instance
        # a CHECKPOINT is refused while any other write transaction is active ("Cannot
        # CHECKPOINT: there are other write transactions active"), which a busy `serve`
        # always risks.
        with contextlib.closing(_connect_detached(partial)) as own:
            own.execute("CHECKPOINT")
            counts = table_counts(own)
            version = int(own.execute(
                "SELECT coalesce(max(version), 0) FROM main.schema_version").fetchone()[0]  # type: ignore[index]
            )
    except (duckdb.Error, OSError) as exc:
        for leftover in (partial, wal_path(partial)):
            leftover.unlink(missing_ok=True)
        raise StoreError(f"backup to {d} failed: {str(exc).splitlines()[0]}") from exc
    wal_path(partial).unlink(missing_ok=True)  # empty after the checkpoint
    _fsync(partial)
    final = d / BACKUP_FILE
    os.replace(partial, final)
    info = BackupInfo(folder=str(d), file=BACKUP_FILE, created_at=datetime.now(UTC).isoformat(),
                      source=source, schema_version=version, duckdb_version=duckdb.__version__,
                      counts=counts, bytes=_size(final))
    tmp = d / f"{MANIFEST}.partial"
    tmp.write_text(json.dumps(info.__dict__, indent=2), "utf-8")
    _fsync(tmp)
    os.replace(tmp, d / MANIFEST)
    _fsync(d)
    return info


def backup_file(path: str | Path, dest: str | Path) -> BackupInfo:
    """Back up a database no process holds (opens it without migrating it)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise StoreError(f"database {p} does not exist; nothing to back up")
    con = connect(str(p))
    try:
        return backup_to(con, str(p), dest)
    finally:
        con.close()


@dataclass
class RestoreReport:
    path: str
    backup: BackupInfo
    old_kept_in: str | None
    counts: dict[str, int]

    def lines(self) -> list[str]:
        out = [f"restored {self.path} from {self.backup.folder} (taken {self.backup.created_at}, "
               f"{sum(self.counts.values()):,} rows in {len(self.counts)} tables)"]
        if self.old_kept_in:
            out.append(f"the previous database is kept in {self.old_kept_in}")
        return out


def verify_backup(folder: str | Path) -> BackupInfo:
    """The manifest of a backup whose file opens and holds the rows the manifest says."""
    info = BackupInfo.read(folder)
    f = Path(folder).expanduser() / info.file
    if not f.is_file():
        raise StoreError(f"{f} is missing: the backup in {folder} is incomplete")
    con = connect(str(f), read_only=True)
    try:
        counts = table_counts(con)
    finally:
        con.close()
    if counts != info.counts:
        diff = {k: (info.counts.get(k), counts.get(k)) for k in set(counts) | set(info.counts)
                if info.counts.get(k) != counts.get(k)}
        raise StoreError(f"the backup in {folder} does not match its manifest "
                         f"(table: manifest rows, file rows): {diff}")
    return info


def restore(folder: str | Path, path: str | Path, *, force: bool = False,
            now: datetime | None = None) -> RestoreReport:
    """Put the backup in `folder` in place at `path`.

    An existing database is only replaced with `force`, and even then it is moved (with
    its WAL) into `<file>.before-restore-<stamp>/`, not deleted. The copy is written
    beside the target and renamed over it, so a crash leaves the old or the new file.
    The caller makes sure no service holds the file; DuckDB's lock is checked here too.
    """
    info = verify_backup(folder)
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    kept: str | None = None
    if p.exists() or wal_path(p).exists():
        if not force:
            raise StoreError(f"{p} exists; use --force to replace it (the old file is then "
                             "kept aside, not deleted)")
        if p.exists():
            # Raises StoreLockedError while a process holds it; a file that does not open
            # is what a restore is for.
            with contextlib.suppress(StoreUnreadableError):
                connect(str(p)).close()
        aside = p.with_name(f"{p.name}.before-restore-{_stamp(now)}")
        aside.mkdir()
        for f in (p, wal_path(p)):
            if f.exists():
                os.replace(f, aside / f.name)
        kept = str(aside)
    tmp = p.with_name(p.name + ".restoring")
    shutil.copyfile(Path(folder).expanduser() / info.file, tmp)
    _fsync(tmp)
    os.replace(tmp, p)
    _fsync(p.parent)
    return RestoreReport(str(p), info, kept, _open_counts(p))
