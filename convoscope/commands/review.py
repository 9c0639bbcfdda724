"""`convoscope review`: confirm, dismiss or reopen a flag from a shell, or list the queue.

    convoscope review --list                      # the review queue (contested first)
    convoscope review 42                          # one flag's state and review history
    convoscope review 42 --confirm
    convoscope review 42 --dismiss --reason "customer was joking"
    convoscope review 42 --reopen

The same path as Slack, the TUI and the API (`store.reviews.review`): the state machine,
the audit log, and the optimistic check. `--rev N` names the revision you looked at
(`--list` and the one-flag view print it); without it a confirm or dismiss is made
against "open" and a reopen against the state the command reads just before. While
`convoscope serve` owns the database the change goes through its API as the token's user
(`--token`, else $CONVOSCOPE_API_TOKEN, else the service token from the state file, which
acts as admin); otherwise on the file as the configured local user (`[tui] reviewer`, else
the OS user; its role when it is a registered user).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from convoscope.context import Context, UserError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("review", help="confirm / dismiss / reopen a flag, or list the review queue",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("flag_id", nargs="?", type=int, help="the flag to review")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--confirm", action="store_true", help="the flag is right")
    g.add_argument("--dismiss", action="store_true", help="the flag is wrong (needs --reason)")
    g.add_argument("--reopen", action="store_true", help="take a verdict back")
    g.add_argument("--list", action="store_true", help="print the review queue")
    p.add_argument("--reason", help="why (required with --dismiss)")
    p.add_argument("--rev", type=int, help="the review revision you looked at")
    p.add_argument("--limit", type=int, default=50, help="queue rows to print (default 50)")
    p.add_argument("--token", help="API token (default: $CONVOSCOPE_API_TOKEN, then the state file)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    action = "confirmed" if args.confirm else "dismissed" if args.dismiss else "open" if args.reopen else None
    if not args.list and args.flag_id is None:
        raise UserError("name a flag (convoscope review FLAG_ID --confirm|--dismiss|--reopen) or use --list")
    if args.dismiss and not (args.reason or "").strip():
        raise UserError('a dismissal needs --reason "…" (what was wrong with the flag?)')
    backend = _Service(ctx, args.token) if _service_state(ctx) else _File(ctx)
    if args.list:
        rows = backend.queue(args.limit)
        _print_queue(rows, args.json)
        return 0
    if action is None:
        got = backend.state(args.flag_id)
        print(json.dumps(got, default=str, indent=2) if args.json else _describe(got))
        return 0
    expected_status = "open" if action != "open" and args.rev is None else None
    rev = args.rev
    if action == "open" and rev is None:
        rev = int(backend.state(args.flag_id)["review_rev"])
    got = backend.review(args.flag_id, action, args.reason, rev, expected_status)
    if args.json:
        print(json.dumps(got, default=str, indent=2))
    else:
        verb = {"confirmed": "confirmed", "dismissed": "dismissed", "open": "reopened"}[action]
        print(f"flag {args.flag_id} {verb} by {got['reviewer']} (revision {got['review_rev']})")
    return 0


def _service_state(ctx: Context) -> Any:
    from convoscope.api import read_state

    return read_state(ctx.db_path) if ctx.db_path != ":memory:" else None


def _describe(st: dict[str, Any]) -> str:
    lines = [f"flag {st['flag_id']} ({st['kind']}, severity {st['severity']}) on interaction "
             f"{st['interaction_id']}: {st['review_status']}, revision {st['review_rev']}"
             + (f", contested: {st['contest_reason']}" if st.get("contested") else "")]  # fmt: skip
    if st.get("reviewer") and st["review_status"] != "open":
        lines.append(f"  by {st['reviewer']}" + (f": {st['review_reason']}" if st.get("review_reason") else ""))
    for h in st.get("history") or []:
        lines.append(f"  {h['at']} {h['actor']} {h['action']}"
                     + (f" ({h['detail'].get('reason')})" if h["detail"].get("reason") else ""))  # fmt: skip
    return "\n".join(lines)


def _print_queue(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
        return
    if not rows:
        print("the review queue is empty")
        return
    print(f"{'flag':>6} {'rev':>3} {'sev':>3}  {'kind':<34} {'interaction':>11}  agent")
    for r in rows:
        from store.reviews import low_confidence

        kind = r["kind"] + (" (contested)" if r.get("contested") else "")
        if low_confidence(int(r["severity"]), r.get("confidence")):
            kind += f" (low confidence {float(r['confidence']):.0%})"
        print(f"{r['flag_id']:>6} {r.get('review_rev', 0):>3} {r['severity']:>3}  {kind:<34} "
              f"{r['interaction_id']:>11}  {r.get('agent') or '–'}")  # fmt: skip


class _File:
    """On the DuckDB file, as the configured local user."""

    def __init__(self, ctx: Context) -> None:
        from convoscope.commands.tui import local_identity
        from convoscope.wiring import watch_reviews

        self.store = ctx.store()
        self.who = local_identity(ctx, self.store)
        watch_reviews(ctx.config, self.store)

    def queue(self, limit: int) -> list[dict[str, Any]]:
        from store import browse
        from store.permissions import Forbidden, require, shape
        from tui.data import encode

        try:
            require(self.who.role, "lists", self.who.user)
        except Forbidden as exc:
            raise UserError(str(exc)) from None
        return list(shape(self.who.role, encode(browse.review_queue(self.store, limit=limit))))

    def state(self, flag_id: int) -> dict[str, Any]:
        from store import reviews
        from tui.data import encode

        try:
            st = encode(reviews.state(self.store, flag_id))
        except KeyError as exc:
            raise UserError(str(exc).strip("'\"")) from None
        st["history"] = encode(reviews.history(self.store, flag_id))
        return dict(st)

    def review(self, flag_id: int, to: str, reason: str | None, rev: int | None,
               expected_status: str | None) -> dict[str, Any]:  # fmt: skip
        from store import reviews
        from store.permissions import Forbidden
        from tui.data import encode

        try:
            st = reviews.review(self.store, flag_id, to, self.who, reason, expected_rev=rev,
                                expected_status=expected_status, via="cli")  # fmt: skip
        except (KeyError, ValueError, Forbidden) as exc:
            raise UserError(str(exc).strip("'\"")) from None
        return dict(encode(st))


class _Service:
    """Through the running service's API, as the token's user."""

    def __init__(self, ctx: Context, token: str | None) -> None:
        import httpx

        from convoscope.api import TOKEN_ENV

        st = _service_state(ctx)
        token = token or os.environ.get(TOKEN_ENV) or st.token
        if not token:
            raise UserError(f"the running service at {st.url} needs a token: pass --token or set {TOKEN_ENV}")
        self.url = st.url
        self.http = httpx.Client(base_url=st.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            resp = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise UserError(f"cannot reach the running service at {self.url}: {exc}") from None
        if resp.status_code >= 400:
            try:
                msg = resp.json().get("error", resp.text)
            except ValueError:
                msg = resp.text
            raise UserError(f"{msg} (service answered {resp.status_code})")
        return resp.json()

    def queue(self, limit: int) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/review-queue", params={"limit": limit}))

    def state(self, flag_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/flags/{int(flag_id)}"))

    def review(self, flag_id: int, to: str, reason: str | None, rev: int | None,
               expected_status: str | None) -> dict[str, Any]:  # fmt: skip
        body = {"status": to, "reason": reason, "rev": rev, "expected_status": expected_status}
        return dict(self._call("POST", f"/api/flags/{int(flag_id)}/review", json=body))
