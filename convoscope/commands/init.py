"""`convoscope init`: write a starter config and create the database."""

from __future__ import annotations

import argparse
from pathlib import Path

from convoscope.context import Context, UserError


def _example_config() -> str:
    here = Path(__file__).resolve().parents[2] / "config.example.toml"
    if here.is_file():
        return here.read_text("utf-8")
    return '[store]\npath = "convoscope.duckdb"\n'


def run(args: argparse.Namespace, ctx: Context) -> int:
    target = Path(args.path)
    if target.exists() and not args.force:
        raise UserError(f"{target} exists (use --force to overwrite)")
    target.write_text(_example_config(), "utf-8")
    ctx.config_path = str(target)
    store = ctx.store()
    print(f"wrote {target}")
    print(f"created {store.path} (schema version {store.schema_version()})")
    print("next: put call recordings in the drop folder and run `convoscope ingest && convoscope analyze`")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a starter config and create the database")
    p.add_argument("path", nargs="?", default="convoscope.toml", help="config file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing config file")
    p.set_defaults(func=run)
