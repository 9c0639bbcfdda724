"""The rule conditions that read no turn text: metric thresholds (`metric`), the interaction's
attributes (`channel`, `queue`, `agent`) and the combinators `all`, `any` and `not`.

They live apart from the text conditions (analysis.conditions: phrase, near, semantic and
their clause reading) because that module had grown past 600 lines and these are one job:
combining outcomes and comparing numbers, with no matching, clause reading or encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analysis.conditions import MAX_NOT_COUNTED, Condition, Outcome, RuleContext, _negated

#: a metric condition's comparison keys
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
}  # fmt: skip


class MetricCondition(Condition):
    def __init__(self, metric: str, ops: dict[str, float]) -> None:
        self.metric, self.ops = metric, ops

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        v = ctx.values.get(self.metric)
        if v is None or not isinstance(v, int | float):
            return Outcome(False, [])
        ok = all(_OPS[op](float(v), val) for op, val in self.ops.items())
        return Outcome(
            ok, [{"metric": self.metric, "value": v, "condition": self.describe()}] if ok else []
        )

    def describe(self) -> str:
        sym = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=="}
        return " and ".join(f"{self.metric} {sym[o]} {v:g}" for o, v in self.ops.items())


class AttributeCondition(Condition):
    def __init__(self, attr: str, values: list[str]) -> None:
        self.attr, self.values = attr, values

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        v = getattr(ctx.interaction, self.attr)
        ok = v is not None and str(v) in self.values
        return Outcome(ok, [{self.attr: v, "condition": self.describe()}] if ok else [])

    def describe(self) -> str:
        return f"{self.attr} in {self.values}"


class AllCondition(Condition):
    def __init__(self, parts: list[Condition]) -> None:
        self.parts = parts

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        ev: list[dict[str, Any]] = []
        scores = []
        skipped: list[dict[str, Any]] = []
        for p in self.parts:
            out = p.evaluate(ctx)
            skipped += out.not_counted
            if not out.ok:
                return Outcome(False, [], None, skipped[:MAX_NOT_COUNTED])
            ev += out.evidence
            if out.score is not None:
                scores.append(out.score)
        return Outcome(True, ev, min(scores) if scores else None, skipped[:MAX_NOT_COUNTED])

    def describe(self) -> str:
        return "all of (" + "; ".join(p.describe() for p in self.parts) + ")"

    def uses_semantic(self) -> bool:
        return any(p.uses_semantic() for p in self.parts)


class AnyCondition(AllCondition):
    def _evaluate(self, ctx: RuleContext) -> Outcome:
        ev: list[dict[str, Any]] = []
        scores = []
        ok = False
        skipped: list[dict[str, Any]] = []
        for p in self.parts:
            out = p.evaluate(ctx)
            skipped += out.not_counted
            if out.ok:
                ok = True
                ev += out.evidence
                if out.score is not None:
                    scores.append(out.score)
        return Outcome(ok, ev, max(scores) if scores else None, _unique(skipped)[:MAX_NOT_COUNTED])

    def describe(self) -> str:
        return "any of (" + "; ".join(p.describe() for p in self.parts) + ")"


class NotCondition(Condition):
    def __init__(self, inner: Condition) -> None:
        self.inner = inner

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        return _negated(self.inner.evaluate(ctx), self.inner.describe())

    def describe(self) -> str:
        return f"not {self.inner.describe()}"

    def uses_semantic(self) -> bool:
        return self.inner.uses_semantic()


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeats (two alternatives of one rule finding the same words)."""
    seen, out = set(), []
    for e in items:
        key = (e.get("seq"), e.get("matched"), e.get("why"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
