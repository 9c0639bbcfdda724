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
PARTS = ("voiceprint", "first", "phrases", "questions")

#: The confidence as a logistic over the evidence margins (issue #16). Calibration was
#: checked on the 60 dev calls × 4 conditions (`bench/diarization_calibrate.py --fit`,
#: leave-one-call-out; bench/data/README.md): with 5 wrong of 240, no fitted model
#: (logistic over the margins, Platt or isotonic over the lead) beat these, the hand
#: weights (log-loss 0.054 vs 0.056 at best; the fits raised first-speaker evidence and so
#: routed fewer wrong agents to review), so the weights above are kept as the calibration.
#: Dev reliability: 4 of the 5 wrong assignments fall below 0.6 and go to review.
CALIBRATION: dict[str, float] = {
    "intercept": 0.0, "voiceprint": W_VOICEPRINT, "first": W_FIRST, "phrases": W_PHRASE,
    "questions": W_QUESTION, "voiceprint_known": 0.0,
}


@dataclass(slots=True)
class Assignment:
    """The agent's speaker index, how sure, and the evidence per speaker (numbers only)."""

    agent: int
    confidence: float
    scores: list[float]
    evidence: dict[str, Any] = field(default_factory=dict)
    #: the chosen speaker's evidence minus the runner-up's, per kind (`PARTS`), and
    #: whether a voiceprint was there to compare: what `calibrated` reads
    margins: dict[str, float] = field(default_factory=dict)


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
    # each kind of evidence per speaker, in its own units (margins are taken of these)
    parts = {k: np.zeros(n_speakers) for k in PARTS}
    ev: dict[str, Any] = {}
    if voiceprint is not None and centroids is not None and len(centroids) == n_speakers:
        sims = centroids @ (voiceprint / max(float(np.linalg.norm(voiceprint)), 1e-9))
        for j in range(n_speakers):
            others = np.delete(sims, j)
            lead = sims[j] - (others.max() if len(others) else 0.0)
            parts["voiceprint"][j] = max(0.0, float(lead))
        ev["voiceprint_similarity"] = [round(float(s), 3) for s in sims]
    if first_speaker is not None and 0 <= first_speaker < n_speakers and direction in ("inbound", "outbound"):
        parts["first"][first_speaker] = 1.0 if direction == "inbound" else -1.0
        ev["first_speaker"] = first_speaker
    found = [phrases(t) for t in texts]
    for j, names in enumerate(found):
        parts["phrases"][j] = min(len(names), 3)
    ev["phrases"] = found
    questions = [t.count("?") for t in texts]
    for j in range(n_speakers):
        others = [q for i, q in enumerate(questions) if i != j]
        more = questions[j] - (sum(others) / len(others) if others else 0.0)
        parts["questions"][j] = max(-4.0, min(4.0, more))
    ev["questions"] = questions
    weights = {"voiceprint": W_VOICEPRINT, "first": W_FIRST, "phrases": W_PHRASE, "questions": W_QUESTION}
    scores = sum(weights[k] * parts[k] for k in PARTS)
    order = np.argsort(-scores)
    agent = int(order[0])
    if n_speakers > 1:
        lead = float(scores[order[0]] - scores[order[1]])
        margins = {k: float(parts[k][order[0]] - parts[k][order[1]]) for k in PARTS}
    else:
        lead, margins = 10.0, {k: 0.0 for k in PARTS}
    margins["voiceprint_known"] = 1.0 if "voiceprint_similarity" in ev else 0.0
    raw = 1.0 / (1.0 + math.exp(-lead))
    conf = calibrated(margins) if n_speakers > 1 else raw
    ev["scores"] = [round(float(s), 3) for s in scores]
    ev["margins"] = {k: round(v, 4) for k, v in margins.items()}
    ev["raw_confidence"] = round(raw, 4)
    return Assignment(agent, round(conf, 4), [float(s) for s in scores], ev, margins)


def calibrated(margins: dict[str, float], calibration: dict[str, float] | None = None) -> float:
    """P(the chosen agent is the agent) from the evidence margins (see `CALIBRATION`)."""
    c = CALIBRATION if calibration is None else calibration
    z = c["intercept"] + sum(c.get(k, 0.0) * v for k, v in margins.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
