"""Pseudonyms: the stand-ins for customer keys and agent names wherever they leave the store
(rankings "by customer", repeat-contact lists, exports and answers for roles without
`agent_names`, the keys retention leaves behind), in one place so SQL and Python agree.

Why keyed: a customer key is a phone number or an e-mail address, and an agent name comes
from a short staff list, so a plain SHA-256 of either is reversed by hashing every candidate
(all ten-digit numbers take minutes). With `$CONVOSCOPE_DIGEST_KEY` set (the key erasure
digests use, `store.privacy.key_digest`), every pseudonym hashes a *salt* derived from the
key in front of the value, and nobody without the key can recompute one. The salt is
HMAC-SHA256(key, "convoscope pseudonym v1") in hex: hex can be written into SQL as a literal
(DuckDB's `SET VARIABLE` lives on one cursor, and the store's cursors come and go), and the
salt is not the key, so it cannot forge an erasure digest. The price: the salt is part of the
SQL text, so whoever reads that text (a query log, an error message that quotes the SQL) can
recompute pseudonyms from candidate values — keep query logging off where pseudonyms matter.
Without a key the salt is empty and pseudonyms are exactly what they were before keys existed.

Keep the key stable: a pseudonym made under one key does not match one made under another,
and keys retention already replaced (`h:…`) keep the form they were written in.
"""

from __future__ import annotations

import hashlib
import hmac
import os

DIGEST_KEY_ENV = "CONVOSCOPE_DIGEST_KEY"
_SALT_LABEL = b"convoscope pseudonym v1"


def digest_key() -> bytes | None:
    """The secret from the environment (never from a file or the store), or None."""
    key = os.environ.get(DIGEST_KEY_ENV, "")
    return key.encode() if key else None


def salt() -> str:
    """Hex digits put in front of every pseudonymised value; empty without a key. Read at
    each call (cheap), so a process sees the key its environment has now."""
    key = digest_key()
    return hmac.new(key, _SALT_LABEL, hashlib.sha256).hexdigest() if key else ""


def _hashed_sql(col: str) -> str:
    s = salt()
    # the salt is [0-9a-f]* by construction: safe as a literal
    return f"sha256('{s}' || {col})" if s else f"sha256({col})"


def customer_key_sql(col: str) -> str:
    """SQL: a stored customer key's pseudonym (`h:` + 12 hex digits); a key already made a
    pseudonym (by retention) stays as it is, so repeat contacts still group."""
    return f"CASE WHEN {col} LIKE 'h:%' THEN {col} ELSE 'h:' || {_hashed_sql(col)}[:12] END"


def customer_label_sql(col: str) -> str:
    """SQL: how a customer is named in a grouped answer (`customer-` + 8 hex digits)."""
    return f"CASE WHEN {col} IS NOT NULL THEN 'customer-' || substr({_hashed_sql(col)}, 1, 8) END"


def agent_sql(col: str) -> str:
    """SQL twin of `agent`: the same pseudonym for the same name."""
    return f"'agent-' || substr({_hashed_sql(col)}, 1, 6)"


def agent(name: str | None) -> str | None:
    """A stable stand-in for an agent's name (`agent-` + 6 hex digits)."""
    if name is None:
        return None
    return "agent-" + hashlib.sha256((salt() + name).encode("utf-8")).hexdigest()[:6]
