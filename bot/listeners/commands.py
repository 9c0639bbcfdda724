"""The `/convoscope <question>` slash command: ack at once, answer through response_url."""

from __future__ import annotations

from typing import Any

from bot.listeners.asking import answer_for


def register(app: Any, deps: Any) -> None:
    @app.command("/convoscope")
    def convoscope_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        ack()  # Slack wants the ack within 3 s; the answer follows through response_url
        text = command.get("text")
        question = text.strip() if isinstance(text, str) else ""
        answer = answer_for(deps, command.get("user_id"), command.get("channel_id"), question,
                            via="slash")  # fmt: skip
        respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
