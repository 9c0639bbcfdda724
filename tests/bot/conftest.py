"""Fixtures of the bot's tests: a seeded store, the fake Slack API, the real Bolt app over
HTTP with correctly signed requests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from botdata import Seeded, seed
from scriptload import load_script
from slackhttp import SECRET, TZ, SlackDriver

from store import Store

fake_slack_mod = load_script("tests/fakes/slack.py", "convoscope_fake_slack")
FakeSlack = fake_slack_mod.FakeSlack


@pytest.fixture
def now() -> datetime:
    """'Now' for seeded data: an hour ago, so everything seeded is in the past."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "bot.duckdb")
    yield s
    s.close()


@pytest.fixture
def seeded(store: Store, now: datetime) -> Seeded:
    return seed(store, now, days=3, per_day=8)


@pytest.fixture
def fake() -> Iterator[Any]:
    with FakeSlack(usergroups={"S_SUPER": ["U_GROUPIE"]}) as f:
        yield f


@pytest.fixture
def bot_http(store: Store, fake: Any) -> Iterator[tuple[Any, SlackDriver]]:
    """The real Bolt app served over HTTP; its WebClient talks to the fake Slack API."""
    from slack_sdk import WebClient

    from bot.app import build_app
    from bot.options import AccessOptions, RoleGrant, SlackOptions
    from bot.service import serve_http

    opts = SlackOptions(enabled=True, mode="http", bot_token="xoxb-test", signing_secret=SECRET,
                        api_base_url=fake.api_url, http_host="127.0.0.1", http_port=0)  # fmt: skip
    access = AccessOptions(
        supervisors=RoleGrant(users=["U_SUPER"], usergroups=["S_SUPER"], channels=["C_SUPERS"]),
        viewers=RoleGrant(channels=["C_COUNTS"]),
    )
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    app, deps = build_app(store, opts, access, TZ, web_client=client)
    server, _thread, url = serve_http(app, "127.0.0.1", 0, signing_secret=SECRET, store=store)
    try:
        yield deps, SlackDriver(url, fake, server.get_app())
    finally:
        server.shutdown()
        server.server_close()
        server.get_app().replay.close()
