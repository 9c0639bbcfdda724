"""The service's local HTTP API: the reads the TUI needs and the review actions.

`convoscope serve` owns the DuckDB file (DuckDB allows one process per file), so readers
such as `convoscope tui` come through here. It is a Starlette app served by uvicorn in a
thread of the service: loopback only unless explicitly allowed, and every route needs
`Authorization: Bearer <token>` (401 otherwise). A token is either a person's own token
(`convoscope users add`, stored hashed in `api_users`) carrying their name and role, or
the service token (`[service] api_token` / the state file), which acts as the `admin`
role for backward compatibility. `convoscope.apiguard.ApiGuard` stands in front of every
route: it resolves the token to an identity (constant-time compares), rate-limits per
token (429 with Retry-After) and caps request bodies (413). Every route checks the
caller's role against the one table in `store.permissions` (403 otherwise) and shapes its
answer with `permissions.shape` (pseudonymised agents, hidden customer ids, redacted turn
text for roles that may not see them). Handlers run the same `store` functions the TUI
runs on a bare file, in Starlette's thread pool (each thread gets its own DuckDB cursor).
Reviews go through `store.reviews.review(via="api")` as the token's user, never a name
from the request body, against the revision the client saw.

The service advertises itself in a state file next to the database,
`<db>.service.json` (host, port, pid, token; mode 0600), which `convoscope tui` reads to
find it; the file is removed on a clean stop and ignored when its pid is gone.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from convoscope.apiguard import ApiGuard, ApiLimits
from store import browse, reviews, search, users
from store.db import Store, StoreError
from store.permissions import Forbidden, Identity, allowed, require, shape
from tui.data import ReviewResult, encode, view_from_body

TOKEN_ENV = "CONVOSCOPE_API_TOKEN"
#: Who the service token (not a person's token) acts as.
SERVICE_IDENTITY = Identity("api:service-token", "admin")


def _view(body: dict[str, Any]) -> Any:
    """The interactions a request names: `{"query": <store.query.Query.to_dict()>}` (the
    typed query every surface builds) or `{"filter": <the TUI's filter form>}`."""
    try:
        return view_from_body(body)
    except ValueError as exc:
        raise ApiError(str(exc)) from exc


class ApiError(ValueError):
    """A bad request; answered as 400 with the message."""


def person(store: Store) -> Callable[[bytes], Identity | None]:
    """Who a person's bearer token stands for (None when unknown); the guard checks the
    service token itself and calls this for anything else."""

    def resolve(given: bytes) -> Identity | None:
        try:
            return users.authenticate(store, given.decode("ascii"))
        except UnicodeDecodeError:
            return None

    return resolve


def _who(request: Request) -> Identity:
    return request.state.identity  # type: ignore[no-any-return]


def _now_param(request: Request) -> datetime:
    raw = request.query_params.get("now")
    if not raw:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(f"now must be an ISO date-time, got {raw!r}") from exc
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _int(request: Request, name: str, default: int, lo: int = 1, hi: int = 10_000) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError as exc:
        raise ApiError(f"{name} must be an integer") from exc
    if not lo <= v <= hi:
        raise ApiError(f"{name} must be between {lo} and {hi}")
    return v


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError as exc:
        raise ApiError("the body must be JSON") from exc
    if not isinstance(data, dict):
        raise ApiError("the body must be a JSON object")
    return data


Handler = Callable[[Request], Awaitable[Any]]


Forget = Callable[[dict[str, Any]], dict[str, Any]]


def create_app(store: Store, token: str, tz: str = "UTC", *, limits: ApiLimits | None = None,
               forget: Forget | None = None) -> Starlette:  # fmt: skip
    """The API as an ASGI app over an open store. `token` must be non-empty; `tz` is the
    configured time zone in which questions ("calls today") are answered; `limits` the
    rate and size limits (defaults: `ApiLimits()`); `forget` serves
    `POST /api/privacy/forget` (erasure for supervisors, `convoscope.privacy.api_forget`)."""
    if not token:
        raise ValueError("the API needs a token")

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                got = await fn(request)
                return got if isinstance(got, Response) else JSONResponse(got)
            except Forbidden as exc:
                return JSONResponse({"error": str(exc)}, status_code=403)
            except reviews.StaleReview as exc:
                return JSONResponse({"error": str(exc), "current": encode(exc.current)}, status_code=409)
            except (ApiError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except StoreError as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
            except KeyError as exc:
                return JSONResponse({"error": str(exc).strip("'\"")}, status_code=404)
            except PermissionError as exc:
                return JSONResponse({"error": str(exc)}, status_code=403)

        return endpoint

    async def health(request: Request) -> Any:
        return {"ok": True, "db": store.path, "pid": os.getpid()}

    def see(request: Request, action: str, data: Any) -> Any:
        """Check the caller may `action`, and shape `data` (encoded) for their role."""
        who = _who(request)
        require(who.role, action, who.user)
        return shape(who.role, encode(data))

    async def me(request: Request) -> Any:
        who = _who(request)
        return {"user": who.user, "role": who.role, "agent": who.agent}

    async def dashboard(request: Request) -> Any:
        require(_who(request).role, "counts")
        now, tz = _now_param(request), request.query_params.get("tz", "UTC")
        return encode(await run_in_threadpool(browse.dashboard, store, now, tz))

    async def page(request: Request) -> Any:
        require(_who(request).role, "lists")
        b = await _body(request)
        flt = _view(b)
        limit = int(b.get("limit") or 100)
        if not 1 <= limit <= 5000:
            raise ApiError("limit must be 1..5000")
        got = await run_in_threadpool(
            lambda: browse.page(store, flt, sort=str(b.get("sort") or "started_at"),
                                descending=bool(b.get("descending", True)), limit=limit,
                                after=b.get("after"))
        )
        return see(request, "lists", got)

    async def count(request: Request) -> Any:
        require(_who(request).role, "counts")
        b = await _body(request)
        flt = _view(b)
        return {"count": await run_in_threadpool(browse.count, store, flt)}

    async def detail(request: Request) -> Any:
        require(_who(request).role, "transcripts")
        iid = int(request.path_params["iid"])
        got = await run_in_threadpool(browse.detail, store, iid)
        if got is None:
            raise KeyError(f"no interaction {iid}")
        return {"interaction": see(request, "transcripts", got)}

    async def do_search(request: Request) -> Any:
        q = request.query_params.get("q", "")
        limit = _int(request, "limit", 50, 1, 1000)
        channel = request.query_params.get("channel") or None
        require(_who(request).role, "transcripts")
        return see(request, "transcripts", await run_in_threadpool(
            lambda: search.search(store, q, limit=limit, channel=channel)))

    async def ask(request: Request) -> Any:
        from zoneinfo import ZoneInfo

        from bot.questions import answer_payload

        b = await _body(request)
        question = str(b.get("question") or "").strip()
        if not question:
            raise ApiError("question is required")
        page = int(b.get("page") or 0)
        who = _who(request)  # the token's user and role, never a name from the body
        return encode(await run_in_threadpool(
            lambda: answer_payload(store, ZoneInfo(tz), question, page=page, actor=who.user,
                                   role=who.role, agent=who.agent)))

    async def typed(request: Request) -> Any:
        """Answer a typed query (`{"query": ..., "page": n}`) as the bot would: list, count,
        ranking, breakdown, comparison or a pattern view, for the token's role."""
        from zoneinfo import ZoneInfo

        from bot.questions import Engine
        from store import audit
        from store.query import Query

        b = await _body(request)
        q = _view({"query": b.get("query") or {}})
        assert isinstance(q, Query)
        page = int(b.get("page") or 0)
        who = _who(request)

        def run() -> dict[str, Any]:
            eng = Engine(store, ZoneInfo(tz))
            ans = eng.interpreted(eng.answer_query(q, role=who.role, page=max(0, page), agent=who.agent), q)
            audit.log(store, who.user, "query", None, {"view": q.view, "page": page, "role": who.role})
            return {**ans.to_json(), "intent": ans.intent, "page": ans.page, "pages": ans.pages,
                    "total": ans.total, "query": q.to_dict()}  # fmt: skip

        return encode(await run_in_threadpool(run))

    async def queue(request: Request) -> Any:
        order = request.query_params.get("order", "severity")
        kind = request.query_params.get("kind") or None
        limit = _int(request, "limit", 200, 1, 5000)
        require(_who(request).role, "lists")
        return see(request, "lists", await run_in_threadpool(
            lambda: browse.review_queue(store, order=order, kind=kind, limit=limit)))

    async def flag_state(request: Request) -> Any:
        require(_who(request).role, "lists")
        fid = int(request.path_params["fid"])
        return see(request, "lists", await run_in_threadpool(reviews.state, store, fid))

    async def contest(request: Request) -> Any:
        """An agent contests a flag on their own interaction (store.reviews.contest)."""
        who = _who(request)
        require(who.role, "contest", who.user)
        fid = int(request.path_params["fid"])
        b = await _body(request)
        st = await run_in_threadpool(
            lambda: reviews.contest(store, fid, who, str(b.get("reason") or ""), via="api"))
        return {"flag_id": st.flag_id, "contested": st.contested, "review_status": st.review_status}

    async def clip(request: Request) -> Any:
        """A few seconds of the call's redacted audio around the flag's evidence (WAV)."""
        from analysis.clips import make_clip

        require(_who(request).role, "transcripts")
        fid = int(request.path_params["fid"])
        got = await run_in_threadpool(make_clip, store, fid)
        return Response(got.path.read_bytes(), media_type="audio/wav",
                        headers={"Content-Disposition": f'inline; filename="{got.path.name}"'})

    async def review(request: Request) -> Any:
        fid = int(request.path_params["fid"])
        who = _who(request)
        require(who.role, "review", who.user)
        b = await _body(request)
        status = str(b.get("status") or "")
        reason = b.get("reason")
        rev, seen = b.get("rev"), b.get("expected_status")
        if rev is None and seen is None:
            raise ApiError("say which state you reviewed: rev (the flag's review_rev) "
                           "or expected_status")
        if rev is not None and not isinstance(rev, int):
            raise ApiError("rev must be an integer")
        st = await run_in_threadpool(
            lambda: reviews.review(store, fid, status, who, str(reason) if reason else None,
                                   expected_rev=rev, expected_status=seen, via="api"))
        return encode(ReviewResult(st.flag_id, st.review_status, st.reviewer, st.review_reason,
                                   st.review_rev))

    async def agents(request: Request) -> Any:
        now, days = _now_param(request), _int(request, "days", 30, 1, 3650)
        return see(request, "lists", await run_in_threadpool(browse.agents, store, now, days))

    async def topics(request: Request) -> Any:
        require(_who(request).role, "counts")
        now, tz = _now_param(request), request.query_params.get("tz", "UTC")
        return encode(await run_in_threadpool(browse.topics, store, now, tz))

    async def rule_quality(request: Request) -> Any:
        require(_who(request).role, "counts")
        now, days = _now_param(request), _int(request, "days", 30, 1, 3650)
        return encode(await run_in_threadpool(
            lambda: reviews.rule_quality(store, now - timedelta(days=days), None)))

    async def choices(request: Request) -> Any:
        role = _who(request).role
        require(role, "counts")
        got = await run_in_threadpool(browse.distinct_values, store)
        if not allowed(role, "agent_names"):
            got["agent"] = []
        return got

    async def users_list(request: Request) -> Any:
        who = _who(request)
        require(who.role, "manage_users", who.user)
        return encode(await run_in_threadpool(users.list_users, store))

    async def users_add(request: Request) -> Any:
        who = _who(request)
        require(who.role, "manage_users", who.user)
        b = await _body(request)
        user, token = await run_in_threadpool(
            lambda: users.add(store, str(b.get("name") or ""), str(b.get("role") or ""),
                              agent=b.get("agent"), actor=who.user))
        return {"user": encode(user), "token": token}

    async def users_revoke(request: Request) -> Any:
        who = _who(request)
        require(who.role, "manage_users", who.user)
        name = request.path_params["name"]
        return encode(await run_in_threadpool(lambda: users.revoke(store, name, actor=who.user)))

    async def users_token(request: Request) -> Any:
        who = _who(request)
        require(who.role, "manage_users", who.user)
        name = request.path_params["name"]
        return {"token": await run_in_threadpool(lambda: users.new_token(store, name, actor=who.user))}

    async def export(request: Request) -> Any:
        who = _who(request)
        require(who.role, "export", who.user)
        names = allowed(who.role, "agent_names")
        b = await _body(request)
        path = str(b.get("path") or "")
        if not path or not Path(path).is_absolute():
            raise ApiError("path must be an absolute file path on the service's machine")
        fmt = str(b.get("format") or "csv")
        # A token holder must not be able to overwrite arbitrary files as the service user:
        # only new .csv/.parquet files in an existing folder.
        target = Path(path)
        if target.suffix.lower() != f".{fmt}":
            raise ApiError(f"a {fmt} export must be written to a .{fmt} file")
        if target.exists() or target.is_symlink():
            raise ApiError(f"{path} exists; exports never overwrite a file")
        if not target.parent.is_dir():
            raise ApiError(f"folder {target.parent} does not exist")
        flt = _view(b)
        rows = await run_in_threadpool(
            lambda: browse.export_to(store, path, fmt, flt, sort=str(b.get("sort") or "started_at"),
                                     descending=bool(b.get("descending", True)), agent_names=names))
        return {"rows": rows, "path": path}

    async def privacy_forget(request: Request) -> Any:
        if forget is None:
            raise KeyError("erasure is not enabled in this API")
        who = _who(request)
        b = await _body(request)
        b.pop("role", None)
        if who != SERVICE_IDENTITY:
            # a person's token: that person asks, with their own role (the body's actor is
            # only for the service token, used on behalf of a Slack user by id)
            b = {**b, "actor": who.user, "role": who.role}
        return await run_in_threadpool(forget, b)

    async def backup(request: Request) -> Any:
        from store.lifecycle import backup_to

        who = _who(request)
        # a backup holds everything, original text included
        require(who.role, "original_text", who.user)
        b = await _body(request)
        path = str(b.get("path") or "")
        # The service owns the file, so it takes the snapshot (one read transaction). Like
        # exports, a token holder may only create a new (or fill an empty) folder.
        if not path or not Path(path).is_absolute():
            raise ApiError("path must be an absolute folder path on the service's machine")
        if store.backend == "ducklake":
            from store.migrate import backup_lake

            info = await run_in_threadpool(lambda: backup_lake(store, path))
        else:
            info = await run_in_threadpool(lambda: backup_to(store.cursor(), store.path, path))
        return info.__dict__

    routes = [
        Route("/api/privacy/forget", wrap(privacy_forget), methods=["POST"]),
        Route("/api/health", wrap(health)),
        Route("/api/backup", wrap(backup), methods=["POST"]),
        Route("/api/dashboard", wrap(dashboard)),
        Route("/api/interactions/page", wrap(page), methods=["POST"]),
        Route("/api/interactions/count", wrap(count), methods=["POST"]),
        Route("/api/interactions/{iid:int}", wrap(detail)),
        Route("/api/search", wrap(do_search)),
        Route("/api/ask", wrap(ask), methods=["POST"]),
        Route("/api/query", wrap(typed), methods=["POST"]),
        Route("/api/review-queue", wrap(queue)),
        Route("/api/flags/{fid:int}/review", wrap(review), methods=["POST"]),
        Route("/api/flags/{fid:int}", wrap(flag_state)),
        Route("/api/flags/{fid:int}/clip", wrap(clip)),
        Route("/api/flags/{fid:int}/contest", wrap(contest), methods=["POST"]),
        Route("/api/me", wrap(me)),
        Route("/api/rule-quality", wrap(rule_quality)),
        Route("/api/users", wrap(users_list)),
        Route("/api/users", wrap(users_add), methods=["POST"]),
        Route("/api/users/{name}/revoke", wrap(users_revoke), methods=["POST"]),
        Route("/api/users/{name}/token", wrap(users_token), methods=["POST"]),
        Route("/api/agents", wrap(agents)),
        Route("/api/topics", wrap(topics)),
        Route("/api/choices", wrap(choices)),
        Route("/api/export", wrap(export), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(ApiGuard, token=token, limits=limits, people=person(store),
                       service_identity=SERVICE_IDENTITY)
    return app


# -- serving -------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to those (e.g. localhost)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


@dataclass
class ApiHandle:
    """A running API server; `stop()` shuts it down and waits for the thread."""

    host: str
    port: int
    token: str
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def serve_api(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    *,
    tz: str = "UTC",
    allow_remote: bool = False,
    start_timeout: float = 15.0,
    limits: ApiLimits | None = None,
    forget: Forget | None = None,
) -> ApiHandle:
    """Run the API with uvicorn in a daemon thread; returns once it accepts connections.

    `port=0` picks a free port (see `handle.port`). A non-loopback `host` is refused unless
    `allow_remote` (the API reads every conversation: keep it on the machine). An empty
    token gets a random one (`handle.token`).
    """
    import uvicorn

    if not allow_remote and not is_loopback(host):
        raise ValueError(
            f"refusing to serve the API on non-loopback host {host!r}; "
            "use 127.0.0.1 (or allow remote access explicitly)"
        )
    token = token or new_token()
    # Bind here, not in uvicorn's thread: a port in use becomes a clear error for the
    # caller, and port 0 tells us the port the OS picked.
    try:
        family, kind, proto, _name, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise RuntimeError(f"the API could not start on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"the API could not start on {host}:{port}: {exc}") from exc
    bound = int(sock.getsockname()[1])
    config = uvicorn.Config(create_app(store, token, tz, limits=limits, forget=forget), host=host, port=bound, log_level="warning",
                            access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="convoscope-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the API could not start on {host}:{port} (port in use?)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the API did not start on {host}:{port} within {start_timeout} s")
        time.sleep(0.02)
    return ApiHandle(host, bound, token, server, thread)


# -- the state file that lets `convoscope tui` find the service -------------------------


@dataclass(slots=True)
class ServiceState:
    host: str
    port: int
    pid: int
    token: str | None
    started_at: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def state_path(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).expanduser()}.service.json")


def write_state(db_path: str | Path, handle: ApiHandle) -> Path:
    """Advertise a running service next to its database (owner-only permissions)."""
    p = state_path(db_path)
    data = {"host": handle.host, "port": handle.port, "pid": os.getpid(), "token": handle.token,
            "started_at": datetime.now(UTC).isoformat()}
    tmp = p.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, p)
    return p


def remove_state(db_path: str | Path) -> None:
    state_path(db_path).unlink(missing_ok=True)


def read_state(db_path: str | Path) -> ServiceState | None:
    """The advertised service, or None (no file, unreadable, or its process is gone)."""
    p = state_path(db_path)
    try:
        d = json.loads(p.read_text("utf-8"))
        st = ServiceState(str(d["host"]), int(d["port"]), int(d["pid"]), d.get("token"),
                          str(d.get("started_at", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(st.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return st
