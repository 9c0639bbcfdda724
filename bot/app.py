"""Build the Bolt app: one `App`, listeners registered per kind (commands, events, actions).

The app is the same in Socket Mode and HTTP mode; only the adapter differs (see
`bot.service`). In HTTP mode Bolt verifies every request's signature and refuses
timestamps older than five minutes with 401 (replay protection); in Socket Mode the
connection itself is authenticated with the app-level token.
"""

from __future__ import annotations

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
    deps = BotDeps(
        store=store,
        engine=Engine(store, tz, page_size=slack.page_size, clock=clock),
        access=AccessControl(access, client),
        tz=tz,
    )
    listeners.register(app, deps)
    return app, deps
