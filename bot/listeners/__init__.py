"""Bolt listeners, one module per kind (Bolt's own project layout)."""

from __future__ import annotations

from typing import Any

from bot.listeners import actions, commands, events, fallback


def register(app: Any, deps: Any) -> None:
    commands.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)
    fallback.register(app, deps)  # last: only what nothing above handled
