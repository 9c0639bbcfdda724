"""The `[email]` configuration section: IMAP accounts, local archives, who counts as an agent.

Declared as plain dataclasses so `convoscope.config` can let pydantic validate them (with
`extra = "forbid"`, a misspelt key is an error naming it) while the connector code uses them
as ordinary objects. Secrets (IMAP passwords) arrive already expanded from `${ENV}` by the
config loader; nothing here reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
MIN_BATCH, MAX_BATCH = 200, 500


@dataclass
class ImapAccountOptions:
    """One IMAP mailbox account (`[[email.imap]]`)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: short name; the source is called `imap:<name>` and it keys the saved cursors
    name: str
    host: str
    username: str
    #: use "${ENV_NAME}": the loader expands it, the file never holds the secret
    password: str = field(default="", repr=False)
    #: 0 means the usual port for `security` (993 for tls, 143 otherwise)
    port: int = 0
    #: "tls" (implicit TLS, IMAPS), "starttls", or "plain" (only to a loopback host)
    security: Literal["tls", "starttls", "plain"] = "tls"
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    #: UIDs fetched and committed per transaction (200-500)
    batch_size: int = 200
    #: verify the server certificate; set ca_file for a private/self-signed CA instead of
    #: turning this off
    verify: bool = True
    ca_file: str = ""
    timeout_seconds: float = 30.0
    #: reconnect attempts after a dropped connection before the sync gives up
    max_reconnects: int = 5
    reconnect_initial_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    #: a fetch is split so that one round trip holds at most this many MB of messages
    max_batch_mb: int = 64
    #: messages bigger than this are quarantined (recorded with their UID), not fetched
    max_message_mb: int = 100

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"email.imap name must be letters, digits, - or _; got {self.name!r}")
        if not self.host:
            raise ValueError(f"email.imap {self.name}: host is required")
        if self.security == "plain" and self.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"email.imap {self.name}: security = \"plain\" sends the password unencrypted and "
                f"is only allowed to a loopback host ({', '.join(LOOPBACK_HOSTS)}), not "
                f"{self.host!r}; use \"tls\" or \"starttls\""
            )
        if self.port == 0:
            self.port = _PORTS[self.security]
        if not 0 < self.port < 65536:
            raise ValueError(f"email.imap {self.name}: port must be 1..65535, got {self.port}")
        if not MIN_BATCH <= self.batch_size <= MAX_BATCH:
            raise ValueError(
                f"email.imap {self.name}: batch_size must be {MIN_BATCH}..{MAX_BATCH}, "
                f"got {self.batch_size}"
            )
        if not self.folders:
            raise ValueError(f"email.imap {self.name}: folders must name at least one folder")
        if self.ca_file and not Path(self.ca_file).expanduser().is_file():
            raise ValueError(f"email.imap {self.name}: ca_file {self.ca_file} does not exist")
        if self.timeout_seconds <= 0 or self.max_reconnects < 0:
            raise ValueError(f"email.imap {self.name}: timeout_seconds > 0 and max_reconnects >= 0")
        if self.reconnect_initial_seconds < 0 or self.reconnect_max_seconds < 0:
            raise ValueError(f"email.imap {self.name}: reconnect delays must be >= 0")
        if self.max_batch_mb < 1 or self.max_message_mb < 1:
            raise ValueError(f"email.imap {self.name}: max_batch_mb and max_message_mb must be >= 1")


@dataclass
class LocalMailOptions:
    """One local archive (`[[email.local]]`): an mbox file, a Maildir, or a folder of .eml."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    kind: Literal["mbox", "maildir", "eml"]
    path: str
    #: the source is called `<kind>:<name>`; defaults to the file/folder name
    name: str = ""

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("email.local path is required")
        if not self.name:
            self.name = Path(self.path).expanduser().name.removesuffix(".mbox") or self.kind


@dataclass
class EmailOptions:
    """The `[email]` section."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: senders at these domains are agents (e.g. ["support.acme.com", "acme.com"])
    agent_domains: list[str] = field(default_factory=list)
    #: individual agent addresses at other domains (e.g. a shared outsourcer mailbox)
    agent_addresses: list[str] = field(default_factory=list)
    #: a message without References/In-Reply-To joins a thread with the same normalised
    #: subject and customer only if that thread saw a message within this many days
    thread_window_days: int = 30
    #: keep only what each sender wrote (drop quoted replies and signatures)
    strip_quotes: bool = True
    #: languages of the "On ... wrote:" headers and signatures to recognise
    reply_languages: list[str] = field(default_factory=lambda: ["en", "de", "fr", "es", "nl"])
    imap: list[ImapAccountOptions] = field(default_factory=list)
    local: list[LocalMailOptions] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.agent_domains = [d.lower().lstrip("@").strip() for d in self.agent_domains]
        self.agent_addresses = [a.lower().strip() for a in self.agent_addresses]
        if self.thread_window_days < 0:
            raise ValueError("email.thread_window_days must be >= 0")
        names = [f"imap:{a.name}" for a in self.imap] + [f"{s.kind}:{s.name}" for s in self.local]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"email: source names must be unique; repeated: {', '.join(dupes)}")
