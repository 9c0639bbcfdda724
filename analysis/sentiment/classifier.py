"""Per-turn sentiment: one loaded model, batched predictions, a label and a −1…1 score.

Two backends share the `TurnClassifier` protocol: the flair classifier (default; the
packaged model trained by `training.ensure_model`, a local `.pt`, or a hub name) and
VADER (a lexicon, no model; useful where torch is unwanted). A turn's score is
P(positive) − P(negative), so a confident neutral turn scores near 0.

`predict(texts, speakers)` takes each turn's speaker: the packaged model (recipe v4) was
trained on "agent: …" / "customer: …" inputs (its meta.json says `speaker_input`) and is
given the same form here; models without it, and VADER, ignore the speakers.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from analysis.sentiment.corpus import LABELS, normalise
from analysis.sentiment.options import PACKAGED, SentimentOptions
from analysis.sentiment.training import (
    HEAD_MODEL_FILE,
    META_FILE,
    agent_ratio,
    cached_model,
    label_priors,
    model_dir,
    speaker_text,
)

log = logging.getLogger(__name__)
_ALIASES = {"pos": "positive", "neg": "negative", "neu": "neutral"}


class ModelNotPrepared(RuntimeError):
    """The packaged classifier has not been trained on this machine yet."""


@dataclass(slots=True)
class TurnSentiment:
    """One turn's verdict: `label` is negative/neutral/positive, `score` in [−1, 1]."""

    label: str
    score: float
    probs: dict[str, float] = field(default_factory=dict)


class TurnClassifier(Protocol):
    name: str

    def predict(self, texts: Sequence[str], speakers: Sequence[str | None] | None = None) -> list[TurnSentiment]: ...


def _from_probs(probs: dict[str, float]) -> TurnSentiment:
    full = {label: float(probs.get(label, 0.0)) for label in LABELS}
    label = max(full, key=full.__getitem__)
    score = max(-1.0, min(1.0, full["positive"] - full["negative"]))
    return TurnSentiment(label, round(score, 4), full)


_NEUTRAL = TurnSentiment("neutral", 0.0, {"negative": 0.0, "neutral": 1.0, "positive": 0.0})


class FlairTurnClassifier:
    """A flair `TextClassifier`; thread-safe (one lock around the torch module)."""

    def __init__(self, model_path_or_name: str, name: str, batch_size: int = 64, quantize: bool = False,
                 speaker_input: bool = False, agent_ratio: dict[str, float] | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from flair.models import TextClassifier

        self.model = TextClassifier.load(model_path_or_name)
        self.model.eval()
        if quantize and _quantize(self.model):
            name += "+int8"
        self.name = name
        self.batch_size = batch_size
        #: the model reads "agent: …" / "customer: …" (see training.speaker_text)
        self.speaker_input = speaker_input
        #: per-class factor applied to agent (and bot) turns: agent prior / training prior
        self.agent_ratio = agent_ratio
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str], speakers: Sequence[str | None] | None = None) -> list[TurnSentiment]:
        """One verdict per text; `speakers` (agent/bot/customer/None, default customer) matter
        for speaker-aware models."""
        import torch
        from flair.data import Sentence

        if speakers is not None and len(speakers) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(speakers)} speakers")
        out: list[TurnSentiment] = [_NEUTRAL] * len(texts)
        cleaned = [(i, normalise(t or "")) for i, t in enumerate(texts)]
        todo = [(i, t) for i, t in cleaned if t]
        if self.speaker_input:
            todo = [(i, speaker_text(t, speakers[i] if speakers is not None else None)) for i, t in todo]
        if not todo:
            return out
        sents = [Sentence(t) for _, t in todo]
        with self._lock, torch.inference_mode():
            self.model.predict(
                sents, mini_batch_size=self.batch_size, return_probabilities_for_all_classes=True,
                label_name="predicted",
            )
        for (i, _), s in zip(todo, sents, strict=True):
            probs: dict[str, float] = {}
            for lab in s.get_labels("predicted"):
                key = lab.value.lower()
                probs[_ALIASES.get(key, key)] = float(lab.score)
            if self.agent_ratio and speakers is not None and speakers[i] in ("agent", "bot"):
                probs = _reweight(probs, self.agent_ratio)
            out[i] = _from_probs(probs)
        return out


def _reweight(probs: dict[str, float], ratio: dict[str, float]) -> dict[str, float]:
    """Label-shift correction: p'(c) ∝ p(c) × ratio(c), renormalised."""
    raw = {c: probs.get(c, 0.0) * ratio.get(c, 1.0) for c in LABELS}
    total = sum(raw.values())
    return {c: v / total for c, v in raw.items()} if total > 0 else probs


def _quantize(model: object) -> bool:
    """Swap the transformer inside a flair classifier for an int8-dynamic copy (CPU speed)."""
    import warnings

    import torch

    embeddings = getattr(model, "embeddings", None)
    inner = getattr(embeddings, "model", None)
    if not isinstance(inner, torch.nn.Module):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its successor
        embeddings.model = torch.ao.quantization.quantize_dynamic(inner, {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[union-attr]
    return True


class VaderTurnClassifier:
    """VADER: compound ≥ 0.05 positive, ≤ −0.05 negative (the authors' thresholds)."""

    name = "vader"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()

    def predict(self, texts: Sequence[str], speakers: Sequence[str | None] | None = None) -> list[TurnSentiment]:
        out = []
        for text in texts:
            if not (text or "").strip():
                out.append(_NEUTRAL)
                continue
            s = self.analyzer.polarity_scores(text)
            compound = float(s["compound"])
            label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
            probs = {"negative": float(s["neg"]), "neutral": float(s["neu"]), "positive": float(s["pos"])}
            out.append(TurnSentiment(label, round(compound, 4), probs))
        return out


def _process_encoder(cache_dir: Path) -> Any:
    """The process's shared encoder (`analysis.encoder.shared_encoder`) for a lexicon head
    loaded without one, sized to the thread count the process already runs torch with.

    `torch.set_num_threads` is process-wide, and the PyTorch fallback of `TextEncoder` sets
    it to its `threads` (0 = every CPU): a head that built an encoder of its own with default
    options could thus change the thread count another encoder (the analysis pass, a
    distributed worker pinned to one thread) was tuned for. Asking for the count torch already
    has makes that call a no-op, and the shared encoder means one MiniLM per process, not one
    per classifier. Before torch is imported nobody has chosen a count, and 0 (all CPUs) stays."""
    import sys

    from analysis.encoder import EncoderOptions, shared_encoder

    torch = sys.modules.get("torch")
    threads = int(torch.get_num_threads()) if torch is not None else 0
    return shared_encoder(EncoderOptions(threads=threads), cache_dir)


def prepared_model(options: SentimentOptions, cache_dir: Path) -> Path:
    """The packaged model's file (`model = "packaged"`), or ModelNotPrepared.

    Why apart from `load_turn_classifier`: the pipeline loads MiniLM (the shared encoder
    pass, seconds of CPU) before the classifier it feeds, so it asks this first and a
    missing model fails the run at once instead of after that load."""
    path = cached_model(options, cache_dir)
    if path is None:
        raise ModelNotPrepared(
            f"the sentiment model is not prepared (expected in {model_dir(options, cache_dir)}); "
            "run `convoscope models prepare` or `convoscope train sentiment` once"
        )
    return path


def load_turn_classifier(options: SentimentOptions, cache_dir: Path, encoder: Any = None) -> TurnClassifier:
    """The configured classifier, loaded once; never trains (see `ensure_model`).

    With `encoder` (an `analysis.encoder.TextEncoder`) the packaged model is served as its
    linear head over that encoder's pass (`analysis.sentiment.head`), so the pipeline runs
    MiniLM once per turn; where that is impossible the reason is logged and flair is used."""
    if options.backend == "vader":
        return VaderTurnClassifier()
    if options.model == PACKAGED:
        path = prepared_model(options, cache_dir)
        meta = json.loads((path.parent / META_FILE).read_text()) if (path.parent / META_FILE).is_file() else {}
        ratio = None
        priors = None
        if options.agent_prior and options.turns:
            priors = meta.get("label_priors") or label_priors(options)  # older meta: count again
            ratio = agent_ratio(priors)
        if options.long_text and options.long_prior and not options.long_model and priors is None:
            priors = meta.get("label_priors") or label_priors(options)
        if options.ood_prior and priors is None:
            priors = meta.get("label_priors") or label_priors(options)
        v9 = bool(options.polarity_lexicon or options.domain_gate)
        if encoder is None and (path.name == HEAD_MODEL_FILE or v9):
            # a lexicon head (recipe v6/v7) has no flair twin, and recipe v9's gate reads the
            # pooled layers: both run over an encoder pass
            encoder = _process_encoder(cache_dir)
        if encoder is not None:
            from analysis.sentiment.domain import fusion
            from analysis.sentiment.head import HeadUnavailable, load_shared
            from analysis.sentiment.longtext import reader

            long_text = reader(options, priors)
            try:
                return load_shared(path, encoder, ratio, bool(meta.get("speaker_input")), long_text,
                                   fusion(options, priors, cache_dir))
            except HeadUnavailable as exc:
                if v9:
                    raise ValueError(f"polarity_lexicon / domain_gate need the head over the shared encoder "
                                     f"pass, which this model cannot give ({exc})") from exc
                log.warning("sentiment: not served from the shared encoder pass (%s); loading flair", exc)
        if options.long_text:
            log.warning("sentiment: long_text = %r needs the head over the shared encoder pass; "
                        "flair reads each text as it comes", options.long_text)
        name = f"flair:packaged:{path.parent.name}" + ("+agent-prior" if ratio else "")
        return FlairTurnClassifier(str(path), name, options.batch_size, options.quantize,
                                   speaker_input=bool(meta.get("speaker_input")), agent_ratio=ratio)
    local = Path(options.model).expanduser()
    if local.suffix == ".pt" and not local.is_file():
        raise FileNotFoundError(f"sentiment model file {local} does not exist")
    target = str(local) if local.is_file() else options.model
    return FlairTurnClassifier(target, f"flair:{options.model}", options.batch_size, options.quantize)
