"""Conversation-level sentiment on the −5…+5 scale, per speaker and per quarter.

Amazon Connect Contact Lens labels every turn and computes, for each period of the call, a
−5…+5 score "from how often each label occurs and from streaks of consecutive turns with the
same label"; the call's score is the mean of its period scores. AWS does not publish the
exact weights, so Convoscope fixes them as follows (documented in the README):

* each turn's value is +1 (positive), 0 (neutral) or −1 (negative);
* a turn that continues a streak of the same label weighs more: the k-th turn of a streak
  has weight min(k, 3) (1, 2, 3, 3, …), so a run of angry turns outweighs one isolated
  angry remark; for a speaker's score the streak runs over that speaker's own turns, for
  the overall score over the conversation's turns; streaks run across period boundaries;
* a period's score = 5 × Σ(weight × value) / Σ(weight) over the turns in that period, so
  all-positive is +5, all-negative −5, all-neutral 0;
* there are four periods (quarters): calls split the span first-turn-start → last-turn-end
  into four equal times and a turn belongs to the quarter of its midpoint; text channels
  split by turn index (turn i of n is in quarter ⌊4i / n⌋);
* a speaker's score is the mean of the quarters in which that speaker has turns; the
  trend lists all four quarters, a quarter without turns of that speaker scoring 0
  (neutral);
* agent (and bot) and customer scores are always reported separately, and the interaction's
  `overall` score **is the customer's score**: an interaction is as positive or negative as
  the customer was. (Mixing in the agent's turns made every call look like its agent's
  script; Contact Lens, too, shows the customer's sentiment as the headline.) Only an
  interaction without customer turns (e.g. an outbound e-mail nobody answered) falls back to
  the agent side's turns, so `overall` is None only when there are no scored turns at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.sentiment.classifier import TurnSentiment
from store.records import Turn

QUARTERS = 4
MAX_STREAK_WEIGHT = 3
_VALUE = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
_AGENT_SIDE = ("agent", "bot")


@dataclass(slots=True)
class SentimentSummary:
    """Scores on −5…+5; `None` when that speaker has no turns."""

    overall: float | None
    agent: float | None
    customer: float | None
    customer_trend: list[float] = field(default_factory=list)
    agent_trend: list[float] = field(default_factory=list)


def quarters(turns: Sequence[Turn]) -> list[int]:
    """Quarter index (0..3) of each turn: by time for calls, by position otherwise."""
    n = len(turns)
    timed = n > 0 and all(t.start is not None and t.end is not None for t in turns)
    if timed:
        begin = min(t.start for t in turns)  # type: ignore[type-var]
        end = max(t.end for t in turns)  # type: ignore[type-var]
        span = end - begin
        if span > 0:
            return [
                min(QUARTERS - 1, int(QUARTERS * (((t.start + t.end) / 2) - begin) / span))  # type: ignore[operator]
                for t in turns
            ]
    return [min(QUARTERS - 1, (QUARTERS * i) // n) for i in range(n)]


def streak_weights(labels: Sequence[str]) -> list[float]:
    """min(k, 3) for the k-th turn of each run of equal labels."""
    out: list[float] = []
    run = 0
    for i, label in enumerate(labels):
        run = run + 1 if i and labels[i - 1] == label else 1
        out.append(float(min(run, MAX_STREAK_WEIGHT)))
    return out


def period_scores(labels: Sequence[str], periods: Sequence[int]) -> list[float | None]:
    """Score per quarter for one sequence of turns (None where a quarter is empty)."""
    weights = streak_weights(labels)
    num = [0.0] * QUARTERS
    den = [0.0] * QUARTERS
    for label, w, q in zip(labels, weights, periods, strict=True):
        num[q] += w * _VALUE.get(label, 0.0)
        den[q] += w
    return [round(5.0 * num[q] / den[q], 3) if den[q] else None for q in range(QUARTERS)]


def _score(labels: list[str], periods: list[int]) -> tuple[float | None, list[float]]:
    if not labels:
        return None, [0.0] * QUARTERS
    per = period_scores(labels, periods)
    present = [p for p in per if p is not None]
    return round(sum(present) / len(present), 3), [0.0 if p is None else p for p in per]


def summarise(turns: Sequence[Turn], sentiments: Sequence[TurnSentiment]) -> SentimentSummary:
    """Contact-Lens-style scores for one conversation (see the module docstring)."""
    if len(turns) != len(sentiments):
        raise ValueError(f"{len(turns)} turns but {len(sentiments)} sentiments")
    order = sorted(range(len(turns)), key=lambda i: turns[i].seq)
    ts = [turns[i] for i in order]
    ss = [sentiments[i] for i in order]
    q = quarters(ts)

    def pick(keep: tuple[str, ...]) -> tuple[list[str], list[int]]:
        idx = [i for i, t in enumerate(ts) if t.speaker in keep]
        return [ss[i].label for i in idx], [q[i] for i in idx]

    agent, agent_trend = _score(*pick(_AGENT_SIDE))
    customer, customer_trend = _score(*pick(("customer",)))
    overall = customer if customer is not None else agent
    return SentimentSummary(overall, agent, customer, customer_trend, agent_trend)
