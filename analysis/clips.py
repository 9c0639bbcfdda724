"""Evidence you can hear: a few seconds of a call's *redacted* audio around a flag's evidence.

A transcript may be wrong; the reviewer of a call flag should be able to hear what was
said. The clip covers the evidence span (the matched words' times, else the evidence
turn) padded by `pad_seconds` on each side, at most `max_seconds` long. It is cut from the
original recording with every stretch where PII was spoken set to silence — the same
stretches the redacted audio copy silences (`analysis.redaction_audio.spans_in_time`,
recomputed from the turns so a call needs no stored copy), plus any word the store
already holds redacted (`keep_original = false`). So a clip never carries a card number.

Clips are made on demand and cached by content (recording, window, silenced stretches):
asking twice costs one decode. Written as 16 kHz 16-bit WAV, which every player and Slack
plays.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.redaction import RedactionOptions, redact
from analysis.redaction_audio import spans_in_time
from store import flags as store_flags
from store import interactions as store_interactions
from store.db import Store
from store.records import Flag, Turn

_configured: weakref.WeakKeyDictionary[Store, RedactionOptions] = weakref.WeakKeyDictionary()


def configure(store: Store, options: RedactionOptions) -> None:
    """Use the configured `[redaction]` options for clips of `store` (the composition root
    calls this once; the bot, the API and the TUI then silence exactly what analysis
    redacts, e.g. national phone numbers of the configured region)."""
    _configured[store] = options


class ClipError(ValueError):
    """No clip can be made for this flag (not a call, no audio, no time span); says why."""


@dataclass(slots=True)
class Clip:
    path: Path
    flag_id: int
    interaction_id: int
    #: the window of the call the clip covers, seconds from the call start
    start: float
    end: float
    #: the evidence span inside the call, seconds from the call start
    evidence: tuple[float, float]
    #: silenced stretches, seconds from the *clip* start
    silenced: list[tuple[float, float]] = field(default_factory=list)


def default_cache_dir(store: Store) -> Path:
    """Where clips are cached: next to the database (`<db>.clips/`), else a temp folder."""
    if store.path and store.path != ":memory:":
        return Path(f"{store.path}.clips")
    return Path(tempfile.gettempdir()) / "convoscope-clips"


def evidence_span(flag: Flag, turns: list[Turn]) -> tuple[float, float]:
    """(start, end) seconds of the flag's evidence: matched words' times, else its turns."""
    times = [(float(e["start"]), float(e["end"])) for e in flag.evidence or []
             if isinstance(e, dict) and isinstance(e.get("start"), int | float)
             and isinstance(e.get("end"), int | float)]  # fmt: skip
    if not times:
        by_seq = {t.seq: t for t in turns}
        for e in flag.evidence or []:
            t = by_seq.get(e.get("seq")) if isinstance(e, dict) else None
            if t is not None and t.start is not None and t.end is not None:
                times.append((float(t.start), float(t.end)))
    if not times:
        raise ClipError(f"flag {flag.id} has no time span in its evidence (nothing to play)")
    return min(a for a, _ in times), max(b for _, b in times)


def pii_spans(turns: list[Turn], options: RedactionOptions, pad: float) -> list[tuple[float, float]]:
    """Seconds of the call where PII was spoken (see module docstring), merged."""
    spans = spans_in_time(turns, [redact(t.text, options) for t in turns], pad)
    for t in turns:  # already-redacted words (keep_original = false)
        spans += [(max(0.0, w.start - pad), w.end + pad) for w in t.words or [] if "[PII" in w.word]
    spans.sort()
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def make_clip(
    store: Store,
    flag_id: int,
    cache_dir: str | Path | None = None,
    *,
    options: RedactionOptions | None = None,
    pad_seconds: float = 2.0,
    max_seconds: float = 12.0,
) -> Clip:
    """The clip of one flag's evidence (made now, or the cached one)."""
    import soundfile as sf

    from analysis.asr.audio import SAMPLE_RATE, load

    opts = options or _configured.get(store) or RedactionOptions()
    flag = store_flags.get(store, flag_id)
    if flag is None:
        raise KeyError(f"no flag {flag_id}")
    it = store_interactions.get(store, flag.interaction_id)
    if it is None or it.channel != "call":
        raise ClipError(f"flag {flag_id} is not on a call: there is no audio to play")
    if not it.raw_ref or not os.path.isfile(it.raw_ref):
        raise ClipError(f"the recording of call {it.id} is not available ({it.raw_ref or 'no file'})")
    a, b = evidence_span(flag, it.turns)
    start, end = max(0.0, a - pad_seconds), b + pad_seconds
    if end - start > max_seconds:  # a long span: keep its start, where the words begin
        end = start + max_seconds
    silence = pii_spans(it.turns, opts, opts.audio_pad_seconds)
    st = os.stat(it.raw_ref)
    key = hashlib.sha256(repr((it.raw_ref, st.st_size, st.st_mtime_ns, round(start, 3), round(end, 3),
                               [(round(x, 3), round(y, 3)) for x, y in silence])).encode()).hexdigest()[:16]
    path = Path(cache_dir or default_cache_dir(store)).expanduser() / f"flag-{flag_id}-{key}.wav"
    rel = [(max(0.0, x - start), min(end, y) - start) for x, y in silence if y > start and x < end]
    clip = Clip(path, flag_id, int(it.id or 0), start, end, (a, b), rel)
    if path.exists():
        return clip
    audio = load(it.raw_ref)
    n = max(len(ch) for ch in audio.channels)
    i0, i1 = min(round(start * SAMPLE_RATE), n), min(round(end * SAMPLE_RATE), n)
    data = np.zeros((max(0, i1 - i0), len(audio.channels)), dtype=np.float32)
    for c, ch in enumerate(audio.channels):
        seg = ch[i0:i1]
        data[: len(seg), c] = seg
    for x, y in rel:
        data[int(x * SAMPLE_RATE): int(y * SAMPLE_RATE)] = 0.0
    clip.end = start + len(data) / SAMPLE_RATE if len(data) else start
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".clip-", suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, data, SAMPLE_RATE, format="WAV", subtype="PCM_16")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return clip
