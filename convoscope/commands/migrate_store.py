"""`convoscope migrate-store --to CONFIG_OR_URL`: copy the DuckDB file into a DuckLake.

The target is a config file whose `[store]` has `backend = "ducklake"`, or a URL
`ducklake:postgres:<libpq key=value …> data_path=<folder or s3://…>`. The copy is keyed
and idempotent (store/migrate.py): run it again after a kill and it finishes the job; it
ends with a per-table count check. Stop `serve` on the source file first (or copy a
backup: `--from BACKUP_DIR/convoscope.duckdb`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convoscope.context import Context, UserError


def _target(text: str) -> object:
    from convoscope import config as config_mod
    from store.backend import BackendError, parse_target

    if text.startswith("ducklake:"):
        try:
            return parse_target(text)
        except BackendError as exc:
            raise UserError(str(exc)) from None
    p = Path(text).expanduser()
    if not p.is_file():
        raise UserError(f"--to {text}: neither a config file nor a ducklake: URL")
    try:
        cfg = config_mod.load(str(p))
    except (config_mod.ConfigError, OSError) as exc:
        raise UserError(f"--to {text}: {exc}") from None
    if cfg.store.backend != "ducklake":
        raise UserError(f"--to {text}: its [store] backend is {cfg.store.backend!r}, not 'ducklake'")
    return cfg.store.target()


def run(args: argparse.Namespace, ctx: Context) -> int:
    from store import Store, StoreError
    from store.migrate import copy_store

    source = args.source or ctx.db_path
    target = _target(args.to)
    try:
        with Store.open(target) as lake:  # type: ignore[arg-type]
            report = copy_store(source, lake)
            if not args.no_search_index:
                from store import search

                search.refresh_search_index(lake)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate-store", help="copy the DuckDB file into a DuckLake (idempotent, resumable)")
    p.add_argument("--to", required=True, metavar="CONFIG_OR_URL",
                   help="a config file with [store] backend = 'ducklake', or "
                        "'ducklake:postgres:dbname=… host=… data_path=…'")
    p.add_argument("--from", dest="source", metavar="FILE", help="the DuckDB file (default: store.path)")
    p.add_argument("--no-search-index", action="store_true", help="do not rebuild the search index on the lake")
    p.set_defaults(func=run)
