"""From a typed question to what the answer paths need: the typed query (names linked
against the store's current values, the optional translator asked when the grammar reads
nothing), or a choice when a name is ambiguous. Kept apart from `answers` so the answer
paths only ever see a query, whichever surface or translator produced it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from bot.questions.interpret import interpret
from bot.questions.linking import Linker
from bot.questions.parser import HELP_RX, parse
from store import entities
from store.entities import EntityValues
from store.query import Query

if TYPE_CHECKING:
    from bot.questions.answers import Answer, Engine

_lock = threading.Lock()
_linkers: dict[int, tuple[EntityValues, Linker]] = {}
#: set by the composition root from `[questions]` (`configure`); None = no translator
_translator: Any = None
_entity_ttl_s: float = entities.DEFAULT_TTL_S


def configure(options: Any) -> None:
    """Apply `[questions]` (`translate.QuestionOptions`) to this process's question engine:
    how long the store's names are cached, and the optional model translator."""
    global _translator, _entity_ttl_s
    from bot.questions.translate import Translator

    _entity_ttl_s = float(options.entity_ttl_s)
    _translator = Translator(options.translator) if options.translator.enabled else None


def linker_for(values: EntityValues) -> Linker:
    """One Linker per set of values (the values object is reused for the cache's TTL)."""
    with _lock:
        hit = _linkers.get(id(values))
        if hit is not None and hit[0] is values:
            return hit[1]
    linker = Linker(values)
    with _lock:
        if len(_linkers) > 8:
            _linkers.clear()
        _linkers[id(values)] = (values, linker)
    return linker


def typed_query(engine: Engine, question: str) -> Query:
    """The question as a typed query, names linked against the store (cached values)."""
    values = entities.cached(engine.store, getattr(engine, "entity_ttl_s", None) or _entity_ttl_s)
    now = engine.clock()
    query = parse(question, engine.tz, now, linker_for(values))
    translator = getattr(engine, "translator", None) or _translator
    if translator is not None and query.view == "help" and question.strip() and not HELP_RX.match(question):
        better = translator.translate(question, engine.tz, now, values)
        if better is not None:
            query = better
    return query


def choice_answer(typed: Query, role: str = "supervisor") -> Answer | None:
    """The answer to a question whose name fits several stored values: a question back,
    with one button per candidate (None when nothing is ambiguous). Candidates are named
    only to a role that may see them: agent names to supervisors (others are asked for the
    full name), customers never (their identifiers are personal data)."""
    from bot import blocks as bk
    from bot.questions.answers import Answer
    from bot.questions.choices import choice_blocks, choice_text
    from store.permissions import allowed

    amb = dict(typed.extra.get("ambiguous") or {})
    amb.pop("customer", None)
    hidden = [k for k in amb if k == "agent" and not allowed(role, "agent_names")]
    if hidden:
        text = (f"That name fits several {hidden[0]}s; only supervisors see agent names. "
                "Please ask again with the full name.")  # fmt: skip
        return Answer(typed.text, text, [], [bk.section(bk.escape(text))], intent="choose")
    if not amb:
        return None
    from dataclasses import replace

    typed = replace(typed, extra={**typed.extra, "ambiguous": amb})
    ask_back = choice_text(typed)
    assert ask_back is not None
    return Answer(typed.text, ask_back, [], [bk.section(bk.escape(ask_back)), *choice_blocks(typed)],
                  intent="choose", query=typed.to_dict())  # fmt: skip


def describe(query: Query, now: Any = None) -> str:
    """The interpretation line (for surfaces that show it without answering)."""
    return interpret(query, now)
