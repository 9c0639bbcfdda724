"""Streaming, prioritised analysis: each interaction is finished (and alerted) on its own.

`Analyzer.run` used to transcribe every waiting call before it scored any, so an angry
call that landed behind a morning backlog was alerted only after the whole backlog had
been transcribed (issue 15). Here the unit of work is one interaction:

1. everything that can be scored now — text interactions (chats, e-mails), calls already
   transcribed (after a crash or with `rescore`), earlier analysis failures past their
   back-off — is scored first, text before calls and newest first, in batches of
   `[analysis] batch_size` (text is cheap: milliseconds per conversation);
2. then the newest waiting call (latest `started_at`) is transcribed, its turns committed,
   and it is scored, committed and handed to the alert hooks at once;
3. back to 1: whatever arrived meanwhile (a new chat, a newer call) goes ahead of the
   older backlog.

So the latency of a new call's alert is at most the call being transcribed when it
arrived, plus its own transcription and scoring, whatever the backlog. Newest first
because an alert is worth most while the customer is still reachable; the backlog is
still drained completely by the same run.

Every write is a short transaction of one call's turns or one batch's scores, taken
under `write_lock` when one is given: the service holds that lock while ingest, the
patterns job or retention write, and the analysis job runs on its own thread, so ingest
commits between two interactions instead of waiting for the whole run. Crash safety is
the same as before: turns+status and scores+flags+status are each one transaction, and
an interaction is processed at most once per run (a changed one waits for the next run).

On a DuckLake several processes may run this at once (two `serve` instances, or one beside
a Ray driver, issue 17). There each text batch and each call is *leased* (store.leases,
the Ray driver's stage names) before its models run, re-checked as still waiting, and the
lease released with the commit; what another holder has is left to it. The lease expires
after `LEASE_SECONDS`, so a killed instance's work is taken over by the next run (a lease
that runs out under a slow holder costs repeated work, never a duplicate: scores are
replace-by-key). On the single DuckDB file only one process can write, so no lease is
taken there and the embedded path is unchanged.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from store import calls as call_store
from store import interactions as interaction_store
from store import leases
from store import scores as score_store

if TYPE_CHECKING:
    from analysis.pipeline import Analysis, Analyzer, AnalyzeReport
    from store.db import Store
    from store.records import Interaction

#: how long a lease on one batch or call lasts (a killed instance's work waits this long);
#: the Ray driver's default `[cluster] lease_seconds`
LEASE_SECONDS = 600.0


class _Leaser:
    """Leases for one run on a lake; on a DuckDB file every claim gets everything."""

    def __init__(self, store: Store, gate: AbstractContextManager) -> None:
        self.store = store
        self.gate = gate
        self.on = store.backend == "ducklake"
        # host, process and a random part, as the Ray driver's holders (no Ray import here)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def claim(self, stage: str, ids: Sequence[int]) -> leases.Lease | None:
        if not self.on:
            return None
        with self.gate:
            return leases.claim(self.store, stage, ids, holder=self.holder, ttl_seconds=LEASE_SECONDS)

    def release(self, lease: leases.Lease | None) -> None:
        if lease is not None:
            with self.gate:
                leases.release(self.store, lease)


def run_streaming(
    analyzer: Analyzer,
    store: Store,
    *,
    limit: int | None = None,
    rescore: bool = False,
    stale: bool = False,
    write_lock: AbstractContextManager | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> AnalyzeReport:
    """Analyse everything waiting, one interaction (or one batch of text) at a time;
    `should_stop` (the service's shutdown) is asked before each one."""
    from analysis.asr.pending import TranscribeReport, transcribe_one
    from analysis.pipeline import AnalyzeReport

    t0 = time.perf_counter()
    report = AnalyzeReport()
    gate = write_lock if write_lock is not None else nullcontext()
    stop = should_stop or (lambda: False)
    opts = analyzer.options
    scored: set[int] = set()
    tried_calls: set[int] = set()
    asr = TranscribeReport()
    models_loaded = False
    transcribe = opts.transcribe and analyzer.asr_options is not None
    leaser = _Leaser(store, gate)
    started = datetime.now(UTC)
    while True:
        # 1. everything scoreable now, text first, newest first
        ids = [
            i for i in score_store.pending_ids(
                store, max_attempts=opts.max_attempts, rescore=rescore,
                stale_key=analyzer.analysis_key if stale else None, newest_first=True,
            ) if i not in scored
        ]  # fmt: skip
        if limit is not None:
            ids = ids[: max(0, limit - len(scored))]
        if ids and not models_loaded:
            # a missing model is the installation's problem, not the interactions': raise
            # it here instead of spending their attempts
            analyzer.load_models()
            models_loaded = True
        for start in range(0, len(ids), opts.batch_size):
            if stop():
                break
            chunk = ids[start : start + opts.batch_size]
            scored.update(chunk)  # those another holder has are left to it for this run
            lease = leaser.claim(leases.ANALYSE, chunk)
            try:
                if lease is not None:  # re-check: the other holder may have just committed them
                    chunk = score_store.pending_ids(
                        store, among=list(lease.ids), max_attempts=opts.max_attempts, rescore=rescore,
                        stale_key=analyzer.analysis_key if stale else None,
                    ) if lease.ids else []  # fmt: skip
                    if (rescore or stale) and chunk:  # analysed counts as waiting: skip what was redone
                        redone = score_store.analysed_since(store, chunk, started)
                        chunk = [i for i in chunk if i not in redone]
                if not chunk:
                    continue
                batch = interaction_store.get_many(store, chunk)
                results = analyzer.analyse_batch(batch)  # outside the lock: the slow part
                with gate:
                    batch, results = _still_current(store, batch, results, scored)
                    if batch:
                        analyzer._run_batch(store, batch, report, results)
            finally:
                leaser.release(lease)
        # 2. the newest waiting call: transcribe, then score it right away (next loop)
        if stop() or not transcribe or (limit is not None and len(tried_calls) >= limit):
            break
        waiting = [
            (iid, attempts) for iid, attempts in call_store.pending_transcription(
                store, max_attempts=opts.max_attempts, newest_first=True,
            ) if iid not in tried_calls
        ]  # fmt: skip
        if not waiting:
            break
        iid, attempts = waiting[0]
        tried_calls.add(iid)
        lease = leaser.claim(leases.TRANSCRIBE, [iid])
        try:
            if lease is not None:  # held elsewhere, or transcribed meanwhile: not ours
                still = dict(call_store.pending_transcription(
                    store, max_attempts=opts.max_attempts, among=list(lease.ids)))  # fmt: skip
                if iid not in still:
                    continue
                attempts = still[iid]
            transcribe_one(
                store, analyzer.transcriber(), iid, attempts, asr,
                backoff_seconds=opts.backoff_seconds, write_lock=write_lock,
            )  # fmt: skip
        finally:
            leaser.release(lease)
    report.transcribed, report.transcribe_failed = asr.transcribed, asr.failed
    report.seconds = time.perf_counter() - t0
    return report


def _still_current(
    store: Store, batch: list[Interaction], results: list[Analysis | Exception], scored: set[int]
) -> tuple[list[Interaction], list[Analysis | Exception]]:
    """Drop what a connector replaced while it was being analysed (read under the write
    lock, so nothing changes before the commit): writing scores and redacted turn texts
    of the old version over the new one would be wrong. Those stay pending and are
    analysed again in this run, from their new version."""
    now = {it.id: it.version for it in interaction_store.get_many(store, [it.id for it in batch], with_turns=False)}
    keep = [(it, r) for it, r in zip(batch, results, strict=True) if now.get(it.id) == it.version]
    for it in batch:
        if now.get(it.id) != it.version and it.id is not None:
            scored.discard(it.id)
    return [it for it, _ in keep], [r for _, r in keep]
