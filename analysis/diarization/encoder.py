"""Speaker embeddings: the GE2E voice encoder whose weights ship in the `resemblyzer` wheel.

Why this model: its weights (`resemblyzer/pretrained.pt`, 17 MB, trained on LibriSpeech,
VoxCeleb 1+2) install from PyPI with the package, so diarization needs no hub download and
works offline like the rest of Convoscope. It maps 40-band mel frames (25 ms window, 10 ms
step, 16 kHz) through a 3-layer LSTM to a 256-d unit vector per window; voices of the same
person land close (cosine) whatever is said.

Why not `import resemblyzer`: its `__init__` imports `webrtcvad`, whose 2017 release needs
`pkg_resources` (gone from current setuptools), and it trims silences itself, which
diarization must not do (times would shift). The network is ten lines, so it is rebuilt
here with the same layer sizes and the package's file is only read for its weights. The
mel features are resemblyzer's (librosa's Slaney mel filters); the filter bank comes from
faster-whisper's feature extractor, which computes the same Slaney filters (equal to
librosa's within 1e-9) without importing librosa and scipy.signal (~0.9 CPU s per process,
paid by the first mono call a process transcribes; issue 15).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
HOP = 160  # 10 ms mel step
N_FFT = 400  # 25 ms window
N_MELS = 40
#: resemblyzer normalises every utterance to -30 dBFS before the mel; each window here
TARGET_RMS = 10 ** (-30 / 20)


class EncoderError(RuntimeError):
    """The speaker model is not installed or its weights cannot be read."""


def weights_path() -> Path:
    """The GE2E weights inside the installed `resemblyzer` package (without importing it)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(
            "the speaker model package 'resemblyzer' is not installed "
            "(pip install 'resemblyzer==0.1.4'), or set [asr] diarization = \"off\""
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise EncoderError(f"{path}: the resemblyzer package has no pretrained.pt")
    return path


@functools.cache
def _mel_basis() -> np.ndarray:
    # faster-whisper's Slaney filters assume fmax = 8 kHz, i.e. SAMPLE_RATE = 16 kHz
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor.get_mel_filters(SAMPLE_RATE, N_FFT, N_MELS).astype(np.float32)


def mel_frequencies(n_mels: int, fmax: float = SAMPLE_RATE / 2) -> np.ndarray:
    """Centre frequencies (Hz) of `n_mels` Slaney mel bands from 0 Hz to `fmax`:
    `librosa.mel_frequencies(n_mels, fmax=fmax)` (htk=False) without importing librosa."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    top = fmax / f_sp if fmax < min_log_hz else min_log_mel + np.log(fmax / min_log_hz) / logstep
    mels = np.linspace(0.0, top, n_mels)
    return np.where(mels < min_log_mel, f_sp * mels, min_log_hz * np.exp(logstep * (mels - min_log_mel)))


def mel_frames(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mel power frames (n, 40), per-frame mean power (n,)) of 16 kHz float32 audio.

    The same features as `librosa.feature.melspectrogram` (centred frames, zero padding,
    periodic Hann window, power 2) as resemblyzer computes them, with the STFT done here
    in numpy: librosa's own path JIT-compiles numba code on first use (seconds per process).
    Frame i covers about [i*10 ms - 12.5 ms, i*10 ms + 12.5 ms].
    """
    x = np.pad(samples.astype(np.float32), (N_FFT // 2, N_FFT // 2))
    n = 1 + (len(x) - N_FFT) // HOP
    if n <= 0:
        return np.zeros((0, N_MELS), np.float32), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:n]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spec = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = (spec.astype(np.float32) @ _mel_basis().T).astype(np.float32)
    power = (frames.astype(np.float64) ** 2).mean(axis=1)
    return mel, power


class VoiceEncoder:
    """GE2E speaker encoder (CPU, torch); `embed(mel, windows)` → unit vectors."""

    _lock = threading.Lock()
    _shared: VoiceEncoder | None = None

    def __init__(self, path: Path | None = None) -> None:
        import torch
        from torch import nn

        state = torch.load(path or weights_path(), map_location="cpu", weights_only=False)
        state = state.get("model_state", state)
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.eval()
        self.linear.eval()

    @classmethod
    def shared(cls) -> VoiceEncoder:
        """One encoder per process (loading costs ~0.1 s and 17 MB)."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def embed(
        self, mel: np.ndarray, power: np.ndarray, windows: list[tuple[int, int]], batch: int = 256
    ) -> np.ndarray:
        """One unit embedding per (start frame, end frame) window of `mel`.

        Each window is scaled to -30 dBFS as resemblyzer does per utterance: the network
        reads linear mel power, so a quiet speaker would otherwise look like another one.
        Windows are grouped by length so each batch is one tensor without padding.
        """
        import torch

        out = np.zeros((len(windows), 256), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        for i, (s, e) in enumerate(windows):
            by_len.setdefault(e - s, []).append(i)
        with torch.inference_mode():
            for length, idxs in by_len.items():
                for b in range(0, len(idxs), batch):
                    chunk = idxs[b : b + batch]
                    arr = np.stack([mel[windows[i][0] : windows[i][0] + length] for i in chunk])
                    lvl = np.array(
                        [power[windows[i][0] : windows[i][0] + length].mean() for i in chunk]
                    )
                    arr *= (TARGET_RMS**2 / np.maximum(lvl, 1e-10))[:, None, None].astype(np.float32)
                    _, (hidden, _) = self.lstm(torch.from_numpy(arr))
                    emb = torch.relu(self.linear(hidden[-1]))
                    emb = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-8)
                    out[chunk] = emb.numpy()
        return out
