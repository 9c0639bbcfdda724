"""One call's speakers from its audio and words: the step the transcriber calls.

`speaker_turns` diarizes a mixed channel (a mono call, or a stereo file whose two sides
both carry both voices, `is_mixed_stereo`), gives every word its speaker, names the
speakers (`assign`: agent, customer, and "other" for a third or fourth voice, e.g. the
colleague on a transfer) and returns the turns with the assignment's confidence in each
turn's meta (`speaker_confidence`), where analysis/confidence.py reads it.

`agent_voiceprint` is enrolment: the mean embedding of the agent's side of a stereo call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.diarization.assign import assign
from analysis.diarization.diarize import FRAME, Diarization, DiarizeOptions, diarize
from analysis.diarization.encoder import HOP, SAMPLE_RATE, VoiceEncoder, mel_frames
from analysis.diarization.words import overlapped_words, turns_from_words, word_speakers
from store.records import Turn, Word

#: names the embedding space of stored voiceprints (store/speakers.py)
MODEL = "resemblyzer-ge2e-0.1.4"


@dataclass(slots=True)
class CallContext:
    """What the store knows about a call before it is transcribed (from its sidecar)."""

    agent: str | None = None
    direction: str | None = None
    voiceprint: np.ndarray | None = None  # the agent's enrolled voiceprint, if any
    enrol: bool = False  # compute the agent side's embedding (stereo calls)


@dataclass(slots=True)
class SpeakerResult:
    """Turns with speakers, and how they were assigned (stored in speaker_assignments)."""

    turns: list[Turn]
    speakers: int
    confidence: float | None
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # time diarization took
    diarization: Diarization | None = None


def speaker_turns(
    samples: np.ndarray,
    segments: Sequence[list[Word]],
    ctx: CallContext | None,
    opts: DiarizeOptions,
    *,
    gap: float,
    diarization: Diarization | None = None,
) -> SpeakerResult:
    """Diarize `samples` (16 kHz mono) and attribute `segments`' words (module docstring).

    `diarization`: reuse one already made of these samples (the bench scores one
    diarization with and without a voiceprint)."""
    t0 = time.perf_counter()
    ctx = ctx or CallContext()
    words = sorted((w for s in segments for w in s), key=lambda w: w.start)
    d = diarization if diarization is not None else diarize(samples, opts)
    spk = word_speakers(words, d)
    if not spk:  # nothing diarizable (no speech windows): one unknown speaker
        spk = [0] * len(words)
    n = max(d.n_speakers, 1)
    texts = ["".join(w.word for w, s in zip(words, spk, strict=True) if s == j) for j in range(n)]
    first = _first_speaker(d, spk)
    a = assign(n, texts, first, ctx.direction, d.centroids if d.n_speakers else None, ctx.voiceprint)
    names = _names(n, a.agent, d.talk_seconds)
    meta = {"speaker_source": "diarization", "speaker_confidence": a.confidence}
    ov = overlapped_words(words, d) if d.second is not None and len(spk) == len(words) else None
    turns = turns_from_words(words, spk, names, gap=gap, meta=meta, overlapped=ov)
    ev = dict(a.evidence, talk_seconds=d.talk_seconds, names=names, direction=ctx.direction,
              voiceprint=ctx.voiceprint is not None)  # fmt: skip
    if d.second is not None:
        ev["overlap_seconds"] = d.overlap_seconds()
    return SpeakerResult(turns, d.n_speakers, a.confidence, ev, time.perf_counter() - t0, d)


def _first_speaker(d: Diarization, word_spk: Sequence[int]) -> int | None:
    lab = d.labels()
    on = np.flatnonzero(lab >= 0)
    if len(on):
        # the first speaker holding the floor for at least 0.3 s (not a click or a breath)
        run = max(1, round(0.3 / FRAME))
        for i in on:
            if (lab[i : i + run] == lab[i]).all():
                return int(lab[i])
    return word_spk[0] if word_spk else None


def _names(n: int, agent: int, talk: Sequence[float]) -> list[str]:
    names = ["other"] * n
    if agent < 0:
        return ["customer"] * n
    names[agent] = "agent"
    rest = [j for j in range(n) if j != agent]
    if rest:
        names[max(rest, key=lambda j: talk[j] if j < len(talk) else 0.0)] = "customer"
    return names


def agent_voiceprint(samples: np.ndarray, opts: DiarizeOptions | None = None,
                     max_seconds: float | None = None) -> tuple[np.ndarray, float] | None:
    """(mean unit embedding, seconds of speech) of one speaker's channel; None if too little.

    Only full-length windows count (the same ones the diarizer clusters on), so the print
    is comparable with mono calls' speaker centroids. `max_seconds`: use the speech regions
    from the start of the call until they hold this much speech (the mel features and the
    speaker network, most of the cost, then run on that stretch only; issue 15: a print
    from 60 s of speech agrees with one from the whole 5-minute call to cosine > 0.99, see
    README "Throughput"); None = every region.
    """
    from analysis.diarization.diarize import _windows, for_band, is_narrowband, speech_regions

    opts = opts or DiarizeOptions()
    head = samples[: int(3 * max_seconds * SAMPLE_RATE)] if max_seconds is not None else samples
    # telephone band or not, from the stretch that is searched first (its mel is cheap)
    head_mel = mel_frames(head)
    opts = for_band(opts, is_narrowband(head_mel[0]))
    regions: list[tuple[int, int]] = []
    if max_seconds is not None and len(samples) > len(head):
        # VAD over the first stretch first: it usually holds enough of the agent's speech
        regions = speech_regions(head, opts)
    if sum(e - s for s, e in regions) < (max_seconds or 0) * SAMPLE_RATE or not regions:
        regions = speech_regions(samples, opts)
    if max_seconds is not None:
        kept, total = [], 0
        for s, e in regions:
            if total >= max_seconds * SAMPLE_RATE:
                break
            kept.append((s, e))
            total += e - s
        regions = kept
    cut = regions[-1][1] if regions else 0
    if max_seconds is None:
        mel, power = head_mel
    elif cut <= len(head):
        # the stretch used lies inside the head: its frames are the head's first ones (all
        # but the last, which saw a few ms past the cut instead of zero padding), so the
        # mel is not computed twice
        n = 1 + cut // HOP
        mel, power = head_mel[0][:n], head_mel[1][:n]
    else:
        mel, power = mel_frames(samples[:cut])
    regions_f = [(s // 160, min(len(mel), -(-e // 160))) for s, e in regions]
    wins = [w for w in _windows(regions_f, opts) if (w[1] - w[0]) * FRAME >= opts.cluster_min_window]
    if len(wins) < 3:
        return None
    emb = VoiceEncoder.shared().embed(mel, power, wins)
    vec = emb.mean(axis=0)
    seconds = sum(e - s for s, e in regions) / SAMPLE_RATE
    return vec / max(float(np.linalg.norm(vec)), 1e-9), float(seconds)


def is_mixed_stereo(left: np.ndarray, right: np.ndarray, *, balanced_db: float = 10.0,
                    share: float = 0.6) -> tuple[bool, dict[str, float]]:  # fmt: skip
    """A stereo file whose channels both carry both voices (a mix saved as two channels).

    In a real two-channel call each moment of speech is loud on one side: the other side
    holds at most echo or sidetone, tens of dB down (both loud only while both talk). In a
    mix saved as stereo both sides are loud together nearly all the time. So: among the
    25 ms frames where either side speaks, the share where the quieter side is within
    `balanced_db` of the louder; `share` or more means mixed. Also reported: the sample
    correlation of the two sides (near 1 for a mix).
    """
    n = min(len(left), len(right))
    frame = SAMPLE_RATE // 40
    nf = n // frame
    if nf == 0:
        return False, {}
    lf = left[: nf * frame].reshape(nf, frame).astype(np.float64)
    rf = right[: nf * frame].reshape(nf, frame).astype(np.float64)
    l_db = 10 * np.log10((lf**2).mean(axis=1) + 1e-12)
    r_db = 10 * np.log10((rf**2).mean(axis=1) + 1e-12)
    loud = np.maximum(l_db, r_db)
    active = loud > max(-60.0, float(loud.max()) - 40.0)
    if active.sum() < 20:
        return False, {}
    balanced = float((np.abs(l_db - r_db)[active] < balanced_db).mean())
    corr = _correlation(left[:n], right[:n])
    return balanced >= share, {"balanced_share": round(balanced, 3), "correlation": round(corr, 3)}


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation as np.corrcoef gives it (float64), with two dot products
    instead of a covariance matrix: ~10x less CPU on a 5-minute call (issue 15)."""
    if len(x) < 2:
        return 0.0
    a = x.astype(np.float64)
    a -= a.mean()
    b = y.astype(np.float64)
    b -= b.mean()
    den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b)) / den if den > 0 else float("nan")
