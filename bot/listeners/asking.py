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
    from bot.questions.parser import _CONTEST_RX

    cm = _CONTEST_RX.match(question or "")
    if cm:
        answer = contest_answer(deps, decision, question, int(cm.group(1)), cm.group(2))
    else:
        answer = deps.engine.ask(question, role=decision.role, page=page, agent=decision.agent)
    answer.role = decision.role
    audit.log(deps.store, actor, "ask", channel,
              {**logged, "role": decision.role, "intent": answer.intent, "page": page})
    return answer


def contest_answer(deps: Any, decision: Any, question: str, flag_id: int, reason: str) -> Answer:
    """An agent contests a flag on their own interaction (store.reviews.contest)."""
    from bot import blocks as bk
    from store import reviews
    from store.permissions import Forbidden

    try:
        st = reviews.contest(deps.store, flag_id, decision.identity(), reason, via="slack")
        text = (f"Flag {flag_id} is contested: a supervisor will look at it again "
                f"(reason: {reason.strip()}).")  # fmt: skip
    except Forbidden:
        text = "Only agents can contest flags, and only on their own interactions."
    except (KeyError, reviews.ReviewError) as exc:
        text = str(exc).strip("'\"")
    else:
        assert st.contested
    return Answer(question, text, [], [bk.section(bk.escape(text))], intent="contest")


#: Answers about people (lists, excerpts, an agent's summary, an agent's own week) go only
#: to the asker unless the channel itself is granted a role that may see them.
_PRIVATE_INTENTS = {"find": "lists", "show": "transcripts", "agent": "agent_names",
                    "my_week": "own_work", "contest": "own_work", "choose": "agent_names",
                    # the typed views' names for the same answers (#14)
                    "list": "lists", "detail": "transcripts", "agent_summary": "agent_names"}


def private_to_asker(deps: Any, answer: Answer, channel: str | None) -> bool:
    """Whether an answer must go only to the asker: what the asker's role may see but
    the channel's readers may not (an agent's "my week" always stays private)."""
    from store.permissions import allowed

    need = _PRIVATE_INTENTS.get(answer.intent)
    if need is None:
        return False
    if need == "own_work":
        return True
    return allowed(answer.role, need) and not allowed(deps.access.channel_role(channel), need)
