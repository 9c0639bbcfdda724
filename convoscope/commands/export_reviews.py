"""`convoscope export-reviews OUT.jsonl`: reviewers' verdicts as labelled examples.

One JSON object a line per confirmed or dismissed flag: the rule and kind, the label
(`confirmed` / `dismissed`), the reviewer's reason, the *redacted* text of each evidence
turn (with speaker and times) and where the rule matched in it. Dismissals with their
reasons are the false positives rule authors need: `bench/verdicts.py rules --reviews
FILE` replays them through the current rules. Only redacted text is written. `--since DATE`
keeps reviews made since then. Needs the export right (admin, supervisor, analyst) of the
configured local user; while `convoscope serve` owns the database, stop it first or run
this against a backup (DuckDB allows one process per file).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from convoscope.context import Context, UserError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("export-reviews", help="reviewed flags as labelled examples (JSONL)",
                              description=__doc__)
    p.add_argument("out", help="the .jsonl file to write (never overwritten)")
    p.add_argument("--since", help="only reviews made since this ISO date")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.commands.tui import local_identity
    from store import reviews
    from store.permissions import Forbidden, require

    out = Path(args.out)
    if out.suffix.lower() != ".jsonl":
        raise UserError("export-reviews writes JSON lines: name the file *.jsonl")
    if out.exists():
        raise UserError(f"{out} exists; exports never overwrite a file")
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise UserError(f"--since must be an ISO date, got {args.since!r}") from None
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    store = ctx.store()
    who = local_identity(ctx, store)
    try:
        require(who.role, "export", who.user)
    except Forbidden as exc:
        raise UserError(str(exc)) from None
    rows = reviews.labelled_examples(store, since)
    tmp = out.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    tmp.replace(out)
    n_dis = sum(r["label"] == "dismissed" for r in rows)
    print(f"wrote {len(rows)} reviewed flags ({n_dis} dismissed, {len(rows) - n_dis} confirmed) to {out}")
    return 0
