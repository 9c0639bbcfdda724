"""Topics from a configurable taxonomy: embedding similarity plus keyword hints.

Each topic has a `description` (a sentence a customer might say) and `hints` (words that
are strong evidence). An interaction's score for a topic is

    score = (1 - hint_weight) * semantic + hint_weight * hints
    semantic = (cos(conversation, topic) + max over turns cos(turn, topic)) / 2
    hints    = min(1, distinct hint words found / 2)

with the conversation vector the normalised mean of its turn vectors (MiniLM,
`analysis.embeddings`). Why both: the mean captures what the whole conversation is about,
the best turn catches a topic raised once in a long call, and the hints make the obvious
cases ("refund") robust where a 384-dim sentence vector is vague. Topics scoring at least
`threshold` are kept (best first, at most `max_topics`), each with its score, so queries
and the TUI can sort and threshold later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.regex_prefilter import PatternFilter
from store.records import Turn


@dataclass
class TopicDef:
    """One topic of the taxonomy."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    name: str
    description: str
    hints: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name or not self.description:
            raise ValueError("every topic needs a name and a description")


def _default_taxonomy() -> list[TopicDef]:
    return [
        TopicDef("refund", "I want a refund, give me my money back for this charge",
                 ["refund", "money back", "reimburse", "reimbursement", "chargeback"]),
        TopicDef("billing", "question about my bill, invoice, charges and payment amount",
                 ["bill", "billing", "invoice", "charged", "charge", "statement", "overcharged"]),
        TopicDef("cancellation", "I want to cancel my subscription or close my account",
                 ["cancel", "cancellation", "close my account", "unsubscribe", "terminate"]),
        TopicDef("technical_support", "the service is not working, there is an error or outage",
                 ["error", "not working", "broken", "outage", "crash", "bug", "restart", "reset"]),
        TopicDef("contract", "questions about my contract, plan terms, renewal and upgrade",
                 ["contract", "plan", "renewal", "upgrade", "downgrade", "terms", "commitment"]),
        TopicDef("delivery", "where is my order, the package delivery or shipment is late",
                 ["delivery", "shipping", "shipment", "package", "parcel", "tracking", "courier"]),
        TopicDef("account_access", "I cannot log in, forgot my password, account locked",
                 ["password", "log in", "login", "locked", "sign in", "two factor", "verification code"]),
        TopicDef("complaint", "I am unhappy with the service and want to make a complaint",
                 ["complaint", "complain", "unacceptable", "terrible", "ridiculous", "disappointed"]),
    ]  # fmt: skip


@dataclass
class TopicOptions:
    """`[topics]`: the taxonomy and how topics are scored."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    taxonomy: list[TopicDef] = field(default_factory=_default_taxonomy)
    threshold: float = 0.35
    max_topics: int = 3
    hint_weight: float = 0.35

    def __post_init__(self) -> None:
        names = [t.name for t in self.taxonomy]
        if len(set(names)) != len(names):
            raise ValueError(f"topics.taxonomy: duplicate topic names in {names}")
        if not 0 <= self.threshold <= 1 or not 0 <= self.hint_weight <= 1:
            raise ValueError("topics.threshold and topics.hint_weight must be between 0 and 1")
        if self.max_topics < 1:
            raise ValueError("topics.max_topics must be at least 1")


@dataclass(slots=True)
class TopicScore:
    topic: str
    score: float
    semantic: float
    hints: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"topic": self.topic, "score": self.score, "semantic": self.semantic, "hints": self.hints}


class TopicModel:
    """The taxonomy encoded once; `score` is then a few dot products per interaction."""

    def __init__(self, options: TopicOptions, embed: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.options = options
        self.topics = options.taxonomy
        self.vectors = embed([t.description for t in self.topics]) if self.topics else np.zeros((0, 0))
        self._hint_res = [
            [(h, re.compile(r"\b" + r"\s+".join(map(re.escape, h.lower().split())) + r"\b")) for h in t.hints]
            for t in self.topics
        ]
        #: a literal pre-check over every hint regex at once: most hints' words are not in a
        #: conversation, and their regex then need not scan it (the same hints are found)
        self._hint_filter = PatternFilter([rx for hs in self._hint_res for _h, rx in hs])

    def score(self, turns: Sequence[Turn], turn_vectors: np.ndarray) -> list[TopicScore]:
        """Topics above the threshold, best first."""
        keep = [i for i, t in enumerate(turns) if t.speaker in ("agent", "customer") and t.text.strip()]
        if not keep or not self.topics:
            return []
        vecs = turn_vectors[keep]
        doc = vecs.mean(axis=0)
        norm = float(np.linalg.norm(doc))
        if norm == 0:
            return []
        doc = doc / norm
        sims_doc = self.vectors @ doc
        sims_turn = (vecs @ self.vectors.T).max(axis=0)
        text = " ".join(turns[i].text.lower() for i in keep)
        w = self.options.hint_weight
        out = []
        live = self._hint_filter.live(text)
        j = 0  # index of the topic's first hint in the filter's list
        for k, topic in enumerate(self.topics):
            hints = self._hint_res[k]
            found = [h for n, (h, rx) in enumerate(hints) if (live is None or live[j + n]) and rx.search(text)]
            j += len(hints)
            semantic = float((sims_doc[k] + sims_turn[k]) / 2)
            s = (1 - w) * semantic + w * min(1.0, len(found) / 2)
            if s >= self.options.threshold:
                out.append(TopicScore(topic.name, round(s, 4), round(semantic, 4), found))
        out.sort(key=lambda t: -t.score)
        return out[: self.options.max_topics]
