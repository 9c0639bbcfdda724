"""The forward-pass runners behind `analysis.encoder.TextEncoder`: ONNX Runtime and PyTorch.

Split from `analysis/encoder.py` by job: that module decides *what* is encoded (options, the
export, the cache, batching by length, threads sharing forward passes); this one runs one
padded batch through the model and returns every layer's mean-pooled states. Each runner is a
callable `(ids, mask) -> array[batch, N_STATES, DIM]`, and each output row depends only on its
own text, so callers may batch freely.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.encoder import (
    FLOAT_FILE,
    INT8_FILE,
    MAX_TOKENS,
    EncoderOptions,
    _load_bert,
    _Pooled,
    packaged_model_path,
)

log = logging.getLogger("analysis.encoder")  # the same logger as the encoder's own messages


class Tokenizer:
    """The model's fast tokenizer (`tokenizers`), truncating at MAX_TOKENS, no padding."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(packaged_model_path() / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(MAX_TOKENS)
        self.tok = tok

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(list(texts))]


class OnnxRunner:
    """ONNX Runtime over the exported graph (float32, or int8 on CPU), threads set explicitly."""

    def __init__(self, directory: Path, options: EncoderOptions, device: str) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = options.resolved_threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if device == "cuda":
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            path, self.quantized = directory / FLOAT_FILE, False  # int8 MatMulInteger is a CPU kernel
        else:
            providers = ["CPUExecutionProvider"]
            self.quantized = options.quantize
            path = directory / (INT8_FILE if options.quantize else FLOAT_FILE)
        self.session = ort.InferenceSession(str(path), so, providers=providers)
        self.name = f"onnx-{'int8' if self.quantized else 'fp32'}-{device}"

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


class TorchRunner:
    """PyTorch, float32 (exactly sentence-transformers' computation: the fallback) or
    bfloat16. Never torch's own int8 (`quantize_dynamic`): it moved sentence embeddings too
    far (cosine to float32 as low as 0.79 on the bench's turns).

    bfloat16: the Linear layers' weights are stored in bfloat16 (cast once, not per call)
    and the forward runs under autocast, which casts each matmul's input; the embeddings,
    residual sums, LayerNorm, softmax and the pooling stay float32. Each output row depends
    only on its own text (no per-batch scale as int8 has): batch company moves it by
    bfloat16 rounding at most (see the README's tolerances)."""

    def __init__(self, options: EncoderOptions, device: str, precision: str = "float32") -> None:
        import torch

        if device == "cpu":
            torch.set_num_threads(options.resolved_threads)
        self.quantized = False
        self.bf16 = precision == "bfloat16"
        module = _Pooled.build(_load_bert())
        if self.bf16:
            for layer in module.modules():
                if isinstance(layer, torch.nn.Linear):
                    layer.to(torch.bfloat16)
        self.module = module.to(device).eval()
        self.device = device
        self.name = f"torch-{'bf16' if self.bf16 else 'fp32'}-{device}"
        #: the forward as one TorchScript graph (CPU; traced on first use, `_graph`), or
        #: False where tracing failed (eager then, the same numbers)
        self._traced: Any = None
        self._trace_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_traced"], state["_trace_lock"] = None, None  # traced again where unpickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._trace_lock = threading.Lock()

    def _graph(self) -> Any:
        """The CPU forward traced into one TorchScript graph, run without the GIL.

        Eager PyTorch takes the GIL back after each of the ~150 operators of a forward, so
        beside the analysis job's Python (rules, redaction, keywords) the encoder thread
        waited up to `sys.getswitchinterval()` (5 ms) per operator: measured on 320 turns at
        the same thread CPU, 0.85 s alone but 2.5 s of wall beside a Python loop. A traced
        module runs all its operators in C++ with the GIL released. The trace records the
        same aten operators and autocast's casts, so its outputs are bit-identical to eager
        (checked on the bench's 1,674 turns, batches of 1 to 64 of widths 2 to 256, padded
        and not, float32 and bfloat16: `tests/analysis/test_encoder.py`). The example has a
        padded row, so the attention mask is always applied (an all-ones mask adds exact
        zeros; transformers drops it only outside tracing). It runs with graph optimisation
        off (thread-local): no shape specialisation or re-profiling per batch width."""
        if self._traced is None:
            with self._trace_lock:
                if self._traced is None:
                    self._traced = self._trace()
        return self._traced

    def _trace(self) -> Any:
        import warnings

        import torch

        ids = torch.full((2, 8), 1012, dtype=torch.int64)
        mask = torch.ones((2, 8), dtype=torch.int64)
        mask[1, 5:] = 0
        ids[1, 5:] = 0
        try:
            with warnings.catch_warnings(), torch.inference_mode(), \
                    torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.bf16):
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                return torch.jit.trace(self.module, (ids, mask), check_trace=False)
        except Exception as exc:  # another transformers version: eager runs the same numbers
            log.warning("encoder: tracing the PyTorch forward failed (%s: %s); running it eagerly, "
                        "which holds the GIL between operators", type(exc).__name__, exc)
            return False

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        graph = self._graph() if self.device == "cpu" else False
        with torch.inference_mode():
            if graph is not False:
                with torch.jit.optimized_execution(False):
                    out = graph(torch.from_numpy(ids), torch.from_numpy(mask))
            else:
                with torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.bf16):
                    out = self.module(torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device))
        return out.float().cpu().numpy()
