"""The [chat] config section: validation messages and the sources it builds."""

from __future__ import annotations

import pytest

from connectors.chat import build_chat_sources
from connectors.chat.exports import ExportSource
from connectors.chat.front import FrontSource
from connectors.chat.intercom import IntercomSource
from connectors.chat.options import parse_start_time
from connectors.chat.zendesk import ZendeskSource
from convoscope.config import ConfigError, from_dict


def test_sections_build_named_sources_with_env_secrets() -> None:
    cfg = from_dict(
        {"chat": {
            "zendesk": [{"name": "acme", "base_url": "https://acme.zendesk.com",
                         "email": "bot@acme.example", "api_token": "${ZD}",
                         "http": {"max_attempts": 4}}],
            "intercom": [{"name": "acme", "access_token": "${IC}"}],
            "front": [{"name": "eu", "api_token": "${FR}", "queue": "support"}],
            "exports": [{"vendor": "zendesk", "path": "backfill/", "name": "acme"}],
        }},
        env={"ZD": "zd-secret", "IC": "ic-secret", "FR": "fr-secret"},
    )
    sources = build_chat_sources(cfg.chat)
    assert [type(s) for s in sources] == [ZendeskSource, IntercomSource, FrontSource, ExportSource]
    assert [s.name for s in sources] == ["zendesk:acme", "intercom:acme", "front:eu",
                                        "zendesk:acme"]
    assert cfg.chat.zendesk[0].api_token == "zd-secret"
    assert cfg.chat.zendesk[0].http.max_attempts == 4
    for s in sources:
        s.close()


@pytest.mark.parametrize(
    ("chat", "message"),
    [
        ({"zendesk": [{"name": "a", "base_url": "https://a.zendesk.com"}]},
         "set either oauth_token, or email and api_token"),
        ({"intercom": [{"name": "a", "access_token": "t", "page_size": 500}]},
         "page_size must be 1..150"),
        ({"front": [{"name": "a b", "api_token": "t"}]}, "name must be letters"),
        ({"front": [{"name": "a", "api_token": "t", "start_time": "last tuesday"}]},
         "start_time must be an ISO date"),
        ({"exports": [{"vendor": "slack", "path": "x.json"}]}, "vendor must be one of"),
        ({"intercom": [{"name": "a", "access_token": "t"}, {"name": "a", "access_token": "u"}]},
         "two [[chat.intercom]] entries are named 'a'"),
        ({"front": [{"name": "a", "api_token": "t", "http": {"max_attempts": 0}}]},
         "max_attempts must be at least 1"),
        ({"zendesk": [{"name": "a", "base_url": "https://a", "oauth_token": "t", "tokn": 1}]},
         "unknown key"),
    ],
)
def test_bad_options_name_the_problem(chat: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict({"chat": chat}, env={})
    assert message in str(info.value)
    assert "chat." in str(info.value)


def test_missing_secret_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"chat\.intercom\[0\]\.access_token: environment variable IC"):
        from_dict({"chat": {"intercom": [{"name": "a", "access_token": "${IC}"}]}}, env={})


def test_start_time_forms() -> None:
    assert parse_start_time("") == 0
    assert parse_start_time("1700000000") == 1700000000
    assert parse_start_time("2026-01-01") == 1767225600
    assert parse_start_time("2026-01-01T01:00:00+01:00") == 1767225600
