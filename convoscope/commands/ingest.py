"""`convoscope ingest`: run every configured source once (drop folder, email, chat)."""

from __future__ import annotations

import argparse
import json

from convoscope.context import Context
from convoscope.sources import build_sources, sync_all


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store()
    sources = build_sources(ctx.config)
    if args.source:
        sources = [s for s in sources if s.name == args.source or s.name.startswith(args.source + ":")]
    reports = sync_all(store, sources)
    if args.json:
        for r in reports:
            print(json.dumps({"source": r.source, "inserted": r.inserted, "updated": r.updated,
                              "unchanged": r.unchanged, "quarantined": r.quarantined,
                              "waiting": r.skipped, "errors": r.errors}))
    else:
        if not reports:
            print("no sources configured (see config.example.toml: [dropfolder], [email], [chat])")
        for r in reports:
            print(r.line())
            for e in r.errors:
                print(f"  error: {e}")
    return 1 if any(r.errors for r in reports) else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="pull new calls, emails and chats from every configured source")
    p.add_argument("--source", help="only this source (e.g. dropfolder, imap:support, zendesk)")
    p.add_argument("--json", action="store_true", help="one JSON object per source")
    p.set_defaults(func=run)
