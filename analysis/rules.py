"""The rules engine: categories and compliance checks written in TOML (`[[rules]]`).

A rule raises a flag when its `when` condition holds. A condition is a TOML table with one
of these keys (the README and config.example.toml carry the full schema):

- `phrase = "..."` (or a list: any of them) — exact, fuzzy (`fuzzy`, 0-100, default 85;
  100 = exact only) or phonetic (`phonetic = true`) match, see `analysis.matching`;
- `near = ["refund", "never"]`, `distance = 5` — two words within N words of each other;
- `semantic = "..."` (or a list), `threshold = 0.6` — MiniLM cosine similarity of a turn
  (long turns such as e-mails also sentence by sentence, the best sentence is the evidence);
- `metric = "non_talk_seconds"` with `gt`/`ge`/`lt`/`le`/`eq` — conversation metrics,
  sentiment (−5..+5) and anger (0..1), see `METRICS`;
- `channel`, `queue`, `agent` = a value or a list — the interaction's attributes;
- `all = [...]`, `any = [...]` — combinators; `not = {...}` — negation.

Text conditions take a scope: `speaker` (agent / customer / any), `within_seconds` (from the
start of the conversation; calls by audio time, text channels by message time),
`within_turns` (the first N turns). Any condition may carry `negate = true`.
Negation is how compliance is written: "the disclosure was NOT said by the agent in the
first 60 s" is `not = { phrase = "...", speaker = "agent", within_seconds = 60 }`.
Matches record evidence: turn seq, speaker, character span, time and how it matched; an
absence records what was looked for.

Why hand-rolled and not a generic rules library: the conditions are conversation-aware
(speaker, time window, ASR-tolerant matching); the combinators are a few lines; and the
evidence format is what reviewers see.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

import numpy as np

from analysis.matching import Match, TurnText, find_near, find_phrase
from store.records import CHANNELS, Interaction, severity_value

SPEAKER_SCOPES = ("agent", "customer", "any")

#: metric names a rule may test (flattened keys of scores.metrics plus sentiment/anger)
METRICS: tuple[str, ...] = (
    "sentiment", "sentiment_agent", "sentiment_customer", "customer_trend_start",
    "customer_trend_end", "agent_trend_start", "agent_trend_end", "anger",
    "duration_seconds", "agent_talk_ratio", "agent_talk_share", "non_talk_seconds", "non_talk_pct",
    "interruptions", "interruptions_by.agent", "interruptions_by.customer", "interruption_seconds",
    "overlap_seconds", "words_per_minute.agent", "words_per_minute.customer",
    "talk_seconds.agent", "talk_seconds.customer", "longest_monologue_seconds.agent",
    "longest_monologue_seconds.customer", "agent_questions", "turns", "first_response_seconds",
    "mean_response_seconds", "time_to_close_seconds",
)  # fmt: skip
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
}  # fmt: skip
#: turns longer than this are also compared sentence by sentence in semantic conditions
LONG_TURN_CHARS = 300
MAX_SENTENCES = 40
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_TEXT_KEYS = ("phrase", "near", "semantic")
_SCOPE_KEYS = ("speaker", "within_seconds", "within_turns")
_KIND_KEYS = (*_TEXT_KEYS, "metric", "channel", "queue", "agent", "all", "any", "not")
_MODIFIERS = {
    "phrase": {"fuzzy", "phonetic", *_SCOPE_KEYS},
    "near": {"distance", "fuzzy", *_SCOPE_KEYS},
    "semantic": {"threshold", *_SCOPE_KEYS},
    "metric": set(_OPS),
}


@dataclass
class RuleOptions:
    """One `[[rules]]` entry. The flag kind is `flag`, or `rule:<name>` when it is empty."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    name: str
    when: dict[str, Any]
    flag: str = ""
    severity: str = "medium"
    description: str = ""
    channels: list[str] = field(default_factory=list)
    enabled: bool = True

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"rule name {self.name!r}: use letters, digits, '_' or '-'")
        severity_value(self.severity)
        bad = [c for c in self.channels if c not in CHANNELS]
        if bad:
            raise ValueError(f"rule {self.name}: channels {bad} not in {', '.join(CHANNELS)}")
        compile_condition(self.when, f"rules.{self.name}.when")

    @property
    def kind(self) -> str:
        return self.flag or f"rule:{self.name}"


def default_rules() -> list[RuleOptions]:
    """The shipped example rules (analysis/rules_default.toml), used when config has none."""
    text = resources.files("analysis").joinpath("rules_default.toml").read_text("utf-8")
    return [RuleOptions(**r) for r in tomllib.loads(text)["rules"]]


# -- evaluation context -------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    ok: bool
    evidence: list[dict[str, Any]]
    score: float | None = None


class RuleContext:
    """One interaction prepared once for all rules: tokenised turns, times, metric values."""

    def __init__(
        self,
        interaction: Interaction,
        values: Mapping[str, Any],
        turn_vectors: np.ndarray | None = None,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        self.interaction = interaction
        self.turns = [TurnText(t) for t in interaction.turns]
        self.values = values
        self._vectors = turn_vectors
        self._embed = embed
        self._sentences: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}
        first: datetime | None = min((t.sent_at for t in interaction.turns if t.sent_at), default=None)
        self.offsets: list[float | None] = []
        for t in interaction.turns:
            if t.start is not None:
                self.offsets.append(t.start)
            elif t.sent_at is not None and first is not None:
                self.offsets.append((t.sent_at - first).total_seconds())
            else:
                self.offsets.append(None)

    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            if self._embed is None:
                raise RuntimeError("a semantic rule needs an embedding function")
            self._vectors = self._embed([t.text for t in self.interaction.turns])
        return self._vectors

    def sentences(self, i: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Sentence spans of a long turn and their vectors (encoded once, on first use).

        A whole e-mail as one vector blurs a single sentence that matters ("I want to speak
        to a manager"), so semantic conditions compare long turns sentence by sentence.
        """
        if i not in self._sentences:
            text = self.interaction.turns[i].text
            spans = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group(0).strip()]
            spans = spans[:MAX_SENTENCES] or [(0, len(text))]
            if self._embed is None:
                raise RuntimeError("a semantic rule needs an embedding function")
            self._sentences[i] = (spans, self._embed([text[a:b] for a, b in spans]))
        return self._sentences[i]


def flatten_values(metrics: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`{"talk_seconds": {"agent": 3}}` -> `{"talk_seconds.agent": 3}` plus `extra`."""
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    out.update(extra or {})
    return out


# -- conditions ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Scope:
    speaker: str = "any"
    within_seconds: float | None = None
    within_turns: int | None = None

    def turns(self, ctx: RuleContext) -> list[int]:
        out = []
        for i, tt in enumerate(ctx.turns):
            if self.within_turns is not None and i >= self.within_turns:
                break
            if self.speaker != "any" and tt.turn.speaker != self.speaker:
                continue
            off = ctx.offsets[i]
            if self.within_seconds is not None and off is not None and off > self.within_seconds:
                continue
            out.append(i)
        return out

    def describe(self) -> str:
        parts = []
        if self.speaker != "any":
            parts.append(f"by {self.speaker}")
        if self.within_seconds is not None:
            parts.append(f"in the first {self.within_seconds:g} s")
        if self.within_turns is not None:
            parts.append(f"in the first {self.within_turns} turns")
        return " ".join(parts)


class Condition:
    negate: bool = False

    def evaluate(self, ctx: RuleContext) -> Outcome:
        out = self._evaluate(ctx)
        if not self.negate:
            return out
        return _negated(out, self.describe())

    def _evaluate(self, ctx: RuleContext) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def uses_semantic(self) -> bool:
        return False


def _negated(out: Outcome, what: str) -> Outcome:
    if out.ok:
        return Outcome(False, [])
    return Outcome(True, [{"absent": what}])


def _evidence(ctx: RuleContext, i: int, m: Match, label: str) -> dict[str, Any]:
    tt = ctx.turns[i]
    return {
        "seq": tt.turn.seq,
        "speaker": tt.turn.speaker,
        "char_start": m.start,
        "char_end": m.end,
        "matched": tt.turn.text[m.start : m.end],
        "start": tt.time_at(m.start),
        "end": tt.time_at(m.end),
        "how": m.how,
        "score": m.score,
        "condition": label,
    }


class _TextCondition(Condition):
    scope: _Scope

    def _find(self, ctx: RuleContext, i: int) -> Match | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        ev = []
        for i in self.scope.turns(ctx):
            m = self._find(ctx, i)
            if m is not None:
                ev.append(_evidence(ctx, i, m, self.describe()))
        best = max((e["score"] for e in ev), default=None)
        return Outcome(bool(ev), ev, best)


class PhraseCondition(_TextCondition):
    def __init__(self, phrases: list[str], scope: _Scope, fuzzy: float, phonetic: bool) -> None:
        self.phrases, self.scope, self.fuzzy, self.phonetic = phrases, scope, fuzzy, phonetic

    def _find(self, ctx: RuleContext, i: int) -> Match | None:
        best = None
        for p in self.phrases:
            m = find_phrase(ctx.turns[i], p, fuzzy=self.fuzzy, phonetic=self.phonetic)
            if m is not None and (best is None or m.score > best.score):
                best = m
                if m.score >= 100:
                    break
        return best

    def describe(self) -> str:
        said = " / ".join(f'"{p}"' for p in self.phrases)
        return f"{said} {self.scope.describe()}".strip()


class NearCondition(_TextCondition):
    def __init__(self, first: str, second: str, distance: int, scope: _Scope, fuzzy: float) -> None:
        self.first, self.second, self.distance, self.scope, self.fuzzy = first, second, distance, scope, fuzzy

    def _find(self, ctx: RuleContext, i: int) -> Match | None:
        return find_near(ctx.turns[i], self.first, self.second, distance=self.distance, fuzzy=self.fuzzy)

    def describe(self) -> str:
        return f'"{self.first}" within {self.distance} words of "{self.second}" {self.scope.describe()}'.strip()


class SemanticCondition(Condition):
    def __init__(self, texts: list[str], threshold: float, scope: _Scope) -> None:
        self.texts, self.threshold, self.scope = texts, threshold, scope
        self.vectors: np.ndarray | None = None  # set by the engine (encoded once)

    def uses_semantic(self) -> bool:
        return True

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        idx = self.scope.turns(ctx)
        if not idx or self.vectors is None:
            return Outcome(False, [])
        sims = ctx.vectors()[idx] @ self.vectors.T
        ev = []
        for row, i in enumerate(idx):
            tt = ctx.turns[i]
            span = (0, len(tt.turn.text))
            s = float(sims[row].max())
            if len(tt.turn.text) > LONG_TURN_CHARS:
                spans, vecs = ctx.sentences(i)
                per_sentence = (vecs @ self.vectors.T).max(axis=1)
                best = int(per_sentence.argmax())
                if float(per_sentence[best]) > s:
                    s, span = float(per_sentence[best]), spans[best]
            if s >= self.threshold:
                m = Match(span[0], span[1], round(100 * s, 1), "semantic")
                ev.append(_evidence(ctx, i, m, self.describe()))
        return Outcome(bool(ev), ev, max((e["score"] for e in ev), default=None))

    def describe(self) -> str:
        return f'meaning like "{self.texts[0]}" (>= {self.threshold:g}) {self.scope.describe()}'.strip()


class MetricCondition(Condition):
    def __init__(self, metric: str, ops: dict[str, float]) -> None:
        self.metric, self.ops = metric, ops

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        v = ctx.values.get(self.metric)
        if v is None or not isinstance(v, int | float):
            return Outcome(False, [])
        ok = all(_OPS[op](float(v), val) for op, val in self.ops.items())
        return Outcome(ok, [{"metric": self.metric, "value": v, "condition": self.describe()}] if ok else [])

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
        for p in self.parts:
            out = p.evaluate(ctx)
            if not out.ok:
                return Outcome(False, [])
            ev += out.evidence
            if out.score is not None:
                scores.append(out.score)
        return Outcome(True, ev, min(scores) if scores else None)

    def describe(self) -> str:
        return "all of (" + "; ".join(p.describe() for p in self.parts) + ")"

    def uses_semantic(self) -> bool:
        return any(p.uses_semantic() for p in self.parts)


class AnyCondition(AllCondition):
    def _evaluate(self, ctx: RuleContext) -> Outcome:
        ev: list[dict[str, Any]] = []
        scores = []
        ok = False
        for p in self.parts:
            out = p.evaluate(ctx)
            if out.ok:
                ok = True
                ev += out.evidence
                if out.score is not None:
                    scores.append(out.score)
        return Outcome(ok, ev, max(scores) if scores else None)

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


def _str_list(v: Any, where: str) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return list(v)
    raise ValueError(f"{where}: expected a string or a non-empty list of strings")


def _scope(d: Mapping[str, Any], where: str) -> _Scope:
    sp = d.get("speaker", "any")
    if sp not in SPEAKER_SCOPES:
        raise ValueError(f"{where}.speaker: must be one of {', '.join(SPEAKER_SCOPES)}")
    ws = d.get("within_seconds")
    wt = d.get("within_turns")
    if ws is not None and (not isinstance(ws, int | float) or ws <= 0):
        raise ValueError(f"{where}.within_seconds: must be a positive number")
    if wt is not None and (not isinstance(wt, int) or wt <= 0):
        raise ValueError(f"{where}.within_turns: must be a positive integer")
    return _Scope(sp, float(ws) if ws is not None else None, wt)


def compile_condition(d: Any, where: str = "when") -> Condition:
    """Turn one TOML condition table into a `Condition`; ValueError names the bad key."""
    if not isinstance(d, Mapping):
        raise ValueError(f"{where}: a condition must be a table, got {type(d).__name__}")
    kinds = [k for k in _KIND_KEYS if k in d]
    if len(kinds) != 1:
        raise ValueError(f"{where}: needs exactly one of {', '.join(_KIND_KEYS)}; got {sorted(d) or 'nothing'}")
    kind = kinds[0]
    allowed = {kind, "negate"} | _MODIFIERS.get(kind, set())
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} for a '{kind}' condition")
    fuzzy = float(d.get("fuzzy", 85))
    if not 50 <= fuzzy <= 100:
        raise ValueError(f"{where}.fuzzy: must be 50..100")
    cond: Condition
    if kind == "phrase":
        cond = PhraseCondition(_str_list(d["phrase"], f"{where}.phrase"), _scope(d, where), fuzzy,
                               bool(d.get("phonetic", True)))
    elif kind == "near":
        pair = _str_list(d["near"], f"{where}.near")
        if len(pair) != 2:
            raise ValueError(f"{where}.near: give exactly two words, e.g. [\"refund\", \"never\"]")
        dist = d.get("distance", 5)
        if not isinstance(dist, int) or dist < 1:
            raise ValueError(f"{where}.distance: must be a positive integer")
        cond = NearCondition(pair[0], pair[1], dist, _scope(d, where), fuzzy)
    elif kind == "semantic":
        thr = float(d.get("threshold", 0.6))
        if not 0 < thr < 1:
            raise ValueError(f"{where}.threshold: must be between 0 and 1")
        cond = SemanticCondition(_str_list(d["semantic"], f"{where}.semantic"), thr, _scope(d, where))
    elif kind == "metric":
        if d["metric"] not in METRICS:
            raise ValueError(f"{where}.metric: unknown metric {d['metric']!r}; known: {', '.join(METRICS)}")
        ops = {k: float(d[k]) for k in _OPS if k in d}
        if not ops:
            raise ValueError(f"{where}: a metric condition needs one of gt, ge, lt, le, eq")
        cond = MetricCondition(d["metric"], ops)
    elif kind in ("channel", "queue", "agent"):
        cond = AttributeCondition(kind, _str_list(d[kind], f"{where}.{kind}"))
    elif kind in ("all", "any"):
        parts = d[kind]
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"{where}.{kind}: must be a non-empty list of conditions")
        subs = [compile_condition(p, f"{where}.{kind}[{i}]") for i, p in enumerate(parts)]
        cond = AllCondition(subs) if kind == "all" else AnyCondition(subs)
    else:
        cond = NotCondition(compile_condition(d["not"], f"{where}.not"))
    cond.negate = bool(d.get("negate", False))
    return cond


def _semantic_nodes(c: Condition) -> list[SemanticCondition]:
    if isinstance(c, SemanticCondition):
        return [c]
    if isinstance(c, AllCondition):
        return [s for p in c.parts for s in _semantic_nodes(p)]
    if isinstance(c, NotCondition):
        return _semantic_nodes(c.inner)
    return []


# -- the engine ---------------------------------------------------------------------------


@dataclass(slots=True)
class RuleHit:
    """A rule that fired on one interaction, with its evidence."""

    rule: RuleOptions
    evidence: list[dict[str, Any]]
    score: float | None = None


class RuleEngine:
    """All configured rules, compiled once; semantic phrases encoded once."""

    def __init__(
        self,
        rules: Sequence[RuleOptions],
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        self.rules = [r for r in rules if r.enabled]
        self.compiled = [(r, compile_condition(r.when, f"rules.{r.name}.when")) for r in self.rules]
        self.embed = embed
        nodes = [n for _r, c in self.compiled for n in _semantic_nodes(c)]
        if nodes:
            if embed is None:
                raise ValueError("semantic rules need the embedding model")
            texts = sorted({t for n in nodes for t in n.texts})
            vecs = embed(texts)
            by_text = dict(zip(texts, vecs, strict=True))
            for n in nodes:
                n.vectors = np.stack([by_text[t] for t in n.texts])

    @property
    def needs_embeddings(self) -> bool:
        return any(c.uses_semantic() for _r, c in self.compiled)

    def evaluate(
        self,
        interaction: Interaction,
        values: Mapping[str, Any],
        turn_vectors: np.ndarray | None = None,
    ) -> list[RuleHit]:
        ctx = RuleContext(interaction, values, turn_vectors, self.embed)
        hits = []
        for rule, cond in self.compiled:
            if rule.channels and interaction.channel not in rule.channels:
                continue
            if not interaction.turns:
                continue
            out = cond.evaluate(ctx)
            if out.ok:
                hits.append(RuleHit(rule, out.evidence, out.score))
        return hits
