"""The path every question takes, whatever surface it came from: access check, audit,
answer. Shared by the slash command, mentions, DMs and the pager buttons."""

from __future__ import annotations

from typing import Any

from bot.access import REFUSAL
from bot.questions import Answer
from store import audit


def answer_for(deps: Any, user: str | None, channel: str | None, question: str, *,
               via: str, page: int = 0) -> Answer:  # fmt: skip
    """Decide the role, log the question (refused or not) and answer it."""
    decision = deps.access.role_for(user, channel)
    actor = f"slack:{user or 'unknown'}"
    if not decision.allowed:
        audit.log(deps.store, actor, "ask.refused", channel,
                  {"question": question, "via": via, "why": decision.why})  # fmt: skip
        from bot import blocks as bk

        return Answer(question, REFUSAL, [], [bk.section(REFUSAL)], intent="refused")
    answer = deps.engine.ask(question, role=decision.role, page=page)
    audit.log(deps.store, actor, "ask", channel,
              {"question": question, "via": via, "role": decision.role, "intent": answer.intent,
               "page": page})  # fmt: skip
    return answer
