"""Agent voiceprints and per-call speaker assignments (migration 0025, issue #16).

A voiceprint is the running mean of the speaker embeddings of one agent's side of stereo
calls, weighted by seconds of speech: enrolment adds a call's mean embedding with its
speech seconds, so a long call counts more than a "hello". Only the 256-number vector is
stored, never audio. A different `model` replaces the old print rather than mixing
vectors from two embedding spaces.

A voiceprint is biometric personal data of the agent, so it has a life cycle (#16):
`updated_at` is when it was last *refreshed* — enrolled into, or confirmed by a stereo call
of the same agent once it is full (`refresh_for_call`) — and retention drops prints not
refreshed within `[retention] voiceprint_days` (`expire`). `erase` removes one agent's
print on request and records a suppression hash so enrolment never rebuilds it
(`enrolment_suppressed`); the audit row is written by the caller (store/privacy.py).

Enrolment and erasure running at once cannot leave a print behind an erasure: both rewrite
the agent's row in `voiceprint_guards` (migration 0027), so on the DuckDB file the later
committer fails with a conflict and its caller retries (`Store.retrying`) on a snapshot
that holds the other's result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from store.db import Store
from store.privacy import key_digest, key_digest_forms

#: erasure_suppressions.kind of an erased agent voiceprint (enrolment checks it)
SUPPRESSION_KIND = "agent_voiceprint"


@dataclass(slots=True)
class Voiceprint:
    agent: str
    model: str
    embedding: np.ndarray
    seconds: float
    calls: int


def voiceprint(store: Store, agent: str, model: str, *,
               con: duckdb.DuckDBPyConnection | None = None) -> Voiceprint | None:  # fmt: skip
    """The agent's voiceprint for `model`, or None if none is enrolled."""
    agent = agent.strip()  # one spelling of the id for enrolment, lookup and erasure
    cur = con or store.cursor()
    row = cur.execute(
        "SELECT embedding, seconds, calls FROM agent_voiceprints WHERE agent = ? AND model = ?",
        [agent, model],
    ).fetchone()
    if row is None:
        return None
    return Voiceprint(agent, model, np.asarray(row[0], dtype=np.float32), float(row[1]), int(row[2]))


def enrol(store: Store, agent: str, model: str, embedding: np.ndarray, seconds: float, *,
          con: duckdb.DuckDBPyConnection | None = None) -> Voiceprint | None:  # fmt: skip
    """Fold one call's agent embedding (mean over `seconds` of speech) into the voiceprint.

    None (nothing stored) when the agent's print was erased on request: checked here, in
    the writing transaction, because a call transcribed while the erasure ran would
    otherwise bring the print back."""
    agent = agent.strip()  # as `erase` and `count_voiceprints` read it
    cur = con or store.cursor()
    if enrolment_suppressed(store, agent, con=cur):
        return None
    _touch_guard(cur, agent)
    old = voiceprint(store, agent, model, con=cur)
    vec = np.asarray(embedding, dtype=np.float64)
    if old is not None:
        total = old.seconds + seconds
        vec = (old.embedding * old.seconds + vec * seconds) / max(total, 1e-9)
        seconds, calls = total, old.calls + 1
    else:
        calls = 1
    vec = vec / max(float(np.linalg.norm(vec)), 1e-9)
    cur.execute("DELETE FROM agent_voiceprints WHERE agent = ?", [agent])
    cur.execute(
        "INSERT INTO agent_voiceprints (agent, model, embedding, seconds, calls, updated_at) "
        "VALUES (?, ?, ?, ?, ?, current_timestamp)",
        [agent, model, [float(x) for x in vec], float(seconds), calls],
    )
    return Voiceprint(agent, model, vec.astype(np.float32), float(seconds), calls)


def save_assignment(store: Store, interaction_id: int, method: str, speakers: int | None,
                    confidence: float | None, evidence: dict[str, Any], *,
                    con: duckdb.DuckDBPyConnection | None = None) -> None:  # fmt: skip
    """Replace how this call's speakers were assigned (re-transcribing is safe)."""
    cur = con or store.cursor()
    cur.execute("DELETE FROM speaker_assignments WHERE interaction_id = ?", [interaction_id])
    cur.execute(
        "INSERT INTO speaker_assignments (interaction_id, method, speakers, confidence, evidence, updated_at) "
        "VALUES (?, ?, ?, ?, ?, current_timestamp)",
        [interaction_id, method, speakers, confidence, json.dumps(evidence, default=float)],
    )


def assignment(store: Store, interaction_id: int) -> dict[str, Any] | None:
    """The stored assignment of one call (None if the call has none)."""
    row = store.cursor().execute(
        "SELECT method, speakers, confidence, evidence FROM speaker_assignments WHERE interaction_id = ?",
        [interaction_id],
    ).fetchone()
    if row is None:
        return None
    return {"method": row[0], "speakers": row[1], "confidence": row[2],
            "evidence": json.loads(row[3]) if row[3] else {}}  # fmt: skip


# -- life cycle: erasure, suppression, refresh, retention -------------------------------------


def agent_digest(agent: str) -> str:
    """The digest naming an agent in the audit log and the suppression list (never the id;
    keyed under $CONVOSCOPE_DIGEST_KEY, store/privacy.py `key_digest`)."""
    return key_digest(SUPPRESSION_KIND, agent.strip())


def enrolment_suppressed(store: Store, agent: str, *,
                         con: duckdb.DuckDBPyConnection | None = None) -> bool:  # fmt: skip
    """True when this agent's voiceprint was erased on request: it is never enrolled again."""
    cur = con or store.cursor()
    row = cur.execute(
        "SELECT 1 FROM erasure_suppressions WHERE key_hash IN (SELECT unnest(?::VARCHAR[])) AND kind = ?",
        [key_digest_forms(SUPPRESSION_KIND, agent.strip()), SUPPRESSION_KIND],
    ).fetchone()
    return row is not None


def _touch_guard(cur: duckdb.DuckDBPyConnection, agent: str) -> None:
    """Rewrite the agent's guard row: the write enrolment and erasure both make, so that two
    of them at once collide at commit instead of both committing (see the module doc)."""
    h = agent_digest(agent)
    cur.execute("DELETE FROM voiceprint_guards WHERE key_hash = ?", [h])
    cur.execute("INSERT INTO voiceprint_guards (key_hash, touched_at) VALUES (?, current_timestamp)", [h])


def count_voiceprints(store: Store, agent: str, *, con: duckdb.DuckDBPyConnection | None = None) -> int:
    """How many voiceprints (any model) are stored for `agent`."""
    cur = con or store.cursor()
    row = cur.execute("SELECT count(*) FROM agent_voiceprints WHERE agent = ?", [agent.strip()]).fetchone()
    return int(row[0]) if row else 0


def erase(tx: duckdb.DuckDBPyConnection, agent: str, *, suppress: bool = True) -> int:
    """Delete every voiceprint of `agent` inside the caller's transaction; with `suppress`,
    record the agent's hash so enrolment does not rebuild it. Returns prints deleted."""
    agent = agent.strip()
    _touch_guard(tx, agent)
    n = tx.execute("DELETE FROM agent_voiceprints WHERE agent = ?", [agent]).fetchone()
    if suppress:
        h = agent_digest(agent)
        tx.execute(
            "INSERT INTO erasure_suppressions (key_hash, kind) SELECT ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM erasure_suppressions WHERE key_hash = ?)",
            [h, SUPPRESSION_KIND, h],
        )
    return int(n[0]) if n else 0


def refresh_for_call(store: Store, interaction_id: int, *,
                     con: duckdb.DuckDBPyConnection | None = None) -> int:  # fmt: skip
    """Mark the voiceprint of this (stereo) call's agent as still in use: enrolment stops
    once a print holds `voiceprint_max_seconds`, so without this an agent taking calls
    every day would still have the print expire. Returns prints refreshed (0 or 1)."""
    cur = con or store.cursor()
    n = cur.execute(
        "UPDATE agent_voiceprints SET updated_at = current_timestamp "
        "WHERE agent = (SELECT trim(agent) FROM interactions WHERE id = ?)",
        [interaction_id],
    ).fetchone()
    return int(n[0]) if n else 0


def expired(store: Store, cutoff: Any, *, con: duckdb.DuckDBPyConnection | None = None) -> int:
    """How many voiceprints were last refreshed before `cutoff` (a dry run's count)."""
    cur = con or store.cursor()
    row = cur.execute("SELECT count(*) FROM agent_voiceprints WHERE updated_at < ?", [cutoff]).fetchone()
    return int(row[0]) if row else 0


def expire(tx: duckdb.DuckDBPyConnection, cutoff: Any) -> int:
    """Delete voiceprints last refreshed before `cutoff` (retention; no suppression: an
    agent who comes back is enrolled afresh). Returns prints deleted."""
    n = tx.execute("DELETE FROM agent_voiceprints WHERE updated_at < ?", [cutoff]).fetchone()
    return int(n[0]) if n else 0
