"""`convoscope ask "…"`: the Slack bot's question engine, from the terminal.

The local user is treated as a supervisor (they can open the database file anyway);
the question is written to the audit log like a Slack question. `--json` prints
{question, text, items}.
"""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from convoscope.context import Context, UserError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("ask", help='ask a question, e.g. "angry calls today?"')
    p.add_argument("question", nargs="+", help="the question (quote it or not)")
    p.add_argument("--json", action="store_true", help="print {question, text, items} as JSON")
    p.add_argument("--page", type=int, default=1, help="page of a long list (from 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from bot.questions import Engine
    from store import audit

    question = " ".join(args.question)
    if ctx.db_path != ":memory:" and not Path(ctx.db_path).expanduser().exists():
        raise UserError(f"database {ctx.db_path} does not exist (run `convoscope init` or "
                        "`convoscope demo` first)")  # fmt: skip
    store = ctx.store()
    engine = Engine(store, ctx.config.tz, page_size=ctx.config.slack.page_size)
    answer = engine.ask(question, role="supervisor", page=max(0, args.page - 1))
    if not store.read_only:
        audit.log(store, f"cli:{getpass.getuser()}", "ask", None,
                  {"question": question, "intent": answer.intent})  # fmt: skip
    if args.json:
        print(json.dumps(answer.to_json(), default=str, ensure_ascii=False, indent=2))
    else:
        print(answer.text)
        if answer.pages > 1:
            print(f"(page {answer.page + 1} of {answer.pages}; --page N for more)")
    return 0
