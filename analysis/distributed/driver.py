"""The cluster driver: the analysis job with its heavy stages on Ray actor pools.

`ClusterAnalyzer.run(store)` does what `Analyzer.run` does (same report, same stored
rows), but:

1. the work is *leased* batch by batch (store.leases) just before it is sent, and the
   batch is re-checked as still pending after the lease, so two drivers never analyse one
   interaction twice, and a killed driver's batches come back when its leases expire;
2. transcription and text scoring run on actor pools (analysis.distributed.pool) whose
   workers hold the models and never open the store: calls go out as audio items (a path
   on shared storage, or the bytes), interactions as records; transcripts and `Analysis`
   records come back;
3. the driver writes each batch as it returns, with the in-process code
   (`analysis.asr.pending.store_transcript`, `Analyzer.record`): the same transactions and
   idempotent keys, so a retried or repeated batch replaces rather than duplicates.

The pools live as long as the driver (`serve` keeps one), so models load once per actor.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.distributed.options import ClusterOptions
from analysis.distributed.pool import ActorPool, ActorSpec, size_pools
from analysis.distributed.workers import (
    AudioItem,
    ScoreWorker,
    TranscribeWorker,
    cluster_window,
    portable_analyzer,
)
from analysis.pipeline import Analysis, Analyzer, AnalyzeReport
from store import calls as call_store
from store import interactions as interaction_store
from store import leases
from store import scores as score_store
from store.db import Store

if TYPE_CHECKING:
    from analysis.patterns.clusters import Clustering
    from analysis.patterns.options import ClusterOptions as PatternClusterOptions
    from store.records import Interaction

log = logging.getLogger(__name__)

#: called after each batch is written: (stage, interaction ids written)
BatchHook = Callable[[str, list[int]], None]


def default_holder() -> str:
    """Who holds a lease: host, process and a random part (two drivers in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ClusterAnalyzer:
    """`Analyzer.run` on a Ray cluster (see module docstring). Ray must be initialised
    (`convoscope.cluster.connect`) before the first `run`."""

    def __init__(
        self,
        analyzer: Analyzer,
        options: ClusterOptions,
        *,
        holder: str | None = None,
        on_batch: BatchHook | None = None,
        on_submit: Callable[[str, list[int]], None] | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.options = options
        self.holder = holder or default_holder()
        self.on_batch = on_batch
        self.on_submit = on_submit
        self._specs: dict[str, ActorSpec] | None = None
        self._pools: dict[str, ActorPool[Any]] = {}
        self._leases: dict[str, leases.Lease] = {}
        self._gate: AbstractContextManager[Any] = nullcontext()
        self._should_stop: Callable[[], bool] = lambda: False

    # -- the same surface as Analyzer ------------------------------------------------------

    @property
    def analysis_key(self) -> str:
        return self.analyzer.analysis_key

    @property
    def on_flags(self) -> list[Any]:
        return self.analyzer.on_flags

    @property
    def stage_seconds(self) -> dict[str, float]:
        return self.analyzer.stage_seconds

    def load_models(self) -> None:
        """Start the scoring pool now (its actors load the models): fail early at start."""
        self.pool("score")

    # -- pools -----------------------------------------------------------------------------

    def specs(self) -> dict[str, ActorSpec]:
        """Both pools' shapes, sized together against the cluster's CPUs and GPUs."""
        if self._specs is None:
            import ray

            res = ray.cluster_resources()
            o = self.options
            wanted = {"score": ActorSpec(o.score_actors, o.score_cpus)}
            if self._transcribes():
                asr = ActorSpec(o.asr_actors, o.asr_cpus)
                gpus = float(res.get("GPU", 0.0))
                device = getattr(self.analyzer.asr_options, "device", "cpu")
                if gpus > 0 and o.asr_gpus > 0 and device != "cpu":
                    asr.num_gpus = min(o.asr_gpus, gpus)
                    asr.actors = max(1, min(o.asr_actors, int(gpus // asr.num_gpus)))
                wanted["asr"] = asr
            sized = size_pools(wanted, float(res.get("CPU", 1.0)))
            for s in sized.values():
                s.threads = o.threads_per_actor or max(1, round(s.num_cpus))
            self._specs = sized
            log.info("cluster pools: %s (cluster %s)", sized, res)
        return self._specs

    def pool(self, name: str) -> ActorPool[Any]:
        """The named pool ("asr" or "score"), started on first use."""
        if name not in self._pools:
            spec = self.specs()[name]
            o = self.options
            cache = o.worker_cache_dir or str(self.analyzer.cache_dir)
            if name == "asr":
                args: tuple[Any, ...] = (self.analyzer.asr_options, cache, spec.threads)
                cls: type = TranscribeWorker
            else:
                worker = portable_analyzer(self.analyzer)
                if o.worker_cache_dir:
                    worker.cache_dir = Path(o.worker_cache_dir).expanduser()
                args, cls = (worker, spec.threads), ScoreWorker
            t0 = time.perf_counter()
            self._pools[name] = ActorPool(cls, args, spec, name=name, task_retries=o.task_retries,
                                          ready_timeout=o.ready_timeout_seconds)  # fmt: skip
            log.info("%s pool: %d actor(s) ready in %.1f s", name, spec.actors, time.perf_counter() - t0)
        return self._pools[name]

    def shutdown(self) -> None:
        for p in self._pools.values():
            p.shutdown()
        self._pools.clear()

    def _transcribes(self) -> bool:
        return bool(self.analyzer.options.transcribe and self.analyzer.asr_options is not None)

    # -- leases ------------------------------------------------------------------------------

    def _claim(self, store: Store, stage: str, ids: Sequence[int]) -> leases.Lease:
        with self._gate:
            lease = leases.claim(store, stage, ids, holder=self.holder, ttl_seconds=self.options.lease_seconds)
        if lease.ids:
            self._leases[lease.batch] = lease
        return lease

    def _renew(self, store: Store) -> None:
        """Renew the leases of batches still out, once half their time has passed."""
        now = datetime.now(UTC)
        half = self.options.lease_seconds / 2
        for key, lease in list(self._leases.items()):
            if (lease.expires_at - now).total_seconds() < half:
                self._leases[key] = leases.renew(store, lease, ttl_seconds=self.options.lease_seconds)

    def _finish(self, store: Store, lease: leases.Lease) -> None:
        leases.release(store, lease)
        self._leases.pop(lease.batch, None)

    def _kept(self, store: Store, lease: leases.Lease) -> set[int]:
        """The ids this lease still holds right before writing (a lease that ran out under a
        very slow batch may have been taken over; the new holder writes those)."""
        held = leases.still_held(store, lease)
        lost = set(lease.ids) - held
        if lost:
            log.warning("lease %s ran out for %d interaction(s); leaving them to their new holder",
                        lease.batch, len(lost))
        return held

    # -- transcription ---------------------------------------------------------------------

    def transcribe_pending(self, store: Store, limit: int | None = None) -> tuple[int, int]:
        """Transcribe waiting calls on the ASR pool; returns (transcribed, failed)."""
        if not self._transcribes():
            return 0, 0
        opts = self.analyzer.options
        waiting = call_store.pending_transcription(store, max_attempts=opts.max_attempts, limit=limit)
        if not waiting:
            return 0, 0  # no call waiting: do not start the Whisper actors at all
        ids = [i for i, _ in waiting]
        done = failed = 0

        def batches() -> Iterator[tuple[leases.Lease, list[AudioItem], dict[int, int]]]:
            nonlocal failed
            step = self.options.asr_batch
            for lo in range(0, len(ids), step):
                lease = self._claim(store, leases.TRANSCRIBE, ids[lo:lo + step])
                still = dict(call_store.pending_transcription(
                    store, max_attempts=opts.max_attempts, among=list(lease.ids)))  # fmt: skip
                items: list[AudioItem] = []
                for it in interaction_store.get_many(store, list(still), with_turns=False):
                    try:
                        if not it.raw_ref:
                            raise FileNotFoundError("the call has no audio reference (raw_ref)")
                        items.append(AudioItem.read(it.id, it.raw_ref,  # type: ignore[arg-type]
                                                    as_bytes=self.options.audio == "bytes"))
                    except OSError as exc:  # unreadable here: the call's problem, as in-process
                        call_store_failure(store, it.id, still[it.id], exc, opts.backoff_seconds)  # type: ignore[index,arg-type]
                        failed += 1
                if items:
                    yield lease, items, still
                else:
                    self._finish(store, lease)

        pool = self.pool("asr")
        for (lease, items, attempts), results in pool.map(
            "transcribe", batches(), arg=lambda b: b[1],
            in_flight_per_actor=self.options.in_flight_per_actor,
            on_submit=self._submitted(leases.TRANSCRIBE, lambda b: [i.interaction_id for i in b[1]]),
        ):
            if isinstance(results, Exception):  # the batch was lost for good on the workers
                results = [results] * len(items)
            with self._gate:
                written = self._write_transcripts(store, lease, items, results, attempts)
            done += sum(1 for i, tr in zip(items, results, strict=True)
                        if i.interaction_id in written and not isinstance(tr, Exception))  # fmt: skip
            failed += sum(1 for i, tr in zip(items, results, strict=True)
                          if i.interaction_id in written and isinstance(tr, Exception))  # fmt: skip
            if self.on_batch is not None:
                self.on_batch(leases.TRANSCRIBE, written)
            if self._should_stop():
                break
        return done, failed

    def _write_transcripts(self, store: Store, lease: leases.Lease, items: list[AudioItem],
                           results: list[Any], attempts: dict[int, int]) -> list[int]:
        """Write one batch's transcripts (or failures) for the ids the lease still holds,
        release the lease; returns the ids written."""
        from analysis.asr.pending import store_transcript

        opts = self.analyzer.options
        keep = self._kept(store, lease)
        written = []
        for item, tr in zip(items, results, strict=True):
            if item.interaction_id not in keep:
                continue
            if isinstance(tr, Exception):
                reason = call_store_failure(store, item.interaction_id, attempts[item.interaction_id],
                                            tr, opts.backoff_seconds)  # fmt: skip
                log.warning("call %s: %s", item.interaction_id, reason)
            else:
                store_transcript(store, item.interaction_id, tr)
            written.append(item.interaction_id)
        self._finish(store, lease)
        self._renew(store)
        return written

    # -- scoring -------------------------------------------------------------------------------

    def run(self, store: Store, *, limit: int | None = None, rescore: bool = False,
            stale: bool = False, write_lock: AbstractContextManager[Any] | None = None,
            should_stop: Callable[[], bool] | None = None) -> AnalyzeReport:
        """Transcribe, then analyse everything waiting, on the cluster (module docstring).

        As `Analyzer.run` under `serve`: `write_lock` is taken only around each write (a
        lease claim, one batch's results), so ingest commits between batches, and
        `should_stop` is asked after each batch (leases of batches still out expire and the
        next run takes them)."""
        self._gate = write_lock if write_lock is not None else nullcontext()
        self._should_stop = should_stop or (lambda: False)
        t0 = time.perf_counter()
        report = AnalyzeReport()
        started = datetime.now(UTC)
        report.transcribed, report.transcribe_failed = self.transcribe_pending(store, limit)
        opts = self.analyzer.options
        pending = dict(max_attempts=opts.max_attempts, rescore=rescore,
                       stale_key=self.analysis_key if stale else None)  # fmt: skip
        ids = score_store.pending_ids(store, limit=limit, **pending)  # type: ignore[arg-type]
        if not ids:
            report.seconds = time.perf_counter() - t0
            return report
        pool = self.pool("score")
        step = self.options.score_batch or self._batch_for(len(ids), len(pool.actors), opts.batch_size)

        def batches() -> Iterator[tuple[leases.Lease, list[Interaction]]]:
            for lo in range(0, len(ids), step):
                lease = self._claim(store, leases.ANALYSE, ids[lo:lo + step])
                still = score_store.pending_ids(store, among=list(lease.ids), **pending)  # type: ignore[arg-type]
                if rescore or stale:  # analysed ones count as waiting: skip those redone meanwhile
                    redone = score_store.analysed_since(store, still, started)
                    still = [i for i in still if i not in redone]
                if still:
                    yield lease, interaction_store.get_many(store, still)
                else:
                    self._finish(store, lease)

        for (lease, batch), results in pool.map(
            "analyse", batches(), arg=lambda b: b[1],
            in_flight_per_actor=self.options.in_flight_per_actor,
            on_submit=self._submitted(leases.ANALYSE, lambda b: [it.id for it in b[1]]),
        ):
            if isinstance(results, Exception):
                results = [results] * len(batch)
            with self._gate:
                keep = self._kept(store, lease)
                pairs = [(it, r) for it, r in zip(batch, results, strict=True) if it.id in keep]
                self.analyzer.record(store, [p[0] for p in pairs], [p[1] for p in pairs], report)
                self._finish(store, lease)
                self._renew(store)
            if self.on_batch is not None:
                self.on_batch(leases.ANALYSE, [int(p[0].id) for p in pairs])  # type: ignore[arg-type]
            if self._should_stop():
                break
        report.seconds = time.perf_counter() - t0
        return report

    @staticmethod
    def _batch_for(waiting: int, actors: int, batch_size: int) -> int:
        """Interactions per task when `score_batch` is 0: `batch_size` at most, but small
        enough that every actor gets about two batches of what is waiting (one 64-batch
        for two actors would leave one idle), and at least 4 (model calls want batches)."""
        return max(1, min(batch_size, max(4, -(-waiting // (2 * actors)))))

    def _submitted(self, stage: str, ids_of: Callable[[Any], list[int]]) -> Callable[[Any], None] | None:
        if self.on_submit is None:
            return None
        hook = self.on_submit
        return lambda b: hook(stage, ids_of(b))

    # -- the patterns job's heavy parts ----------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """MiniLM vectors computed on the scoring actors (chunks spread over the pool)."""
        if not texts:
            return np.zeros((0, 384), np.float32)
        chunk = 512
        parts = [list(texts[i:i + chunk]) for i in range(0, len(texts), chunk)]
        got: dict[int, np.ndarray] = {}
        for (k, _part), vecs in self.pool("score").map("embed", list(enumerate(parts)),
                                                       arg=lambda p: p[1]):
            if isinstance(vecs, Exception):
                raise vecs
            got[k] = vecs
        return np.concatenate([got[k] for k in range(len(parts))])

    def cluster(self, emb: np.ndarray, options: PatternClusterOptions) -> Clustering:
        """The window's re-cluster (PCA + HDBSCAN) as a Ray task beside the actors."""
        import ray

        # the pools may hold every CPU: ask for what is left (a fraction at least), so the
        # task is scheduled instead of waiting for CPUs the idle actors never give back
        res = ray.cluster_resources().get("CPU", 1.0)
        held = sum(s.actors * s.num_cpus for s in self.specs().values())
        cpus = max(0.01, min(1.0, res - held))
        task = ray.remote(cluster_window).options(num_cpus=cpus, max_retries=self.options.task_retries)
        return ray.get(task.remote(emb, options))


def call_store_failure(store: Store, iid: int, attempts: int, exc: BaseException, backoff: float) -> str:
    """A call's transcription failed (on a worker or reading its audio): as in-process."""
    from analysis.asr.pending import store_failure

    return store_failure(store, iid, attempts, exc, backoff_seconds=backoff)


__all__ = ["Analysis", "ClusterAnalyzer", "default_holder"]
