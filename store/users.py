"""People who may call the local API, each with a role and a personal token.

A token is `cvs_<prefix>_<secret>`: the prefix (public, stored as is) finds the row, and
only a SHA-256 of the whole token is stored, so a copy of the database does not hand out
working tokens. The token is shown once, when it is created (`convoscope users add` /
`users token`); a lost token is replaced, never recovered. Revoking keeps the row (the
audit log names the user) and stops the token at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from store import audit
from store.db import Store
from store.permissions import Identity, check_role

TOKEN_PREFIX = "cvs_"


@dataclass(slots=True)
class ApiUser:
    id: int
    name: str
    role: str
    agent: str | None
    token_prefix: str
    created_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def identity(self) -> Identity:
        return Identity(f"api:{self.name}", self.role, self.agent)


def _hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"


_COLS = "id, name, role, agent, token_prefix, created_at, revoked_at"


def _row(r: tuple) -> ApiUser:  # type: ignore[type-arg]
    return ApiUser(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])


def add(store: Store, name: str, role: str, *, agent: str | None = None, actor: str = "local") -> tuple[ApiUser, str]:
    """Create a user; returns (user, token). The token is not stored and not shown again."""
    name = name.strip()
    if not name:
        raise ValueError("a user needs a name")
    check_role(role)
    if role == "none":
        raise ValueError("role 'none' is for unknown Slack users; pick a real role")
    if role == "agent" and not (agent or "").strip():
        raise ValueError("an agent user needs --agent NAME (the agent name the interactions carry)")
    if get(store, name) is not None:
        raise ValueError(f"user {name!r} exists; use `convoscope users token {name}` for a new token")
    prefix, token = _new_token()
    with store.transaction() as tx:
        (uid,) = store.next_ids("api_users", con=tx)
        tx.execute(
            "INSERT INTO api_users (id, name, role, agent, token_prefix, token_hash) VALUES (?, ?, ?, ?, ?, ?)",
            [uid, name, role, (agent or "").strip() or None, prefix, _hash(token)],
        )
        row = tx.execute(f"SELECT {_COLS} FROM api_users WHERE id = ?", [uid]).fetchone()
        audit.log(store, actor, "users.add", f"user:{name}", {"role": role, "agent": agent}, con=tx)
    assert row is not None
    return _row(row), token


def get(store: Store, name: str) -> ApiUser | None:
    """The active user of that name (revoked ones are history)."""
    r = store.cursor().execute(
        f"SELECT {_COLS} FROM api_users WHERE name = ? AND revoked_at IS NULL", [name]
    ).fetchone()
    return _row(r) if r else None


def list_users(store: Store, *, include_revoked: bool = False) -> list[ApiUser]:
    sql = f"SELECT {_COLS} FROM api_users"
    if not include_revoked:
        sql += " WHERE revoked_at IS NULL"
    return [_row(r) for r in store.cursor().execute(sql + " ORDER BY name, id").fetchall()]


def revoke(store: Store, name: str, *, actor: str = "local") -> ApiUser:
    user = get(store, name)
    if user is None:
        raise KeyError(f"no active user {name!r}")
    with store.transaction() as tx:
        tx.execute("UPDATE api_users SET revoked_at = ? WHERE id = ?", [datetime.now(UTC), user.id])
        audit.log(store, actor, "users.revoke", f"user:{name}", {}, con=tx)
    user.revoked_at = datetime.now(UTC)
    return user


def new_token(store: Store, name: str, *, actor: str = "local") -> str:
    """Replace a user's token (the old one stops working); returns the new one."""
    user = get(store, name)
    if user is None:
        raise KeyError(f"no active user {name!r}")
    prefix, token = _new_token()
    with store.transaction() as tx:
        tx.execute("UPDATE api_users SET token_prefix = ?, token_hash = ? WHERE id = ?",
                   [prefix, _hash(token), user.id])  # fmt: skip
        audit.log(store, actor, "users.token", f"user:{name}", {}, con=tx)
    return token


def authenticate(store: Store, token: str) -> Identity | None:
    """The identity a bearer token stands for, or None (unknown, malformed or revoked).
    The hash comparison is constant-time."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    prefix = token[len(TOKEN_PREFIX):].split("_", 1)[0]
    r = store.cursor().execute(
        f"SELECT {_COLS}, token_hash FROM api_users WHERE token_prefix = ? AND revoked_at IS NULL",
        [prefix],
    ).fetchone()
    if r is None or not hmac.compare_digest(str(r[7]), _hash(token)):
        return None
    return _row(r[:7]).identity()
