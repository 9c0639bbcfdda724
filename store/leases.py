"""Leases on work: which driver is analysing which interactions right now.

Why: with the cluster path (issue #17) several drivers may pick from the same pending
list (two `serve` instances, or a `convoscope analyze --ray` beside a running service).
Each takes a *lease* on a batch of interactions before sending it to the workers, and
only analyses the ones it got; the lease carries an expiry, so the leases of a driver
that was killed run out and the next run picks the work up. Analysis results are still
written with replace-by-key (store.scores), so even a lease that expired under a slow
driver cannot produce duplicates, only repeated work.

How, and why this way: a claim is one transaction that (1) takes over the rows of these
interactions whose lease has expired (UPDATE, keyed), (2) inserts rows for those that
have none (an anti-join on the key), and (3) reads back which rows carry this claim's
batch id. That is a keyed MERGE in two statements, which a DuckLake catalog (no primary
keys, no unique constraints) runs the same way; on DuckDB the primary key additionally
turns two simultaneous claims of one interaction into a transaction conflict, and the
loser retries and finds the row taken. Time comes from the caller (`now`), so tests and
benches can move the clock.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from store.db import Store

log = logging.getLogger(__name__)

#: stage names used by the cluster driver
TRANSCRIBE = "transcribe"
ANALYSE = "analyse"

_RETRIES = 8


@dataclass(frozen=True, slots=True)
class Lease:
    """What one claim got: the batch id and the interactions it holds."""

    stage: str
    holder: str
    batch: str
    ids: tuple[int, ...]
    expires_at: datetime


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def claim(
    store: Store,
    stage: str,
    ids: Sequence[int],
    *,
    holder: str,
    ttl_seconds: float,
    now: datetime | None = None,
) -> Lease:
    """Lease those of `ids` that nobody else holds (free, expired, or already ours).

    Returns the lease with the ids obtained (in the order offered); an empty lease when all
    are held elsewhere. Retries on a write conflict with a concurrent claim.
    """
    wanted = [int(i) for i in dict.fromkeys(ids)]
    batch = uuid.uuid4().hex
    t = _now(now)
    expires = t + timedelta(seconds=ttl_seconds)
    if not wanted:
        return Lease(stage, holder, batch, (), expires)
    for attempt in range(_RETRIES):
        try:
            with store.transaction() as tx:
                tx.execute(
                    "UPDATE work_leases SET holder = ?, batch = ?, leased_at = ?, expires_at = ? "
                    "WHERE stage = ? AND interaction_id IN (SELECT unnest(?::BIGINT[])) "
                    "AND (expires_at <= ? OR holder = ?)",
                    [holder, batch, t, expires, stage, wanted, t, holder],
                )
                tx.execute(
                    "INSERT INTO work_leases (stage, interaction_id, holder, batch, leased_at, expires_at) "
                    "SELECT ?, u.id, ?, ?, ?, ? FROM (SELECT unnest(?::BIGINT[]) AS id) u "
                    "WHERE u.id NOT IN (SELECT interaction_id FROM work_leases WHERE stage = ?)",
                    [stage, holder, batch, t, expires, wanted, stage],
                )
                got = {
                    int(r[0])
                    for r in tx.execute(
                        "SELECT interaction_id FROM work_leases WHERE stage = ? AND batch = ?",
                        [stage, batch],
                    ).fetchall()
                }
            return Lease(stage, holder, batch, tuple(i for i in wanted if i in got), expires)
        except (duckdb.TransactionException, duckdb.ConstraintException) as exc:
            # another driver claimed some of these at the same moment: look again
            log.debug("lease claim conflict (attempt %d): %s", attempt + 1, exc)
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"could not lease {len(wanted)} interaction(s) for {stage}: "
                       f"{_RETRIES} write conflicts in a row")


def renew(store: Store, lease: Lease, *, ttl_seconds: float, now: datetime | None = None) -> Lease:
    """Push the expiry of a batch still being worked on; returns the lease as renewed
    (ids lost meanwhile, because the lease had expired and another driver took them over,
    are dropped from it)."""
    t = _now(now)
    expires = t + timedelta(seconds=ttl_seconds)
    with store.transaction() as tx:
        tx.execute(
            "UPDATE work_leases SET expires_at = ? WHERE stage = ? AND batch = ? AND holder = ?",
            [expires, lease.stage, lease.batch, lease.holder],
        )
        kept = {int(r[0]) for r in tx.execute(
            "SELECT interaction_id FROM work_leases WHERE stage = ? AND batch = ?",
            [lease.stage, lease.batch]).fetchall()}  # fmt: skip
    return Lease(lease.stage, lease.holder, lease.batch,
                 tuple(i for i in lease.ids if i in kept), expires)  # fmt: skip


def still_held(store: Store, lease: Lease, *, now: datetime | None = None) -> set[int]:
    """Those of the lease's ids it still holds unexpired (checked right before writing)."""
    rows = store.cursor().execute(
        "SELECT interaction_id FROM work_leases WHERE stage = ? AND batch = ? AND expires_at > ?",
        [lease.stage, lease.batch, _now(now)],
    ).fetchall()
    return {int(r[0]) for r in rows}


def release(store: Store, lease: Lease, ids: Sequence[int] | None = None,
            *, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Drop the lease (or only `ids` of it); other holders' rows are never touched."""
    sql = "DELETE FROM work_leases WHERE stage = ? AND batch = ? AND holder = ?"
    params: list[object] = [lease.stage, lease.batch, lease.holder]
    if ids is not None:
        sql += " AND interaction_id IN (SELECT unnest(?::BIGINT[]))"
        params.append([int(i) for i in ids])
    if con is not None:
        con.execute(sql, params)
        return
    # its own transaction, so on a lake it holds the write lock and is retried on a
    # conflict (a bare autocommit DELETE beside another process's release fails to commit)
    store.retrying(lambda tx: tx.execute(sql, params))


def held(store: Store, stage: str, *, now: datetime | None = None) -> dict[int, str]:
    """interaction id -> holder, for every unexpired lease of `stage` (status and tests)."""
    rows = store.cursor().execute(
        "SELECT interaction_id, holder FROM work_leases WHERE stage = ? AND expires_at > ?",
        [stage, _now(now)],
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}
