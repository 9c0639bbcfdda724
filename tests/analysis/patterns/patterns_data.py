"""Generated interaction sets with known structure, written into a real DuckDB file.

Interactions, turns, scores and flags go through the same store functions the
connectors and the analysis core use (`store.interactions.upsert`, `store.scores.write`,
`store.flags.replace_for_interaction`), so the pattern jobs read what they would read
in production.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from store import Store
from store import flags as store_flags
from store import interactions as store_interactions
from store import scores as store_scores
from store.records import Flag, Interaction, InteractionScores, Turn, TurnScores, content_hash

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
_seq = itertools.count(1)


@dataclass
class Spec:
    """One generated interaction: who, when, what was said, and how analysis scored it."""

    started_at: datetime
    customer: Sequence[str] = ()
    agent: Sequence[str] = ()
    channel: str = "call"
    agent_name: str | None = "alice"
    queue: str | None = "support"
    customer_key: str | None = None
    subject: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sentiment: float | None = 0.0
    customer_end: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    topic: str | None = None
    flags: Sequence[str] = ()


def put(store: Store, specs: Sequence[Spec]) -> list[int]:
    """Store the interactions (status 'analysed') with scores and flags; returns ids in order."""
    items = []
    for sp in specs:
        n = next(_seq)
        turns = []
        # alternate agent/customer lines: agent first (greeting), then customer...
        pairs = itertools.zip_longest(sp.agent, sp.customer)
        seq = 0
        for a_line, c_line in pairs:
            if a_line:
                turns.append(Turn(seq=seq, speaker="agent", text=a_line))
                seq += 1
            if c_line:
                turns.append(Turn(seq=seq, speaker="customer", text=c_line))
                seq += 1
        items.append(Interaction(
            channel=sp.channel, source="gen", external_id=f"x{n}",
            content_hash=content_hash(f"x{n}", [t.text for t in turns]), started_at=sp.started_at,
            agent=sp.agent_name, customer_key=sp.customer_key, queue=sp.queue, subject=sp.subject,
            metadata=sp.metadata, turns=turns, status="analysed",
        ))
    store_interactions.upsert(store, items)
    ids = [int(it.id) for it in items]  # type: ignore[arg-type]
    with store.transaction() as tx:
        store_scores.write(store, [
            store_scores.ScoredInteraction(
                scores=InteractionScores(
                    interaction_id=iid, version=1, sentiment=sp.sentiment,
                    sentiment_customer=sp.sentiment,
                    customer_trend=None if sp.customer_end is None else [0.0, 0.0, 0.0, sp.customer_end],
                    metrics=sp.metrics,
                    topics=[{"topic": sp.topic, "score": 0.9}] if sp.topic else [],
                    top_topic=sp.topic,
                ),
                # as the analysis core: every turn gets its redacted text (these generated
                # lines hold no PII), which is what pattern mining reads
                turns=[TurnScores(interaction_id=iid, seq=t.seq, redacted_text=t.text) for t in it.turns],
            )
            for iid, sp, it in zip(ids, specs, items, strict=True)
        ], con=tx)
        for iid, sp in zip(ids, specs, strict=True):
            if sp.flags:
                store_flags.replace_for_interaction(
                    store, iid, [Flag(interaction_id=iid, kind=k, severity=2) for k in sp.flags], con=tx
                )
    return ids
