"""`[analysis]` options: batching, retries and metric thresholds of the analysis job.

Kept apart from `analysis.pipeline` so the config loader can validate the section without
importing the models' code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from analysis import metrics

if TYPE_CHECKING:
    from pathlib import Path

    from analysis.encoder import EncoderOptions

PACKAGED_EMBEDDINGS = "packaged:all-MiniLM-L6-v2"
#: keys that change how turns share encoder batches and so, with the float32 encoder, only
#: speed (scores move by float noise, 1e-5): left out of the scores' `analysis_key`, so
#: tuning them does not make every stored score stale. Not so with int8 (activations are
#: scaled per batch, so a turn's numbers and a borderline label move with its batch
#: company) nor, less so, with bfloat16 (a batch of one runs other kernels: pooled values
#: move by bfloat16 rounding, ~4e-3): then these keys count like `encoder_batch`.
SPEED_ONLY = ("encoder_cache_size", "encoder_overlap")


def key_options(options: AnalysisOptions, cache_dir: Path | str | None = None) -> dict[str, object]:
    """The `[analysis]` options that name a score (its `analysis_key`): all but SPEED_ONLY,
    and all of them unless the encoder runs float32; `encoder_precision` as it resolves on
    this machine ("auto" is bfloat16 or float32 by CPU; "int8" is float32 where the int8
    graph cannot run: no ONNX export in `cache_dir`, runtime "torch", a GPU), since that is
    what made the numbers."""
    precision = options.encoder_options().expected_precision(cache_dir, check_export=True)
    skip = SPEED_ONLY if precision == "float32" else ()
    out = {k: v for k, v in asdict(options).items() if k not in skip}
    out["encoder_precision"] = precision
    return out


@dataclass
class AnalysisOptions:
    """`[analysis]`: batching, retries, and the metric thresholds."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: interactions per batch (one model call and one transaction per batch)
    batch_size: int = 64
    #: an interaction that failed this many times stays 'failed'
    max_attempts: int = 3
    #: first retry after this many seconds, doubling per attempt, capped by backoff_max_seconds
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    #: transcribe calls with status 'new' before scoring
    transcribe: bool = True
    #: keywords kept per interaction
    keywords: int = 8
    #: sentence-embedding model for topics and semantic rules
    embedding_model: str = PACKAGED_EMBEDDINGS
    non_talk_min_seconds: float = 3.0
    interruption_min_overlap: float = 0.5
    merge_gap_seconds: float = 1.0
    #: the shared MiniLM pass (analysis/encoder.py) behind sentiment, topics, semantic rules
    #: and clustering: "auto" (ONNX Runtime when `convoscope models prepare` exported it,
    #: else PyTorch with a logged reason), "onnx" (fail without the export) or "torch"
    encoder_runtime: str = "auto"
    #: "auto" (CUDA when present), "cpu" or "cuda"
    encoder_device: str = "auto"
    #: intra-op threads of the encoder; 0 = every CPU this process may use, less one for the
    #: per-interaction work running beside it when `encoder_overlap` is on (at least one)
    encoder_threads: int = 0
    #: texts per encoder call, after sorting by length
    encoder_batch: int = 64
    #: int8 dynamic quantisation of the ONNX graph on CPU (the PyTorch fallback is float32):
    #: ~15 % faster, but a turn's numbers then move with its batch neighbours and held-out
    #: agent-turn sentiment accuracy fell 0.888 -> 0.854 (README, "One encoder pass").
    #: Same as encoder_precision = "int8"
    encoder_quantize: bool = False
    #: "auto" (bfloat16 on a CPU with native bfloat16 dot products, AVX512-BF16 / AMX, else
    #: float32), "float32", "bfloat16" (PyTorch; ~1.5x ONNX float32 there) or "int8"
    encoder_precision: str = "auto"
    #: distinct turn texts whose encoder outputs are kept for reuse (scripted agent lines
    #: repeat across interactions); ~10.5 KiB each; 0 = no cache. Never changes a result
    encoder_cache_size: int = 4096
    #: encode the next slice of a batch while this slice's rules, redaction, keywords and
    #: metrics run (the runtime releases the GIL); never changes a result
    encoder_overlap: bool = True
    #: a high-severity verdict whose evidence confidence (analysis/confidence.py) is below
    #: this goes to the front of the review queue and its alert says "low confidence"
    low_confidence_below: float = 0.6

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_confidence_below <= 1.0:
            raise ValueError("analysis.low_confidence_below must be between 0 and 1")
        if self.batch_size < 1:
            raise ValueError("analysis.batch_size must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("analysis.max_attempts must be at least 1")
        if self.backoff_seconds < 0 or self.backoff_max_seconds < self.backoff_seconds:
            raise ValueError("analysis.backoff_seconds must be >= 0 and <= backoff_max_seconds")
        if self.keywords < 0:
            raise ValueError("analysis.keywords must be >= 0")
        self.metric_options()  # validates the thresholds
        self.encoder_options()  # validates the encoder keys

    def metric_options(self) -> metrics.MetricsOptions:
        return metrics.MetricsOptions(
            self.non_talk_min_seconds, self.interruption_min_overlap, self.merge_gap_seconds
        )

    def encoder_options(self) -> EncoderOptions:
        from analysis.encoder import EncoderOptions

        threads = self.encoder_threads
        if not threads and self.encoder_overlap:
            threads = max(1, EncoderOptions().resolved_threads - 1)
        precision = "int8" if self.encoder_quantize and self.encoder_precision == "auto" else self.encoder_precision
        return EncoderOptions(runtime=self.encoder_runtime, device=self.encoder_device, threads=threads,
                              batch_size=self.encoder_batch, quantize=self.encoder_quantize,
                              precision=precision, cache_size=self.encoder_cache_size)
