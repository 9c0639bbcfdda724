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


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """The tensors of resemblyzer's `pretrained.pt` as float32 numpy arrays, without torch.

    Why: importing torch costs seconds of CPU per process (issue 15: the first mono call
    of a process paid it), and the network is small enough for numpy (`VoiceEncoder`).
    The file is in PyTorch's legacy (pre-1.6, non-zip) format: a magic-number, protocol
    and system-info pickle, then the state dict pickled with each tensor as
    `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` and each storage
    as a persistent id `("storage", type, key, location, numel, view)`, then the list of
    storage keys, then per key an int64 element count and the raw little-endian data.
    `tests/analysis/test_diarization_numpy.py` checks the result against `torch.load`.
    """
    import pickle

    dtypes = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
              "IntStorage": np.int32, "HalfStorage": np.float16}  # fmt: skip
    storages: dict[str, dict] = {}

    class _Storage:
        def __init__(self, name: str) -> None:
            self.name = name

    def rebuild(storage: tuple[str, int], offset: int, size: tuple, stride: tuple, *_a: object) -> tuple:
        return ("tensor", storage, offset, tuple(size), tuple(stride))

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if module == "torch" and name in dtypes:
                return _Storage(name)
            if (module, name) == ("collections", "OrderedDict"):
                import collections

                return collections.OrderedDict
            raise EncoderError(f"{path}: unexpected {module}.{name} in the weights file")

        def persistent_load(self, pid: tuple) -> tuple[str, int]:
            _kind, stype, key, _location, numel, view = pid
            storages.setdefault(key, {"dtype": dtypes[stype.name], "numel": numel})
            if view is not None:  # (view key, element offset, view size)
                return key, int(view[1])
            return key, 0

    try:
        with path.open("rb") as f:
            # every pickle through the restricted unpickler: only the classes above load
            for _ in range(3):  # magic number, protocol version, system info
                _Unpickler(f).load()
            state = _Unpickler(f).load()
            keys = _Unpickler(f).load()
            data: dict[str, np.ndarray] = {}
            for key in keys:
                meta = storages[key]
                (numel,) = np.frombuffer(f.read(8), dtype="<i8")
                if int(numel) != meta["numel"]:
                    raise EncoderError(f"{path}: storage {key} holds {numel} elements, expected {meta['numel']}")
                dt = np.dtype(meta["dtype"]).newbyteorder("<")
                raw = f.read(int(numel) * dt.itemsize)
                if len(raw) != int(numel) * dt.itemsize:
                    raise EncoderError(f"{path}: storage {key} is cut short (a truncated weights file)")
                data[key] = np.frombuffer(raw, dtype=dt)
    except (EOFError, pickle.UnpicklingError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EncoderError(f"{path}: not a readable speaker-encoder weights file ({exc})") from exc
    state = state.get("model_state", state)  # the file also holds the optimizer's state
    out: dict[str, np.ndarray] = {}
    for name, (_t, (key, base), offset, size, stride) in state.items():
        flat = data[key]
        item = flat.itemsize
        # as_strided does not check bounds: a damaged file must not read past its storage
        last = base + offset + sum((n - 1) * st for n, st in zip(size, stride, strict=True) if n > 0)
        if base + offset < 0 or any(st < 0 for st in stride) or (all(size) and last >= flat.size):
            raise EncoderError(f"{path}: tensor {name} lies outside its storage (a damaged weights file)")
        arr = np.lib.stride_tricks.as_strided(flat[base + offset :], shape=size,
                                              strides=tuple(st * item for st in stride))  # fmt: skip
        out[name] = np.array(arr, dtype=np.float32)
    return out


#: held while numpy's BLAS is limited to one thread (process-wide) by `VoiceEncoder.embed`
BLAS_ONE_THREAD = threading.Lock()


@functools.cache
def _blas() -> object:
    """threadpoolctl's view of the BLAS libraries loaded in the process (built once: it
    scans the loaded shared libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + exp(-x)), without overflow warnings


class VoiceEncoder:
    """GE2E speaker encoder in numpy; `embed(mel, power, windows)` → unit vectors.

    The network (3-layer LSTM, 40 → 256, then linear 256 → 256 and ReLU, as resemblyzer's
    `VoiceEncoder`) runs in numpy, not torch: importing torch was ~1.5-3 CPU s of the first
    mono call in every process (issue 15), and the arithmetic is the same matrix products
    (outputs agree with torch's `nn.LSTM` within 1e-5; test_diarization_numpy.py).
    """

    _lock = threading.Lock()
    _shared: VoiceEncoder | None = None

    def __init__(self, path: Path | None = None) -> None:
        state = read_weights(path or weights_path())
        #: per layer: (W_ih^T, W_hh^T, b_ih + b_hh); gate order i, f, g, o as torch's LSTM
        self.layers = [
            (np.ascontiguousarray(state[f"lstm.weight_ih_l{i}"].T),
             np.ascontiguousarray(state[f"lstm.weight_hh_l{i}"].T),
             state[f"lstm.bias_ih_l{i}"] + state[f"lstm.bias_hh_l{i}"])
            for i in range(3)
        ]  # fmt: skip
        self.linear_w = np.ascontiguousarray(state["linear.weight"].T)
        self.linear_b = state["linear.bias"]

    @classmethod
    def shared(cls) -> VoiceEncoder:
        """One encoder per process (loading costs ~0.1 s and 17 MB)."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def _forward(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Last-layer hidden state at step `lengths[b] - 1` of each right-padded sequence
        `x` (B, T, 40): the LSTM is causal, so padding after a sequence's end never reaches
        its state at its own last step."""
        b, t_max, _ = x.shape
        seq = x
        last = np.zeros((b, 256), dtype=np.float32)
        for li, (w_ih, w_hh, bias) in enumerate(self.layers):
            pre = (seq.reshape(b * t_max, -1) @ w_ih + bias).reshape(b, t_max, -1)
            h = np.zeros((b, 256), dtype=np.float32)
            c = np.zeros((b, 256), dtype=np.float32)
            top = li == len(self.layers) - 1
            out = None if top else np.empty((b, t_max, 256), dtype=np.float32)
            for t in range(t_max):
                g = pre[:, t] + h @ w_hh
                i_g = _sigmoid(g[:, :256])
                f_g = _sigmoid(g[:, 256:512])
                c = f_g * c + i_g * np.tanh(g[:, 512:768])
                h = _sigmoid(g[:, 768:]) * np.tanh(c)
                if top:
                    done = lengths == t + 1
                    if done.any():
                        last[done] = h[done]
                else:
                    out[:, t] = h
            if out is not None:
                seq = out
        return last

    def embed(
        self, mel: np.ndarray, power: np.ndarray, windows: list[tuple[int, int]], batch: int = 256
    ) -> np.ndarray:
        """One unit embedding per (start frame, end frame) window of `mel`.

        Each window is scaled to -30 dBFS as resemblyzer does per utterance: the network
        reads linear mel power, so a quiet speaker would otherwise look like another one.
        Windows are sorted by length and run `batch` at a time, right-padded to the
        longest of the batch (each one's state is read at its own last frame).
        """
        out = np.zeros((len(windows), 256), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: windows[i][1] - windows[i][0])
        # one BLAS thread: the LSTM is ~360 small products (B x 256 by 256 x 1024) in a row,
        # where a second OpenBLAS thread costs more in hand-offs and spinning than it
        # computes, and on a busy 2-core machine (Whisper's own threads, other work) the
        # spinning made diarization 3-10x dearer: the mono sample 1.3-7.1 CPU s with two
        # threads against 0.33-0.39 with one, a 7 s telephone clip 0.4-0.8 against 0.13
        # (same process, alternating; issue 15). The limit is process-wide while it holds.
        # `BLAS_ONE_THREAD` is held meanwhile, so two embeddings in two threads never undo
        # each other's limit half-way (threadpoolctl restores the count it found on exit).
        with BLAS_ONE_THREAD, _blas().limit(limits=1, user_api="blas"):  # type: ignore[attr-defined]
            self._embed(mel, power, windows, order, batch, out)
        return out

    def _embed(self, mel: np.ndarray, power: np.ndarray, windows: list[tuple[int, int]],
               order: list[int], batch: int, out: np.ndarray) -> None:  # fmt: skip
        for b0 in range(0, len(order), batch):
            chunk = order[b0 : b0 + batch]
            lengths = np.array([windows[i][1] - windows[i][0] for i in chunk])
            arr = np.zeros((len(chunk), int(lengths.max()), N_MELS), dtype=np.float32)
            for j, i in enumerate(chunk):
                s, e = windows[i]
                lvl = max(float(power[s:e].mean()), 1e-10)
                arr[j, : e - s] = mel[s:e] * np.float32(TARGET_RMS**2 / lvl)
            hidden = self._forward(arr, lengths)
            emb = np.maximum(hidden @ self.linear_w + self.linear_b, 0.0)
            emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8)
            out[chunk] = emb
