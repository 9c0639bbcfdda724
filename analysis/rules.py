"""The rules engine: categories and compliance checks written in TOML (`[[rules]]`).

A rule raises a flag when its `when` condition holds. A condition is a TOML table with one
of these keys (the README and config.example.toml carry the full schema):

- `phrase = "..."` (or a list: any of them) — exact, fuzzy (`fuzzy`, 0-100, default 85;
  100 = exact only) or phonetic (`phonetic = true`) match, see `analysis.matching`;
  `"{speak|talk} to {your|a} manager"` spells out every combination, and a trailing `" $"`
  matches only where the clause ends ("want to cancel $" is not "want to cancel my order");
- `near = ["refund", "never"]`, `distance = 5` — two words within N words of each other;
  either side may be a list of alternatives of one or more words
  (`near = [["speak", "put"], ["{your|a} manager", "someone senior"]]`);
- `except = [...]` (with `phrase` / `near`) — exact look-alike phrases: a match inside one
  does not count ("cancel my order" for a churn rule), and its evidence says so;
- `semantic = "..."` (or a list), `threshold = 0.6` — MiniLM cosine similarity of a turn
  (long turns such as e-mails also sentence by sentence, the best sentence is the evidence);
  its `except = [...]` drops a similar turn (or sentence) that holds one of the phrases: a
  meaning cannot tell "do you want a recording of this call" from "this call is recorded";
- `classifier = "churn_risk"` (optional `threshold`) — a learned head on the same turn
  vector (analysis/rules_classifier.json, bench/rules_classifier.py), read through the
  clause guards: a turn with a negated, questioning or reported clause does not count;
- `context = "churn_risk"` (optional `context_threshold`, default the head's) on a `phrase`
  or `near` condition — its match counts only in a turn that head reads as the flag's: short
  forms such as "cancel it." are churn after "another price rise, how generous" and not after
  "the parcel is late"; evidence says "in context (churn_risk head 0.78 >= 0.55)";
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

Text conditions are read in their clause (`analysis.clauses`): `negated = false` (default)
counts affirmative matches only, `true` only negated ones, `"any"` both; `in_questions`,
`in_reported`, `in_hypotheticals` (default false) let a match inside a question, someone
else's reported words or a supposition count (`in_hypotheticals = "conditional"`: under a
plain condition, not a counterfactual, wish or embedded question). Counted evidence says why
(`"clause": "affirmative"`), and matches that did not count are kept with their reason
(`not_counted`, e.g. "negated by 'cannot'"). The condition classes live in
`analysis.conditions`; this module parses rules and runs them.

Why hand-rolled and not a generic rules library: the conditions are conversation-aware
(speaker, time window, ASR-tolerant matching); the combinators are a few lines; and the
evidence format is what reviewers see.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from analysis.condition_logic import (
    _OPS,
    AllCondition,
    AnyCondition,
    AttributeCondition,
    MetricCondition,
    NotCondition,
)
from analysis.conditions import (
    ClausePolicy,
    Condition,
    NearCondition,
    Outcome,
    PhraseCondition,
    RuleContext,
    SemanticCondition,
    _Scope,
    shared_phrase_set,
)
from analysis.matching import PhraseSet
from analysis.phrase_index import ExactIndex
from analysis.phrase_text import expand_alternatives
from analysis.rule_classifier import ClassifierCondition, classifier_heads, head_scorer
from store.records import CHANNELS, Interaction, severity_value

__all__ = [
    "METRICS", "SPEAKER_SCOPES", "ClausePolicy", "Condition", "Outcome", "RuleContext", "RuleEngine",
    "RuleHit", "RuleNote", "RuleOptions", "classifier_heads", "compile_condition", "default_rules", "flatten_values",
]  # fmt: skip

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
_TEXT_KEYS = ("phrase", "near", "semantic", "classifier")
_SCOPE_KEYS = ("speaker", "within_seconds", "within_turns")
#: how a text match must read in its clause to count (see `ClausePolicy`)
_CLAUSE_KEYS = ("negated", "in_questions", "in_reported", "in_hypotheticals")
_KIND_KEYS = (*_TEXT_KEYS, "metric", "channel", "queue", "agent", "all", "any", "not")
_MODIFIERS = {
    "phrase": {"fuzzy", "phonetic", "except", "context", "context_threshold", *_SCOPE_KEYS, *_CLAUSE_KEYS},
    "near": {"distance", "fuzzy", "except", "context", "context_threshold", *_SCOPE_KEYS, *_CLAUSE_KEYS},
    "semantic": {"threshold", "except", *_SCOPE_KEYS, *_CLAUSE_KEYS},
    "classifier": {"threshold", *_SCOPE_KEYS, *_CLAUSE_KEYS},
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


def flatten_values(
    metrics: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
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


# -- parsing ----------------------------------------------------------------------------


def _policy(d: Mapping[str, Any], where: str) -> ClausePolicy:
    neg = d.get("negated", False)
    if neg == "any":
        neg = None
    elif not isinstance(neg, bool):
        raise ValueError(f'{where}.negated: must be true, false or "any"')
    flags: dict[str, Any] = {}
    for k in ("in_questions", "in_reported", "in_hypotheticals"):
        v = d.get(k, False)
        if k == "in_hypotheticals" and v == "conditional":
            flags[k] = v
            continue
        if not isinstance(v, bool):
            more = ' or "conditional"' if k == "in_hypotheticals" else ""
            raise ValueError(f"{where}.{k}: must be true or false{more}")
        flags[k] = v
    return ClausePolicy(neg, **flags)


def _str_list(v: Any, where: str) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return list(v)
    raise ValueError(f"{where}: expected a string or a non-empty list of strings")


def _phrases(v: Any, where: str) -> list[str]:
    """A phrase list with its `{a|b}` alternatives spelled out (`expand_alternatives`)."""
    out: dict[str, None] = {}  # first-seen order, O(1) dedupe (lists expand to thousands)
    for p in _str_list(v, where):
        if p.count("{") != p.count("}"):
            raise ValueError(f"{where}: unbalanced braces in {p!r}")
        out.update(dict.fromkeys(expand_alternatives(p)))
    return list(out)


def _near_side(v: Any, where: str) -> str | list[str]:
    """A `near` side: one phrase or a list of alternatives, `{a|b}` expanded in both."""
    out = _phrases(v, where)
    return out[0] if isinstance(v, str) and len(out) == 1 else out


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
        raise ValueError(
            f"{where}: needs exactly one of {', '.join(_KIND_KEYS)}; got {sorted(d) or 'nothing'}"
        )
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
        cond = PhraseCondition(
            _phrases(d["phrase"], f"{where}.phrase"),
            _scope(d, where),
            fuzzy,
            bool(d.get("phonetic", True)),
            _policy(d, where),
        )
    elif kind == "near":
        pair = d["near"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(
                f'{where}.near: give exactly two words, e.g. ["refund", "never"], or two lists of alternatives'
            )
        sides = [_near_side(x, f"{where}.near[{k}]") for k, x in enumerate(pair)]
        dist = d.get("distance", 5)
        if not isinstance(dist, int) or dist < 1:
            raise ValueError(f"{where}.distance: must be a positive integer")
        cond = NearCondition(sides[0], sides[1], dist, _scope(d, where), fuzzy, _policy(d, where))
    elif kind == "semantic":
        thr = float(d.get("threshold", 0.6))
        if not 0 < thr < 1:
            raise ValueError(f"{where}.threshold: must be between 0 and 1")
        cond = SemanticCondition(
            _str_list(d["semantic"], f"{where}.semantic"), thr, _scope(d, where), _policy(d, where)
        )
    elif kind == "classifier":
        heads = classifier_heads()
        name = d["classifier"]
        if name not in heads:
            raise ValueError(f"{where}.classifier: no head {name!r}; known: {', '.join(sorted(heads))}")
        head = heads[name]
        thr = float(d.get("threshold", head["threshold"]))
        if not 0 < thr < 1:
            raise ValueError(f"{where}.threshold: must be between 0 and 1")
        cond = ClassifierCondition(name, head_scorer(name), thr, _scope(d, where), _policy(d, where),
                                   head.get("clause_gate"))  # fmt: skip
    elif kind == "metric":
        if d["metric"] not in METRICS:
            raise ValueError(
                f"{where}.metric: unknown metric {d['metric']!r}; known: {', '.join(METRICS)}"
            )
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
    if "except" in d and isinstance(cond, PhraseCondition | NearCondition | SemanticCondition):
        cond.excepts = shared_phrase_set(tuple(_phrases(d["except"], f"{where}.except")), 100.0, False)
    if "context" in d and isinstance(cond, PhraseCondition | NearCondition):
        heads = classifier_heads()
        if d["context"] not in heads:
            raise ValueError(f"{where}.context: no head {d['context']!r}; known: {', '.join(sorted(heads))}")
        head = heads[d["context"]]
        thr = float(d.get("context_threshold", head["threshold"]))
        if not 0 < thr < 1:
            raise ValueError(f"{where}.context_threshold: must be between 0 and 1")
        cond.context = (d["context"], head_scorer(d["context"]), thr)
    elif "context_threshold" in d:
        raise ValueError(f"{where}.context_threshold: only with context = \"<head>\"")
    cond.negate = bool(d.get("negate", False))
    return cond


def _phrase_sets(c: Condition) -> list[PhraseSet]:
    """Every phrase list of a condition tree (phrases and `except` lists)."""
    out = [c.set] if isinstance(c, PhraseCondition) else []
    if isinstance(c, PhraseCondition | NearCondition) and c.excepts is not None:
        out.append(c.excepts)
    for sub in (*getattr(c, "parts", ()), *((c.inner,) if isinstance(c, NotCondition) else ())):
        out += _phrase_sets(sub)
    return out


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
    #: matches the rule found but did not count, each with `why` ("negated by 'cannot'")
    not_counted: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class RuleNote:
    """A rule that did not fire although its words were there: what was found and why it
    did not count. `convoscope score` prints these, so "why no flag?" has an answer."""

    rule: str
    kind: str
    not_counted: list[dict[str, Any]]


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
        #: every phrase list's exact layer in one index (`analysis.phrase_index`), built at
        #: the first evaluation (most commands that load rules never match a phrase)
        self._exact: ExactIndex | None = None
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
        notes: list[RuleNote] | None = None,
    ) -> list[RuleHit]:
        """The rules that fire on `interaction`. Pass a list as `notes` to also get, for each
        rule that did not fire, the matches it found but did not count (and why)."""
        if self._exact is None:
            self._exact = ExactIndex(s for _r, c in self.compiled for s in _phrase_sets(c))
        ctx = RuleContext(interaction, values, turn_vectors, self.embed, self._exact)
        hits = []
        for rule, cond in self.compiled:
            if rule.channels and interaction.channel not in rule.channels:
                continue
            if not interaction.turns:
                continue
            out = cond.evaluate(ctx)
            if out.ok:
                hits.append(RuleHit(rule, out.evidence, out.score, out.not_counted))
            elif notes is not None and out.not_counted:
                notes.append(RuleNote(rule.name, rule.kind, out.not_counted))
        return hits
