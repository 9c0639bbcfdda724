"""A real PostgreSQL server for tests (the DuckLake catalog), from Debian's packages.

`initdb` refuses to run as root, and tests run as root in CI: then the cluster folder is
made in a world-traversable temp dir owned by the `postgres` system user and every
server command runs through `runuser -u postgres`. As any other user the commands run
directly. The server listens on 127.0.0.1 only, on a free port, with its socket in its
own folder (never /var/run/postgresql), trust auth for loopback (the cluster lives for one
test session and holds only test data), and is stopped (`pg_ctl stop -m immediate`) and
removed at teardown.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary (Debian keeps them out of PATH)."""
    for d in PG_BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    root: Path
    port: int
    as_postgres: bool
    _dbs: count = field(default_factory=lambda: count(1))

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self.as_postgres else list(args)

    def run(self, *args: str) -> None:
        subprocess.run(self._cmd(*args), check=True, capture_output=True, text=True, cwd=self.root)

    def catalog(self, dbname: str) -> str:
        """The libpq connection string of `dbname` (what `[store] catalog` holds)."""
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=postgres"

    def create_db(self, prefix: str = "lake") -> str:
        """A new empty database; returns its name."""
        name = f"{prefix}_{next(self._dbs)}"
        psql = pg_bin("createdb")
        assert psql, "createdb missing"
        self.run(psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return name

    def clone_db(self, template: str, data_path: str, prefix: str = "lake") -> str:
        """A copy of the lake `template` (CREATE DATABASE … TEMPLATE, milliseconds instead
        of migrating a new lake) whose catalog points at `data_path`. Only valid while the
        template's data folder is empty (its rows are inlined in the catalog)."""
        import psycopg

        name = f"{prefix}_{next(self._dbs)}"
        with psycopg.connect(self.catalog("postgres"), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        with psycopg.connect(self.catalog(name), autocommit=True) as c:
            c.execute("UPDATE ducklake_metadata SET value = %s WHERE key = 'data_path'",
                      [data_path.rstrip("/") + "/"])
        return name

    def stop(self) -> None:
        ctl = pg_bin("pg_ctl")
        if ctl:
            subprocess.run(self._cmd(ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop"),
                           capture_output=True, cwd=self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PgServer:
    """initdb + pg_ctl start on a free loopback port; raises with the server log on failure."""
    initdb, ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not initdb or not ctl:
        raise RuntimeError("PostgreSQL server binaries are missing: install `postgresql` (make sysdeps-test)")
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="convoscope-pg-"))
    if as_postgres:
        os.chmod(root, 0o755)
        shutil.chown(root, "postgres", "postgres")
    server = PgServer(root=root, port=_free_port(), as_postgres=as_postgres)
    data = root / "data"
    try:
        server.run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        server.run(
            ctl, "-D", str(data), "-w", "-l", str(root / "log"),
            "-o", f"-k {root} -p {server.port} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        server.stop()
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
    return server
