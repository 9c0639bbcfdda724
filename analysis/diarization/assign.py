"""Which diarized speaker is the agent: evidence in, (agent speaker, confidence) out.

Each speaker gets a score in log-odds of being the agent, from four kinds of evidence:

- **voiceprint** (strongest): cosine similarity of the speaker's centroid to the agent's
  enrolled voiceprint (store/speakers.py), relative to the other speakers;
- **who speaks first**: on an inbound call the agent answers; on an outbound call the
  customer does ("hello?");
- **agent phrases**: greetings and closings only an agent says ("thank you for calling",
  "is there anything else", "this call may be recorded", "my name is ... how can I help");
- **questions asked**: agents ask more (account numbers, confirmations); weak, capped.

The agent is the best-scoring speaker; the confidence is the logistic of its lead over the
runner-up, so two speakers with no evidence either way get 0.5. The weights are fixed here
and were set on the bench's dev calls only (bench/data/README.md). Pure: no audio, no store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

AGENT_PHRASES: dict[str, re.Pattern[str]] = {
    name: re.compile(p, re.I)
    for name, p in {
        "thanks_for_calling": r"\bthanks? (you )?for (calling|contacting|holding|your patience)\b",
        "how_can_i_help": r"\bhow (can|may|might) i (help|assist)\b|\bwhat can i do for you\b",
        "anything_else": r"\b(is there )?anything else i can (help|do|assist)\b",
        "recorded": r"\b(call|conversation) (may|will|might) be recorded\b",
        "you_are_through": r"\byou('re| are) (through|speaking|connected) to\b",
        "this_is_calling_from": r"\bcalling (you )?from\b",
        "have_a_good_day": r"\bhave an? (great|good|nice|wonderful) (day|evening|afternoon|weekend)\b",
    }.items()
}
W_VOICEPRINT = 25.0  # per unit of cosine lead (a 0.2 lead = 5 logits)
W_FIRST = 1.0
W_PHRASE = 1.5  # per phrase kind, at most 3 kinds count
W_QUESTION = 0.25  # per question more than the other speakers' mean, at most 4 count


@dataclass(slots=True)
class Assignment:
    """The agent's speaker index, how sure, and the evidence per speaker (numbers only)."""

    agent: int
    confidence: float
    scores: list[float]
    evidence: dict[str, Any] = field(default_factory=dict)


def phrases(text: str) -> list[str]:
    """Names of the agent phrases in `text`."""
    return [name for name, rx in AGENT_PHRASES.items() if rx.search(text)]


def assign(
    n_speakers: int,
    texts: Sequence[str],
    first_speaker: int | None,
    direction: str | None,
    centroids: np.ndarray | None = None,
    voiceprint: np.ndarray | None = None,
) -> Assignment:
    """Score every speaker as the agent (see the module docstring).

    `texts[j]` is everything speaker j said; `first_speaker` who spoke first (None: nobody);
    `direction` "inbound"/"outbound"/None; `voiceprint` the enrolled agent's unit vector.
    """
    if n_speakers <= 0:
        return Assignment(-1, 0.0, [], {})
    scores = np.zeros(n_speakers)
    ev: dict[str, Any] = {}
    if voiceprint is not None and centroids is not None and len(centroids) == n_speakers:
        sims = centroids @ (voiceprint / max(float(np.linalg.norm(voiceprint)), 1e-9))
        for j in range(n_speakers):
            others = np.delete(sims, j)
            lead = sims[j] - (others.max() if len(others) else 0.0)
            scores[j] += W_VOICEPRINT * lead if lead > 0 else 0.0
        ev["voiceprint_similarity"] = [round(float(s), 3) for s in sims]
    if first_speaker is not None and 0 <= first_speaker < n_speakers and direction in ("inbound", "outbound"):
        scores[first_speaker] += W_FIRST if direction == "inbound" else -W_FIRST
        ev["first_speaker"] = first_speaker
    found = [phrases(t) for t in texts]
    for j, names in enumerate(found):
        scores[j] += W_PHRASE * min(len(names), 3)
    ev["phrases"] = found
    questions = [t.count("?") for t in texts]
    for j in range(n_speakers):
        others = [q for i, q in enumerate(questions) if i != j]
        more = questions[j] - (sum(others) / len(others) if others else 0.0)
        scores[j] += W_QUESTION * max(-4.0, min(4.0, more))
    ev["questions"] = questions
    order = np.argsort(-scores)
    agent = int(order[0])
    lead = float(scores[order[0]] - scores[order[1]]) if n_speakers > 1 else 10.0
    conf = 1.0 / (1.0 + math.exp(-lead))
    ev["scores"] = [round(float(s), 3) for s in scores]
    return Assignment(agent, round(conf, 4), [float(s) for s in scores], ev)
