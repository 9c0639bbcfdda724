"""The ASR job: transcribe every call waiting in the store, once, safely re-runnable.

For each call with status 'new' (or a failed transcription still under `max_attempts`
whose back-off has passed) the audio at `raw_ref` is transcribed *outside* any
transaction (it takes seconds), then the turns, the status 'transcribed', the language
and the duration are written in ONE transaction, so a crash leaves the call either
untouched ('new', picked up again next run) or complete. A failure marks it 'failed' with
the reason, counts the attempt and schedules the retry with exponential back-off
(`backoff_seconds * 2**attempts`); after `max_attempts` it stays failed for a person to see.
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from analysis.diarization import persist as speakers_job
from store import Store
from store import calls as calls_q
from store import interactions as interactions_q

if TYPE_CHECKING:
    from analysis.asr.transcriber import Transcript
    from store.records import Interaction

log = logging.getLogger(__name__)


class _Transcribes(Protocol):
    """Anything with `transcribe(path) -> Transcript` (a `Transcriber`)."""

    def transcribe(self, path: str | Path) -> Transcript: ...


@dataclass(slots=True)
class TranscribeReport:
    """What one `transcribe_pending` run did."""

    transcribed: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0
        return (
            f"asr: {self.transcribed} transcribed, {self.failed} failed, "
            f"{self.audio_seconds:.0f} s of audio in {self.wall_seconds:.1f} s ({rate:.1f}x real time)"
        )


def transcribe_pending(
    store: Store,
    transcriber: _Transcribes,
    *,
    limit: int | None = None,
    max_attempts: int = 3,
    backoff_seconds: float = 60.0,
    now: datetime | None = None,
) -> TranscribeReport:
    """Transcribe waiting calls (see module docstring); returns what happened."""
    report = TranscribeReport()
    t_start = time.perf_counter()
    for iid, attempts in calls_q.pending_transcription(
        store, max_attempts=max_attempts, limit=limit, now=now
    ):
        transcribe_one(store, transcriber, iid, attempts, report,
                       backoff_seconds=backoff_seconds, now=now)  # fmt: skip
    report.wall_seconds = time.perf_counter() - t_start
    return report


def transcribe_one(
    store: Store,
    transcriber: _Transcribes,
    iid: int,
    attempts: int,
    report: TranscribeReport,
    *,
    backoff_seconds: float = 60.0,
    now: datetime | None = None,
    write_lock: AbstractContextManager | None = None,
) -> bool:
    """Transcribe one waiting call and commit its turns (or its failure) in one short
    transaction; True when it was transcribed. The audio is decoded and recognised
    outside any transaction and outside `write_lock` (which the service holds while
    another job writes), so other writers only ever wait for the commit."""
    it = interactions_q.get(store, iid, with_turns=False)
    if it is None:
        return False
    gate = write_lock if write_lock is not None else nullcontext()
    try:
        if not it.raw_ref:
            raise FileNotFoundError("the call has no audio reference (raw_ref)")
        if not Path(it.raw_ref).is_file():
            raise FileNotFoundError(f"audio file {it.raw_ref} not found")
        options = getattr(transcriber, "options", None)
        if options is not None:  # a Transcriber: it can use what the store knows of speakers
            tr = transcriber.transcribe(it.raw_ref, context=speakers_job.call_context(store, it, options))
        else:
            tr = transcriber.transcribe(it.raw_ref)
    except Exception as exc:
        with gate:
            reason = store_failure(store, iid, attempts, exc, backoff_seconds=backoff_seconds, now=now)
        report.failed += 1
        report.errors.append(f"call {iid}: {reason}")
        log.warning("call %s: %s", iid, reason)
        return False
    with gate:
        if not store_transcript(store, iid, tr, expect=it):
            return False
    report.transcribed += 1
    report.audio_seconds += tr.duration
    return True


def store_transcript(store: Store, iid: int, tr: Transcript, *, expect: Interaction | None = None) -> bool:
    """Write a call's turns, speaker assignment, language, duration and the status
    'transcribed' in ONE transaction (also used by the cluster driver, whose workers
    transcribe). With `expect` (the call as read before recognition), nothing is written
    when a connector replaced the call meanwhile: the new version is 'new' again and is
    transcribed next, from its own audio. True when written."""
    def write(tx: Any) -> bool:
        if expect is not None:
            now_it = interactions_q.get(store, iid, with_turns=False)
            if now_it is None or (now_it.version, now_it.raw_ref) != (expect.version, expect.raw_ref):
                return False
        interactions_q.replace_turns(store, iid, tr.turns, con=tx)
        speakers_job.save(store, iid, tr, tx)
        interactions_q.set_status(
            store, iid, "transcribed", None,
            language=tr.language or None, duration=tr.duration, con=tx,
        )  # fmt: skip
        return True

    # every write above replaces what it writes, so a retry after a conflict (an erasure
    # of this call's agent's voiceprint committing first) is safe and then enrols nothing
    return bool(store.retrying(write))


def store_failure(
    store: Store, iid: int, attempts: int, exc: BaseException, *, backoff_seconds: float,
    now: datetime | None = None,
) -> str:
    """Mark a call's transcription failed, count the attempt, schedule the retry with
    exponential back-off; returns the stored reason."""
    reason = f"{calls_q.TRANSCRIBE_FAILED}{type(exc).__name__}: {exc}"
    retry_at = (now or datetime.now(UTC)) + timedelta(seconds=backoff_seconds * 2**attempts)
    interactions_q.set_status(store, iid, "failed", reason, next_attempt_at=retry_at, count_attempt=True)
    return reason
