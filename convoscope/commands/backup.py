"""`convoscope backup DIR` / `convoscope restore DIR`: consistent snapshots of the database.

While `convoscope serve` runs it owns the file, so the backup goes through its local API
(`POST /api/backup`, bearer token from the service state file or $CONVOSCOPE_API_TOKEN);
otherwise the file is opened directly. Either way the snapshot is `COPY FROM DATABASE`
inside one transaction (see store/lifecycle.py). `restore` never runs under a service,
never overwrites without `--force`, and even then keeps the old file aside. A backup is
also how an installation moves to another machine or a newer Convoscope: back up, install,
restore; the newer version migrates the restored file on first open.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from convoscope.context import Context, UserError


def _via_service(url: str, token: str | None, dest: str) -> dict[str, Any]:
    import httpx

    from convoscope.api import TOKEN_ENV

    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise UserError(f"the running service at {url} needs a token: set {TOKEN_ENV}")
    try:
        resp = httpx.post(f"{url}/api/backup", json={"path": dest},
                          headers={"Authorization": f"Bearer {token}"}, timeout=3600)
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach the running service at {url}: {exc}") from None
    if resp.status_code == 404:
        raise UserError(f"the running service at {url} has no /api/backup (an older version); "
                        "stop it to back up the file directly")
    if resp.status_code != 200:
        try:
            msg = resp.json().get("error", resp.text)
        except ValueError:
            msg = resp.text
        raise UserError(f"backup through the service at {url} failed: {msg}")
    return dict(resp.json())


def run_backup(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.api import read_state
    from store import StoreError
    from store.lifecycle import backup_file

    dest = str(Path(args.dir).expanduser().absolute())
    if ctx.config.store.backend == "ducklake":
        # Any process may read a lake: the snapshot is taken here, service or not.
        from store.migrate import backup_lake

        try:
            info = backup_lake(ctx.store(read_only=True), dest)
        except StoreError as exc:
            raise UserError(str(exc)) from None
        print("\n".join(info.lines()))
        return 0
    state = read_state(ctx.db_path)
    if state is not None:
        got = _via_service(state.url, state.token, dest)
        print(f"backup written to {got['folder']} by the running service ({got['bytes']:,} "
              f"bytes, schema version {got['schema_version']}, "
              f"{sum(got['counts'].values()):,} rows)")
        return 0
    try:
        info = backup_file(ctx.db_path, dest)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    print("\n".join(info.lines()))
    return 0


def run_restore(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.api import read_state
    from store import StoreError
    from store.lifecycle import restore

    if ctx.config.store.backend == "ducklake":
        raise UserError(f"restore puts a DuckDB file in place; into a lake, copy the backup into a new "
                        f"(empty) lake: convoscope migrate-store --from {args.dir}/convoscope.duckdb --to CONFIG")
    state = read_state(ctx.db_path)
    if state is not None:
        raise UserError(f"`convoscope serve` (pid {state.pid}) is running on {ctx.db_path}; "
                        "stop it before restoring")
    try:
        rep = restore(args.dir, ctx.db_path, force=args.force)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    print("\n".join(rep.lines()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="write a consistent snapshot of the database to a new folder")
    p.add_argument("dir", help="a new (or empty) folder")
    p.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="put a backup in place (not while `serve` runs)")
    r.add_argument("dir", help="a folder written by `convoscope backup`")
    r.add_argument("--force", action="store_true",
                   help="replace an existing database (it is kept aside, not deleted)")
    r.set_defaults(func=run_restore)
