"""Diarization without torch or scikit-learn (issue 15): the GE2E weights read from
resemblyzer's file without torch, the numpy LSTM against torch's `nn.LSTM`, the numpy
k-means against scikit-learn's, and a diarized call that imports neither."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.asr.audio import load
from analysis.diarization.diarize import DiarizeOptions, _windows, kmeans, speech_regions
from analysis.diarization.encoder import (
    HOP,
    EncoderError,
    VoiceEncoder,
    mel_frames,
    read_weights,
    weights_path,
)

ROOT = Path(__file__).resolve().parents[2]
MONO = ROOT / "samples" / "calls" / "call_08_mono_password.opus"


def _call_windows() -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The mono sample's mel frames and its diarization windows (full and short ones)."""
    x = load(MONO).channels[0]
    mel, power = mel_frames(x)
    regions = [(s // HOP, min(len(mel), -(-e // HOP))) for s, e in speech_regions(x, DiarizeOptions())]
    return mel, power, _windows(regions, DiarizeOptions())


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.slow
def test_weights_read_without_torch_equal_torch_load() -> None:
    import torch

    ours = read_weights(weights_path())
    theirs = torch.load(weights_path(), map_location="cpu", weights_only=False)["model_state"]
    assert set(ours) == set(theirs)
    for name, tensor in theirs.items():
        assert ours[name].shape == tuple(tensor.shape), name
        assert np.array_equal(ours[name], tensor.numpy()), name


def test_a_damaged_weights_file_is_a_clear_error_not_a_read_past_the_end(tmp_path: Path) -> None:
    """The reader walks offsets the file itself states: a cut-short copy or one that is not
    a weights file at all must raise EncoderError, never hand back garbage weights."""
    whole = weights_path().read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(whole[: len(whole) - 4096])
    with pytest.raises(EncoderError, match=r"cut short|not a readable"):
        read_weights(cut)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a pickle at all" * 10)
    with pytest.raises(EncoderError, match="not a readable"):
        read_weights(junk)
    assert read_weights(weights_path())  # the shipped file still reads


@pytest.mark.slow
def test_numpy_lstm_embeddings_match_torch() -> None:
    """The numpy network gives torch's embeddings (to float rounding) on the sample's
    windows, of every length (full 1.2 s windows and the short ones, padded together)."""
    import torch
    from torch import nn

    mel, power, wins = _call_windows()
    assert len({e - s for s, e in wins}) > 3  # several lengths in one batch
    state = torch.load(weights_path(), map_location="cpu", weights_only=False)["model_state"]
    lstm, linear = nn.LSTM(40, 256, 3, batch_first=True), nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    ours = VoiceEncoder().embed(mel, power, wins)
    with torch.inference_mode():
        for i, (s, e) in enumerate(wins):
            x = mel[s:e] * np.float32(10 ** (-30 / 10) / max(float(power[s:e].mean()), 1e-10))
            _, (h, _) = lstm(torch.from_numpy(x[None]))
            ref = torch.relu(linear(h[-1]))[0].numpy()
            ref = ref / np.linalg.norm(ref)
            assert np.abs(ours[i] - ref).max() < 1e-4, (i, s, e)


def test_numpy_kmeans_finds_separated_groups_and_is_seeded() -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 16)) * 5
    x = np.concatenate([c + rng.normal(size=(40, 16)) for c in centres])
    truth = np.repeat(np.arange(3), 40)
    lab = kmeans(x, 3)
    assert _same_partition(lab, truth)
    assert np.array_equal(lab, kmeans(x, 3))  # same seed, same labels
    assert len(set(kmeans(x, 2).tolist())) == 2


@pytest.mark.slow
def test_numpy_kmeans_splits_the_sample_call_as_scikit_learn_does() -> None:
    from sklearn.cluster import KMeans

    mel, power, wins = _call_windows()
    full = [w for w in wins if w[1] - w[0] >= round(DiarizeOptions().cluster_min_window / 0.01)]
    emb = VoiceEncoder.shared().embed(mel, power, full)
    ref = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(emb)
    assert _same_partition(kmeans(emb, 2), ref)


@pytest.mark.slow
def test_a_diarized_call_imports_neither_torch_nor_scikit_learn() -> None:
    code = (
        "import sys\n"
        "from analysis.asr.audio import load\n"
        "from analysis.diarization.diarize import diarize\n"
        f"d = diarize(load({str(MONO)!r}).channels[0])\n"
        "print(d.n_speakers, 'torch' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-3:] == ["2", "False", "False"], out.stdout + out.stderr
