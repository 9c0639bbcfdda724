"""`convoscope users`: people who may use the local API, each with a role and a token.

    convoscope users add ana --role supervisor     # prints ana's token once
    convoscope users add kim --role agent --agent "Kim Lee"
    convoscope users list
    convoscope users token ana                     # a new token; the old one stops working
    convoscope users revoke ana

Tokens are stored as SHA-256 hashes (`store/users.py`): they are shown once and cannot be
read back. Roles are those of `store.permissions` (admin, supervisor, analyst, viewer,
agent). While `convoscope serve` owns the database the change goes through its API, which
needs an admin's token (the service token from the state file is one); otherwise it is
made on the file.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from convoscope.context import Context, UserError
from store.permissions import ROLES


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("users", help="API users: add, list, revoke, new token",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="users_command", metavar="ACTION")
    sub.required = True
    a = sub.add_parser("add", help="add a user and print their token once")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--agent", help="for --role agent: the agent name the interactions carry")
    ls = sub.add_parser("list", help="list users (no tokens)")
    ls.add_argument("--all", action="store_true", help="include revoked users")
    ls.add_argument("--json", action="store_true")
    r = sub.add_parser("revoke", help="stop a user's token (the user stays in the audit log)")
    r.add_argument("name")
    t = sub.add_parser("token", help="replace a user's token and print the new one once")
    t.add_argument("name")
    for sp in (a, ls, r, t):
        sp.add_argument("--token", dest="api_token", help="admin API token while the service runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from convoscope.commands.review import _service_state

    st = _service_state(ctx)
    cmd = args.users_command
    if st is not None:
        return _via_service(args, st, cmd)
    from convoscope.commands.tui import local_identity
    from store import users
    from store.permissions import Forbidden, require

    store = ctx.store()
    who = local_identity(ctx, store)
    actor = who.user
    try:
        require(who.role, "manage_users", who.user)
    except Forbidden as exc:
        raise UserError(str(exc)) from None
    try:
        if cmd == "add":
            user, token = users.add(store, args.name, args.role, agent=args.agent, actor=actor)
            _print_token(user.name, user.role, token)
        elif cmd == "list":
            rows = users.list_users(store, include_revoked=args.all)
            _print_users([{"name": u.name, "role": u.role, "agent": u.agent, "token_prefix": u.token_prefix,
                           "created_at": u.created_at, "revoked_at": u.revoked_at} for u in rows], args.json)
        elif cmd == "revoke":
            users.revoke(store, args.name, actor=actor)
            print(f"revoked {args.name}: their token no longer works")
        elif cmd == "token":
            _print_token(args.name, None, users.new_token(store, args.name, actor=actor))
    except (KeyError, ValueError) as exc:
        raise UserError(str(exc).strip("'\"")) from None
    return 0


def _print_token(name: str, role: str | None, token: str) -> None:
    print(f"{name}{f' ({role})' if role else ''}: token {token}")
    print("Store it now: it is kept only as a hash and will not be shown again.")


def _print_users(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
        return
    for u in rows:
        state = f"revoked {u['revoked_at']}" if u.get("revoked_at") else "active"
        agent = f" agent={u['agent']}" if u.get("agent") else ""
        print(f"{u['name']:<20} {u['role']:<11} cvs_{u['token_prefix']}_…  {state}{agent}")


def _via_service(args: argparse.Namespace, st: Any, cmd: str) -> int:
    import httpx

    from convoscope.api import TOKEN_ENV

    token = args.api_token or os.environ.get(TOKEN_ENV) or st.token
    h = {"Authorization": f"Bearer {token}"}
    try:
        if cmd == "add":
            resp = httpx.post(f"{st.url}/api/users", headers=h, timeout=30,
                              json={"name": args.name, "role": args.role, "agent": args.agent})
        elif cmd == "list":
            resp = httpx.get(f"{st.url}/api/users", headers=h, timeout=30)
        else:
            resp = httpx.post(f"{st.url}/api/users/{args.name}/{cmd}", headers=h, timeout=30)
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach the running service at {st.url}: {exc}") from None
    if resp.status_code >= 400:
        raise UserError(f"{resp.json().get('error', resp.text)} (service answered {resp.status_code})")
    got = resp.json()
    if cmd == "add":
        _print_token(got["user"]["name"], got["user"]["role"], got["token"])
    elif cmd == "list":
        _print_users([u for u in got if args.all or not u.get("revoked_at")], args.json)
    elif cmd == "revoke":
        print(f"revoked {args.name}: their token no longer works")
    else:
        _print_token(args.name, None, got["token"])
    return 0
