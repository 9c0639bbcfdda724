"""What a signed Slack body must look like before Bolt sees it, and defensive readers
for the fields our listeners use.

Bolt parses bodies with `json.loads` and then indexes them freely (`body["actions"][0]`,
`payload["team"]["id"]`, ...): a well-signed but oddly shaped body — an array `payload`,
`"team": 5`, `"actions": "x"` — would end as a 500 and a traceback. Only Slack can sign,
so such bodies are rare, but they must get a clear 400 and one log line. `check_shape`
does only the type checks Bolt's own code relies on; our listeners read fields with the
helpers below, which return None instead of raising.
"""

from __future__ import annotations

import json
from typing import Any

# Keys Bolt reads as "a string, or an object with an `id`".
_ID_OBJECTS = ("enterprise", "team", "user", "channel")
# Keys Bolt reads as objects (recursing into some of them).
_OBJECTS = ("event", "view", "message", "previous_message", "item", "assistant_thread",
            "function_data", "container", "state", "function", "workflow_step")  # fmt: skip
# Keys Bolt reads as lists of objects.
_OBJECT_LISTS = ("authorizations", "actions", "response_urls")
# Keys Bolt and the listeners read as plain strings.
_STRINGS = ("type", "command", "user_id", "channel_id", "team_id", "enterprise_id",
            "event_id", "callback_id", "trigger_id", "response_url", "thread_ts",
            "action_id", "block_id", "private_metadata", "ts", "channel_type", "subtype",
            "bot_id", "function_execution_id", "bot_access_token")  # fmt: skip
# Of those, the ones Bolt's listener matchers compare (or regex-search) when present:
# an explicit null there would be a TypeError inside Bolt.
_NOT_NULL = ("type", "command", "callback_id", "action_id", "event_id", "trigger_id")
_MAX_DEPTH = 3


# The request types Slack sends an app's request URL (Events API, interactivity, options).
SLACK_TYPES = frozenset({
    "event_callback", "url_verification", "app_rate_limited", "block_actions", "block_suggestion",
    "view_submission", "view_closed", "shortcut", "message_action", "interactive_message",
    "dialog_submission", "dialog_cancellation", "dialog_suggestion", "workflow_step_edit",
})  # fmt: skip


def check_shape(body: Any) -> str | None:
    """None when `body` (a parsed request body) is safe to hand to Bolt, else the reason."""
    if not isinstance(body, dict):
        return f"payload is a JSON {type(body).__name__}, not an object"
    if "command" not in body and "ssl_check" not in body:
        kind = body.get("type")
        if kind is None:
            return "neither a payload type nor a slash command"
        if not isinstance(kind, str) or kind not in SLACK_TYPES:
            return "unknown payload type"
    return _check(body, "", 0)


def _check(obj: dict[str, Any], where: str, depth: int) -> str | None:
    for key in _STRINGS:
        v = obj.get(key)
        if (v is not None or (key in _NOT_NULL and key in obj)) and not isinstance(v, str):
            return f"{where}{key} must be a string"
    for key in ("is_enterprise_install", "is_ext_shared_channel"):
        v = obj.get(key)
        if v is not None and not isinstance(v, bool | str):
            return f"{where}{key} must be a boolean"
    for key in _ID_OBJECTS:
        v = obj.get(key)
        if isinstance(v, dict):
            if not isinstance(v.get("id", ""), str | None):
                return f"{where}{key}.id must be a string"
            bad = _check_strings(v, f"{where}{key}.", ("team_id", "enterprise_id"))
            if bad:
                return bad
        elif v is not None and not isinstance(v, str):
            return f"{where}{key} must be a string or an object"
    for key in _OBJECT_LISTS:
        v = obj.get(key)
        if v is None:
            continue
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            return f"{where}{key} must be a list of objects"
        if depth < _MAX_DEPTH:
            for i, x in enumerate(v):
                bad = _check(x, f"{where}{key}[{i}].", depth + 1)
                if bad:
                    return bad
    for key in _OBJECTS:
        v = obj.get(key)
        if v is None:
            continue
        if not isinstance(v, dict):
            return f"{where}{key} must be an object"
        if depth < _MAX_DEPTH:
            bad = _check(v, f"{where}{key}.", depth + 1)
            if bad:
                return bad
    if obj.get("type") == "event_callback" and not where and not isinstance(obj.get("event"), dict):
        return "event_callback without an event object"
    if obj.get("type") == "block_actions" and not where:
        actions = obj.get("actions")
        if not actions or not isinstance(actions[0].get("action_id"), str):
            return "block_actions without an action id"
    if obj.get("type") in ("view_submission", "view_closed") and not where:
        view = obj.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return f"{obj['type']} without a view callback_id"
    return None


def _check_strings(obj: dict[str, Any], where: str, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        v = obj.get(key)
        if v is not None and not isinstance(v, str):
            return f"{where}{key} must be a string"
    return None


# -- defensive readers for listeners ----------------------------------------------------


def get_str(obj: Any, *path: str) -> str | None:
    """obj[path[0]][path[1]]... when every step is an object and the end is a non-empty
    string; None otherwise (never raises)."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj if isinstance(obj, str) and obj else None


def json_object(raw: Any) -> dict[str, Any] | None:
    """`raw` (a button value, private_metadata) parsed as a JSON object, or None."""
    if not isinstance(raw, str) or len(raw) > 4000:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def positive_int(value: Any) -> int | None:
    """An int > 0 from an int or a digit string (ids), else None; bools are not ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value) or None
    return None
