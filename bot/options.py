"""The bot's configuration sections: `[slack]`, `[alerts]`, `[[digests]]` and `[access]`.

They are plain dataclasses validated by pydantic through `convoscope.config.Config`
(unknown keys are refused, `__post_init__` checks values). Components receive them
through their constructors; nothing in `bot/` reads the config file or the environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.permissions import ALL_ROLES
from store.records import severity_value

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
ROLES: tuple[str, ...] = ALL_ROLES


def parse_hhmm(value: str, key: str) -> time:
    """'07:30' -> time(7, 30); a clear error naming the key otherwise."""
    m = _HHMM.match(value.strip())
    if not m:
        raise ValueError(f"{key} must be HH:MM (24-hour), got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


def _check_tz(value: str, key: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{key}: unknown time zone {value!r} (use an IANA name)") from exc


@dataclass
class SlackOptions:
    """How the bot talks to Slack. Tokens come from `${ENV}` references."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    enabled: bool = False
    mode: str = "socket"
    bot_token: str = ""
    app_token: str = ""
    signing_secret: str = ""
    api_base_url: str = "https://slack.com/api/"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    page_size: int = 10
    #: HTTP mode: bodies larger than this are refused (413) before they are read; Slack's
    #: own payloads are a few KB.
    max_body_bytes: int = 1_048_576
    #: Longer questions are answered with a short "too long" note instead of being parsed;
    #: the audit log keeps at most this many characters of any question.
    max_question_chars: int = 500
    #: HTTP mode: also keep accepted signatures and event ids in the store (table
    #: slack_seen), so a replay is refused after a restart and by other instances on the
    #: same store; costs one small write per request. Off: memory only.
    replay_store: bool = True

    def __post_init__(self) -> None:
        if not 1024 <= self.max_body_bytes <= 16 * 1_048_576:
            raise ValueError(f"max_body_bytes must be 1024..16777216, got {self.max_body_bytes}")
        if not 20 <= self.max_question_chars <= 4000:
            raise ValueError(f"max_question_chars must be 20..4000, got {self.max_question_chars}")
        if self.mode not in ("socket", "http"):
            raise ValueError(f"mode must be 'socket' or 'http', got {self.mode!r}")
        if not 0 <= self.http_port < 65536:
            raise ValueError(f"http_port must be 0..65535, got {self.http_port}")
        if not 1 <= self.page_size <= 50:
            raise ValueError(f"page_size must be 1..50, got {self.page_size}")
        if not self.api_base_url.endswith("/"):
            self.api_base_url += "/"
        if self.enabled:
            if not self.bot_token:
                raise ValueError('bot_token is required when enabled (use "${SLACK_BOT_TOKEN}")')
            if self.mode == "socket" and not self.app_token:
                raise ValueError('app_token is required in socket mode (use "${SLACK_APP_TOKEN}")')
            if self.mode == "http" and not self.signing_secret:
                raise ValueError(
                    'signing_secret is required in http mode (use "${SLACK_SIGNING_SECRET}")'
                )


@dataclass
class AlertRoute:
    """Flags whose kind matches `kind` (a glob, e.g. "compliance*") and whose queue matches
    `queue` (a glob; empty = any) go to `channel`. The first matching route wins."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    channel: str
    kind: str = "*"
    queue: str = "*"

    def __post_init__(self) -> None:
        if not self.channel:
            raise ValueError("alerts.routes: channel must not be empty")


@dataclass
class AlertOptions:
    """Instant alerts for new flags."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    enabled: bool = True
    min_severity: str = "high"
    default_channel: str = ""
    routes: list[AlertRoute] = field(default_factory=list)
    burst_threshold: int = 5
    burst_window_minutes: int = 10
    quiet_hours: str = ""  # "22:00-07:00"; empty = none
    max_age_hours: int = 24
    interval_seconds: float = 2.0
    #: how often claims in doubt (no answer from Slack, or a crash) are looked up in the
    #: channel's history; also done at start-up
    reconcile_interval_seconds: float = 60.0
    #: a claim is only in doubt once it is this old (a request still on its way to Slack
    #: must not be mistaken for a lost one)
    reconcile_grace_seconds: float = 30.0
    #: read the history from this long before the oldest doubtful claim (clock skew)
    reconcile_margin_seconds: float = 300.0
    #: post the redacted audio clip of a call flag into its alert's thread right away (only
    #: in channels whose grant may see transcripts); false: clips are made on demand (the
    #: alert's Listen button, the TUI, the API)
    attach_clips: bool = False

    def __post_init__(self) -> None:
        severity_value(self.min_severity)
        if not 1 <= self.reconcile_interval_seconds <= 3600:
            raise ValueError("reconcile_interval_seconds must be between 1 and 3600")
        if not 0 <= self.reconcile_grace_seconds <= 600:
            raise ValueError("reconcile_grace_seconds must be between 0 and 600")
        if not 0 <= self.reconcile_margin_seconds <= 86400:
            raise ValueError("reconcile_margin_seconds must be between 0 and 86400")
        if self.burst_threshold < 1:
            raise ValueError(f"burst_threshold must be at least 1, got {self.burst_threshold}")
        if self.burst_window_minutes < 1:
            raise ValueError("burst_window_minutes must be at least 1")
        if self.max_age_hours < 1:
            raise ValueError("max_age_hours must be at least 1")
        if not 0.2 <= self.interval_seconds <= 60:
            raise ValueError("interval_seconds must be between 0.2 and 60")
        if self.quiet_hours:
            self.quiet_window()

    @property
    def min_severity_value(self) -> int:
        return severity_value(self.min_severity)

    def quiet_window(self) -> tuple[time, time] | None:
        """(start, end) of the quiet hours, or None; the window may wrap midnight."""
        if not self.quiet_hours:
            return None
        parts = self.quiet_hours.split("-")
        if len(parts) != 2:
            raise ValueError(f"quiet_hours must look like '22:00-07:00', got {self.quiet_hours!r}")
        start = parse_hhmm(parts[0], "alerts.quiet_hours")
        end = parse_hhmm(parts[1], "alerts.quiet_hours")
        if start == end:
            raise ValueError("quiet_hours start and end must differ")
        return start, end


@dataclass
class DigestOptions:
    """One daily digest: posted to `channel` every day at `time` in `timezone`."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    channel: str
    time: str = "08:00"
    timezone: str = ""  # empty = the top-level timezone
    chart: bool = True

    def __post_init__(self) -> None:
        if not self.channel:
            raise ValueError("digests: channel must not be empty")
        parse_hhmm(self.time, "digests.time")
        if self.timezone:
            _check_tz(self.timezone, "digests.timezone")


@dataclass
class RoleGrant:
    """Who holds a role: Slack user ids, user group ids, or anyone asking in a channel."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    users: list[str] = field(default_factory=list)
    usergroups: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


@dataclass
class AccessOptions:
    """Who may ask what (the role table is `store.permissions.TABLE`). Users and user
    groups hold roles personally; a channel grant only says what may be *shown* in that
    channel and never gives anyone review or other rights (see bot/access.py). `agents`
    maps Slack user ids to the agent names the interactions carry, so an agent asking
    "my week" sees their own work and nobody else's."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    admins: RoleGrant = field(default_factory=RoleGrant)
    supervisors: RoleGrant = field(default_factory=RoleGrant)
    analysts: RoleGrant = field(default_factory=RoleGrant)
    viewers: RoleGrant = field(default_factory=RoleGrant)
    agents: dict[str, str] = field(default_factory=dict)
    default_role: str = "none"
    usergroup_cache_seconds: int = 300

    def __post_init__(self) -> None:
        if self.default_role not in ROLES:
            # like a channel grant, the default role decides what is shown, never what
            # anyone may do (review rights come from personal grants only)
            raise ValueError(f"default_role must be one of {', '.join(ROLES)}")
        for uid, name in self.agents.items():
            if not uid or not str(name).strip():
                raise ValueError("access.agents maps Slack user ids to agent names; both must be non-empty")

    def grants(self) -> list[tuple[str, RoleGrant]]:
        """(role, grant) from the strongest role down."""
        return [("admin", self.admins), ("supervisor", self.supervisors),
                ("analyst", self.analysts), ("viewer", self.viewers)]  # fmt: skip
