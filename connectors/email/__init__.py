"""Email: IMAP accounts and local archives (mbox, Maildir, .eml) -> one interaction per thread.

`build_email_sources(options)` turns the `[email]` section into ready `Source` objects; the
service and `convoscope ingest` just call `sync(store)` on each.
"""

from __future__ import annotations

from connectors.base import Source
from connectors.email.imap import EmailSourceError, ImapLoginError, ImapSource
from connectors.email.local import EmlFolderSource, MailArchiveError, MaildirSource, MboxSource
from connectors.email.options import EmailOptions, ImapAccountOptions, LocalMailOptions
from connectors.email.threads import MailSettings

__all__ = [
    "EmailOptions",
    "EmailSourceError",
    "EmlFolderSource",
    "ImapAccountOptions",
    "ImapLoginError",
    "ImapSource",
    "LocalMailOptions",
    "MailArchiveError",
    "MailSettings",
    "MaildirSource",
    "MboxSource",
    "build_email_sources",
]

_LOCAL = {"mbox": MboxSource, "maildir": MaildirSource, "eml": EmlFolderSource}


def build_email_sources(options: EmailOptions) -> list[Source]:
    """One source per `[[email.imap]]` account and `[[email.local]]` archive, in file order.

    Passwords are taken from the options as the config loader expanded them (`${ENV}`).
    """
    settings = MailSettings.from_options(options)
    sources: list[Source] = [
        ImapSource(account, account.password, settings=settings) for account in options.imap
    ]
    for local in options.local:
        sources.append(_LOCAL[local.kind](local.path, local.name, settings=settings))
    return sources
