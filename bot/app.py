"""Build the Bolt app: one `App`, listeners registered per kind (commands, events, actions).

The app is the same in Socket Mode and HTTP mode; only the adapter differs (see
`bot.service`). In HTTP mode `bot.guard.SlackGuard` stands in front of Bolt: body size,
signature, timestamp, replays and retries are checked before Bolt parses anything; Bolt
verifies the signature once more (defence in depth), but its refusal line, which writes
the whole body at INFO, is silenced. In Socket Mode the connection itself is
authenticated with the app-level token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.access import AccessControl
from bot.options import AccessOptions, SlackOptions
from bot.questions import Engine
from store.db import Store


@dataclass
class BotDeps:
    """What listeners need, handed over once at registration (no globals)."""

    store: Store
    engine: Engine
    access: AccessControl
    tz: ZoneInfo


def build_app(
    store: Store,
    slack: SlackOptions,
    access: AccessOptions,
    tz: ZoneInfo,
    *,
    web_client: Any | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Any, BotDeps]:
    """The Bolt `App` with every listener registered, and the dependencies it uses."""
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot import listeners

    client = web_client or WebClient(token=slack.bot_token, base_url=slack.api_base_url)
    app = App(
        client=client,
        signing_secret=slack.signing_secret or None,
        request_verification_enabled=slack.mode == "http",
        # auth.test at start gives Bolt the bot's own user id (to ignore its own messages)
        token_verification_enabled=True,
        # listeners run in Bolt's worker threads: each acks first, then does the work
        process_before_response=False,
    )
    # Bolt configures its loggers from the root logger when the App is built; its
    # "Invalid request signature" line (INFO) contains the whole request body.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    deps = BotDeps(
        store=store,
        engine=Engine(store, tz, page_size=slack.page_size, clock=clock,
                      max_question_chars=slack.max_question_chars),
        access=AccessControl(access, client),
        tz=tz,
    )
    listeners.register(app, deps)
    return app, deps
