"""`convoscope ask "…"`: the Slack bot's question engine, from the terminal.

On the file the question is answered for the configured local user (their role when
they are a registered user, else admin: they can open the database file anyway); the
question is written to the audit log like a Slack question. `--json` prints
{question, query, text, items}: `query` is the typed query the question was read as
(`store.query.Query.to_dict()`), next to the answer made from it. While `convoscope serve` owns the database, the question goes
to the service's API (`POST /api/ask`, found through the state file next to the
database, like `convoscope tui` does).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path
from typing import Any

from convoscope.context import Context, UserError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("ask", help='ask a question, e.g. "angry calls today?"')
    p.add_argument("question", nargs="+", help="the question (quote it or not)")
    p.add_argument("--json", action="store_true",
                   help="print {question, query, text, items} as JSON (query: the typed query it was read as)")
    p.add_argument("--page", type=int, default=1, help="page of a long list (from 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    question = " ".join(args.question)
    page = max(0, args.page - 1)
    if ctx.db_path != ":memory:" and not Path(ctx.db_path).expanduser().exists():
        raise UserError(f"database {ctx.db_path} does not exist (run `convoscope init` or "
                        "`convoscope demo` first)")  # fmt: skip
    from convoscope.api import read_state

    state = read_state(ctx.db_path) if ctx.db_path != ":memory:" else None
    if state is not None:
        out = _ask_service(state.url, state.token, question, page)
    else:
        out = _ask_file(ctx, question, page)
    if args.json:
        print(json.dumps({k: out.get(k) for k in ("question", "query", "text", "items")}, default=str,
                         ensure_ascii=False, indent=2))  # fmt: skip
    else:
        print(out["text"])
        if out.get("pages", 1) > 1:
            print(f"(page {out['page'] + 1} of {out['pages']}; --page N for more)")
    return 0


def _ask_file(ctx: Context, question: str, page: int) -> dict[str, Any]:
    from bot.questions import answer_payload
    from bot.questions.understand import configure

    configure(ctx.config.questions)
    from convoscope.commands.tui import local_identity

    store = ctx.store()
    who = local_identity(ctx, store)
    return answer_payload(store, ctx.config.tz, question, page=page,
                          page_size=ctx.config.slack.page_size, actor=f"cli:{getpass.getuser()}",
                          role=who.role, agent=who.agent)  # fmt: skip


def _ask_service(url: str, token: str | None, question: str, page: int) -> dict[str, Any]:
    import httpx

    from convoscope.api import TOKEN_ENV

    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise UserError(f"the running service at {url} needs a token: set {TOKEN_ENV}")
    try:
        resp = httpx.post(f"{url}/api/ask", json={"question": question, "page": page},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach the running service at {url}: {exc}") from None
    if resp.status_code == 404:
        raise UserError(f"the running service at {url} does not answer questions "
                        "(no /api/ask); stop `convoscope serve` to ask from the file")  # fmt: skip
    if resp.status_code != 200:
        raise UserError(f"the service at {url} answered {resp.status_code}: {resp.text[:200]}")
    return dict(resp.json())
