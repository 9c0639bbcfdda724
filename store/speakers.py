"""Agent voiceprints and per-call speaker assignments (migration 0025, issue #16).

A voiceprint is the running mean of the speaker embeddings of one agent's side of stereo
calls, weighted by seconds of speech: enrolment adds a call's mean embedding with its
speech seconds, so a long call counts more than a "hello". Only the 256-number vector is
stored, never audio. A different `model` replaces the old print rather than mixing
vectors from two embedding spaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from store.db import Store


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
    cur = con or store.cursor()
    row = cur.execute(
        "SELECT embedding, seconds, calls FROM agent_voiceprints WHERE agent = ? AND model = ?",
        [agent, model],
    ).fetchone()
    if row is None:
        return None
    return Voiceprint(agent, model, np.asarray(row[0], dtype=np.float32), float(row[1]), int(row[2]))


def enrol(store: Store, agent: str, model: str, embedding: np.ndarray, seconds: float, *,
          con: duckdb.DuckDBPyConnection | None = None) -> Voiceprint:  # fmt: skip
    """Fold one call's agent embedding (mean over `seconds` of speech) into the voiceprint."""
    cur = con or store.cursor()
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
