"""`convoscope serve`: the long-running process that owns the DuckDB file.

DuckDB lets one process write a file, so this process runs everything that writes:
the ingest job (all sources), the analysis job (ASR + scoring + flags), the patterns
job, the alert dispatcher and the daily digests, the Slack bot, and a loopback HTTP API
through which the TUI and other readers reach the data while the service runs.

Ingest, patterns and retention run on one single-thread executor ("writer") and hold
`write_lock` while they run; the analysis job runs on its own thread ("analysis") and
takes `write_lock` only for each short commit (one call's turns, one batch's scores), so
writers never fight over DuckDB's optimistic transactions, yet ingest commits between
two interactions instead of waiting behind a long analysis run (issue 15). New flags
trigger the alert dispatcher right after the commit that raised them, not at the end of
the run. Readers (API, bot questions) use their own cursors. SIGTERM/SIGINT stop the
scheduler after the running job commits (a running analysis after its current
interaction), then the bot and the API, and remove the state file.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from convoscope.config import Config
from store import Store

log = logging.getLogger(__name__)


@dataclass
class ServiceStats:
    """Counters the service keeps for its own status line and the API's /health."""

    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ingest_runs: int = 0
    analyze_runs: int = 0
    last_error: str | None = None


class Service:
    """Scheduler + jobs + bot + API around one open `Store`."""

    def __init__(self, cfg: Config, store: Store) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.cfg = cfg
        self.store = store
        self.stats = ServiceStats()
        self._stop = threading.Event()
        self._analyze_lock = threading.Lock()
        self._new_data = threading.Event()
        #: held by the writer jobs for their whole run, by analysis for each commit
        self.write_lock = threading.RLock()
        self.scheduler = BackgroundScheduler(
            timezone=cfg.tz,
            executors={
                "writer": ThreadPoolExecutor(max_workers=1),
                "analysis": ThreadPoolExecutor(max_workers=1),
                "default": ThreadPoolExecutor(max_workers=4),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._handles: list[Any] = []
        self._sources: list[Any] | None = None
        self._analyzer: Any = None
        self.alerter: Any = None

    # -- jobs ------------------------------------------------------------------------

    def sources(self) -> list[Any]:
        if self._sources is None:
            from convoscope.sources import build_sources

            self._sources = build_sources(self.cfg)
        return self._sources

    def analyzer(self) -> Any:
        if self._analyzer is None:
            from convoscope.wiring import build_analyzer

            self._analyzer = build_analyzer(self.cfg, on_flags=[self._flags_committed])
        return self._analyzer

    def _flags_committed(self, _flag_ids: list[int]) -> None:
        """Alerts go out right after the commit that raised them (target: < 5 s), while
        the analysis run goes on with the next interaction."""
        if self.alerter is not None:
            self.scheduler.add_job(self.alerter.trigger_alerts, id="alerts-now",
                                   replace_existing=True)

    def ingest_job(self) -> None:
        from convoscope.sources import sync_all

        changed = False
        with self.write_lock:
            for report in sync_all(self.store, self.sources()):
                if report.inserted or report.updated or report.quarantined or report.errors:
                    log.info("ingest %s", report.line())
                changed = changed or bool(report.inserted or report.updated)
                for err in report.errors:
                    log.warning("ingest %s: %s", report.source, err)
        self.stats.ingest_runs += 1
        # New data: analyse right away instead of waiting for the next tick. A run in
        # progress picks the new interactions up itself (it looks again after each one,
        # and once more when `_new_data` was set after its last look).
        if changed:
            self._new_data.set()
            self.scheduler.add_job(self.analyze_job, executor="analysis", id="analyze-now",
                                   replace_existing=True)

    def analyze_job(self) -> None:
        if not self._analyze_lock.acquire(blocking=False):
            return  # a run is going on; it streams whatever is waiting, new arrivals first
        try:
            while True:
                self._new_data.clear()
                self.analyzer().run(self.store, write_lock=self.write_lock,
                                    should_stop=self._stop.is_set)
                if not self._new_data.is_set() or self._stop.is_set():
                    break
        finally:
            self._analyze_lock.release()
        self.stats.analyze_runs += 1
        with self.write_lock:
            self._after_analysis()

    def _locked(self, job: Any) -> Any:
        @functools.wraps(job)  # keeps the job's name, and `__wrapped__` says which job it is
        def run() -> None:
            with self.write_lock:
                job()

        return run

    def _after_analysis(self) -> None:
        from convoscope.wiring import after_analysis

        after_analysis(self.cfg, self.store)

    def retention_job(self) -> None:
        from convoscope.wiring import run_retention

        run_retention(self.cfg, self.store)

    def patterns_job(self) -> None:
        from convoscope.wiring import run_patterns

        run_patterns(self.cfg, self.store,
                     analyzer=self.analyzer() if self.cfg.cluster.enabled else None)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        svc = self.cfg.service
        now = datetime.now(self.cfg.tz)
        self.scheduler.add_job(self.ingest_job, "interval", seconds=svc.ingest_interval_seconds,
                               id="ingest", executor="writer", next_run_time=now)
        self.scheduler.add_job(self.analyze_job, "interval", seconds=svc.analyze_interval_seconds,
                               id="analyze", executor="analysis",
                               next_run_time=now + timedelta(seconds=1))
        self.scheduler.add_job(self._locked(self.patterns_job), "interval",
                               minutes=self.cfg.patterns.full_interval_minutes, id="patterns",
                               executor="writer", next_run_time=now + timedelta(minutes=1))
        if self.cfg.retention.enabled:
            hh, mm = (int(x) for x in self.cfg.retention.run_at.split(":"))
            self.scheduler.add_job(self._locked(self.retention_job), "cron", hour=hh, minute=mm,
                                   id="retention", executor="writer")
        from convoscope.wiring import attach_extras, watch_reviews

        watch_reviews(self.cfg, self.store)
        self._handles.extend(attach_extras(self))
        self.scheduler.start()
        log.info("service started: %d sources, db %s", len(self.sources()), self.store.path)

    def stop(self) -> None:
        log.info("service stopping")
        self._stop.set()  # a running analysis stops after its current interaction
        self.scheduler.shutdown(wait=True)
        for h in reversed(self._handles):
            try:
                h.stop()
            except Exception:
                log.exception("stopping %r failed", h)
        self._handles.clear()

    def run_forever(self) -> None:
        """Start, then block until SIGTERM/SIGINT; a clean stop lets running jobs commit."""

        def _on_signal(signum: int, _frame: object) -> None:
            log.info("received signal %s", signum)
            self._stop.set()

        old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()
            for s, h in old.items():
                signal.signal(s, h)
