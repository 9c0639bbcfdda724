"""The packaged classifier's linear head over the shared MiniLM pass (analysis/encoder.py).

The packaged flair classifier (recipe v4, MiniLM frozen) is `softmax(W · f + b)` where `f`
concatenates the mean-pooled hidden states of the layers in `layers` ("-1,-2,-3,-4").
Those means are exactly what `TextEncoder.pooled` returns, so the head alone (W, b: 1536 x
3 numbers) classifies a turn from the pass that also gives its sentence embedding; flair
and its copy of MiniLM are not loaded at all. `extract` reads W, b from the trained `.pt`
(once, at `convoscope models prepare`, into `head.npz` beside it); `SharedTurnClassifier`
is the `TurnClassifier` built on it.

Only a frozen-MiniLM model can be served this way (a fine-tuned one has other encoder
weights): `extract` checks that the classifier's transformer equals the packaged weights
and refuses otherwise, and the loader then falls back to flair with the reason logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis.encoder import TextEncoder, sentence_vectors
from analysis.sentiment.classifier import _NEUTRAL, TurnSentiment, _from_probs, _reweight
from analysis.sentiment.corpus import LABELS, normalise
from analysis.sentiment.domain import Fusion, compounds
from analysis.sentiment.longtext import LongText

log = logging.getLogger(__name__)

HEAD_FILE = "head.npz"
#: characters of a turn read for sentiment: the same cut as the sentence embedding
#: (analysis.patterns.embedding.TURN_CHARS), so a turn's two inputs are usually one text
TURN_CHARS = 600


class HeadUnavailable(RuntimeError):
    """The trained classifier cannot be split into shared encoder + head (and why)."""


def extract(model_path: Path) -> Path:
    """Write `head.npz` (W, b, layer indexes, labels) beside the flair `.pt`; returns it."""
    import torch
    from flair.models import TextClassifier

    out = model_path.parent / HEAD_FILE
    if out.is_file():
        return out
    clf = TextClassifier.load(str(model_path))
    emb = clf.embeddings
    if getattr(emb, "cls_pooling", None) != "mean" or getattr(emb, "layer_mean", True):
        raise HeadUnavailable("the classifier does not read mean-pooled, concatenated MiniLM layers")
    if getattr(emb, "fine_tune", False) or not _same_weights(emb.model):
        raise HeadUnavailable("the classifier's MiniLM differs from the packaged weights (fine-tuned)")
    labels = [x.lower() for x in clf.label_dictionary.get_items()]
    if sorted(labels) != sorted(LABELS):
        raise HeadUnavailable(f"unexpected labels {labels}")
    with torch.no_grad():
        w = clf.decoder.weight.detach().cpu().numpy().astype(np.float32)
        b = clf.decoder.bias.detach().cpu().numpy().astype(np.float32)
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, weight=w, bias=b, layers=np.asarray(emb.layer_indexes, dtype=np.int64),
             labels=np.asarray(labels))
    tmp.rename(out)
    return out


def _same_weights(model: object) -> bool:
    """Whether a transformer's parameters equal the packaged MiniLM's (frozen training).

    flair appends one token to the vocabulary (a context separator, never in a turn) and
    keeps BERT's unused pooler; both are ignored."""
    import torch

    from analysis.encoder import _load_bert

    ref = dict(_load_bert().named_parameters())
    for name, p in model.named_parameters():  # type: ignore[attr-defined]
        if name.startswith("pooler."):
            continue
        q = ref.get(name)
        if q is None:
            return False
        p = p.detach().cpu()
        if name == "embeddings.word_embeddings.weight" and p.shape[0] > q.shape[0]:
            p = p[: q.shape[0]]
        if q.shape != p.shape or not torch.equal(q.detach().cpu(), p):
            return False
    return True


def head_features(pooled: np.ndarray, layers: Sequence[int], lexicon: str = "",
                  inputs: Sequence[str] | None = None) -> np.ndarray:
    """The head's input rows: the pooled `layers` concatenated, then (recipe v6) the
    lexicon features of `inputs` (the `sentiment_input` of each turn, analysis/sentiment/lexicon.py)."""
    feats = np.concatenate([pooled[:, i, :] for i in layers], axis=1)
    if not lexicon:
        return feats
    from analysis.sentiment.lexicon import features as lexicon_features

    if inputs is None or len(inputs) != len(feats):
        raise ValueError("a head with lexicon features needs each turn's text")
    return np.concatenate([feats, lexicon_features(lexicon, inputs).astype(feats.dtype)], axis=1)


class SentimentHead:
    """softmax(W · [concat(pooled[layers]), lexicon features] + b), in numpy."""

    def __init__(self, path: Path) -> None:
        data = np.load(path)
        self.weight = data["weight"]
        self.bias = data["bias"]
        self.layers = [int(i) for i in data["layers"]]
        self.labels = [str(x) for x in data["labels"]]
        #: "" (recipe v4/v5: pooled layers only) or the lexicon whose features follow them
        self.lexicon = str(data["lexicon"]) if "lexicon" in data.files else ""

    def probs(self, pooled: np.ndarray, inputs: Sequence[str] | None = None) -> np.ndarray:
        """[n, 3] class probabilities (in `self.labels` order) from [n, 7, 384] pooled states
        (and, for a lexicon head, the texts that were encoded)."""
        feats = head_features(pooled, self.layers, self.lexicon, inputs)
        logits = feats @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


def sentiment_input(text: str) -> str:
    """What the head reads for a turn: the char cut, then the classifier's normalisation
    (in this order the text differs from the embedding's input `text[:TURN_CHARS]` only
    where normalising changes word pieces: @handles and links; spaces tokenise alike)."""
    return normalise((text or "")[:TURN_CHARS])


def shared_pass(clf: SharedTurnClassifier, texts: Sequence[str], speakers: Sequence[str | None] | None,
                need_vectors: bool) -> tuple[list[TurnSentiment], np.ndarray | None]:
    """Sentiment verdicts and (when `need_vectors`) sentence embeddings of `texts` from one
    encoder call: a turn whose two inputs give the same word pieces is encoded once."""
    s_in = [sentiment_input(t) for t in texts]
    e_in = [(t or "")[:TURN_CHARS] for t in texts] if need_vectors else []
    pooled = clf.encoder.pooled(s_in + e_in)
    n = len(texts)
    sents = clf.from_pooled(texts, pooled[:n], speakers)
    return sents, (sentence_vectors(pooled[n:]) if need_vectors else None)


class SharedTurnClassifier:
    """The packaged classifier served from the shared encoder pass (see module docstring)."""

    def __init__(self, encoder: TextEncoder, head: SentimentHead, name: str,
                 agent_ratio: dict[str, float] | None = None, long_text: LongText | None = None,
                 fusion: Fusion | None = None) -> None:
        self.encoder = encoder
        self.head = head
        self.name = name
        self.agent_ratio = agent_ratio
        self.long_text = long_text or LongText()
        #: recipe v9's reading of customer text (analysis/sentiment/domain.py); None: off
        self.fusion = fusion
        if self.long_text.mode:
            self.name += f"+{self.long_text.describe()}"
        if fusion is not None:
            self.name += f"+{fusion.describe()}"

    def long_probs(self, texts: Sequence[str], speakers: Sequence[str | None],
                   gates: Sequence[float] | None = None) -> list[np.ndarray | None]:
        """Class probabilities ([3], `self.head.labels` order) of each long text from its
        units, read by the long-text head (`long_text.head`, else this one) in one encoder
        call for all `texts`, each unit's probabilities moved to its speaker's prior (flat for
        a customer with `long_prior = "flat"`, the agent prior for an agent or bot) before
        they are averaged; None for a text with no unit left after normalising (it keeps the
        reading of its first characters). With a `fusion` (recipe v9) each unit of a
        customer's text is also moved by the text's gate value (`gates[i]`, from its first
        600 characters) and the unit's own VADER score before the average."""
        from analysis.sentiment.longtext import aggregate, split_units

        lt = self.long_text
        head = lt.head or self.head
        per_text = [[u for u in (normalise(x) for x in split_units(t, lt.unit_chars, TURN_CHARS)) if u]
                    for t in texts]
        flat = [u for units in per_text for u in units]
        if not flat:
            return [None] * len(texts)
        probs = head.probs(self.encoder.pooled(flat), flat if head.lexicon else None)
        order = [head.labels.index(lab) for lab in self.head.labels]  # the long head's columns, reordered
        out: list[np.ndarray | None] = []
        at = 0
        for k, (units, speaker) in enumerate(zip(per_text, speakers, strict=True)):
            rows = probs[at:at + len(units)].astype(np.float64)
            at += len(units)
            if not units:
                out.append(None)
                continue
            ratio = lt.ratio_for(speaker)
            if ratio is not None:
                rows = rows * np.asarray([ratio.get(lab, 1.0) for lab in head.labels])
                rows = rows / rows.sum(axis=1, keepdims=True)
            if self.fusion is not None and _is_customer(speaker):
                g = float(gates[k]) if gates is not None else 0.0
                rows = self.fusion.apply(rows[:, order], compounds(units), np.full(len(units), g))[:, _inverse(order)]
            out.append(aggregate(lt.mode, units, rows, head.labels)[order])
        return out

    def from_pooled(self, texts: Sequence[str], pooled: np.ndarray,
                    speakers: Sequence[str | None] | None = None) -> list[TurnSentiment]:
        """Verdicts from already-encoded sentiment inputs (`pooled[i]` encodes
        `sentiment_input(texts[i])`); empty inputs are neutral, as in the flair classifier."""
        if speakers is not None and len(speakers) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(speakers)} speakers")
        inputs = [sentiment_input(t) for t in texts] if self.head.lexicon else None
        probs = self.head.probs(pooled, inputs) if len(texts) else np.zeros((0, 3))
        # long texts (only with `long_text` set): their units, in a call of their own, so
        # the short turns' encoder batches and head rows are exactly those of before
        longs = [i for i, t in enumerate(texts) if self.long_text.is_long(t)]
        read_long: set[int] = set()
        # recipe v9: customer texts (speaker customer or unknown), their P(out of domain)
        cust = [i for i in range(len(texts)) if self.fusion is not None
                and _is_customer(speakers[i] if speakers is not None else None)]
        gate = np.zeros(len(texts))
        if cust:
            gate[cust] = self.fusion.out_of_domain(pooled[cust])  # type: ignore[union-attr]
        if longs:
            probs = probs.astype(np.float64)
            who = [speakers[i] if speakers is not None else None for i in longs]
            for i, p in zip(longs, self.long_probs([texts[i] for i in longs], who, gate[longs]), strict=True):
                if p is not None:
                    probs[i] = p
                    read_long.add(i)
        short_cust = [i for i in cust if i not in read_long]
        if short_cust:
            probs = probs.astype(np.float64)
            probs[short_cust] = self.fusion.apply(  # type: ignore[union-attr]
                probs[short_cust], compounds([sentiment_input(texts[i]) for i in short_cust]), gate[short_cust])
        out: list[TurnSentiment] = []
        for i, text in enumerate(texts):
            if not sentiment_input(text):
                out.append(_NEUTRAL)
                continue
            p = {lab: float(v) for lab, v in zip(self.head.labels, probs[i], strict=True)}
            # a text read long had its speaker's prior applied per unit already
            if i not in read_long and self.agent_ratio and speakers is not None and speakers[i] in ("agent", "bot"):
                p = _reweight(p, self.agent_ratio)
            out.append(_from_probs(p))
        return out

    def predict(self, texts: Sequence[str], speakers: Sequence[str | None] | None = None) -> list[TurnSentiment]:
        inputs = [sentiment_input(t) for t in texts]
        return self.from_pooled(texts, self.encoder.pooled(inputs), speakers)


def _is_customer(speaker: str | None) -> bool:
    """Whom recipe v9's reading applies to: customers and texts of unknown speaker."""
    return speaker not in ("agent", "bot")


def _inverse(order: Sequence[int]) -> list[int]:
    inv = [0] * len(order)
    for i, j in enumerate(order):
        inv[j] = i
    return inv


def load_shared(model_path: Path, encoder: TextEncoder, agent_ratio: dict[str, float] | None,
                speaker_input: bool, long_text: LongText | None = None,
                fusion: Fusion | None = None) -> SharedTurnClassifier:
    """The shared-pass classifier for a trained packaged model; raises HeadUnavailable."""
    if speaker_input:
        raise HeadUnavailable("the model reads 'agent: …' / 'customer: …' inputs, not the turn text itself")
    path = model_path.parent / HEAD_FILE
    if not path.is_file():
        log.info("sentiment: extracting the linear head of %s (once)", model_path)
        path = extract(model_path)
    head = SentimentHead(path)
    name = f"shared:{encoder.name}:packaged:{model_path.parent.name}" + ("+agent-prior" if agent_ratio else "")
    return SharedTurnClassifier(encoder, head, name, agent_ratio, long_text, fusion)


def head_meta(model_path: Path) -> dict:
    meta = model_path.parent / "meta.json"
    return json.loads(meta.read_text()) if meta.is_file() else {}
