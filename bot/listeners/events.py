"""Questions by @-mention in a channel and by direct message."""

from __future__ import annotations

import re
from typing import Any

from bot.listeners.asking import answer_for, private_to_asker

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def strip_mentions(text: object) -> str:
    return " ".join(_MENTION.sub(" ", text if isinstance(text, str) else "").split())


def register(app: Any, deps: Any) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Any, client: Any) -> None:
        question = strip_mentions(event.get("text", ""))
        channel, user = event.get("channel"), event.get("user")
        answer = answer_for(deps, user, channel, question, via="mention")
        thread = event.get("thread_ts") or event.get("ts")
        if private_to_asker(deps, answer, channel) or answer.role == "none":
            # Lists and excerpts stay with the supervisor who asked (and refusals with
            # whoever asked); the channel's other readers may not be allowed to see them.
            client.chat_postEphemeral(channel=channel, user=user, text=answer.text,
                                      blocks=answer.blocks, thread_ts=thread)  # fmt: skip
            return
        say(text=answer.text, blocks=answer.blocks, thread_ts=thread)

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
