"""The `/convoscope <question>` slash command: ack at once, answer through response_url."""

from __future__ import annotations

from typing import Any

from bot.listeners.actions import tell
from bot.listeners.asking import answer_for
from bot.payloads import get_str


def register(app: Any, deps: Any) -> None:
    @app.command("/convoscope")
    def convoscope_command(ack: Any, command: dict[str, Any], respond: Any, client: Any) -> None:
        ack()  # Slack wants the ack within 3 s; the answer follows through response_url
        text = command.get("text")
        question = text.strip() if isinstance(text, str) else ""
        user, channel = get_str(command, "user_id"), get_str(command, "channel_id")
        answer = answer_for(deps, user, channel, question, via="slash")
        if get_str(command, "response_url"):
            respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
        else:  # Slack always sends one; a payload without it gets an ephemeral message
            tell(client, user, channel, None, answer.text)
