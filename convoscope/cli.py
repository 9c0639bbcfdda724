"""`convoscope` command line: a thin dispatcher over `convoscope.commands.*`.

Every module in `convoscope/commands/` defines `register(subparsers)`, adding one
sub-command whose handler is `args.func(args, ctx)`. Discovery is automatic so each
command lives in its own module. Errors meant for users (bad config, locked database,
unreadable input) print one clear line and exit 2; nothing prints a traceback unless
`--debug` is given.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from convoscope import commands
from convoscope.context import Context, UserError, storage_failure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convoscope",
        description="Interaction analytics for contact centers: calls, chats and emails.",
    )
    parser.add_argument("--config", help="config file (default: $CONVOSCOPE_CONFIG, ./convoscope.toml)")
    parser.add_argument("--db", help="DuckDB file (overrides store.path)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"convoscope.commands.{mod.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = Context(config_path=args.config, db_override=args.db)
    try:
        rc = args.func(args, ctx)
    except UserError as exc:
        if args.debug:
            raise
        print(f"convoscope: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # The database or its disk failing mid-command (disk full, read-only media, a file
        # that no longer opens) is said in one line naming the cause; anything else is a
        # bug and keeps its traceback.
        msg = storage_failure(exc, ctx)
        if msg is None or args.debug:
            raise
        print(f"convoscope: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
