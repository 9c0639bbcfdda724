"""Who may see and do what: the one role table every surface (Slack, API, TUI, CLI) asks.

Roles are a fixed set. What a role may *see* (lists of interactions, redacted transcripts,
the original unredacted text, agent names, customer identifiers) and *do* (review, contest,
export, forget, manage users) is `TABLE` below and nowhere else; surfaces call
`allowed(role, action)` / `require(role, action)` and shape what they return with
`shape(role, data)`. The README's "Reviews, roles and what agents see" section prints the
same table (a test checks they agree).

Why this lives in `store/`: every package may import `store`, and nothing else is shared
by the bot, the TUI and the service; it holds no SQL.

Design choices:
- An agent sees only their own work ("my week"), never other agents' data nor team-wide
  lists; their one action is to contest a flag on their own interaction.
- Analysts study patterns, not people: they get redacted lists and transcripts with agent
  names replaced by a stable pseudonym (`agent-3f2a1c`), so comparisons still work.
- Viewers get counts only.
- Only admins see original (unredacted) text and customer identifiers; admins and supervisors
  may forget a customer (data-protection requests come through supervisors, issue #12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store import pseudonyms

ROLES: tuple[str, ...] = ("admin", "supervisor", "analyst", "viewer", "agent")
#: "none" is what an unknown Slack user or channel gets: refused politely.
ALL_ROLES: tuple[str, ...] = (*ROLES, "none")

SEE: tuple[str, ...] = (
    "counts", "lists", "transcripts", "original_text", "agent_names", "customer_ids", "own_work",
)
DO: tuple[str, ...] = ("review", "contest", "export", "forget", "manage_users")
ACTIONS: tuple[str, ...] = SEE + DO

_Y, _N = True, False
#: role -> action -> allowed. `transcripts` means redacted transcripts and excerpts.
TABLE: dict[str, dict[str, bool]] = {
    #               counts lists transcr orig  agents cust  own   review contest export forget users
    "admin":      dict(zip(ACTIONS, (_Y, _Y, _Y, _Y, _Y, _Y, _N, _Y, _N, _Y, _Y, _Y), strict=True)),
    "supervisor": dict(zip(ACTIONS, (_Y, _Y, _Y, _N, _Y, _N, _N, _Y, _N, _Y, _Y, _N), strict=True)),
    "analyst":    dict(zip(ACTIONS, (_Y, _Y, _Y, _N, _N, _N, _N, _N, _N, _Y, _N, _N), strict=True)),
    "viewer":     dict(zip(ACTIONS, (_Y, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N), strict=True)),
    "agent":      dict(zip(ACTIONS, (_N, _N, _N, _N, _N, _N, _Y, _N, _Y, _N, _N, _N), strict=True)),
    "none":       dict.fromkeys(ACTIONS, _N),
}  # fmt: skip

#: Strength order, used when several grants apply to one person (the strongest wins).
RANK: dict[str, int] = {"none": 0, "agent": 1, "viewer": 2, "analyst": 3, "supervisor": 4, "admin": 5}


class Forbidden(PermissionError):
    """The caller's role does not allow the action; the message says which role may."""


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated person: `user` is what the audit log records (`slack:U123`,
    `api:alice`, `local:alice`), `agent` the agent name they are in the interactions when
    they are an agent (their own work)."""

    user: str
    role: str
    agent: str | None = None

    def __post_init__(self) -> None:
        check_role(self.role)


def check_role(role: str) -> str:
    if role not in TABLE:
        raise ValueError(f"role must be one of {', '.join(ALL_ROLES)}; got {role!r}")
    return role


def allowed(role: str, action: str) -> bool:
    """Whether `role` may see/do `action` (an entry of ACTIONS). Unknown roles may nothing."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    return TABLE.get(role, TABLE["none"])[action]


def require(role: str, action: str, who: str | None = None) -> None:
    """Raise `Forbidden` unless `role` may `action` (the message names who may)."""
    if not allowed(role, action):
        may = [r for r in ROLES if TABLE[r][action]]
        subject = f"{who} ({role})" if who else f"the {role} role"
        raise Forbidden(f"{subject} may not {action.replace('_', ' ')}; allowed for: {', '.join(may)}")


def strongest(*roles: str) -> str:
    return max(roles, key=lambda r: RANK.get(r, 0)) if roles else "none"


def pseudonym(name: str | None) -> str | None:
    """A stable stand-in for an agent's name (same name, same pseudonym; keyed under
    $CONVOSCOPE_DIGEST_KEY, see `store.pseudonyms`)."""
    return pseudonyms.agent(name)


_CUSTOMER_KEYS = ("customer", "customer_key")
#: labels in an `agent` field that name nobody (the agents screen's team row)
_NOT_NAMES = frozenset({"team", "(none)"})


def shape(role: str, data: Any) -> Any:
    """`data` (JSON-ready: dicts, lists, scalars) with what `role` may not see taken out.

    Applied by the API to every answer and by the TUI to what it reads from a file, so the
    rules hold whatever screen asks: agent names become pseudonyms, customer identifiers
    `None`, original turn text the redacted text (or a placeholder). Roles without
    transcript rights get turns removed.
    """
    names, cust = allowed(role, "agent_names"), allowed(role, "customer_ids")
    orig, transcripts = allowed(role, "original_text"), allowed(role, "transcripts")

    def walk(v: Any) -> Any:
        if isinstance(v, list):
            return [walk(x) for x in v]
        if not isinstance(v, dict):
            return v
        out: dict[str, Any] = {}
        for k, x in v.items():
            if k == "agent" and not names and isinstance(x, str) and x not in _NOT_NAMES:
                out[k] = pseudonym(x)
            elif k in _CUSTOMER_KEYS and not cust:
                out[k] = None
            elif k == "turns" and isinstance(x, list) and not transcripts:
                out[k] = []
            elif k == "turns" and isinstance(x, list) and not orig:
                out[k] = [_redacted_turn(walk(t)) for t in x]
            else:
                out[k] = walk(x)
        return out

    return walk(data)


def _redacted_turn(t: Any) -> Any:
    if isinstance(t, dict) and "text" in t:
        red = t.get("redacted_text")
        t = {**t, "text": red if red is not None else "[not yet redacted: text withheld]"}
    return t


def markdown_table() -> str:
    """The role table as Markdown (the README shows this; a test compares them)."""
    head = "| role | " + " | ".join(a.replace("_", " ") for a in ACTIONS) + " |"
    sep = "|---|" + "---|" * len(ACTIONS)
    rows = [f"| {r} | " + " | ".join("yes" if TABLE[r][a] else "–" for a in ACTIONS) + " |" for r in ROLES]
    return "\n".join([head, sep, *rows])
