"""`convoscope train sentiment`: (re)build the flair sentiment classifier.

Without options it builds the configured packaged model (the same one `convoscope models
prepare` builds) and exits at once if it is already cached. `--csv` trains on the user's own
labelled file (`text,label` columns, labels negative/neutral/positive) and `--epochs`,
`--lr`, `--max-examples`, `--fine-tune`, `--quick` override the `[sentiment]` knobs; each combination is
cached under its own key, and the command prints the `.pt` path and its held-out numbers so
the user can point `sentiment.model` at it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from convoscope.context import Context, UserError

QUICK = {"max_examples": 600}


def run(args: argparse.Namespace, ctx: Context) -> int:
    from analysis.sentiment import ensure_model
    from analysis.sentiment.training import META_FILE

    cfg = ctx.config
    changes: dict[str, object] = {"backend": "flair", "model": "packaged"}
    if args.quick:
        changes.update(QUICK)
    if args.csv:
        changes["corpus"] = args.csv
    if args.fine_tune:
        changes["fine_tune"] = True
    for key, value in (("epochs", args.epochs), ("learning_rate", args.lr),
                       ("max_examples", args.max_examples), ("train_batch_size", args.batch_size)):
        if value is not None:
            changes[key] = value
    try:
        options = dataclasses.replace(cfg.sentiment, **changes)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if args.json else (lambda m: print(m, flush=True))
    try:
        path = ensure_model(options, cfg.cache_path, progress=log)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    meta = json.loads((path.parent / META_FILE).read_text())
    if args.json:
        print(json.dumps({"model": str(path), **{k: meta[k] for k in (
            "accuracy", "macro_f1", "train_examples", "held_out_examples", "held_out_hash", "seconds")}}))
    else:
        print(f"model: {path}")
        print(f"held-out accuracy {meta['accuracy']:.3f}, macro-F1 {meta['macro_f1']:.3f} "
              f"({meta['held_out_examples']} examples never trained on)")
        if changes.keys() - {"backend", "model"}:
            print(f'use it with: [sentiment] model = "{path}"')
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the sentiment classifier (cached; once per machine)")
    p.add_argument("what", choices=["sentiment"], help="which model to train")
    p.add_argument("--csv", help="your own labelled CSV (columns text,label)")
    p.add_argument("--fine-tune", action="store_true",
                   help="fine-tune MiniLM end to end (better; much more compute) instead of the frozen model")
    p.add_argument("--epochs", type=int, help="training epochs (default: [sentiment] epochs)")
    p.add_argument("--lr", type=float, help="learning rate (default: [sentiment] learning_rate)")
    p.add_argument("--batch-size", type=int, help="training batch size")
    p.add_argument("--max-examples", type=int, help="cap on training examples (0 = all)")
    p.add_argument("--quick", action="store_true",
                   help="a small model from 600 examples, to try things out")
    p.add_argument("--json", action="store_true", help="print the result as JSON (progress to stderr)")
    p.set_defaults(func=run)
