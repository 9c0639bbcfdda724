"""Roles from users, user groups and channels; group lookups cached and failing closed."""

from __future__ import annotations

from typing import Any

from bot.access import AccessControl
from bot.options import AccessOptions, RoleGrant


def _client(fake: Any) -> Any:
    from slack_sdk import WebClient

    return WebClient(token="xoxb-test", base_url=fake.api_url)


def test_roles_from_users_groups_and_channels(fake: Any) -> None:
    clock = [0.0]
    opts = AccessOptions(
        supervisors=RoleGrant(users=["U_BOSS"], usergroups=["S_SUPER", "S_MISSING"]),
        viewers=RoleGrant(channels=["C_WALL"]),
        usergroup_cache_seconds=60,
    )
    ac = AccessControl(opts, _client(fake), clock=lambda: clock[0])
    assert ac.role_for("U_BOSS", "C_ANY").role == "supervisor"
    assert ac.role_for("U_GROUPIE", "C_ANY").supervisor  # member of S_SUPER
    assert ac.role_for("U_X", "C_WALL").role == "viewer"
    assert ac.role_for("U_GROUPIE", "C_WALL").role == "supervisor"  # the strongest grant wins
    d = ac.role_for("U_X", "C_ANY")
    assert not d.allowed and d.role == "none"
    # the unknown group fails closed; both groups were looked up once and cached
    lookups = len(fake.of("usergroups.users.list"))
    assert lookups == 2
    ac.role_for("U_Y", "C_ANY")
    assert len(fake.of("usergroups.users.list")) == lookups
    clock[0] = 61.0
    ac.role_for("U_Y", "C_ANY")
    assert len(fake.of("usergroups.users.list")) == lookups + 2


def test_default_role_applies_to_everyone_else() -> None:
    ac = AccessControl(AccessOptions(default_role="viewer"), None)
    assert ac.role_for("U_ANY", None).role == "viewer"
