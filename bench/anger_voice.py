"""The anger evidence sets: labelled customer turns as text, and as speech with set prosody.

Two sets, both split by the contact-centre turn set's hash-decided `split` (bench/data/
contact_turns.jsonl; a turn's synthetic recordings are on the side of its text):

* **text**: every customer turn of the turn set (chat, e-mail, transcript, ASR-noisy),
  scored as a one-turn chat; gold = the turn's `angry` label.
* **voice**: each hand-written customer turn is spoken by espeak-ng in two of four
  prosodies (picked by a hash of the text) inside a synthetic stereo call: the agent (left)
  and the customer (right) first exchange three calm turns, so the caller has a baseline,
  then the customer says the turn. Prosody = espeak-ng rate and SSML pitch range, level
  set with sox: *flat* (125 wpm, narrow range, -17 dBFS peak), *normal* (160 wpm, -12),
  *raised* (190 wpm, wide range, -6) and *shouted* (215 wpm, widest range, higher pitch,
  -1); each clip also gets a small seeded jitter in rate and level. Gold (the set's stated
  convention, written before any weight was fitted): a positive turn is never angry; a
  flat reading is not angry; a normal reading is angry when the words are (the turn's
  `angry` label); a raised one when the words are angry or negative; a shouted one is angry
  unless the words are positive.

`features(...)` runs the real AngerScorer (with the real sentiment classifier and the voice
measurement of analysis/voice.py on the synthetic channels) and returns each target turn's
evidence features, cached per sentiment model in the Convoscope cache (synthesis and pitch
tracking take a few minutes on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 16000
AGENT_VOICE = "en-us+m3"
CUSTOMER_VOICES = ("en-us+f3", "en-us+m1")
# name: (words per minute, SSML pitch range, SSML pitch, peak dBFS)
PROSODY = {
    "flat": (125, "x-low", "medium", -17.0),
    "normal": (160, "medium", "medium", -12.0),
    "raised": (190, "high", "high", -6.0),
    "shouted": (215, "x-high", "x-high", -1.0),
}
AGENT_LINES = [
    "Thank you for calling, this is Daniel, how can I help you today?",
    "Okay, can you confirm your postcode for me please?",
    "Thank you, and what is the reason for your call?",
    "Let me have a look at that for you.",
]
BASELINE_LINES = [
    "Hello, yes, I am calling about my account.",
    "Sure, it is the one ending in four four one two.",
    "Right, I can tell you what happened last week.",
]
VERSION = "anger-voice-v1"


@dataclass(slots=True)
class Item:
    id: str
    text: str
    split: str
    label: str  # sentiment label of the words
    words_angry: bool
    prosody: str | None  # None for the text set
    voice: str | None
    angry: bool  # gold


def gold(label: str, words_angry: bool, prosody: str) -> bool:
    """The voice set's labelling convention (see the module docstring)."""
    if label == "positive" or prosody == "flat":
        return False
    if prosody == "normal":
        return words_angry
    if prosody == "raised":
        return words_angry or label == "negative"
    return True  # shouted


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def items(part: str | None = None) -> tuple[list[Item], list[Item]]:
    """(text items, voice items) of the given part ("train", "held_out" or None for both)."""
    from analysis.sentiment import turnset

    turns = [t for t in turnset.load(part=part) if t.speaker == "customer"]
    text = [Item(t.id, t.text, t.split, t.label, bool(t.angry), None, None, bool(t.angry)) for t in turns]
    voice = []
    names = list(PROSODY)
    for t in turns:
        if t.noisy:
            continue
        h = _h(t.text)
        first = names[h % 4]
        second = names[(h // 4 + 1 + h % 4) % 4]
        if second == first:
            second = names[(h % 4 + 2) % 4]
        for pros in (first, second):
            voice.append(Item(f"{t.id}-{pros}", t.text, t.split, t.label, bool(t.angry), pros,
                              CUSTOMER_VOICES[(h >> 8) % len(CUSTOMER_VOICES)],
                              gold(t.label, bool(t.angry), pros)))
    return text, voice


def _speak(text: str, voice: str, prosody: str, seed: str, tmp: Path) -> np.ndarray:
    import soundfile as sf

    wpm, rng_, pitch, peak = PROSODY[prosody]
    r = np.random.default_rng(_h(seed))
    wpm = int(wpm + r.integers(-8, 9))
    peak = float(peak + r.uniform(-1.5, 1.5))
    raw, out = tmp / "raw.wav", tmp / "out.wav"
    ssml = (f'<speak><prosody rate="{wpm / 175:.2f}" range="{rng_}" pitch="{pitch}">'
            f"{_xml(text)}</prosody></speak>")
    subprocess.run(["espeak-ng", "-v", voice, "-m", "-w", str(raw), ssml], check=True, capture_output=True)
    subprocess.run(["sox", "-R", str(raw), "-r", str(RATE), "-b", "16", str(out), "gain", "-n", f"{min(peak, -0.5):.1f}"],
                   check=True, capture_output=True)
    data, rate = sf.read(str(out), dtype="float32")
    if rate != RATE:
        raise RuntimeError(f"sox produced {rate} Hz, expected {RATE}")
    return data


def _xml(text: str) -> str:
    return text.replace("&", "and").replace("<", " ").replace(">", " ")


_FIXED: dict[tuple[str, str], np.ndarray] = {}


def _fixed(text: str, voice: str, tmp: Path) -> np.ndarray:
    """The calm agent and baseline lines, synthesised once per voice."""
    if (text, voice) not in _FIXED:
        _FIXED[(text, voice)] = _speak(text, voice, "normal", f"fixed/{voice}/{text}", tmp)
    return _FIXED[(text, voice)]


def synth_call(item: Item, tmp: Path):
    """(channels, turns) of the synthetic call whose last turn is `item`, spoken as set."""
    from store.records import Turn

    assert item.prosody and item.voice
    script = [("agent", AGENT_LINES[0]), ("customer", BASELINE_LINES[0]), ("agent", AGENT_LINES[1]),
              ("customer", BASELINE_LINES[1]), ("agent", AGENT_LINES[3]), ("customer", item.text)]
    clips = [_fixed(text, AGENT_VOICE if spk == "agent" else item.voice, tmp) for spk, text in script[:-1]]
    clips.append(_speak(item.text, item.voice, item.prosody, item.id, tmp))
    gap = int(0.6 * RATE)
    total = sum(len(c) for c in clips) + gap * (len(clips) + 1)
    left, right = np.zeros(total, np.float32), np.zeros(total, np.float32)
    pos = gap
    turns = []
    for k, ((spk, text), clip) in enumerate(zip(script, clips, strict=True)):
        # trim espeak's leading/trailing silence so the turn's times are its speech
        idx = np.flatnonzero(np.abs(clip) > 0.01)
        clip = clip[idx[0]: idx[-1] + 1] if len(idx) else clip
        (left if spk == "agent" else right)[pos: pos + len(clip)] = clip
        turns.append(Turn(seq=k, speaker=spk, text=text, start=pos / RATE, end=(pos + len(clip)) / RATE))
        pos += len(clip) + gap
    return [left, right], turns


def voice_measurements(cache_dir: Path | None = None, part: str | None = None, progress=print) -> list[dict]:
    """The measured voice (analysis.voice.TurnVoice as a dict) of every voice item's target
    turn, relative to the caller's baseline and the agent; cached (they do not depend on any
    model or weight, only on this file, analysis/voice.py and the turn set)."""
    from dataclasses import asdict

    from analysis import voice as voice_mod
    from analysis.anger import _relate_to_other_party
    from analysis.sentiment import turnset

    voice_items = items(part)[1]
    h = hashlib.sha256(json.dumps([VERSION, turnset.file_hash(), [i.id for i in voice_items]]).encode())
    for path in (Path(voice_mod.__file__), Path(__file__)):
        h.update(path.read_bytes())
    cache = (cache_dir / "bench" / f"anger_voice_{h.hexdigest()[:16]}.json") if cache_dir else None
    if cache and cache.is_file():
        return json.loads(cache.read_text())
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise RuntimeError("espeak-ng and sox are needed for the voice set (apt-get install espeak-ng sox)")
    out = []
    with tempfile.TemporaryDirectory() as td:
        for n, it in enumerate(voice_items):
            channels, turns = synth_call(it, Path(td))
            voices = voice_mod.measure(channels, turns, "left", 1.0)
            _relate_to_other_party(voices)
            out.append(asdict(voices[-1]))
            if n % 100 == 99:
                progress(f"anger voice set: {n + 1}/{len(voice_items)} calls synthesised and measured")
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(out))
    return out


def features(classifier, anger_options=None, cache_dir: Path | None = None, part: str | None = None,
             progress=print) -> tuple[list[Item], list[dict], list[Item], list[dict]]:
    """Evidence features of every text and voice item: the real AngerScorer on the words
    (with the real sentiment classifier) plus its voice evidence from the measurements."""
    from analysis.anger import AngerOptions, AngerScorer
    from analysis.voice import TurnVoice
    from store.records import Interaction, Turn

    scorer = AngerScorer(anger_options or AngerOptions())
    text_items, voice_items = items(part)
    # measured once for both parts (one cache), then the part's items are picked
    wanted = {i.id for i in voice_items}
    measured = [m for i, m in zip(items(None)[1], voice_measurements(cache_dir, None, progress), strict=True)
                if i.id in wanted]
    sents = classifier.predict([i.text for i in text_items])
    text_feats = []
    for it, s in zip(text_items, sents, strict=True):
        inter = Interaction("chat", "bench", it.id, "h", turns=[Turn(seq=0, speaker="customer", text=it.text)])
        text_feats.append(scorer.score(inter, [s]).details[0].features)
    lines = [BASELINE_LINES[0], BASELINE_LINES[1]]
    base_sents = classifier.predict(lines)
    voice_feats = []
    for it, s, m in zip(voice_items, classifier.predict([i.text for i in voice_items]), measured, strict=True):
        # the words as a call turn (no capitals/"!" evidence) after the two baseline turns
        turns = [Turn(seq=k, speaker="customer", text=t) for k, t in enumerate([*lines, it.text])]
        inter = Interaction("call", "bench", it.id, "h", turns=turns)
        f = dict(scorer.score(inter, [*base_sents, s]).details[-1].features)
        parts = scorer._voice_parts(TurnVoice(**m))
        f.update({f"voice_{k}": v for k, v in parts.items()})
        voice_feats.append(f)
    return text_items, text_feats, voice_items, voice_feats


def probability(feat: dict, options) -> float:
    """The scorer's probability from stored features under `options`' weights."""
    import math

    from analysis.anger import FEATURES

    z = options.bias + sum(getattr(options, f"weight_{n}") * feat.get(n, 0.0) for n in FEATURES)
    return 1.0 / (1.0 + math.exp(-z))
