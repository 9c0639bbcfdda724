"""Who may ask what: roles from Slack user ids, user groups and channels.

What each role sees and does is the table in `store.permissions`. A user's own grants (user
id, user groups) decide what they may *do*; a channel grant only decides what is *shown*
in that channel, so a channel of viewers does not turn its members into reviewers. Agents
are mapped by Slack user id to their agent name and see only their own work. Anyone else
("none") is refused politely. The strongest role any grant gives wins.
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
from store import permissions

log = logging.getLogger(__name__)
REFUSAL = (
    "Sorry, you don't have access to Convoscope's answers here. "
    "Ask a Convoscope admin to add you (or this channel) to the supervisors or viewers."
)


@dataclass(frozen=True, slots=True)
class Decision:
    """What one Slack user may see in one channel (`role`) and do anywhere (`acting_role`).

    `role` is the strongest of the user's personal grants (user id, user groups), the
    channel's grant and the default role: it decides what an answer shows. `acting_role`
    comes from personal grants only: it decides reviews and every other action, so
    posting in a granted channel never gives anyone review rights. `agent` is the agent
    name the user is mapped to (their own work), if any.
    """

    role: str
    why: str
    acting_role: str = "none"
    agent: str | None = None
    user: str | None = None

    @property
    def allowed(self) -> bool:
        return self.role != "none" or self.agent is not None

    @property
    def supervisor(self) -> bool:
        """May review (kept under its old name for the listeners)."""
        return permissions.allowed(self.acting_role, "review")

    def may(self, action: str) -> bool:
        """The role table, with actions judged on personal grants only."""
        role = self.acting_role if action in permissions.DO else self.role
        return permissions.allowed(role, action)

    def identity(self) -> permissions.Identity:
        """Who acts, for the review and contest paths (audit-logged as slack:<user id>)."""
        return permissions.Identity(f"slack:{self.user or 'unknown'}", self.acting_role, self.agent)


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
        agent = self.options.agents.get(user) if user else None
        acting, acting_why = "agent" if agent else "none", "agent mapping" if agent else ""
        for role, grant in self.options.grants():
            if permissions.RANK[role] <= permissions.RANK[acting]:
                continue
            why = self._grants(grant, user, None)  # personal grants only
            if why:
                acting, acting_why = role, why
        best, why = acting, acting_why
        chan = self.channel_role(channel)
        if permissions.RANK[chan] > permissions.RANK[best]:
            best, why = chan, f"channel {channel}"
        default = self.options.default_role
        if permissions.RANK[default] > permissions.RANK[best]:
            best, why = default, "default role"
        if best == "none" and not why:
            why = "default role"
        return Decision(best, why, acting, agent, user)

    def channel_role(self, channel: str | None) -> str:
        """The role a channel itself is granted (what everyone reading it may see)."""
        if not channel:
            return "none"
        for role, grant in self.options.grants():
            if channel in grant.channels:
                return role
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
