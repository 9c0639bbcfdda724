"""The outbound boundary: what may leave the store, and the one way to the original text.

Everything that leaves Convoscope — Slack answers, alerts and digests, the local API,
exports, the TUI's default view, pattern mining whose output is shown (cluster names,
phrases, examples) — reads the views created in migration 0016:

- `outbound_turns`: turns with `text` = the analysis' redacted text (NULL until analysis
  redacted the turn; callers withhold such turns) and the sender name masked;
- `outbound_interactions`: interactions without customer identifiers, raw references or
  sidecar metadata, subject masked;
- `pii_mask(text)`: the SQL mask applied to free-text header fields analysis does not
  redact (subjects, sender names, flag summaries quoting matched words).

The original text is reachable only through `original_turns`, which names what it does,
asks `authorize_original` (the one role gate; #13's roles hook in there) and writes the
audit log. `tests/store/test_boundary.py` fails when another module of `store/` selects
`turns.text`, `email_messages.text` or raw header fields outside the allow-list it keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import audit
from store.db import Store
from store.permissions import allowed

__all__ = [
    "OriginalAccessDenied",
    "OriginalTurn",
    "authorize_original",
    "mask_strings",
    "original_turns",
    "redacted_turns",
    "set_original_gate",
]

WITHHELD = "[not yet redacted: text withheld]"


class OriginalAccessDenied(PermissionError):
    """The caller's role may not read original text."""


Gate = Callable[[str, str | None], bool]


def _default_gate(actor: str, role: str | None) -> bool:
    return allowed(role or "none", "original_text")


_gate: Gate = _default_gate


def set_original_gate(gate: Gate | None) -> None:
    """Replace the role check (`gate(actor, role) -> allowed`); None restores the default
    (the `original_text` column of the one role table, `store.permissions`)."""
    global _gate
    _gate = gate or _default_gate


def authorize_original(actor: str, role: str | None) -> None:
    """The single gate in front of original text: raises `OriginalAccessDenied` unless the
    installed policy allows `actor` with `role`."""
    if not _gate(actor, role):
        raise OriginalAccessDenied(f"{actor} (role {role or 'none'}) may not read original text")


@dataclass(frozen=True, slots=True)
class OriginalTurn:
    seq: int
    speaker: str
    text: str


def original_turns(store: Store, interaction_id: int, *, actor: str, role: str | None) -> list[OriginalTurn]:
    """The unredacted turns of one interaction, for a person allowed to see them (the TUI's
    'unredact' key). Checked by `authorize_original` and written to the audit log (the log
    row names the interaction, never the text). Never send the result anywhere."""
    authorize_original(actor, role)
    cur = store.cursor()
    rows = cur.execute(
        "SELECT seq, speaker, text FROM turns WHERE interaction_id = ? ORDER BY seq", [interaction_id]
    ).fetchall()
    audit.log(store, actor, "read_original", f"interaction:{interaction_id}",
              {"role": role, "turns": len(rows)})
    return [OriginalTurn(int(r[0]), r[1], r[2]) for r in rows]


@dataclass(frozen=True, slots=True)
class RedactedTurn:
    seq: int
    speaker: str
    speaker_name: str | None
    start_s: float | None
    sent_at: datetime | None
    #: the redacted text, or None where analysis has not redacted the turn yet
    text: str | None


def redacted_turns(store: Store, interaction_id: int) -> list[RedactedTurn]:
    """One interaction's turns as they may leave (see module docstring)."""
    return [
        RedactedTurn(int(r[0]), r[1], r[2], r[3], r[4], r[5])
        for r in store.cursor().execute(
            "SELECT seq, speaker, speaker_name, start_s, sent_at, text FROM outbound_turns "
            "WHERE interaction_id = ? ORDER BY seq",
            [interaction_id],
        ).fetchall()
    ]


def mask_strings(cur: Any, value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, strings) with every string passed through the SQL
    `pii_mask`, in one query — for flag evidence, whose quotes come from the original text
    (masking the JSON text itself would also hit numbers such as offsets and times)."""
    strings: list[str] = []

    def collect(v: Any) -> None:
        if isinstance(v, str):
            strings.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                collect(x)
        elif isinstance(v, list):
            for x in v:
                collect(x)

    collect(value)
    if not strings:
        return value
    row = cur.execute("SELECT list_transform(?::VARCHAR[], lambda s: pii_mask(s))", [strings]).fetchone()
    masked = iter(row[0] if row else strings)

    def rebuild(v: Any) -> Any:
        if isinstance(v, str):
            return next(masked)
        if isinstance(v, dict):
            return {k: rebuild(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rebuild(x) for x in v]
        return v

    return rebuild(value)
