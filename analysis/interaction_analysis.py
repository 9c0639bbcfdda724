"""One interaction's analysis from its turns' encoder outputs: the per-interaction stage of
the analysis job (`analysis.pipeline.Analyzer`).

Split from `analysis/pipeline.py` by job: the pipeline schedules (slices, the encoder thread,
transactions, retries); this module scores. `InteractionAnalysis` is a mixin of `Analyzer`:
its methods read the Analyzer's models and options (`anger_scorer`, `topic_model`,
`rule_engine`, `fact_checker`, `classifier`, `options`, `redaction`, `resolution_options`)
and are pure functions of records in -> records out (the silenced audio copy aside), so
they run in a worker as easily as in-process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis import confidence as flag_confidence
from analysis import flags as flag_rules
from analysis import keywords, metrics, outbound
from analysis import resolution as resolution_stage
from analysis.patterns import embedding as cluster_embedding
from analysis.redaction import RedactionResult, redact_conversation
from analysis.redaction_audio import spans_in_time, write_silenced_copy
from analysis.rules import RuleNote, flatten_values
from store.records import Flag, Interaction, InteractionScores, Turn, TurnScores

if TYPE_CHECKING:
    from analysis.anger import AngerResult
    from analysis.sentiment import SentimentSummary, TurnSentiment


@dataclass(slots=True)
class Analysis:
    """The result for one interaction (not yet stored)."""

    interaction: Interaction
    scores: InteractionScores
    turn_scores: list[TurnScores]
    flags: list[Flag]
    redactions: list[RedactionResult]
    sentiments: list[TurnSentiment]
    #: (source hash, vector) for interaction_embeddings; None when not stored
    cluster_vector: tuple[str, np.ndarray] | None = None
    #: rules that did not fire although their words were there, and why (not stored)
    rule_notes: list[RuleNote] = field(default_factory=list)
    #: the resolution verdict (None when [resolution] is disabled)
    resolution: resolution_stage.Resolution | None = None


@dataclass(slots=True)
class _TextPart:
    """An interaction's encoder-free results (`Analyzer._text_part`)."""

    audio: str | None
    metrics: dict[str, Any]
    redactions: list[RedactionResult]
    redacted_turns: list[Turn]
    keywords: list[str]
    red_it: Interaction
    verdict: resolution_stage.Resolution | None
    unresolved: Flag | None


class InteractionAnalysis:
    """The per-interaction stage of `Analyzer` (see the module docstring)."""

    # provided by Analyzer
    anger_scorer: Any
    topic_model: Any
    rule_engine: Any
    fact_checker: Any
    classifier: Any
    facts: Any
    fact_options: Any
    cluster_model: Any
    options: Any
    redaction: Any
    resolution_options: Any

    def _analyse_one(
        self, it: Interaction, sents: Sequence[TurnSentiment], vecs: np.ndarray, text: _TextPart | None = None
    ) -> Analysis:
        """One interaction's analysis from its turns' encoder outputs; `text`: its
        encoder-free part when already computed (`_text_part`)."""
        from analysis.sentiment import summarise

        iid = it.id if it.id is not None else 0
        if text is None:
            text = self._text_part(it)
        summary: SentimentSummary = summarise(it.turns, sents)
        audio = text.audio
        anger: AngerResult = self.anger_scorer.score(it, sents, audio)
        mets, redactions, kws = text.metrics, text.redactions, text.keywords
        topics = [t.as_dict() for t in self.topic_model.score(it.turns, vecs)] if len(it.turns) else []
        ctrend = summary.customer_trend or []
        atrend = summary.agent_trend or []
        values = flatten_values(
            mets,
            {
                "sentiment": summary.overall,
                "sentiment_agent": summary.agent,
                "sentiment_customer": summary.customer,
                "customer_trend_start": _first(ctrend),
                "customer_trend_end": _last(ctrend),
                "agent_trend_start": _first(atrend),
                "agent_trend_end": _last(atrend),
                "anger": anger.overall,
            },
        )
        notes: list[RuleNote] = []
        hits = self.rule_engine.evaluate(it, values, vecs if len(vecs) else None, notes=notes)
        flags = flag_rules.collect(iid, anger.flag, hits)
        verdict, red_it = text.verdict, text.red_it
        if text.unresolved is not None:
            flags.append(text.unresolved)
        if self.facts and self.fact_options.enabled:
            flags += self.fact_checker.flags(iid, red_it)
        flag_confidence.annotate(flags, it.turns)
        turn_scores = [
            TurnScores(
                interaction_id=iid,
                seq=t.seq,
                sentiment=s.score,
                sentiment_label=s.label,
                anger=anger.per_turn[i] if i < len(anger.per_turn) else None,
                loudness=anger.loudness[i] if i < len(anger.loudness) else None,
                redacted_text=r.text,
                emotions=_emotions(anger, i),
            )
            for i, (t, s, r) in enumerate(zip(it.turns, sents, redactions, strict=True))
        ]
        scores = InteractionScores(
            interaction_id=iid,
            version=it.version,
            sentiment=summary.overall,
            sentiment_agent=summary.agent,
            sentiment_customer=summary.customer,
            customer_trend=list(ctrend) or None,
            agent_trend=list(atrend) or None,
            anger=anger.overall,
            metrics=mets,
            topics=topics,
            keywords=kws,
            top_topic=topics[0]["topic"] if topics else None,
            model=getattr(self.classifier, "name", None),
        )
        cluster_vector = self._cluster_vector(it, redactions, vecs) if self.cluster_model else None
        return Analysis(it, scores, turn_scores, flags, redactions, list(sents), cluster_vector, notes, verdict)

    def _text_part(self, it: Interaction) -> _TextPart:
        """What an interaction's analysis needs no encoder output for: metrics, redaction,
        keywords and the resolution verdict. Pure (the silenced audio copy aside), so it is
        computed while the job's thread waits for the encoder (`analyse`)."""
        iid = it.id if it.id is not None else 0
        audio = it.raw_ref if it.channel == "call" and it.raw_ref and os.path.isfile(it.raw_ref) else None
        mets = metrics.compute(it, self.options.metric_options())
        # the whole conversation at once: a card read over several turns is one number
        redactions = redact_conversation(it.turns, self.redaction).results
        if audio and self.redaction.audio_dir and it.id is not None:
            spans = spans_in_time(it.turns, redactions, self.redaction.audio_pad_seconds)
            if spans:
                out = Path(self.redaction.audio_dir).expanduser() / f"{it.id}.flac"
                write_silenced_copy(audio, out, spans)
        redacted_turns = [_with_text(t, r.text) for t, r in zip(it.turns, redactions, strict=True)]
        kws = keywords.extract(redacted_turns, top=self.options.keywords) if self.options.keywords else []
        verdict = unresolved = None
        # both verdicts read the redacted turns: their quotes (evidence, the promise) are
        # stored beside the interaction and shown, and must not outlive retention's redaction
        red_it = replace(it, turns=redacted_turns)
        if self.resolution_options.enabled:
            verdict = resolution_stage.assess(red_it, self.resolution_options)
            verdict.interaction_id = iid
            unresolved = verdict.flag(self.resolution_options)
        return _TextPart(audio, mets, redactions, redacted_turns, kws, red_it, verdict, unresolved)

    def _cluster_vector(
        self, it: Interaction, redactions: Sequence[RedactionResult], vecs: np.ndarray
    ) -> tuple[str, np.ndarray] | None:
        """The clustering vector from this interaction's turn vectors, hashed over the turn
        texts as pattern mining reads them (the redacted text without its `[PII:…]`
        markers, `analysis.outbound.mined_text`), which is what the patterns job hashes to
        decide whether a stored vector is current."""
        if len(vecs) != len(it.turns):
            return None
        stored = [outbound.mined_text(r.text) for r in redactions]
        chosen = cluster_embedding.clustering_turns([t.speaker for t in it.turns], stored)
        return (cluster_embedding.source_hash([stored[k] for k in chosen]),
                cluster_embedding.mean_vector(vecs[chosen]))


def _emotions(anger: AngerResult, i: int) -> dict[str, float]:
    """NRC emotion shares of turn i, as the anger scorer measured them."""
    emos = getattr(anger, "emotions", None) or []
    return {k: round(float(v), 4) for k, v in emos[i].items()} if i < len(emos) else {}


def _with_text(t: Turn, text: str) -> Turn:
    return Turn(seq=t.seq, speaker=t.speaker, text=text, start=t.start, end=t.end, sent_at=t.sent_at)


def _first(xs: Sequence[float | None]) -> float | None:
    return next((x for x in xs if x is not None), None)


def _last(xs: Sequence[float | None]) -> float | None:
    return next((x for x in reversed(xs) if x is not None), None)
