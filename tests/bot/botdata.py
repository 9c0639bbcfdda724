"""Generated, deterministic store contents for the bot's tests.

Interactions go in through `store.interactions.upsert` and flags through
`store.flags.replace_for_interaction` (the real write paths); scores and turn scores,
which analysis would write, go in through `Store.insert_arrow`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from store import flags as store_flags
from store import interactions as store_interactions
from store.db import Store
from store.records import Flag, Interaction, Turn, content_hash

AGENTS = ["1042", "1043", "2001", "alice"]
QUEUES = ["billing", "support", "sales"]
TOPICS = ["refund", "billing error", "password reset", "delivery delay", "cancellation"]


@dataclass
class Seeded:
    ids: list[int] = field(default_factory=list)
    flag_ids: dict[str, list[int]] = field(default_factory=dict)
    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)


def add_interaction(
    store: Store,
    *,
    channel: str,
    started_at: datetime,
    agent: str,
    queue: str,
    topic: str | None,
    sentiment: float,
    anger: float,
    flags: list[tuple[str, int]] = (),  # type: ignore[assignment]
    ext: str,
    customer: str = "cust-1",
    texts: list[tuple[str, str, str]] | None = None,
) -> tuple[int, list[int]]:
    """One interaction with turns (raw + redacted), scores and flags; returns (id, flag ids)."""
    texts = texts or _texts(topic)
    it = Interaction(
        channel=channel, source="gen", external_id=ext, content_hash=content_hash(ext),
        started_at=started_at, ended_at=started_at + timedelta(minutes=4), duration=240.0,
        agent=agent, customer=customer, customer_key=customer, queue=queue,
        subject=f"About {topic}" if channel == "email" else None, status="analysed",
        turns=[Turn(seq=i, speaker=s, text=raw, start=float(i * 10), end=float(i * 10 + 8))
               for i, (s, raw, _r) in enumerate(texts)],
    )  # fmt: skip
    store_interactions.upsert(store, [it])
    assert it.id is not None
    store.insert_arrow(
        "turn_scores",
        [{"interaction_id": it.id, "seq": i, "sentiment": sentiment / 5, "redacted_text": red}
         for i, (_s, _raw, red) in enumerate(texts)],
    )  # fmt: skip
    store.insert_arrow(
        "scores",
        [{"interaction_id": it.id, "version": 1, "sentiment": sentiment, "anger": anger,
          "top_topic": topic, "keywords": [topic] if topic else [], "model": "test"}],
    )  # fmt: skip
    new = store_flags.replace_for_interaction(
        store, it.id,
        [Flag(interaction_id=it.id, kind=k, severity=sev, summary=f"{k} detected",
              evidence=[{"seq": 1}]) for k, sev in flags],
    )  # fmt: skip
    return it.id, new


def seed(store: Store, now: datetime, *, days: int = 14, per_day: int = 12, seed_: int = 7) -> Seeded:
    """`per_day` interactions on each of the last `days` local days, varied but repeatable.

    Written in batches (one upsert, one Arrow insert per table) to keep fixtures fast.
    """
    rng = random.Random(seed_)
    out = Seeded()
    plans: list[tuple[Interaction, dict[str, Any], float, float, list[tuple[str, int]]]] = []
    n = 0
    for d in range(days):
        for k in range(per_day):
            started = now - timedelta(days=d, minutes=30 + k * 37)
            channel = ("call", "email", "chat")[k % 3]
            flags: list[tuple[str, int]] = []
            anger = rng.random() * 0.4
            sentiment = rng.uniform(-1, 3)
            if k % 4 == 0:
                flags.append(("angry_customer", 3))
                anger, sentiment = 0.8 + rng.random() * 0.2, -3.0
            if k % 5 == 0:
                flags.append(("compliance_missing_disclosure", 4 if k % 10 == 0 else 2))
            if k % 6 == 0:
                flags.append(("escalation", 3))
            topic = TOPICS[(k + d) % len(TOPICS)]
            agent, queue, customer = AGENTS[k % len(AGENTS)], QUEUES[k % len(QUEUES)], f"cust-{k % 5}"
            it = Interaction(
                channel=channel, source="gen", external_id=f"gen-{n}", content_hash=content_hash(n),
                started_at=started, ended_at=started + timedelta(minutes=4), duration=240.0,
                agent=agent, customer=customer, customer_key=customer, queue=queue,
                subject=f"About {topic}" if channel == "email" else None, status="analysed",
                turns=[Turn(seq=i, speaker=sp, text=raw, start=float(i * 10), end=float(i * 10 + 8))
                       for i, (sp, raw, _r) in enumerate(_texts(topic))],
            )  # fmt: skip
            info = {"channel": channel, "started_at": started, "flags": flags, "agent": agent,
                    "queue": queue, "topic": topic}  # fmt: skip
            plans.append((it, info, sentiment, anger, flags))
            n += 1
    store_interactions.upsert(store, [p[0] for p in plans])
    turn_rows, score_rows = [], []
    for it, info, sentiment, anger, _flags in plans:
        assert it.id is not None
        turn_rows += [{"interaction_id": it.id, "seq": i, "sentiment": sentiment / 5, "redacted_text": red}
                      for i, (_s, _raw, red) in enumerate(_texts(info["topic"]))]  # fmt: skip
        score_rows.append({"interaction_id": it.id, "version": 1, "sentiment": sentiment, "anger": anger,
                           "top_topic": info["topic"], "keywords": [info["topic"]], "model": "test"})  # fmt: skip
    store.insert_arrow("turn_scores", turn_rows)
    store.insert_arrow("scores", score_rows)
    with store.transaction() as tx:
        for it, info, _s, _a, flags in plans:
            assert it.id is not None
            fids = store_flags.replace_for_interaction(
                store, it.id,
                [Flag(interaction_id=it.id, kind=k, severity=sev, summary=f"{k} detected",
                      evidence=[{"seq": 1}]) for k, sev in flags], con=tx,
            )  # fmt: skip
            out.ids.append(it.id)
            for (kind, _sev), fid in zip(flags, fids, strict=True):
                out.flag_ids.setdefault(kind, []).append(fid)
            out.by_id[it.id] = info
    return out


def _texts(topic: str | None) -> list[tuple[str, str, str]]:
    return [
        ("agent", "Thank you for calling, how can I help?", "Thank you for calling, how can I help?"),
        ("customer", f"My card 4111 1111 1111 1111 was charged twice, about {topic}.",
         f"My card [PII] was charged twice, about {topic}."),
        ("agent", "I am sorry about that, let me check.", "I am sorry about that, let me check."),
    ]  # fmt: skip
