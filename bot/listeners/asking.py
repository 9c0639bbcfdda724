"""The path every question takes, whatever surface it came from: access check, audit,
answer. Shared by the slash command, mentions, DMs and the pager buttons."""

from __future__ import annotations

from typing import Any

from bot.access import REFUSAL
from bot.questions import Answer
from bot.questions.answers import cap_text
from store import audit


def answer_for(deps: Any, user: str | None, channel: str | None, question: str, *,
               via: str, page: int = 0) -> Answer:  # fmt: skip
    """Decide the role, log the question (refused or not) and answer it. The answer's
    `role` says what the asker was allowed to see."""
    decision = deps.access.role_for(user, channel)
    actor = f"slack:{user or 'unknown'}"
    limit = deps.engine.max_question_chars
    logged = {"question": cap_text(question, limit), "length": len(question), "via": via}
    if not decision.allowed:
        audit.log(deps.store, actor, "ask.refused", channel, {**logged, "why": decision.why})
        from bot import blocks as bk

        return Answer(question, REFUSAL, [], [bk.section(REFUSAL)], intent="refused", role="none")
    answer = deps.engine.ask(question, role=decision.role, page=page)
    answer.role = decision.role
    audit.log(deps.store, actor, "ask", channel,
              {**logged, "role": decision.role, "intent": answer.intent, "page": page})
    return answer


def private_to_asker(deps: Any, answer: Answer, channel: str | None) -> bool:
    """Whether an answer must go only to the asker: lists and excerpts a supervisor may
    see, asked in a channel that is not itself granted the supervisor role."""
    return (answer.role == "supervisor" and answer.intent in ("find", "show")
            and deps.access.channel_role(channel) != "supervisor")  # fmt: skip
