"""`convoscope retention run [--dry-run]` and `convoscope forget --customer KEY | --interaction ID | --agent ID`.

`retention run` deletes what `[retention]` says is past its keep period (the service runs
the same job daily). `forget` erases one person (every interaction and e-mail message
carrying the key: a phone number in any common form, an e-mail address or a vendor id)
or one interaction everywhere, or one agent's voiceprint, in one audited operation; the audit row holds a SHA-256
of the key, not the key. Afterwards the file is compacted (rewritten) so the deleted values
are not left in free or shared DuckDB blocks. While `convoscope serve` owns the database,
use the API instead (`POST /api/privacy/forget`).
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import datetime
from typing import Any

from convoscope.context import Context, UserError


def register(subparsers: Any) -> None:
    r = subparsers.add_parser("retention", help="delete personal data past its keep period")
    rsub = r.add_subparsers(dest="retention_cmd", metavar="ACTION")
    rsub.required = True
    run_p = rsub.add_parser("run", help="run the retention job once")
    run_p.add_argument("--dry-run", action="store_true", help="only say what is due")
    run_p.add_argument("--now", help="pretend it is this ISO date-time (tests, catch-up)")
    run_p.add_argument("--json", action="store_true")
    run_p.set_defaults(func=run_retention)

    f = subparsers.add_parser("forget", help="erase a customer or an interaction everywhere")
    who = f.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", metavar="KEY", help="phone number, e-mail address or customer id")
    who.add_argument("--interaction", metavar="ID", type=int, help="one interaction id")
    who.add_argument("--agent", metavar="ID",
                     help="an agent's voiceprint (biometric); their calls stay, enrolment stops")
    f.add_argument("--reason", default="", help="recorded in the audit log (e.g. the request's ticket id)")
    f.add_argument("--dry-run", action="store_true", help="only say what would be erased")
    f.add_argument("--no-compact", action="store_true",
                   help="skip rewriting the file (deleted values may stay in free DuckDB blocks)")
    f.add_argument("--verify", action="store_true",
                   help="afterwards scan every text column of every table for the key (exit 1 on a hit)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=run_forget)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment (containers)
        return "cli"


def run_retention(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.privacy import run_retention as job

    cfg = ctx.config
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise UserError(f"--now must be an ISO date-time, got {args.now!r}") from None
        now = now if now.tzinfo else now.replace(tzinfo=cfg.tz)
    else:
        now = datetime.now(cfg.tz)
    report = job(ctx.store(), cfg.retention, now=now, audio_dir=cfg.redaction.audio_dir,
                 dropfolder=cfg.dropfolder.path, dry_run=args.dry_run, actor=_actor())
    if args.json:
        print(json.dumps({"dry_run": report.dry_run, "now": report.now.isoformat(), "due": report.due,
                          "files_deleted": report.files_deleted, "voiceprints": report.voiceprints,
                          "errors": report.errors}))
    else:
        print("\n".join(report.lines()))
    return 1 if report.errors else 0


def run_forget(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.privacy import customer_key_forms, forget, scrub_forms
    from store.privacy import compact, varchar_hits

    cfg = ctx.config
    store = ctx.store()
    res = forget(store, customer=args.customer, interaction_id=args.interaction, agent=args.agent, actor=_actor(),
                 reason=args.reason, region=cfg.dropfolder.default_region,
                 audio_dir=cfg.redaction.audio_dir, dropfolder=cfg.dropfolder.path,
                 delete_source_audio=cfg.retention.delete_source_audio, dry_run=args.dry_run)
    hits: list[tuple[str, str, int]] = []
    if args.verify and args.customer and not args.dry_run:
        region = cfg.dropfolder.default_region
        hits = varchar_hits(store, customer_key_forms(args.customer, region) + scrub_forms(args.customer, region))
    if args.verify and args.agent and not args.dry_run:
        from store.speakers import count_voiceprints

        left = count_voiceprints(store, args.agent)
        hits = [("agent_voiceprints", "embedding", left)] if left else []
    # (a lake has no file to compact: forget() purged its old snapshots and files instead)
    if not args.dry_run and not args.no_compact and store.backend == "duckdb":  # also after an API erasure
        path = store.path
        ctx.close()
        res.compacted = compact(path)
    if args.json:
        print(json.dumps({**res.to_json(), **({"verify_hits": hits} if args.verify else {})}))
    else:
        what = "would erase" if res.dry_run else "erased"
        if args.agent:
            n = res.counts.get("agent_voiceprints", 0)
            print(f"{what} {n} agent voiceprint(s) (agent sha256 {res.key_hash[:16]}…); enrolment of this agent "
                  "is suppressed")
        else:
            print(f"{what} {len(res.interaction_ids)} interaction(s) (key sha256 {res.key_hash[:16]}…)")
        for table, n in sorted(res.counts.items()):
            if n:
                print(f"  {table}: {n}")
        if res.files_deleted:
            print(f"  files deleted: {res.files_deleted}")
        if res.compacted:
            print(f"  database rewritten: {res.compacted['bytes_before']:,} → {res.compacted['bytes_after']:,} bytes")
        for e in res.errors:
            print(f"  error: {e}")
        if args.verify:
            print("  verify: " + ("no column holds the key" if not hits else
                                  "still found in " + ", ".join(f"{t}.{c} ({n})" for t, c, n in hits)))
    return 1 if res.errors or hits else 0
