"""Chat transcripts from Zendesk, Intercom and Front (APIs and JSON exports).

`build_chat_sources(options)` turns the `[chat]` config section into sources; the
composition root runs them like any other `connectors.base.Source`.
"""

from __future__ import annotations

from connectors.base import Source
from connectors.chat.options import (
    ChatOptions,
    ExportOptions,
    FrontOptions,
    IntercomOptions,
    ZendeskOptions,
)


def build_chat_sources(options: ChatOptions) -> list[Source]:
    """One source per `[[chat.zendesk]]`, `[[chat.intercom]]`, `[[chat.front]]` and
    `[[chat.exports]]` entry, in that order (exports last, so a backfill never races the
    API sync of the same account inside one run)."""
    from connectors.chat.exports import ExportSource
    from connectors.chat.front import FrontSource
    from connectors.chat.intercom import IntercomSource
    from connectors.chat.zendesk import ZendeskSource

    sources: list[Source] = []
    sources.extend(ZendeskSource(o) for o in options.zendesk)
    sources.extend(IntercomSource(o) for o in options.intercom)
    sources.extend(FrontSource(o) for o in options.front)
    sources.extend(ExportSource(o) for o in options.exports)
    return sources


__all__ = [
    "ChatOptions",
    "ExportOptions",
    "FrontOptions",
    "IntercomOptions",
    "ZendeskOptions",
    "build_chat_sources",
]
