"""Catch-all listeners, registered last: whatever no other listener handles is still
answered (never Bolt's 404 "unhandled request", which Slack shows as an error and, for
events, retries). Unknown buttons and modals tell the user and leave an audit row."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.listeners.actions import BAD_BUTTON, _message_ref, tell
from bot.payloads import get_str
from store import audit

log = logging.getLogger(__name__)


def register(app: Any, deps: Any) -> None:
    @app.action({"type": "block_actions", "action_id": re.compile(".*")})
    def unknown_action(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        ack()
        user = get_str(body, "user", "id")
        ref = _message_ref(body)
        action_id = str(action.get("action_id"))[:100]
        audit.log(deps.store, f"slack:{user or 'unknown'}", "action.unknown", ref["channel"],
                  {"via": "slack", "action_id": action_id})  # fmt: skip
        tell(client, user, ref["channel"], ref["response_url"], BAD_BUTTON)

    @app.view({"type": "view_submission", "callback_id": re.compile(".*")})
    def unknown_view(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()  # closes the modal
        user = get_str(body, "user", "id")
        audit.log(deps.store, f"slack:{user or 'unknown'}", "view.unknown", None,
                  {"via": "slack", "callback_id": str(view.get("callback_id"))[:100]})  # fmt: skip

    @app.view({"type": "view_closed", "callback_id": re.compile(".*")})
    def closed_view(ack: Any) -> None:
        ack()

    @app.command(re.compile(".*"))
    def unknown_command(ack: Any, command: dict[str, Any]) -> None:
        ack(text="Sorry, I only know `/convoscope <question>`.", response_type="ephemeral")

    @app.event(re.compile(".*"))
    def other_events(event: dict[str, Any]) -> None:
        """Events we did not subscribe to handle: acknowledged, ignored."""
        log.debug("ignored event of type %s", str(event.get("type"))[:40])
