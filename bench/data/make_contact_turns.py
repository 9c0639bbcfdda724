"""Build bench/data/contact_turns.jsonl from the hand-written contact_turns_src.txt.

    .venv/bin/python bench/data/make_contact_turns.py      # rewrites contact_turns.jsonl
                                                           # and contact_turns_extra.jsonl

Every hand-written turn is one *group*. Turns written as a clean transcript ("speech") and
about half of the chat turns also get a copy with ASR noise (lower case, no punctuation,
fillers, stutters, dropped words, typical misrecognitions), made by a random generator
seeded from the turn's own text, so the file is reproducible. The held-out part is decided
per group by a hash of the hand-written text (`analysis.sentiment.turnset.held_out_group`),
before any training exists, so a noisy copy is always on the same side as its original and
nothing the model trains on is a near-duplicate of a held-out turn.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from analysis.sentiment.turnset import held_out_group  # noqa: E402

LABELS = {"neg": "negative", "neu": "neutral", "pos": "positive"}
FILLERS = ["um", "uh", "erm", "you know", "like", "so", "i mean", "yeah"]
# typical Whisper-style confusions on telephone audio (homophones, split words, clipped endings)
CONFUSIONS = {
    "account": "a count", "refund": "re fund", "charged": "charge", "their": "there",
    "to": "two", "bill": "bell", "email": "e mail", "week": "weak", "invoice": "in voice",
    "router": "rooter", "manager": "manage her", "cancel": "cancelled", "for": "four",
    "right": "write", "fee": "free", "card": "car", "waiting": "wait in", "flight": "fight",
    "through": "threw", "there": "their", "you're": "your", "it's": "its", "i'm": "im",
    "don't": "dont", "can't": "cant", "you've": "you", "policy": "polly see", "claim": "clay",
    "engineer": "engine ear", "password": "pass word", "weekend": "week end", "parcel": "parcels",
    "delivery": "deliver", "recorded": "record it", "training": "trainee", "purposes": "purpose",
    "sorry": "sorry sorry", "help": "health", "meter": "metre", "broadband": "broad band",
}


def asr_noise(text: str) -> str:
    """A plausible ASR rendering of `text` (deterministic per text)."""
    rng = random.Random(hashlib.sha256(text.encode()).hexdigest())
    words = re.sub(r"[^\w\s']", " ", text.lower()).split()
    out: list[str] = []
    for w in words:
        bare = w.replace("'", "") if rng.random() < 0.7 else w
        if w in CONFUSIONS and rng.random() < 0.45:
            bare = CONFUSIONS[w]
        elif len(w) <= 3 and w not in {"not", "no", "nt"} and rng.random() < 0.06:
            continue  # a short word lost in the noise
        out.append(bare)
        if rng.random() < 0.07:
            out.append(rng.choice(FILLERS))
        if rng.random() < 0.04:
            out.append(bare)  # stutter / restart
    if out and rng.random() < 0.5:
        out.insert(0, rng.choice(FILLERS))
    return " ".join(out)


def parse(src: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        head, _, text = line.partition("|")
        spk, label, style = head.split()
        rows.append({
            "speaker": "agent" if spk == "a" else "customer", "label": LABELS[label], "style": style,
            "angry": (spk == "c!") if spk != "a" else None, "text": text.strip(), "line": n,
        })
    return rows


def build(src: Path, prefix: str = "ct", train_only: bool = False) -> list[dict]:
    """Rows of a turn-set JSONL; `train_only` (the extra training turns of recipe v7) puts every
    group in the train part, whatever its hash says, so the held-out part never grows."""
    out = []
    for i, r in enumerate(parse(src), start=1):
        group = f"{prefix}{i:04d}"
        split = "train" if train_only or not held_out_group(r["text"]) else "held_out"
        base = {"id": group, "group": group, "speaker": r["speaker"], "label": r["label"],
                "style": r["style"], "angry": r["angry"], "noisy": False, "split": split, "text": r["text"]}
        out.append(base)
        want_noise = r["style"] == "speech" or (r["style"] == "chat" and i % 2 == 0)
        if want_noise:
            noisy = asr_noise(r["text"])
            if noisy and noisy != r["text"]:
                out.append({**base, "id": f"{group}n", "style": "asr", "noisy": True, "text": noisy})
    return out


def main() -> int:
    for src, dst, prefix, train_only in (("contact_turns_src.txt", "contact_turns.jsonl", "ct", False),
                                         ("contact_turns_extra_src.txt", "contact_turns_extra.jsonl", "cx", True)):
        rows = build(HERE / src, prefix, train_only)
        with (HERE / dst).open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        held = sum(r["split"] == "held_out" for r in rows)
        print(f"{len(rows)} turns ({held} held out) -> {HERE / dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
