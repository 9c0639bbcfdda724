"""How sure a verdict is, from its own evidence: the basis of confidence routing.

A flag raised on a misheard word is the one a person should hear first. Each flag gets a
confidence in [0, 1], the product of what its evidence says (each part in [0, 1]):

- `asr`: Whisper's probabilities of the words under the evidence span (calls), their mean;
  for an *absent* phrase ("the disclosure was never said") the mean over the agent's words,
  since a disclosure missing from a bad transcript may well have been said;
- `match`: how well the rule matched (exact 100, fuzzy/phonetic lower), the best piece;
- `model`: the anger model's probability for the angriest turn;
- `speaker`: on a diarized mono call (analysis/diarization/), how sure the agent/customer
  assignment is (`meta["speaker_confidence"]` of the evidence's turns, the agent's turns
  for an absent phrase): a verdict about "the agent" is only as sure as knowing who that is,
  so a low-confidence assignment sends the call's speaker-dependent flags to review.

Parts that do not apply are left out (text channels have no ASR part); a flag with no part
at all gets None (unknown: not routed, there is nothing to judge). Pure: flags and turns in,
confidences out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from store.records import Flag, Turn


def parts(flag: Flag, turns: Sequence[Turn]) -> dict[str, float]:
    """The named parts of a flag's confidence (see the module docstring)."""
    by_seq = {t.seq: t for t in turns}
    asr: list[float] = []
    match: list[float] = []
    model: list[float] = []
    speaker: list[float] = []
    for e in flag.evidence or []:
        if not isinstance(e, dict):
            continue
        t = by_seq.get(e.get("seq")) if isinstance(e.get("seq"), int) else None
        s, end = e.get("start"), e.get("end")
        if t is not None and t.words and isinstance(s, int | float) and isinstance(end, int | float):
            asr += [w.probability for w in t.words if w.end > s and w.start < end]
        elif e.get("absent"):
            asr += [w.probability for tt in turns if tt.speaker == "agent" and tt.words for w in tt.words]
        about = [t] if t is not None else [tt for tt in turns if tt.speaker == "agent"] if e.get("absent") else []
        speaker += [float(tt.meta["speaker_confidence"]) for tt in about
                    if isinstance((tt.meta or {}).get("speaker_confidence"), int | float)]  # fmt: skip
        if isinstance(e.get("score"), int | float) and "matched" in e:
            match.append(min(1.0, max(0.0, float(e["score"]) / 100.0)))
        if isinstance(e.get("probability"), int | float):
            model.append(min(1.0, max(0.0, float(e["probability"]))))
    out: dict[str, float] = {}
    if asr:
        out["asr"] = sum(asr) / len(asr)
    if match:
        out["match"] = max(match)
    if model:
        out["model"] = max(model)
    if speaker:
        out["speaker"] = min(speaker)
    return out


def confidence(flag: Flag, turns: Sequence[Turn]) -> float | None:
    got = parts(flag, turns)
    return round(math.prod(got.values()), 4) if got else None


def annotate(flags: Sequence[Flag], turns: Sequence[Turn]) -> None:
    """Set `flag.confidence` on each flag (and record its parts in `flag.evidence`'s first
    entry under `confidence_parts`, so a reviewer can see why)."""
    for f in flags:
        got = parts(f, turns)
        f.confidence = round(math.prod(got.values()), 4) if got else None
        if got and f.evidence and isinstance(f.evidence[0], dict):
            f.evidence[0]["confidence_parts"] = {k: round(v, 3) for k, v in got.items()}


def describe(value: Any) -> str:
    return "unknown" if value is None else f"{float(value):.0%}"
