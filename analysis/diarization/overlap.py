"""Overlapped speech in a mono mix: which 10 ms frames have a second speaker talking.

No pretrained overlap model installs from PyPI offline (pyannote's and senko's need a hub
download), so this is a small one of our own: a classifier over per-frame features the
diarizer already has or gets cheaply —

- the frame's speaker scores from the 1.2 s windows (best, second best, their margin, and
  the margin smoothed over ±0.3 s): a window holding two voices embeds between them;
- the same from short windows (`SHORT_WINDOW` s every `SHORT_HOP` s, the GE2E encoder
  again; it about doubles the diarizer's CPU, +6 % → +12 % of transcription time on the
  bench): they resolve a cut-in of under a second, which the 1.2 s
  windows average away;
- how far the nearest change of speaker is (long and short windows): people overlap
  where the floor changes hands;
- loudness against the call's speech and the surrounding second (two voices add up),
  spectral flatness and periodicity (the autocorrelation peak in the pitch range: two
  voices with two pitches are less periodic than one);
- how far the edge of the VAD region is, and whether the audio is telephone band.

The classifier (`MODEL_FILE`, JSON: feature means/scales, a small MLP's weights, the
smoothing and the threshold) was trained on the bench's dev calls only
(bench/diarization_overlap.py; bench/data/README.md "Diarization round 3"); inference is
numpy. A frame judged overlapped gets its second-best speaker as a second speaker
(`Diarization.second`); words keep one speaker each (analysis/diarization/words.py).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("overlap_model.json")
SHORT_WINDOW = 0.5  # seconds
SHORT_HOP = 0.2
FRAME = 0.01

FEATURES = (
    "s1", "s2", "margin", "margin_smooth",
    "short_s1", "short_s2", "short_margin", "short_margin_smooth",
    "change", "short_change", "db_call", "db_local", "flatness", "periodicity",
    "periodicity_smooth", "region_edge", "narrowband",
)  # fmt: skip


def _moving(x: np.ndarray, half: int) -> np.ndarray:
    """Centred moving mean over 2*half+1 frames (edges: the frames there are)."""
    if half <= 0 or len(x) == 0:
        return x.astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    i = np.arange(len(x))
    lo, hi = np.maximum(i - half, 0), np.minimum(i + half + 1, len(x))
    return (c[hi] - c[lo]) / (hi - lo)


def _top2(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sc = np.where(np.isnan(scores), -1.0, scores)
    if sc.shape[1] < 2:
        s1 = sc[:, 0] if sc.shape[1] else np.zeros(len(sc))
        return s1, np.full(len(sc), -1.0)
    part = np.sort(sc, axis=1)
    return part[:, -1], part[:, -2]


def _change_distance(lab: np.ndarray, cap: float = 3.0) -> np.ndarray:
    """Seconds from each frame to the nearest change of label between speech frames."""
    idx = np.flatnonzero((lab[1:] != lab[:-1]) & (lab[1:] >= 0) & (lab[:-1] >= 0)) + 1
    if len(idx) == 0:
        return np.full(len(lab), cap)
    f = np.arange(len(lab))
    j = np.clip(np.searchsorted(idx, f), 1, len(idx)) - 1
    d = np.minimum(np.abs(f - idx[j]), np.abs(f - idx[np.minimum(j + 1, len(idx) - 1)]))
    return np.minimum(d * FRAME, cap)


def _periodicity(samples: np.ndarray, n_frames: int, sr: int = 16000) -> np.ndarray:
    """Peak of each 25 ms frame's normalised autocorrelation at lags of 2.5-16 ms (the
    pitch range 62-400 Hz): high for one voiced voice, lower for two or for noise. The
    autocorrelation is the biased one (a lag of L samples counts 400-L products), so a low
    pitch peaks lower; the classifier learnt it as it is."""
    n_fft, hop = 400, 160
    x = np.pad(samples.astype(np.float32), (n_fft // 2, n_fft // 2))
    n = min(n_frames, 1 + (len(x) - n_fft) // hop)
    if n <= 0:
        return np.zeros(n_frames)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop][:n].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, n=1024, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, : n_fft]
    lo, hi = int(0.0025 * sr), int(0.016 * sr)
    peak = ac[:, lo:hi].max(axis=1) / np.maximum(ac[:, 0], 1e-10)
    out = np.zeros(n_frames)
    out[:n] = np.clip(peak, 0.0, 1.0)
    return out


def short_scores(mel: np.ndarray, power: np.ndarray, regions_f: list[tuple[int, int]],
                 centroids: np.ndarray, encoder) -> np.ndarray:  # fmt: skip
    """(n_frames, n_speakers) scores from `SHORT_WINDOW` s windows every `SHORT_HOP` s,
    averaged over the windows covering each frame as the long ones are (NaN uncovered)."""
    from analysis.diarization.diarize import DiarizeOptions, _windows, window_scores_to_frames

    n_frames, k = mel.shape[0], centroids.shape[0]
    out = np.full((n_frames, k), np.nan)
    wins = _windows(regions_f, DiarizeOptions(window=SHORT_WINDOW, hop=SHORT_HOP, min_window=0.25))
    if not wins or k == 0:
        return out
    return window_scores_to_frames(wins, encoder.embed(mel, power, wins) @ centroids.T, n_frames)


def frame_features(samples: np.ndarray, mel: np.ndarray, power: np.ndarray, scores: np.ndarray,
                   short: np.ndarray, speech: np.ndarray, regions_f: list[tuple[int, int]],
                   narrowband: bool) -> np.ndarray:  # fmt: skip
    """(n_frames, len(FEATURES)) float64; rows off speech are computed but not used."""
    n = len(speech)
    s1, s2 = _top2(scores)
    ss1, ss2 = _top2(np.where(np.isnan(short), scores, short))
    lab = np.where(speech, np.argmax(np.where(np.isnan(scores), -9, scores), axis=1), -1) if scores.shape[1] else np.full(n, -1)
    sshort = np.where(np.isnan(short), scores, short)
    slab = np.where(speech, np.argmax(np.where(np.isnan(sshort), -9, sshort), axis=1), -1) if scores.shape[1] else lab
    db = 10 * np.log10(np.maximum(power[:n], 1e-10))
    med = float(np.median(db[speech])) if speech.any() else float(np.median(db))
    local = _moving(np.where(speech, db, med), 100)
    m = mel[:n].astype(np.float64) + 1e-10
    flat = np.log(m).mean(axis=1) - np.log(m.mean(axis=1))
    per = _periodicity(samples, n)
    edge = np.full(n, 2.0)
    for s, e in regions_f:
        f = np.arange(s, min(e, n))
        edge[f] = np.minimum(np.minimum(f - s, e - 1 - f) * FRAME, 2.0)
    margin, smargin = s1 - s2, ss1 - ss2
    cols = {
        "s1": s1, "s2": s2, "margin": margin, "margin_smooth": _moving(margin, 30),
        "short_s1": ss1, "short_s2": ss2, "short_margin": smargin,
        "short_margin_smooth": _moving(smargin, 10), "change": _change_distance(lab),
        "short_change": _change_distance(slab), "db_call": db - med, "db_local": db - local,
        "flatness": flat, "periodicity": per, "periodicity_smooth": _moving(per, 5),
        "region_edge": edge, "narrowband": np.full(n, float(narrowband)),
    }  # fmt: skip
    return np.stack([cols[f] for f in FEATURES], axis=1)


@dataclass(frozen=True)
class OverlapModel:
    """The shipped classifier: standardise, a small MLP (ReLU), logistic output."""

    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    smooth: int  # frames each side of the moving mean over the probability
    threshold: float
    features: tuple[str, ...]
    min_run: int = 0  # marked stretches shorter than this many frames are dropped

    @classmethod
    def from_dict(cls, d: dict) -> OverlapModel:
        if tuple(d["features"]) != FEATURES:
            raise ValueError(f"{MODEL_FILE.name}: trained on features {d['features']}, code computes {FEATURES}")
        layers = tuple((np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in d["layers"])
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["scale"], dtype=np.float64),
                   layers, int(d["smooth"]), float(d["threshold"]), tuple(d["features"]),
                   int(d.get("min_run", 0)))  # fmt: skip

    def to_dict(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "layers": [[w.tolist(), b.tolist()] for w, b in self.layers], "smooth": self.smooth,
                "threshold": self.threshold, "min_run": self.min_run}  # fmt: skip

    def proba(self, x: np.ndarray) -> np.ndarray:
        """P(overlap) per row, before smoothing."""
        h = (x - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i + 1 < len(self.layers):
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-np.clip(h[:, 0], -30, 30)))

    def detect(self, x: np.ndarray, speech: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Bool per frame: overlapped speech (smoothed probability over the threshold)."""
        p = np.where(speech, self.proba(x), 0.0)
        p = _moving(p, self.smooth)
        return drop_short(speech & (p >= (self.threshold if threshold is None else threshold)), self.min_run)


def drop_short(mask: np.ndarray, min_run: int) -> np.ndarray:
    """`mask` without its True stretches shorter than `min_run` frames."""
    if min_run <= 1 or not mask.any():
        return mask
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    out = mask.copy()
    for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        if e - s < min_run:
            out[s:e] = False
    return out


@functools.cache
def load_model(path: Path = MODEL_FILE) -> OverlapModel:
    """The shipped classifier (read once per process)."""
    return OverlapModel.from_dict(json.loads(path.read_text()))
