"""Questions by @-mention in a channel and by direct message."""

from __future__ import annotations

import re
from typing import Any

from bot.listeners.asking import answer_for

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def strip_mentions(text: str) -> str:
    return " ".join(_MENTION.sub(" ", text or "").split())


def register(app: Any, deps: Any) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Any) -> None:
        question = strip_mentions(event.get("text", ""))
        answer = answer_for(deps, event.get("user"), event.get("channel"), question, via="mention")
        say(text=answer.text, blocks=answer.blocks,
            thread_ts=event.get("thread_ts") or event.get("ts"))  # fmt: skip

    @app.event({"type": "message", "channel_type": "im"})
    def on_dm(event: dict[str, Any], say: Any) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins and bot messages are not questions
        question = strip_mentions(event.get("text", ""))
        answer = answer_for(deps, event.get("user"), event.get("channel"), question, via="dm")
        say(text=answer.text, blocks=answer.blocks)

    @app.event("message")
    def other_messages() -> None:
        """Channel messages without a mention are not for us (acked, ignored)."""
