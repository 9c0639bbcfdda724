"""The service's local HTTP API: the reads the TUI needs and the review actions.

`convoscope serve` owns the DuckDB file (DuckDB allows one process per file), so readers
such as `convoscope tui` come through here. It is a Starlette app served by uvicorn in a
thread of the service: loopback only unless explicitly allowed, and every route needs
`Authorization: Bearer <token>` (401 otherwise). Handlers run the same `store` functions
the TUI runs on a bare file, in Starlette's thread pool (each thread gets its own DuckDB
cursor), and return their dataclasses as JSON. Reviews go through
`store.flags.set_review(via="api")`, which writes the audit log in the same transaction.

The service advertises itself in a state file next to the database,
`<db>.service.json` (host, port, pid, token; mode 0600), which `convoscope tui` reads to
find it; the file is removed on a clean stop and ignored when its pid is gone.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from store import browse, search
from store import flags as flags_mod
from store.db import Store, StoreError
from tui.data import ReviewResult, encode, filter_from_json

TOKEN_ENV = "CONVOSCOPE_API_TOKEN"


class ApiError(ValueError):
    """A bad request; answered as 400 with the message."""


class _BearerAuth:
    """ASGI middleware: every HTTP request must carry the token (constant-time compare)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            auth = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, given = auth.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
                resp = JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


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


def create_app(store: Store, token: str, tz: str = "UTC") -> Starlette:
    """The API as an ASGI app over an open store. `token` must be non-empty; `tz` is the
    configured time zone in which questions ("calls today") are answered."""
    if not token:
        raise ValueError("the API needs a token")

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await fn(request))
            except (ApiError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except StoreError as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
            except KeyError as exc:
                return JSONResponse({"error": str(exc).strip("'\"")}, status_code=404)

        return endpoint

    async def health(request: Request) -> Any:
        return {"ok": True, "db": store.path, "pid": os.getpid()}

    async def dashboard(request: Request) -> Any:
        now, tz = _now_param(request), request.query_params.get("tz", "UTC")
        return encode(await run_in_threadpool(browse.dashboard, store, now, tz))

    async def page(request: Request) -> Any:
        b = await _body(request)
        flt = filter_from_json(b.get("filter"))
        limit = int(b.get("limit") or 100)
        if not 1 <= limit <= 5000:
            raise ApiError("limit must be 1..5000")
        got = await run_in_threadpool(
            lambda: browse.page(store, flt, sort=str(b.get("sort") or "started_at"),
                                descending=bool(b.get("descending", True)), limit=limit,
                                after=b.get("after"))
        )
        return encode(got)

    async def count(request: Request) -> Any:
        b = await _body(request)
        flt = filter_from_json(b.get("filter"))
        return {"count": await run_in_threadpool(browse.count, store, flt)}

    async def detail(request: Request) -> Any:
        iid = int(request.path_params["iid"])
        got = await run_in_threadpool(browse.detail, store, iid)
        if got is None:
            raise KeyError(f"no interaction {iid}")
        return {"interaction": encode(got)}

    async def do_search(request: Request) -> Any:
        q = request.query_params.get("q", "")
        limit = _int(request, "limit", 50, 1, 1000)
        channel = request.query_params.get("channel") or None
        return encode(await run_in_threadpool(
            lambda: search.search(store, q, limit=limit, channel=channel)))

    async def ask(request: Request) -> Any:
        from zoneinfo import ZoneInfo

        from bot.questions import answer_payload

        b = await _body(request)
        question = str(b.get("question") or "").strip()
        if not question:
            raise ApiError("question is required")
        page = int(b.get("page") or 0)
        actor = str(b.get("actor") or "api")
        return encode(await run_in_threadpool(
            lambda: answer_payload(store, ZoneInfo(tz), question, page=page, actor=actor)))

    async def queue(request: Request) -> Any:
        order = request.query_params.get("order", "severity")
        kind = request.query_params.get("kind") or None
        limit = _int(request, "limit", 200, 1, 5000)
        return encode(await run_in_threadpool(
            lambda: browse.review_queue(store, order=order, kind=kind, limit=limit)))

    async def review(request: Request) -> Any:
        fid = int(request.path_params["fid"])
        b = await _body(request)
        status = str(b.get("status") or "")
        reviewer = str(b.get("reviewer") or "").strip()
        if not reviewer:
            raise ApiError("reviewer is required")
        reason = b.get("reason")
        f = await run_in_threadpool(
            lambda: flags_mod.set_review(store, fid, status, reviewer,
                                         str(reason) if reason else None, via="api"))
        return encode(ReviewResult(int(f.id or fid), f.review_status, f.reviewer, f.review_reason))

    async def agents(request: Request) -> Any:
        now, days = _now_param(request), _int(request, "days", 30, 1, 3650)
        return encode(await run_in_threadpool(browse.agents, store, now, days))

    async def topics(request: Request) -> Any:
        now, tz = _now_param(request), request.query_params.get("tz", "UTC")
        return encode(await run_in_threadpool(browse.topics, store, now, tz))

    async def choices(request: Request) -> Any:
        return await run_in_threadpool(browse.distinct_values, store)

    async def export(request: Request) -> Any:
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
        flt = filter_from_json(b.get("filter"))
        rows = await run_in_threadpool(
            lambda: browse.export_to(store, path, fmt, flt, sort=str(b.get("sort") or "started_at"),
                                     descending=bool(b.get("descending", True))))
        return {"rows": rows, "path": path}

    async def backup(request: Request) -> Any:
        from store.lifecycle import backup_to

        b = await _body(request)
        path = str(b.get("path") or "")
        # The service owns the file, so it takes the snapshot (one read transaction). Like
        # exports, a token holder may only create a new (or fill an empty) folder.
        if not path or not Path(path).is_absolute():
            raise ApiError("path must be an absolute folder path on the service's machine")
        info = await run_in_threadpool(lambda: backup_to(store.cursor(), store.path, path))
        return info.__dict__

    routes = [
        Route("/api/health", wrap(health)),
        Route("/api/backup", wrap(backup), methods=["POST"]),
        Route("/api/dashboard", wrap(dashboard)),
        Route("/api/interactions/page", wrap(page), methods=["POST"]),
        Route("/api/interactions/count", wrap(count), methods=["POST"]),
        Route("/api/interactions/{iid:int}", wrap(detail)),
        Route("/api/search", wrap(do_search)),
        Route("/api/ask", wrap(ask), methods=["POST"]),
        Route("/api/review-queue", wrap(queue)),
        Route("/api/flags/{fid:int}/review", wrap(review), methods=["POST"]),
        Route("/api/agents", wrap(agents)),
        Route("/api/topics", wrap(topics)),
        Route("/api/choices", wrap(choices)),
        Route("/api/export", wrap(export), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(_BearerAuth, token=token)
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
    config = uvicorn.Config(create_app(store, token, tz), host=host, port=bound, log_level="warning",
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
