"""Conversation metrics: pure functions of an interaction's turns (no models, no I/O).

Calls (definitions follow Amazon Connect Contact Lens and the sales tools in
shared/METRICS.md):

- **speech intervals**: a speaker's words (merged across pauses shorter than
  `merge_gap_seconds`), or the turn's start/end when a turn has no word timings;
- **talk time** per speaker = length of the union of that speaker's intervals;
  **agent talk ratio** = agent talk / call duration (Contact Lens) and **agent talk share**
  = agent / (agent + customer) talk (the sales "talk ratio");
- **non-talk time** = every stretch longer than `non_talk_min_seconds` (3 s) in which
  nobody speaks, including the start and the end of the call, in seconds and % of duration;
- **interruptions**: a speaker starts while the other is still speaking and they overlap for
  at least `interruption_min_overlap` seconds; counted per interrupter, with the total
  overlapping seconds;
- **talk speed**: words per minute of that speaker's talk time;
- **longest monologue**: the longest stretch of one speaker's consecutive speech not broken
  by the other speaker or by a non-talk gap;
- **agent questions**: sentences of the agent ending in "?", or, in unpunctuated text,
  starting with a question word.

Chats and e-mails (by `sent_at`): **first response** = first agent message after the first
customer message; **mean response** over every customer->agent hand-over, measured from
the first unanswered customer message; **turns**; **time to close** = ended_at - started_at
(or last - first message).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.records import Interaction, Turn

PARTIES = ("agent", "customer")


@dataclass
class MetricsOptions:
    """Thresholds of the call metrics (part of `[analysis]`)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    non_talk_min_seconds: float = 3.0
    interruption_min_overlap: float = 0.5
    merge_gap_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.non_talk_min_seconds <= 0 or self.interruption_min_overlap < 0 or self.merge_gap_seconds < 0:
            raise ValueError("metric thresholds must be positive numbers of seconds")


@dataclass(frozen=True, slots=True)
class Interval:
    speaker: str
    start: float
    end: float

    @property
    def length(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(slots=True)
class Interruption:
    """`by` cut in on `on` at `at` seconds; they talked over each other for `overlap` s."""

    by: str
    on: str
    at: float
    overlap: float


def speech_intervals(turns: Sequence[Turn], merge_gap: float = 1.0) -> list[Interval]:
    """Per-speaker speech stretches, sorted by start (see module docstring)."""
    raw: dict[str, list[tuple[float, float]]] = {}
    for t in turns:
        if t.words:
            spans = [(w.start, w.end) for w in t.words if w.end >= w.start]
        elif t.start is not None and t.end is not None:
            spans = [(t.start, t.end)]
        else:
            spans = []
        raw.setdefault(t.speaker, []).extend(spans)
    out: list[Interval] = []
    for speaker, spans in raw.items():
        spans.sort()
        cur_s: float | None = None
        cur_e = 0.0
        for s, e in spans:
            if cur_s is None:
                cur_s, cur_e = s, e
            elif s - cur_e <= merge_gap:
                cur_e = max(cur_e, e)
            else:
                out.append(Interval(speaker, cur_s, cur_e))
                cur_s, cur_e = s, e
        if cur_s is not None:
            out.append(Interval(speaker, cur_s, cur_e))
    out.sort(key=lambda iv: (iv.start, iv.end))
    return out


def _union(intervals: Sequence[Interval]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if merged and iv.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], iv.end)
        else:
            merged.append([iv.start, iv.end])
    return [(a, b) for a, b in merged]


def talk_time(intervals: Sequence[Interval]) -> dict[str, float]:
    by: dict[str, list[Interval]] = {}
    for iv in intervals:
        by.setdefault(iv.speaker, []).append(iv)
    return {sp: round(sum(b - a for a, b in _union(ivs)), 3) for sp, ivs in by.items()}


def non_talk(intervals: Sequence[Interval], duration: float, min_gap: float = 3.0) -> list[tuple[float, float]]:
    """Stretches longer than `min_gap` seconds with nobody speaking."""
    gaps: list[tuple[float, float]] = []
    pos = 0.0
    for a, b in _union(intervals):
        if a - pos > min_gap:
            gaps.append((pos, a))
        pos = max(pos, b)
    if duration - pos > min_gap:
        gaps.append((pos, duration))
    return gaps


def interruptions(intervals: Sequence[Interval], min_overlap: float = 0.5) -> list[Interruption]:
    """Each time a speaker starts while another's stretch is running (overlap >= min)."""
    found: list[Interruption] = []
    for b in intervals:
        for a in intervals:
            if a.speaker == b.speaker or not a.start < b.start < a.end:
                continue
            overlap = min(a.end, b.end) - b.start
            if overlap >= min_overlap:
                found.append(Interruption(b.speaker, a.speaker, round(b.start, 3), round(overlap, 3)))
                break
    return found


def overlap_seconds(intervals: Sequence[Interval]) -> float:
    """Total time in which two or more speakers talk at once."""
    events: list[tuple[float, int]] = []
    for iv in intervals:
        events += [(iv.start, 1), (iv.end, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    total, active, last = 0.0, 0, 0.0
    for t, d in events:
        if active >= 2:
            total += t - last
        active += d
        last = t
    return round(total, 3)


def longest_monologue(intervals: Sequence[Interval], max_gap: float = 3.0) -> dict[str, float]:
    """Per speaker: the longest run of their stretches with no other speaker in between.

    A silence longer than `max_gap` (the non-talk threshold) ends a monologue too.
    """
    best: dict[str, float] = {}
    run_speaker: str | None = None
    run_start = run_end = 0.0
    for iv in sorted(intervals, key=lambda i: i.start):
        if iv.speaker == run_speaker and iv.start - run_end <= max_gap:
            run_end = max(run_end, iv.end)
        else:
            if run_speaker is not None:
                best[run_speaker] = max(best.get(run_speaker, 0.0), run_end - run_start)
            run_speaker, run_start, run_end = iv.speaker, iv.start, iv.end
    if run_speaker is not None:
        best[run_speaker] = max(best.get(run_speaker, 0.0), run_end - run_start)
    return {k: round(v, 3) for k, v in best.items()}


_WORD = re.compile(r"[\w']+")
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
_QUESTION_WORDS = {
    "what", "why", "how", "when", "where", "who", "which", "whose", "can", "could", "would",
    "will", "do", "does", "did", "is", "are", "was", "were", "may", "shall", "should", "have", "has",
}  # fmt: skip


def count_questions(text: str) -> int:
    """Sentences ending in '?', or starting with a question word when there is no punctuation."""
    punctuated = any(ch in text for ch in ".?!")
    n = 0
    for sent in _SENTENCE.findall(text):
        s = sent.strip()
        if not s:
            continue
        if s.endswith("?"):
            n += 1
        elif not punctuated:
            first = _WORD.findall(s.lower())[:1]
            if first and first[0] in _QUESTION_WORDS:
                n += 1
    return n


def word_count(turn: Turn) -> int:
    return len(turn.words) if turn.words else len(_WORD.findall(turn.text))


def call_metrics(interaction: Interaction, options: MetricsOptions | None = None) -> dict[str, Any]:
    """The call metrics (see module docstring); keys are stable for queries and rules."""
    opts = options or MetricsOptions()
    turns = interaction.turns
    ivs = speech_intervals(turns, opts.merge_gap_seconds)
    last_end = max((t.end for t in turns if t.end is not None), default=0.0)
    duration = float(interaction.duration or 0.0) or last_end
    duration = max(duration, last_end)
    talk = talk_time(ivs)
    agent_talk = talk.get("agent", 0.0)
    customer_talk = talk.get("customer", 0.0)
    gaps = non_talk(ivs, duration, opts.non_talk_min_seconds)
    nt = round(sum(b - a for a, b in gaps), 3)
    inter = interruptions(ivs, opts.interruption_min_overlap)
    words: dict[str, int] = {}
    for t in turns:
        words[t.speaker] = words.get(t.speaker, 0) + word_count(t)
    wpm = {sp: round(words.get(sp, 0) / (talk[sp] / 60.0), 1) for sp in talk if talk[sp] > 0}
    mono = longest_monologue(ivs, opts.non_talk_min_seconds)
    return {
        "duration_seconds": round(duration, 3),
        "talk_seconds": {p: talk.get(p, 0.0) for p in sorted(set(talk) | set(PARTIES))},
        "agent_talk_ratio": round(agent_talk / duration, 4) if duration else None,
        "agent_talk_share": round(agent_talk / (agent_talk + customer_talk), 4)
        if agent_talk + customer_talk
        else None,
        "non_talk_seconds": nt,
        "non_talk_pct": round(100.0 * nt / duration, 2) if duration else None,
        "non_talk_spans": [[round(a, 3), round(b, 3)] for a, b in gaps],
        "interruptions": len(inter),
        "interruptions_by": {p: sum(1 for i in inter if i.by == p) for p in PARTIES},
        "interruption_seconds": round(sum(i.overlap for i in inter), 3),
        "interruption_list": [{"by": i.by, "on": i.on, "at": i.at, "overlap": i.overlap} for i in inter],
        "overlap_seconds": overlap_seconds(ivs),
        "words_per_minute": wpm,
        "longest_monologue_seconds": mono,
        "agent_questions": sum(count_questions(t.text) for t in turns if t.speaker == "agent"),
        "turns": len(turns),
    }


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)


def text_metrics(interaction: Interaction) -> dict[str, Any]:
    """Chat/e-mail metrics from `sent_at` (see module docstring)."""
    turns = [t for t in interaction.turns if t.sent_at is not None]
    turns.sort(key=lambda t: (t.sent_at, t.seq))  # type: ignore[arg-type, return-value]
    responses: list[float] = []
    waiting_since: datetime | None = None
    for t in turns:
        if t.speaker == "customer":
            if waiting_since is None:
                waiting_since = t.sent_at
        elif t.speaker == "agent" and waiting_since is not None:
            responses.append((t.sent_at - waiting_since).total_seconds())  # type: ignore[operator]
            waiting_since = None
    first = turns[0].sent_at if turns else None
    last = turns[-1].sent_at if turns else None
    start = interaction.started_at or first
    end = interaction.ended_at or last
    return {
        "turns": len(interaction.turns),
        "turns_by": {p: sum(1 for t in interaction.turns if t.speaker == p) for p in PARTIES},
        "first_response_seconds": round(responses[0], 3) if responses else None,
        "mean_response_seconds": round(sum(responses) / len(responses), 3) if responses else None,
        "responses": len(responses),
        "unanswered": waiting_since is not None,
        "time_to_close_seconds": _seconds(start, end),
        "agent_questions": sum(count_questions(t.text) for t in interaction.turns if t.speaker == "agent"),
    }


def compute(interaction: Interaction, options: MetricsOptions | None = None) -> dict[str, Any]:
    """Call metrics for calls with timings, text metrics otherwise."""
    has_times = any(t.start is not None and t.end is not None for t in interaction.turns)
    if interaction.channel == "call" and has_times:
        out = call_metrics(interaction, options)
        out["kind"] = "call"
        return out
    out = text_metrics(interaction)
    out["kind"] = "text"
    return out
