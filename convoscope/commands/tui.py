"""`convoscope tui`: the analyst terminal UI.

When `convoscope serve` is running it owns the DuckDB file, so the TUI goes through its
API (found via the `<db>.service.json` state file the service writes, or `--api URL`);
otherwise it opens the file itself. Both paths run the same store queries.
"""

from __future__ import annotations

import argparse
import os

from convoscope.api import TOKEN_ENV, read_state
from convoscope.context import Context, UserError

SCREEN_CHOICES = ("dashboard", "interactions", "search", "review", "agents", "topics")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("tui", help="browse, search and review in the terminal",
                              description=__doc__)
    p.add_argument("--api", metavar="URL",
                   help="use the service API at URL (default: the running service, if any)")
    p.add_argument("--token", help=f"API token (default: ${TOKEN_ENV}, then the state file)")
    p.add_argument("--file", action="store_true",
                   help="open the DuckDB file directly even if a service is advertised")
    p.add_argument("--screen", choices=SCREEN_CHOICES, default="dashboard", help="start screen")
    p.add_argument("--light", action="store_true", help="start with the light theme")
    p.add_argument("--read-only", action="store_true", help="open the file read-only (no reviews)")
    p.set_defaults(func=run)


def make_source(args: argparse.Namespace, ctx: Context):  # type: ignore[no-untyped-def]
    """The data source the flags and the environment ask for (also used by tests)."""
    from tui.data import ApiSource, LocalSource

    tz = ctx.config.timezone
    url, token = args.api, args.token or os.environ.get(TOKEN_ENV)
    if not url and not args.file:
        state = read_state(ctx.db_path)
        if state is not None:
            url, token = state.url, token or state.token
    if url:
        if not token:
            raise UserError(f"the API at {url} needs a token: pass --token or set {TOKEN_ENV}")
        return ApiSource(url, token, tz=tz)
    return LocalSource(ctx.store(read_only=args.read_only), tz=tz)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tui.app import ConvoscopeApp

    source = make_source(args, ctx)
    ConvoscopeApp(source, start=args.screen, dark=not args.light).run()
    return 0
