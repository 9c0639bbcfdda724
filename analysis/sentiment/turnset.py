"""The labelled contact-centre turn set and its fixed held-out part.

`bench/data/contact_turns.jsonl` holds hand-written agent and customer turns (chat, e-mail,
clean transcript and ASR-noisy styles; see bench/data/README.md) labelled negative /
neutral / positive, customer turns also angry or not. Training reads only the `train`
part; evaluation reads only `held_out`. Which part a turn belongs to is decided by a hash
of its group's hand-written text (`held_out_group`), so the split existed before any model
and never depends on a seed, an epoch count or what else is in the corpus.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

HELD_OUT_PERCENT = 30
_SALT = "convoscope-contact-turns-v1"
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "bench" / "data" / "contact_turns.jsonl"
#: recipe v7's extra training-only turns (same shape, every row `train`; bench/data/README.md)
EXTRA_PATH = DEFAULT_PATH.with_name("contact_turns_extra.jsonl")


def held_out_group(text: str) -> bool:
    """True when a hand-written turn (and its noisy copies) belongs to the held-out part."""
    digest = hashlib.sha256(f"{_SALT}\n{text}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < HELD_OUT_PERCENT


@dataclass(slots=True, frozen=True)
class LabelledTurn:
    id: str
    group: str
    speaker: str  # agent / customer
    label: str  # negative / neutral / positive
    style: str  # chat / email / speech / asr
    angry: bool | None  # customer turns only
    noisy: bool
    split: str  # train / held_out
    text: str


def load(path: Path | str | None = None, part: str | None = None) -> list[LabelledTurn]:
    """The turns of `part` ("train", "held_out" or None for both)."""
    p = Path(path) if path else DEFAULT_PATH
    if not p.is_file():
        raise FileNotFoundError(f"contact-centre turn set {p} does not exist (bench/data/make_contact_turns.py builds it)")
    rows = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = LabelledTurn(**json.loads(line))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{p}:{n}: not a labelled turn: {exc}") from exc
        if part is None or r.split == part:
            rows.append(r)
    return rows


def file_hash(path: Path | str | None = None) -> str:
    return hashlib.sha256((Path(path) if path else DEFAULT_PATH).read_bytes()).hexdigest()
