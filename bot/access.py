"""Who may ask what: roles from Slack user ids, user groups and channels.

A supervisor sees lists, redacted excerpts and review buttons; a viewer sees counts only;
anyone else ("none") is refused politely. The strongest role any grant gives wins.
User-group membership is looked up with `usergroups.users.list` and cached for
`usergroup_cache_seconds`, so a question does not cost one API call per group; if the
lookup fails the group simply grants nothing (fail closed) and the failure is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.options import AccessOptions, RoleGrant

log = logging.getLogger(__name__)
_RANK = {"none": 0, "viewer": 1, "supervisor": 2}
REFUSAL = (
    "Sorry, you don't have access to Convoscope's answers here. "
    "Ask a Convoscope admin to add you (or this channel) to the supervisors or viewers."
)


@dataclass(frozen=True, slots=True)
class Decision:
    role: str
    why: str

    @property
    def allowed(self) -> bool:
        return self.role != "none"

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class AccessControl:
    """Resolves a (user, channel) to a role. `client` is a slack_sdk WebClient (or None,
    in which case user-group grants are not checked)."""

    def __init__(
        self,
        options: AccessOptions,
        client: Any | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.client = client
        self.clock = clock
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def role_for(self, user: str | None, channel: str | None) -> Decision:
        best = Decision(self.options.default_role, "default role")
        for role, grant in (("supervisor", self.options.supervisors),
                            ("viewer", self.options.viewers)):  # fmt: skip
            if _RANK[role] <= _RANK[best.role]:
                continue
            why = self._grants(grant, user, channel)
            if why:
                best = Decision(role, why)
        return best

    def channel_role(self, channel: str | None) -> str:
        """The role a channel itself is granted (what everyone reading it may see)."""
        if channel and channel in self.options.supervisors.channels:
            return "supervisor"
        if channel and channel in self.options.viewers.channels:
            return "viewer"
        return "none"

    def _grants(self, grant: RoleGrant, user: str | None, channel: str | None) -> str | None:
        if user and user in grant.users:
            return f"user {user}"
        if channel and channel in grant.channels:
            return f"channel {channel}"
        if user:
            for group in grant.usergroups:
                if user in self._members(group):
                    return f"user group {group}"
        return None

    def _members(self, group: str) -> frozenset[str]:
        now = self.clock()
        with self._lock:
            hit = self._groups.get(group)
            if hit and now - hit[0] < self.options.usergroup_cache_seconds:
                return hit[1]
        if self.client is None:
            return frozenset()
        try:
            resp = self.client.usergroups_users_list(usergroup=group)
            members = frozenset(resp.get("users") or [])
        except Exception as exc:  # fail closed, but say why
            log.warning("cannot read members of user group %s: %s", group, exc)
            members = frozenset()
        with self._lock:
            self._groups[group] = (now, members)
        return members
