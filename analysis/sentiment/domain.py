"""Customer text from outside the contact centre: a domain gate and a lexicon fusion (issue #11, v9).

The packaged head (recipe v4) reads contact-centre turns and airline tweets well, but text from
other sources (product reviews, film snippets, patient reviews) at 0.65-0.76 polarity: it
learnt the airline tweets' class frequencies (58 % negative), so out of its domain it leans
negative, and a frozen MiniLM read through airline complaints misses plain evaluative words
that a lexicon knows. Retraining on general data (v5-v7) cost the in-domain targets; this
module changes nothing that was trained and nothing an agent turn reads:

* a **domain gate** — a logistic regression over the same pooled MiniLM layers the head reads
  — gives P(out of domain) for each customer text. It is fitted on training data only: the
  airline corpus' train split and the turn set's train part are "in", the general-domain
  human-rated sets (the Hutto 2014 tweets and NYT sentences, analysis/sentiment/general.py)
  are "out", the two classes weighted alike. It is built once per machine into
  `<cache_dir>/sentiment/gate-<key>/gate.npz` (`ensure_gate`, run by `ensure_model`).
* the head's class logits of a customer text then move, in proportion to that probability
  `g`, from the training prior to a flat one (`ood_prior = "flat"`: `+ g * -log prior`,
  Saerens et al., 2002), and VADER's compound score `c` (negation-aware, analysis/sentiment/
  lexicon.py) is added to the positive-vs-negative logits with a weight that rises from
  `polarity_lexicon` in domain to `ood_lexicon` out of it:
  `logit(pos) += w(g) * c / 2`, `logit(neg) -= w(g) * c / 2`, `w(g) = in + g * (out - in)`.

The neutral logit is untouched, so the fusion moves the positive / negative decision and
only as much of the neutral mass as the softmax shares out. Knobs were chosen on dev sets
and training-data cross-validation (bench/data/README.md, "Sentiment v9").
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.publish import publish_dir
from analysis.sentiment.classifier import ModelNotPrepared
from analysis.sentiment.corpus import LABELS

#: `[sentiment] domain_gate` values: "" (off) or the gate fitted against the general-domain sets
GATES = ("", "general")
#: `[sentiment] ood_prior` values
OOD_PRIORS = ("", "flat")
GATE_RECIPE = "domain-gate-v1"  # bump when the gate's data or fit changes
GATE_FILE = "gate.npz"
#: the general-domain sets that are "out of domain" for the gate
GATE_OUT = "hutto2014-tweets,hutto2014-nyt"
#: L2 strength (scikit-learn's C) and the weight of a turn-set row against an airline tweet
GATE_C = 0.01
GATE_TURN_WEIGHT = 10.0
Progress = Callable[[str], None]


class GateNotPrepared(ModelNotPrepared):
    """The domain gate has not been built on this machine yet."""


@dataclass(frozen=True)
class DomainGate:
    """P(out of the contact-centre domain) = sigmoid(w · concat(pooled[layers]) + b)."""

    weight: np.ndarray
    bias: float
    layers: tuple[int, ...]

    @classmethod
    def load(cls, path: Path) -> DomainGate:
        data = np.load(path)
        return cls(data["weight"].astype(np.float64), float(data["bias"]), tuple(int(i) for i in data["layers"]))

    def probability(self, pooled: np.ndarray) -> np.ndarray:
        """[n] P(out of domain) from [n, 7, 384] pooled states (the head's own inputs)."""
        if not len(pooled):
            return np.zeros(0)
        x = np.concatenate([pooled[:, i, :] for i in self.layers], axis=1).astype(np.float64)
        return 1.0 / (1.0 + np.exp(-(x @ self.weight + self.bias)))


@dataclass(frozen=True)
class Fusion:
    """The v9 reading of customer text (see the module docstring). `gate` None means every
    text counts as in domain (g = 0): only `lexicon_in` then acts."""

    gate: DomainGate | None
    lexicon_in: float
    lexicon_out: float
    #: -log(training prior) per class in `labels` order, or None (no prior shift)
    prior_shift: np.ndarray | None
    labels: tuple[str, ...] = LABELS

    def describe(self) -> str:
        parts = [f"lex{self.lexicon_in:g}"]
        if self.gate is not None:
            parts.append(f"gate:lex{self.lexicon_out:g}" + ("+flat" if self.prior_shift is not None else ""))
        return "ood:" + ",".join(parts)

    def out_of_domain(self, pooled: np.ndarray) -> np.ndarray:
        return self.gate.probability(pooled) if self.gate is not None else np.zeros(len(pooled))

    def apply(self, probs: np.ndarray, compound: np.ndarray, g: np.ndarray) -> np.ndarray:
        """[n, 3] probabilities of n rows moved by their gate values `g` and VADER compounds."""
        if not len(probs):
            return probs.astype(np.float64)
        pos, neg = self.labels.index("positive"), self.labels.index("negative")
        z = np.log(np.clip(probs.astype(np.float64), 1e-12, None))
        g = np.asarray(g, dtype=np.float64)
        if self.prior_shift is not None:
            z = z + g[:, None] * self.prior_shift[None, :]
        w = self.lexicon_in + g * (self.lexicon_out - self.lexicon_in)
        half = w * np.asarray(compound, dtype=np.float64) / 2
        z[:, pos] += half
        z[:, neg] -= half
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def compounds(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound score of each text (cached per text by analysis/sentiment/lexicon.py)."""
    from analysis.sentiment.lexicon import vader_features

    return np.asarray([vader_features(t)[0] for t in texts], dtype=np.float64)


def fusion(options, priors: dict[str, dict[str, float]] | None, cache_dir: Path,
           labels: Sequence[str] = LABELS) -> Fusion | None:
    """The `Fusion` of `[sentiment]` options (analysis.sentiment.options.SentimentOptions), or
    None when none of its keys is set. Raises GateNotPrepared when the gate is not built."""
    if not (options.polarity_lexicon or options.domain_gate):
        return None
    gate = None
    if options.domain_gate:
        path = gate_dir(options, cache_dir) / GATE_FILE
        if not path.is_file():
            raise GateNotPrepared(f"the sentiment domain gate is not prepared (expected {path}); "
                                  "run `convoscope models prepare` or `convoscope train sentiment` once")
        gate = DomainGate.load(path)
    shift = None
    if options.ood_prior == "flat":
        train = (priors or {}).get("train")
        if not train:
            raise ValueError('ood_prior = "flat" needs the model\'s training priors')
        shift = np.asarray([-np.log(train[lab]) for lab in labels], dtype=np.float64)
    return Fusion(gate, options.polarity_lexicon, options.ood_lexicon, shift, tuple(labels))


def gate_key(options) -> str:
    """Hash of everything the gate is fitted from (its own key: the head's model key, and so
    the v4 model, is untouched by the v9 keys)."""
    from analysis.sentiment import general
    from analysis.sentiment.training import _corpus_hash, turns_hash

    knobs = {"recipe": GATE_RECIPE, "corpus": _corpus_hash(options), "held_out": options.held_out_fraction,
             "seed": options.seed, "turns": turns_hash(options), "out": general.digest(GATE_OUT),
             "c": GATE_C, "turn_weight": GATE_TURN_WEIGHT, "layers": options.layers, "gate": options.domain_gate}
    if options.max_examples:
        knobs["max_examples"] = options.max_examples
    return hashlib.sha256(json.dumps(knobs, sort_keys=True).encode()).hexdigest()[:20]


def gate_dir(options, cache_dir: Path) -> Path:
    return Path(cache_dir).expanduser() / "sentiment" / f"gate-{gate_key(options)}"


def ensure_gate(options, cache_dir: Path, progress: Progress = print) -> Path | None:
    """Build the domain gate once per machine (None when `domain_gate` is off); a file lock
    keeps two processes from building it together, a temporary folder renamed into place
    keeps a killed build from leaving half a gate."""
    if not options.domain_gate:
        return None
    target = gate_dir(options, cache_dir)
    done = target / GATE_FILE
    if done.is_file():
        return done
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.is_file():
            return done
        with publish_dir(target) as work:
            meta = build_gate(options, Path(cache_dir).expanduser(), work / GATE_FILE, progress)
            (work / "meta.json").write_text(json.dumps(meta, indent=2))
    return done


def gate_data(options) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(texts, y: 1 = out of domain, weights) of the gate: training data only — the corpus'
    train split and the turn set's train part in, the general-domain sets out; each class
    weighs the same in total."""
    from analysis.sentiment import general
    from analysis.sentiment.corpus import split
    from analysis.sentiment.training import _turn_parts

    corpus = split(options.corpus, options.held_out_fraction, options.seed).train
    turns, _ = _turn_parts(options)
    out = [e.text for e in general.examples(GATE_OUT)]
    if options.max_examples:  # a quick build (`train sentiment --quick`, tests): the first n of each side
        corpus, out = corpus[: options.max_examples], out[: options.max_examples]
    texts = [e.text for e in corpus] + [t.text for t in turns] + out
    y = np.concatenate([np.zeros(len(corpus) + len(turns)), np.ones(len(out))])
    w = np.concatenate([np.ones(len(corpus)), np.full(len(turns), GATE_TURN_WEIGHT), np.ones(len(out))])
    w[y == 1] *= w[y == 0].sum() / w[y == 1].sum()
    return texts, y, w


def build_gate(options, cache_dir: Path, path: Path, progress: Progress = print) -> dict:
    """Encode the gate's data (float32 pass, like the head trainer), fit it, write `path`."""
    from sklearn.linear_model import LogisticRegression

    from analysis.encoder import EncoderOptions, TextEncoder
    from analysis.sentiment.head import sentiment_input

    layers = [int(i) for i in options.layers.split(",")]
    texts, y, w = gate_data(options)
    encoder = TextEncoder(EncoderOptions(quantize=False), cache_dir)
    t0 = time.monotonic()
    pooled = encoder.pooled([sentiment_input(t) for t in texts])
    progress(f"sentiment: domain gate, encoded {len(texts)} training texts in {time.monotonic() - t0:.0f} s")
    x = np.concatenate([pooled[:, i, :] for i in layers], axis=1).astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=GATE_C, max_iter=1000).fit((x - mean) / std, y, sample_weight=w)
    weight = model.coef_[0] / std
    bias = float(model.intercept_[0] - weight @ mean)
    np.savez(path, weight=weight.astype(np.float32), bias=np.float32(bias), layers=np.asarray(layers, dtype=np.int64))
    g = 1.0 / (1.0 + np.exp(-(x @ weight + bias)))
    rate = {"in": float(np.mean(g[y == 0] >= 0.5)), "out": float(np.mean(g[y == 1] >= 0.5))}
    progress(f"sentiment: domain gate fitted; training texts read as out of domain: in {rate['in']:.3f}, "
             f"out {rate['out']:.3f}")
    return {"recipe": GATE_RECIPE, "texts": len(texts), "out_of_domain_rate_on_training": rate,
            "encoder": encoder.name, "c": GATE_C, "turn_weight": GATE_TURN_WEIGHT, "out_sets": GATE_OUT}
