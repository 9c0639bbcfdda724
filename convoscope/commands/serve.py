"""`convoscope serve`: the scheduler, the Slack bot and the local API in one process."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from convoscope.context import Context, UserError


def run(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.service import Service

    if args.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
    svc = Service(ctx.config, ctx.store())
    from analysis.sentiment import ModelNotPrepared

    try:
        # Fail at start, not at the first analysis tick, when a model is missing.
        svc.analyzer().load_models()
    except ModelNotPrepared as exc:
        raise UserError(str(exc)) from None
    svc.run_forever()
    # Everything is committed and stopped; close the database ourselves, then leave without
    # the interpreter's teardown. Native thread pools (torch/oneDNN, CTranslate2) sometimes
    # abort with "terminate called without an active exception" while Python destroys
    # modules, which turned a clean SIGTERM stop into exit code -6.
    ctx.close()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run ingest + analysis on a schedule, the Slack bot and the API")
    p.set_defaults(func=run)
