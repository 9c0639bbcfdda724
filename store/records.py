"""Record dataclasses that cross package boundaries.

Connectors build `Interaction` + `Turn` records and hand them to `store.interactions`;
analysis reads them back and writes `InteractionScores`, `TurnScores` and `Flag` records.
They are plain dataclasses (no ORM) so that every stage stays a pure function of
records in -> records out and can run in a worker process as easily as in-process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Channel = Literal["call", "email", "chat"]
Speaker = Literal["agent", "customer", "bot", "system"]
Status = Literal["new", "transcribed", "analysed", "failed"]
ReviewStatus = Literal["open", "confirmed", "dismissed"]

CHANNELS: tuple[str, ...] = ("call", "email", "chat")
SPEAKERS: tuple[str, ...] = ("agent", "customer", "bot", "system")
STATUSES: tuple[str, ...] = ("new", "transcribed", "analysed", "failed")
REVIEW_STATUSES: tuple[str, ...] = ("open", "confirmed", "dismissed")

# Severity is an ordered integer so "alert at or above high" is a comparison.
SEVERITIES: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4}
SEVERITY_NAMES: dict[int, str] = {v: k for k, v in SEVERITIES.items()}


def severity_value(name_or_value: str | int) -> int:
    """Map 'high' or 3 to 3; raise ValueError naming the allowed values otherwise."""
    if isinstance(name_or_value, int) and name_or_value in SEVERITY_NAMES:
        return name_or_value
    if isinstance(name_or_value, str) and name_or_value.lower() in SEVERITIES:
        return SEVERITIES[name_or_value.lower()]
    raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}; got {name_or_value!r}")


@dataclass(slots=True)
class Word:
    """One recognised word with its times in seconds from the start of the call."""

    word: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(slots=True)
class Turn:
    """One speaker turn: a stretch of speech in a call, a message in a chat or an email.

    Calls carry `start`/`end` in seconds from the call start (and `words`); text
    channels carry `sent_at`. `seq` orders turns inside their interaction.
    """

    seq: int
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    sent_at: datetime | None = None
    words: list[Word] | None = None
    speaker_name: str | None = None
    channel_index: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Interaction:
    """One call, email thread or chat conversation.

    `(source, external_id)` is the idempotency key: a connector that sees the same
    external id again either skips it (same `content_hash`) or stores a new version
    of the same interaction (different hash). `id` is assigned by the store.
    """

    channel: str
    source: str
    external_id: str
    content_hash: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: float | None = None
    agent: str | None = None
    customer: str | None = None
    customer_key: str | None = None
    queue: str | None = None
    direction: str | None = None
    subject: str | None = None
    language: str | None = None
    status: str = "new"
    status_reason: str | None = None
    raw_ref: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)
    id: int | None = None
    version: int = 1


@dataclass(slots=True)
class TurnScores:
    """What analysis derived for one turn."""

    interaction_id: int
    seq: int
    sentiment: float | None = None  # -1 .. 1
    sentiment_label: str | None = None  # negative / neutral / positive
    anger: float | None = None  # 0 .. 1
    loudness: float | None = None  # 0 .. 100, relative to the speaker's own level
    redacted_text: str | None = None
    emotions: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class InteractionScores:
    """What analysis derived for one interaction (one row of `scores`)."""

    interaction_id: int
    version: int
    sentiment: float | None = None  # -5 .. +5, whole conversation
    sentiment_agent: float | None = None
    sentiment_customer: float | None = None
    customer_trend: list[float] | None = None  # per quarter, -5 .. +5
    agent_trend: list[float] | None = None
    anger: float | None = None  # 0 .. 1, max over customer turns
    metrics: dict[str, Any] = field(default_factory=dict)
    topics: list[dict[str, Any]] = field(default_factory=list)  # [{"topic", "score"}]
    keywords: list[str] = field(default_factory=list)
    top_topic: str | None = None
    model: str | None = None


@dataclass(slots=True)
class Flag:
    """Something a person should look at, with the evidence that raised it.

    `kind` is one of the built-in kinds (angry_customer, compliance_missing, ...) or
    `rule:<name>` for a configured rule. Review fields are owned by humans: a rescore
    never overwrites them (see `store.flags.replace_for_interaction`).
    """

    interaction_id: int
    kind: str
    severity: int
    rule: str | None = None
    score: float | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    summary: str | None = None
    review_status: str = "open"
    reviewer: str | None = None
    review_reason: str | None = None
    reviewed_at: datetime | None = None
    created_at: datetime | None = None
    id: int | None = None
    #: how sure the verdict is, 0..1, from its evidence (analysis/confidence.py); None = unknown
    confidence: float | None = None


@dataclass(slots=True)
class QuarantineItem:
    """An input that could not be ingested or analysed, kept with the reason."""

    source: str
    item_key: str
    reason: str
    raw_ref: str | None = None
    excerpt: str | None = None
    attempts: int = 1
    id: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def content_hash(*parts: bytes | str | dict | list | None) -> str:
    """A stable SHA-256 over the given parts (dicts/lists as canonical JSON)."""
    h = hashlib.sha256()
    for p in parts:
        if p is None:
            b = b"\x00"
        elif isinstance(p, bytes):
            b = p
        elif isinstance(p, str):
            b = p.encode("utf-8")
        else:
            b = json.dumps(p, sort_keys=True, default=str).encode("utf-8")
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()
