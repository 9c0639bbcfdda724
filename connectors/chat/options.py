"""The `[chat]` configuration section: one entry per vendor account, plus JSON exports.

Each entry becomes one source named `<vendor>:<name>` (e.g. `zendesk:acme`). An export
entry with the same vendor and name writes into the *same* source, so a backfill from an
export file and the live API never create the same conversation twice.
Secrets (tokens) arrive already expanded from `${ENV}` references by the config loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.http import RetryOptions

VENDORS = ("zendesk", "intercom", "front")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def parse_start_time(value: str) -> int:
    """'' → 0 (everything); '2026-01-31' or an ISO datetime → epoch seconds (UTC if naive)."""
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            f"start_time must be an ISO date/datetime or epoch seconds, got {value!r}"
        ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _check_common(name: str, base_url: str, page_size: int, max_page: int, concurrency: int,
                  max_attempts: int, start_time: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"name must be letters, digits, '_', '-' or '.', got {name!r}")
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with https:// (or http:// for a local server), got {base_url!r}")
    if not 1 <= page_size <= max_page:
        raise ValueError(f"page_size must be 1..{max_page}, got {page_size}")
    if not 1 <= concurrency <= 32:
        raise ValueError(f"concurrency must be 1..32, got {concurrency}")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    parse_start_time(start_time)


@dataclass
class ZendeskOptions:
    """One Zendesk Support account (`[[chat.zendesk]]`)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    name: str
    #: https://<subdomain>.zendesk.com
    base_url: str
    #: API token auth: the agent's email plus "${ZENDESK_API_TOKEN}" ...
    email: str = ""
    api_token: str = ""
    #: ... or an OAuth access token ("${ZENDESK_OAUTH_TOKEN}") sent as a Bearer token
    oauth_token: str = ""
    #: first run only: export tickets changed since this date ('' = from the beginning)
    start_time: str = ""
    #: tickets per incremental-export page (Zendesk allows up to 1000)
    page_size: int = 1000
    #: comments requests in flight at once
    concurrency: int = 4
    #: a ticket that fails this many runs is left in quarantine and skipped
    max_attempts: int = 3
    http: RetryOptions = field(default_factory=RetryOptions)

    def __post_init__(self) -> None:
        _check_common(self.name, self.base_url, self.page_size, 1000, self.concurrency,
                      self.max_attempts, self.start_time)
        if not self.oauth_token and not (self.email and self.api_token):
            raise ValueError("set either oauth_token, or email and api_token")


@dataclass
class IntercomOptions:
    """One Intercom workspace (`[[chat.intercom]]`), REST API version 2.11."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    name: str
    #: the access token, "${INTERCOM_TOKEN}"
    access_token: str
    #: https://api.intercom.io (or https://api.eu.intercom.io / https://api.au.intercom.io)
    base_url: str = "https://api.intercom.io"
    start_time: str = ""
    #: conversations per search page (Intercom allows up to 150)
    page_size: int = 150
    concurrency: int = 4
    max_attempts: int = 3
    http: RetryOptions = field(default_factory=RetryOptions)

    def __post_init__(self) -> None:
        _check_common(self.name, self.base_url, self.page_size, 150, self.concurrency,
                      self.max_attempts, self.start_time)
        if not self.access_token:
            raise ValueError("access_token is required (use \"${INTERCOM_TOKEN}\")")


@dataclass
class FrontOptions:
    """One Front company (`[[chat.front]]`)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    name: str
    #: the API token, "${FRONT_API_TOKEN}"
    api_token: str
    base_url: str = "https://api2.frontapp.com"
    #: first run only: do not go back further than this date ('' = everything)
    start_time: str = ""
    #: conversations per page (Front allows up to 100)
    page_size: int = 100
    concurrency: int = 4
    max_attempts: int = 3
    #: the queue recorded for these conversations when a conversation has no tag
    queue: str = ""
    http: RetryOptions = field(default_factory=RetryOptions)

    def __post_init__(self) -> None:
        _check_common(self.name, self.base_url, self.page_size, 100, self.concurrency,
                      self.max_attempts, self.start_time)
        if not self.api_token:
            raise ValueError("api_token is required (use \"${FRONT_API_TOKEN}\")")


@dataclass
class ExportOptions:
    """A vendor JSON export to import (`[[chat.exports]]`): backfills and the demo."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: zendesk | intercom | front — which shapes the file holds
    vendor: str
    #: a .json file or a folder of them
    path: str
    #: the source becomes `<vendor>:<name>`; use the API entry's name to backfill into it
    name: str = "export"
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.vendor not in VENDORS:
            raise ValueError(f"vendor must be one of {', '.join(VENDORS)}, got {self.vendor!r}")
        if not _NAME.match(self.name):
            raise ValueError(f"name must be letters, digits, '_', '-' or '.', got {self.name!r}")
        if not self.path:
            raise ValueError("path is required")


@dataclass
class ChatOptions:
    """The `[chat]` section: vendor accounts and export imports."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    zendesk: list[ZendeskOptions] = field(default_factory=list)
    intercom: list[IntercomOptions] = field(default_factory=list)
    front: list[FrontOptions] = field(default_factory=list)
    exports: list[ExportOptions] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for vendor, entries in (("zendesk", self.zendesk), ("intercom", self.intercom),
                                ("front", self.front)):
            for e in entries:
                if (vendor, e.name) in seen:
                    raise ValueError(f"two [[chat.{vendor}]] entries are named {e.name!r}")
                seen.add((vendor, e.name))
        export_keys = [(e.vendor, e.name, e.path) for e in self.exports]
        if len(set(export_keys)) != len(export_keys):
            raise ValueError("the same export (vendor, name, path) is listed twice")
