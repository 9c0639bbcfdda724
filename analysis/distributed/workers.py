"""The actor classes: pure stages with their models loaded once per actor.

None of them opens the store: records go in, records come out, and the driver writes.
They are plain classes (the pool wraps them with `ray.remote`), so they can also be
exercised without a cluster. Threads are set explicitly in each constructor: inside an
actor Ray sets OMP_NUM_THREADS=1, which would quietly run torch (MiniLM, flair) and
CTranslate2 (Whisper) on one thread whatever CPUs the actor asked for.
"""

from __future__ import annotations

import copy
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from analysis.asr.options import AsrOptions
    from analysis.asr.transcriber import Transcript
    from analysis.patterns.clusters import Clustering
    from analysis.patterns.options import ClusterOptions as PatternClusterOptions
    from analysis.pipeline import Analysis, Analyzer
    from store.records import Interaction


@dataclass(frozen=True, slots=True)
class AudioItem:
    """One call to transcribe: its id and where the audio is (a path every node sees), or
    the file's bytes (`data`, with the original `suffix` so the decoder knows the format)."""

    interaction_id: int
    path: str
    data: bytes | None = None

    @classmethod
    def read(cls, interaction_id: int, path: str, *, as_bytes: bool) -> AudioItem:
        """The item for this call; reading the file now (driver side) when sending bytes."""
        return cls(interaction_id, path, Path(path).read_bytes() if as_bytes else None)


class StageError(RuntimeError):
    """An error raised in a worker that could not travel back as itself (not picklable)."""


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling (so the stored failure reason reads
    exactly as in-process), else a StageError carrying its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return StageError(f"{type(exc).__name__}: {exc}")


def set_threads(threads: int) -> None:
    """Give torch this many threads in this process (see module docstring); OpenMP's own
    count comes from the actor's environment (`pool.thread_env`), set before it starts."""
    import torch

    torch.set_num_threads(threads)


def portable_analyzer(analyzer: Analyzer) -> Analyzer:
    """A copy of the analyzer fit to ship to workers: its options only, no loaded model and
    no hooks (those call back into the driver's store and alerter)."""
    clone = copy.copy(analyzer)
    clone.on_flags = []
    for attr in ("_classifier", "_anger", "_topics", "_rules", "_transcriber", "_fact_checker"):
        setattr(clone, attr, None)
    clone.stage_seconds = {}
    return clone


class TranscribeWorker:
    """Whisper, loaded once: audio items in, transcripts (or the error) out."""

    def __init__(self, options: AsrOptions, cache_dir: str, threads: int) -> None:
        from analysis.asr.transcriber import Transcriber

        set_threads(threads)
        self.threads = threads
        self.transcriber = Transcriber(replace(options, cpu_threads=threads), Path(cache_dir))

    def ready(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "device": self.transcriber.device, "threads": self.threads,
                "omp": os.environ.get("OMP_NUM_THREADS")}

    def transcribe(self, items: Sequence[AudioItem]) -> list[Transcript | Exception]:
        out: list[Transcript | Exception] = []
        for item in items:
            try:
                out.append(self._one(item))
            except Exception as exc:  # one bad file must not fail its batch-mates
                out.append(_portable(exc))
        return out

    def _one(self, item: AudioItem) -> Transcript:
        if item.data is None:
            if not Path(item.path).is_file():
                raise FileNotFoundError(f"audio file {item.path} not found on this worker "
                                        "(use [cluster] audio = \"bytes\" without shared storage)")
            return self.transcriber.transcribe(item.path)
        with tempfile.NamedTemporaryFile(suffix=Path(item.path).suffix or ".wav") as f:
            f.write(item.data)
            f.flush()
            return self.transcriber.transcribe(f.name)


class ScoreWorker:
    """The text analysis (`Analyzer.analyse`) with its models loaded once; also encodes
    texts with the same MiniLM for the patterns job."""

    def __init__(self, analyzer: Analyzer, threads: int) -> None:
        set_threads(threads)
        self.threads = threads
        self.analyzer = analyzer
        analyzer.load_models()

    def ready(self) -> dict[str, Any]:
        import torch

        return {"pid": os.getpid(), "threads": self.threads, "torch_threads": torch.get_num_threads(),
                "omp": os.environ.get("OMP_NUM_THREADS")}

    def analyse(self, batch: Sequence[Interaction]) -> list[Analysis | Exception]:
        try:
            results = self.analyzer.analyse(batch)
        except Exception as exc:  # a model failure fails the whole batch, as in-process
            results = [exc] * len(batch)
        return [_portable(r) if isinstance(r, Exception) else r for r in results]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.analyzer.embed(texts)

    def stage_seconds(self) -> dict[str, float]:
        return dict(self.analyzer.stage_seconds)


def cluster_window(emb: np.ndarray, options: PatternClusterOptions) -> Clustering:
    """The patterns job's re-cluster of a window (PCA + HDBSCAN): vectors in, labels out."""
    from analysis.patterns.clusters import cluster_embeddings

    return cluster_embeddings(emb, options)
