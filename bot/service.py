"""Attach the Slack bot to the service: listener thread, alert job, digest cron jobs.

`convoscope serve` owns the DuckDB file, so the bot runs inside it: `attach` registers
the alert dispatcher (every `alerts.interval_seconds`) and one cron job per configured
digest on the service's APScheduler `BackgroundScheduler`, and starts the Slack listener
in a background thread — Socket Mode by default (no public URL needed), or an HTTP
endpoint (events, interactivity and the slash command all on `/slack/events`).
`BotHandle.stop()` undoes all of it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

from bot.app import BotDeps, build_app
from bot.guard import EVENTS_PATH, MAX_BODY_BYTES, MAX_SKEW_SECONDS
from bot.options import AccessOptions, AlertOptions, DigestOptions, SlackOptions
from store.db import Store

log = logging.getLogger(__name__)
ALERT_JOB_ID = "convoscope.alerts"


class BotStartError(RuntimeError):
    """The bot could not start (bad token, Slack unreachable); the message says what to check."""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    # A client that stops sending mid-request (or declared more body than it sends)
    # frees its thread after this long.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


@dataclass
class BotHandle:
    """The running bot. `url` is the HTTP endpoint in http mode (else None)."""

    app: Any
    deps: BotDeps
    client: Any
    alerter: Any | None = None
    scheduler: Any | None = None
    job_ids: list[str] = field(default_factory=list)
    url: str | None = None
    _http: WSGIServer | None = None
    _thread: threading.Thread | None = None
    _socket: Any | None = None

    def trigger_alerts(self) -> int:
        """Dispatch pending alerts now (the pipeline calls this right after a commit)."""
        if self.alerter is None:
            return 0
        return int(self.alerter.dispatch(self.deps.store))

    def stop(self) -> None:
        """Remove the jobs and stop the listener; safe to call twice."""
        if self.scheduler is not None:
            for job_id in self.job_ids:
                with contextlib.suppress(Exception):
                    self.scheduler.remove_job(job_id)
            self.job_ids = []
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http.get_app().replay.close()
            self._http = None
        if self._socket is not None:
            try:
                self._socket.close()
            except Exception:
                log.debug("socket mode close failed", exc_info=True)
            self._socket = None


def serve_http(
    app: Any,
    host: str,
    port: int,
    *,
    signing_secret: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    store: Store | None = None,
) -> tuple[WSGIServer, threading.Thread, str]:
    """Serve the Bolt app's single endpoint with a threaded WSGI server, behind
    `bot.guard.SlackGuard` (size cap, signature and timestamp, replays, retries, shape)
    so nothing unverified reaches Bolt. With `store`, accepted signatures and event ids
    are also kept in the store (other instances on it refuse replays too)."""
    from bot.guard import SlackGuard
    from bot.replay import ReplayCache

    secret = signing_secret or getattr(app, "_signing_secret", None)
    if not secret:
        raise ValueError("HTTP mode needs the signing secret")
    guard = SlackGuard(app, secret, path=EVENTS_PATH, max_body_bytes=max_body_bytes,
                       replay=ReplayCache(ttl_seconds=2 * MAX_SKEW_SECONDS, store=store))  # fmt: skip
    server = make_server(host, port, guard, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="slack-http", daemon=True)
    thread.start()
    real_port = server.server_address[1]
    return server, thread, f"http://{host}:{real_port}{EVENTS_PATH}"


def attach(
    scheduler: Any,
    store: Store,
    *,
    slack: SlackOptions,
    alerts: AlertOptions,
    digests: Sequence[DigestOptions],
    access: AccessOptions,
    tz: ZoneInfo,
    web_client: Any | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    start_listener: bool = True,
) -> BotHandle:
    """Start the bot inside the service. Jobs go on `scheduler` (an APScheduler 3.x
    BackgroundScheduler the caller starts and shuts down)."""
    from slack_sdk import WebClient

    from bot.alerts import Alerter
    from bot.digest import schedule_digests

    client = web_client or WebClient(token=slack.bot_token, base_url=slack.api_base_url)
    try:
        app, deps = build_app(store, slack, access, tz, web_client=client, clock=clock)
    except Exception as exc:  # auth.test failed: bad token or Slack unreachable
        raise BotStartError(f"the Slack bot could not start: {exc} "
                            "(check [slack] bot_token and the network)") from exc  # fmt: skip
    handle = BotHandle(app=app, deps=deps, client=client, scheduler=scheduler)
    from bot import followups

    followups.attach(store, client)
    if alerts.enabled:
        from bot.clips import channel_may_hear

        handle.alerter = Alerter(alerts, client, tz, clock=clock,
                                 may_hear=lambda ch: channel_may_hear(deps.access, ch))  # fmt: skip
        scheduler.add_job(
            handle.trigger_alerts, "interval", seconds=alerts.interval_seconds, id=ALERT_JOB_ID,
            replace_existing=True, max_instances=1, coalesce=True,
        )  # fmt: skip
        handle.job_ids.append(ALERT_JOB_ID)
    handle.job_ids += schedule_digests(scheduler, store, client, digests, tz, clock=clock)
    if start_listener:
        if slack.mode == "http":
            handle._http, handle._thread, handle.url = serve_http(
                app, slack.http_host, slack.http_port, signing_secret=slack.signing_secret,
                max_body_bytes=slack.max_body_bytes, store=store if slack.replay_store else None)
            log.info("Slack HTTP endpoint listening on %s", handle.url)
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handle._socket = SocketModeHandler(app, slack.app_token, web_client=client)
            try:
                handle._socket.connect()
            except Exception as exc:
                handle.stop()
                raise BotStartError(f"Slack Socket Mode could not connect: {exc} "
                                    "(check [slack] app_token)") from exc  # fmt: skip
            log.info("Slack Socket Mode connected")
    return handle
