"""Flags from analysis results: the built-in kinds and one per configured rule.

Built-in kinds: `angry_customer` (raised by the anger scorer), and the kinds the shipped
rules use (`compliance_missing`, `prohibited_phrase`, `escalation_request`,
`churn_risk`); a configured rule without `flag = ...` raises `rule:<name>`. One flag per
(kind, rule) per interaction: `store.flags.replace_for_interaction` keys them so a rescore
updates the same flag and keeps its human review.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.rules import RuleHit
from store.records import Flag, severity_value

BUILT_IN_KINDS = ("angry_customer", "compliance_missing", "prohibited_phrase", "escalation_request", "churn_risk")
MAX_EVIDENCE = 10


def _dedupe(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same span matched by two alternatives of a rule is one piece of evidence."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for e in evidence:
        key = (e.get("seq"), e.get("char_start"), e.get("char_end"), e.get("absent"), e.get("metric"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out[:MAX_EVIDENCE]


def from_rule_hits(interaction_id: int, hits: Sequence[RuleHit]) -> list[Flag]:
    """One flag per rule that fired."""
    flags = []
    for h in hits:
        ev = _dedupe(h.evidence)
        for e in ev:
            e.setdefault("rule", h.rule.name)
        already = any("not_counted" in e for e in ev)
        if h.not_counted and not already:
            # matches that did not count (and why), in one entry without a span, so viewers
            # that highlight evidence spans do not mark them as flagged
            ev.append({"rule": h.rule.name, "not_counted": h.not_counted})
        summary = h.rule.description or h.rule.kind
        first = next((e for e in ev if "matched" in e and e.get("counted", True)), None)
        if first is not None:
            summary = f'{summary} ("{first["matched"]}", turn {first["seq"]})'
        flags.append(
            Flag(
                interaction_id=interaction_id,
                kind=h.rule.kind,
                rule=h.rule.name,
                severity=severity_value(h.rule.severity),
                score=round(h.score / 100.0, 3) if h.score is not None else None,
                evidence=ev,
                summary=summary,
            )
        )
    return flags


def collect(interaction_id: int, anger_flag: Flag | None, hits: Sequence[RuleHit]) -> list[Flag]:
    """All flags of one interaction: the anger flag (if raised) and the rule flags."""
    out: list[Flag] = []
    if anger_flag is not None:
        anger_flag.interaction_id = interaction_id
        out.append(anger_flag)
    out += from_rule_hits(interaction_id, hits)
    # two configured rules may raise the same kind: their (kind, rule) keys still differ
    return out
