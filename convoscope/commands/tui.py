"""`convoscope tui`: the analyst terminal UI.

When `convoscope serve` is running it owns the DuckDB file, so the TUI goes through its
API (found via the `<db>.service.json` state file the service writes, or `--api URL`);
otherwise it opens the file itself. Both paths run the same store queries.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from typing import TYPE_CHECKING

from convoscope.api import TOKEN_ENV, read_state
from convoscope.context import Context, UserError

if TYPE_CHECKING:
    from store.db import Store
    from store.permissions import Identity
    from tui.data import DataSource

log = logging.getLogger(__name__)

SCREEN_CHOICES = ("dashboard", "interactions", "search", "review", "agents", "topics")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("tui", help="browse, search and review in the terminal",
                              description=__doc__)
    p.add_argument("--api", metavar="URL",
                   help="use the service API at URL (default: the running service, if any)")
    p.add_argument("--token", help=f"API token (default: ${TOKEN_ENV}, then the state file)")
    p.add_argument("--file", action="store_true",
                   help="open the DuckDB file directly even if a service is advertised")
    p.add_argument("--screen", choices=SCREEN_CHOICES, help="start screen (default: [tui] start_screen)")
    p.add_argument("--light", action="store_true", help="start with the light theme")
    p.add_argument("--dark", action="store_true", help="start with the dark theme")
    p.add_argument("--read-only", action="store_true", help="open the file read-only (no reviews)")
    p.set_defaults(func=run)


def local_identity(ctx: Context, store: Store | None = None) -> Identity:
    """Who a shell command acts as on the file: the configured local user (`[tui] reviewer`,
    else the OS user). When that name is a registered user (`convoscope users add`) it
    acts with that user's role; otherwise as admin: whoever can open the DuckDB file can
    read all of it anyway, so a lower role there would be theatre, not protection."""
    import getpass

    from store import users
    from store.permissions import Identity

    name = ctx.config.tui.reviewer or getpass.getuser()
    if store is not None:
        u = users.get(store, name)
        if u is not None:
            return Identity(f"local:{name}", u.role, u.agent)
    return Identity(f"local:{name}", "admin")


def make_source(args: argparse.Namespace, ctx: Context) -> DataSource:
    """The data source the flags and the environment ask for (also used by tests). Through
    the API it acts as the token's user; on the file as `local_identity`."""
    from tui.data import ApiSource, DataSourceError, LocalSource

    tz = ctx.config.timezone
    reviewer = ctx.config.tui.reviewer or None
    url, token = args.api, args.token or os.environ.get(TOKEN_ENV)
    if not url and not args.file:
        state = read_state(ctx.db_path)
        if state is not None:
            url, token = state.url, token or state.token
    if url:
        if not token:
            raise UserError(f"the API at {url} needs a token: pass --token or set {TOKEN_ENV}")
        src = ApiSource(url, token, tz=tz, reviewer=reviewer)
        try:
            src.identity = src.whoami()
        except DataSourceError as exc:
            src.close()
            raise UserError(str(exc)) from exc
        src.reviewer = src.identity.user
        return src
    store = ctx.store(read_only=args.read_only)
    return LocalSource(store, tz=tz, identity=local_identity(ctx, store))


def _refresh_index_in_background(store: Store, fraction: float) -> threading.Thread:
    """No service keeps the search index current while the TUI owns the file, so bring
    it up to date in a thread (new documents are searchable at once by scan; the index
    itself is rebuilt only when enough are new)."""
    from store.search import refresh_search_index

    def work() -> None:
        try:
            refresh_search_index(store, rebuild_fraction=fraction)
        except Exception as exc:  # search still works by scan; say why it is slow
            log.warning("search index refresh failed: %s", exc)

    t = threading.Thread(target=work, name="search-index", daemon=True)
    t.start()
    return t


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tui.app import ConvoscopeApp
    from tui.data import LocalSource

    opts = ctx.config.tui
    source = make_source(args, ctx)
    if isinstance(source, LocalSource) and not source.store.read_only:
        from convoscope.wiring import watch_reviews

        watch_reviews(ctx.config, source.store)
        _refresh_index_in_background(source.store, opts.search_rebuild_fraction)
    dark = not args.light if (args.light or args.dark) else opts.theme == "dark"
    app = ConvoscopeApp(source, start=args.screen or opts.start_screen, dark=dark,
                        export_dir=opts.export_dir or None)
    app.run()
    return 0
