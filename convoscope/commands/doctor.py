"""`convoscope doctor [--recover]`: check the database file, and bring it back if it broke.

`doctor` opens the file (which replays its write-ahead log), checks the schema version
and counts the rows of every table; it exits 1 when something is wrong. `--recover` first
keeps a copy of the file and its WAL in `<file>.recovery-<stamp>/`, then brings the
database back to the last consistent state DuckDB can reach and says what, if anything,
was lost (see store/lifecycle.py for how).
"""

from __future__ import annotations

import argparse

from convoscope.context import Context, UserError


def run(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.api import read_state
    from store import StoreError, StoreLockedError
    from store.lifecycle import check, recover

    path = ctx.db_path
    if path == ":memory:":
        raise UserError("doctor checks a database file, not ':memory:'")
    state = read_state(path)
    if state is not None:
        raise UserError(f"`convoscope serve` (pid {state.pid}) holds {path} and has opened it "
                        "fine; stop it to run the doctor on the file")
    try:
        if args.recover:
            rep = recover(path)
            print("\n".join(rep.lines()))
            if not rep.ok:
                return 1
            after = check(path)
            print("\n".join(after.lines()))
            return 0 if after.ok else 1
        report = check(path)
    except StoreLockedError as exc:
        raise UserError(str(exc)) from None
    except StoreError as exc:
        raise UserError(str(exc)) from None
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the database file (opens, replays, schema, rows); "
                                      "--recover brings a broken one back")
    p.add_argument("--recover", action="store_true",
                   help="keep a copy of the file + WAL, then recover to the last consistent state")
    p.set_defaults(func=run)
