"""Optional, off by default: a model translates the questions the grammar cannot read.

When `[questions.translator] enabled = true`, a question the parser could make nothing of
(view `help` although the asker typed something) is sent to an OpenAI-compatible
chat-completions endpoint — a local llama.cpp server, Ollama, vLLM … — with the typed
query's schema, the clock, the zone and the store's names, asking for one JSON object.
The answer is accepted only if `store.query.Query.from_dict` validates it (every enum
checked, unknown keys refused) and it passes the checks below; it is a *query*, never
SQL: the model's text is never executed, only read as data, and `store/` compiles the
query as it compiles any other. Anything else — a timeout, an HTTP error, prose, a
malformed object — is logged and the asker gets the help text, as without a translator.
The answer says the question was translated (`extra.translated`), so a model's misreading
shows in the interpretation line like a parser's.

The key, when the endpoint needs one, comes from the environment variable named by
`api_key_env` (never from the config file).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo

from store.entities import EntityValues
from store.query import (
    FLAG_FAMILIES,
    REVIEW_STATES,
    Group,
    MatchField,
    MeasureKind,
    Metric,
    Query,
    Subject,
    View,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TranslatorOptions:
    """`[questions.translator]`: where the model is and how long to wait for it."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    enabled: bool = False
    #: the endpoint's base URL; `/chat/completions` is appended
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "local"
    timeout_s: float = 10.0
    #: the environment variable holding the API key (unset or empty: no Authorization)
    api_key_env: str = "CONVOSCOPE_TRANSLATOR_KEY"
    max_tokens: int = 800

    def __post_init__(self) -> None:
        if not 0.1 <= self.timeout_s <= 120:
            raise ValueError(f"translator timeout_s must be 0.1..120, got {self.timeout_s}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"translator base_url must be an http(s) URL, got {self.base_url!r}")


@dataclass(frozen=True, slots=True)
class QuestionOptions:
    """`[questions]`: the question engine's options."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: how long the store's names (agents, queues, topics …) are reused before re-reading
    entity_ttl_s: float = 60.0
    translator: TranslatorOptions = field(default_factory=TranslatorOptions)

    def __post_init__(self) -> None:
        if not 0 <= self.entity_ttl_s <= 3600:
            raise ValueError(f"questions entity_ttl_s must be 0..3600, got {self.entity_ttl_s}")


class TranslationError(ValueError):
    """The model's answer is not an acceptable query."""


def _schema_text() -> str:
    return (
        "Reply with ONE JSON object, nothing else: a typed query with keys subject, view, period "
        "({start,end,label}, ISO 8601 with offset), compare_to, filters, group_by, measures, order "
        "({by,descending}), limit, ref, note. "
        f"subject: {', '.join(get_args(Subject))}. view: {', '.join(get_args(View))}. "
        "filters: a list of {\"match\": {\"field\", \"values\": [..], \"negate\"}} or "
        "{\"compare\": {\"metric\", \"op\", \"value\", \"value2\", \"negate\"}}. "
        f"match fields: {', '.join(get_args(MatchField))}. flag values: {', '.join(FLAG_FAMILIES)}. "
        f"review values: {', '.join(REVIEW_STATES)}. metrics: {', '.join(get_args(Metric))} "
        "(durations in seconds, sentiment -1..1, shares 0..1). ops: <, <=, >, >=, =, between. "
        f"group_by: {', '.join(get_args(Group))}. measures: {{kind: {', '.join(get_args(MeasureKind))}, "
        "metric, flag}. Never write SQL. Use only names from the lists given."
    )


class Translator:
    """Asks an OpenAI-compatible chat-completions endpoint for a typed query."""

    def __init__(self, options: TranslatorOptions, *, client: Any | None = None) -> None:
        import httpx

        self.options = options
        self._client = client or httpx.Client(timeout=options.timeout_s)

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.options.api_key_env, "") if self.options.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def request_body(self, question: str, tz: ZoneInfo, now: datetime, values: EntityValues) -> dict[str, Any]:
        names = {"agents": list(values.agents[:200]), "queues": list(values.queues[:100]),
                 "topics": list(values.topics[:200]),
                 "clusters": [label for _id, label in values.clusters[:100]]}  # fmt: skip
        context = (f"Now is {now.astimezone(tz).isoformat()} in time zone {tz.key}; weeks start on Monday; "
                   "periods are half-open [start, end) and never extend past now. "
                   f"Names in the store: {json.dumps(names, ensure_ascii=False)}")  # fmt: skip
        return {
            "model": self.options.model,
            "temperature": 0,
            "max_tokens": self.options.max_tokens,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": "You turn a contact-center supervisor's question into a "
                                              "typed query. " + _schema_text() + " " + context},
                {"role": "user", "content": question},
            ],
        }  # fmt: skip

    def translate(self, question: str, tz: ZoneInfo, now: datetime,
                  values: EntityValues | None = None) -> Query | None:  # fmt: skip
        """The model's query for `question`, or None (logged) when there is no acceptable one."""
        import httpx

        url = self.options.base_url.rstrip("/") + "/chat/completions"
        body = self.request_body(question, tz, now, values or EntityValues())
        try:
            resp = self._client.post(url, json=body, headers=self._headers(), timeout=self.options.timeout_s)
            resp.raise_for_status()
            content = resp.json()["choices"][0]["message"]["content"]
            return accept(content, question, now)
        except httpx.HTTPError as exc:
            log.warning("question translator at %s failed: %s", url, exc)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("question translator gave no acceptable query for %r: %s", question[:200], exc)
        return None


_FENCE_RX = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def accept(content: Any, question: str, now: datetime) -> Query:
    """Validate a model's answer as a typed query; raises TranslationError (a ValueError)
    for anything that is not one."""
    if not isinstance(content, str):
        raise TranslationError("the model's message has no text content")
    fenced = _FENCE_RX.match(content)
    raw = fenced.group(1) if fenced else content
    try:
        d = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TranslationError(f"not JSON: {exc}") from None
    if not isinstance(d, dict):
        raise TranslationError("not a JSON object")
    d = {k: v for k, v in d.items() if k not in ("text", "ignored", "extra")}
    q = Query.from_dict(d)  # every enum validated; unknown keys (an "sql" key …) refused
    for f in q.filters:
        if getattr(f, "field", None) == "flag":
            bad = [v for v in f.values if v not in FLAG_FAMILIES and not v.startswith("kind:")]  # type: ignore[union-attr]
            if bad:
                raise TranslationError(f"unknown flag family {bad}")
        if getattr(f, "field", None) == "review":
            bad = [v for v in f.values if v not in REVIEW_STATES]  # type: ignore[union-attr]
            if bad:
                raise TranslationError(f"unknown review state {bad}")
    for span in (q.period, q.compare_to):  # compared as instants (UTC), not wall clock
        if span is not None and not span.start.astimezone(UTC) < span.end.astimezone(UTC):
            raise TranslationError("a period must end after it starts")
    if q.period is not None and q.period.start.astimezone(UTC) > now.astimezone(UTC):
        raise TranslationError("the period starts in the future")
    if q.view == "detail" and not q.ref:
        raise TranslationError("a detail view needs a ref")
    if q.limit is not None and not 1 <= q.limit <= 1000:
        raise TranslationError("limit must be 1..1000")
    from dataclasses import replace

    return replace(q, text=question, extra={**q.extra, "translated": True})
