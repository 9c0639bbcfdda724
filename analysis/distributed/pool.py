"""A pool of Ray actors fed through a bounded queue, with retry when an actor dies.

Why plain actors and not Ray Data `map_batches`: the work comes from the store (a
pending list the driver leases batch by batch), and every result has to come back to the
driver, which writes it in one transaction with the batch's lease release. Ray Data is
built for the opposite shape (read from files, write to files, results streamed to a
sink) and its streaming executor costs seconds per dataset to plan and start, which on a
2-core machine would eat the overhead budget of a 60-second `serve` tick. A small pool
keeps the models loaded between runs (`serve` reuses it), bounds the work in flight
(`in_flight` tasks per actor, so leases are taken just before a batch is sent, not for a
whole backlog), and hands results back in completion order.

Failures: actors are created with `max_restarts` and `max_task_retries`, so when a worker
process dies Ray restarts it (the constructor loads the models again) and re-runs the
task it had; if the actor is gone for good, the pool replaces it and re-submits the item,
up to `task_retries` times; after that the item comes back with the error. Stages are
pure, so running a task twice costs time but cannot store anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class ClusterTooSmall(RuntimeError):
    """The actors did not start in time: the cluster lacks the CPUs/GPUs they asked for."""


class WorkerStartError(RuntimeError):
    """An actor's constructor raised (a model missing on that node, a bad option)."""


@dataclass(slots=True)
class ActorSpec:
    """One pool's shape: how many actors and what each asks the scheduler for."""

    actors: int
    num_cpus: float
    num_gpus: float = 0.0
    threads: int = 1


@dataclass(slots=True)
class PoolStats:
    submitted: int = 0
    completed: int = 0
    resubmitted: int = 0
    replaced_actors: int = 0
    failed: int = 0
    actor_info: list[dict[str, Any]] = field(default_factory=list)


def thread_env(threads: int) -> dict[str, str]:
    """The environment that gives OpenMP, MKL and OpenBLAS `threads` threads."""
    return {var: str(threads) for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def size_pools(specs: dict[str, ActorSpec], cluster_cpus: float) -> dict[str, ActorSpec]:
    """Shrink the pools until their CPU requests fit the cluster (so none waits forever).

    First fewer actors (never below one per pool), then, if one actor per pool still asks
    for more than there is, fractional CPUs: each pool's request is scaled down so the sum
    fits. Threads stay as asked (the actors then share cores, which is slower, not stuck).
    """
    out = {k: ActorSpec(v.actors, v.num_cpus, v.num_gpus, v.threads) for k, v in specs.items()}

    def total() -> float:
        return sum(s.actors * s.num_cpus for s in out.values())

    while total() > cluster_cpus + 1e-9:
        biggest = max(out.values(), key=lambda s: s.actors * s.num_cpus)
        if biggest.actors <= 1:
            break
        biggest.actors -= 1
    if total() > cluster_cpus + 1e-9:
        scale = cluster_cpus / total()
        for s in out.values():
            s.num_cpus = max(0.01, round(s.num_cpus * scale, 2))
    return out


class ActorPool(Generic[T]):
    """`actors` instances of `cls(*args)` on the cluster; `map` runs a method over items."""

    def __init__(
        self,
        cls: type,
        args: tuple[Any, ...],
        spec: ActorSpec,
        *,
        name: str,
        task_retries: int = 3,
        ready_timeout: float = 300.0,
    ) -> None:
        import ray

        self._ray = ray
        self.name = name
        self.spec = spec
        self.task_retries = task_retries
        # OpenMP reads OMP_NUM_THREADS once, when the process loads it, and Ray starts
        # actor processes with OMP_NUM_THREADS=1: setting it later from Python is too late
        # (measured: Whisper's words differ between OMP 1 and 2 threads), so it goes into
        # the process environment through the runtime env.
        self._remote = ray.remote(cls).options(
            num_cpus=spec.num_cpus,
            num_gpus=spec.num_gpus,
            max_restarts=task_retries,
            max_task_retries=task_retries,
            runtime_env={"env_vars": thread_env(spec.threads)},
        )
        self._args = args
        self.stats = PoolStats()
        self.actors: list[Any] = [self._remote.remote(*args) for _ in range(spec.actors)]
        self._wait_ready(self.actors, ready_timeout)

    def _wait_ready(self, actors: list[Any], timeout: float) -> None:
        ray = self._ray
        try:
            info = ray.get([a.ready.remote() for a in actors], timeout=timeout)
        except ray.exceptions.RayActorError as exc:
            raise WorkerStartError(f"{self.name}: the actors failed to start: {exc}") from None
        except ray.exceptions.GetTimeoutError:
            res = ray.cluster_resources()
            raise ClusterTooSmall(
                f"{self.name}: {len(actors)} actor(s) asking {self.spec.num_cpus} CPU / "
                f"{self.spec.num_gpus} GPU each did not start within {timeout:.0f} s; the cluster "
                f"has {res.get('CPU', 0)} CPU, {res.get('GPU', 0)} GPU (lower [cluster] "
                f"{self.name}_actors or its CPU request)"
            ) from None
        self.stats.actor_info = list(info)

    def pids(self) -> list[int]:
        """The actors' current process ids (they change when Ray restarts an actor)."""
        return [int(i["pid"]) for i in self._ray.get([a.ready.remote() for a in self.actors])]

    def call_one(self, method: str, *args: Any) -> Any:
        """Run one method call on the least recently used actor and wait for it."""
        actor = self.actors[self.stats.submitted % len(self.actors)]
        self.stats.submitted += 1
        return self._ray.get(getattr(actor, method).remote(*args))

    def map(
        self,
        method: str,
        items: Iterable[T],
        *,
        arg: Callable[[T], Any] = lambda item: item,
        in_flight_per_actor: int = 2,
        on_submit: Callable[[T], None] | None = None,
    ) -> Iterator[tuple[T, Any]]:
        """(item, result) in completion order; `result` is the exception when the item
        failed for good. Items are pulled from `items` only when a slot is free; `arg(item)`
        is what the actor's method receives (the item may carry driver-side state)."""
        ray = self._ray
        limit = max(1, in_flight_per_actor) * len(self.actors)
        pending: dict[Any, tuple[T, int, int]] = {}  # ref -> (item, actor index, tries)
        load = [0] * len(self.actors)
        source = iter(items)
        exhausted = False

        def submit(item: T, tries: int) -> None:
            idx = min(range(len(self.actors)), key=lambda k: load[k])
            ref = getattr(self.actors[idx], method).remote(arg(item))
            load[idx] += 1
            pending[ref] = (item, idx, tries)
            self.stats.submitted += 1
            if on_submit is not None and tries == 0:
                on_submit(item)

        while True:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                submit(item, 0)
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            item, idx, tries = pending.pop(ref)
            load[idx] -= 1
            try:
                result = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                    ray.exceptions.ObjectLostError) as exc:
                # the actor is gone for good (Ray's own restarts are used up): replace it
                if tries < self.task_retries:
                    log.warning("%s: actor %d lost (%s); replacing it and retrying", self.name,
                                idx, type(exc).__name__)
                    self._replace(idx)
                    self.stats.resubmitted += 1
                    submit(item, tries + 1)
                    continue
                self.stats.failed += 1
                yield item, exc
                continue
            except ray.exceptions.RayTaskError as exc:  # the method raised (not expected)
                self.stats.failed += 1
                yield item, exc.as_instanceof_cause()
                continue
            self.stats.completed += 1
            yield item, result

    def _replace(self, idx: int) -> None:
        ray = self._ray
        try:
            ray.kill(self.actors[idx], no_restart=True)
        except Exception as exc:  # already dead: nothing to stop
            log.debug("killing lost actor: %s", exc)
        self.actors[idx] = self._remote.remote(*self._args)
        self.stats.replaced_actors += 1

    def shutdown(self) -> None:
        """Stop the actors (their CPUs go back to the cluster)."""
        for a in self.actors:
            try:
                self._ray.kill(a, no_restart=True)
            except Exception as exc:  # the cluster may be gone already at shutdown
                log.debug("killing actor at shutdown: %s", exc)
        self.actors = []
