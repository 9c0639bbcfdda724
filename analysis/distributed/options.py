"""`[cluster]` options: where the Ray cluster is and how the actor pools are sized."""

from __future__ import annotations

from dataclasses import dataclass

_AUDIO = ("path", "bytes")


@dataclass
class ClusterOptions:
    """How analysis runs on a Ray cluster (config section `[cluster]`).

    `ray_address`: "" runs everything in this process (the default, no Ray import);
    "auto" joins the cluster this machine is part of (`ray start` ran here); "HOST:PORT"
    joins that cluster's GCS; "ray://HOST:10001" goes through Ray Client (needs the
    `ray[client]` extra on the driver); "local" starts a private one-machine cluster.

    Pools: `asr_actors` Whisper actors with `asr_cpus` CPUs each (or `asr_gpus` GPUs each
    when the cluster has GPUs and `[asr] device` is not "cpu"); `score_actors` text
    scoring actors with `score_cpus` each. Pools are shrunk, and then given fractional
    CPUs, until they fit the cluster's CPUs, so a small cluster cannot deadlock waiting
    for CPUs that will never be free. `threads_per_actor` (0 = the actor's CPU request,
    rounded, at least 1) is set explicitly inside each actor: Ray sets OMP_NUM_THREADS=1
    there, which would otherwise leave torch and CTranslate2 on one thread.

    `audio`: "path" sends the recording's path (all nodes see the same shared folder),
    "bytes" sends the file's bytes through Ray's object store (no shared storage needed).
    `lease_seconds`: how long a driver's claim on a batch lasts without renewal; a
    killed driver's work is picked up by the next run after this.
    """

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012

    ray_address: str = ""
    namespace: str = "convoscope"
    asr_actors: int = 2
    asr_cpus: float = 1.0
    asr_gpus: float = 1.0
    score_actors: int = 2
    score_cpus: float = 1.0
    threads_per_actor: int = 0
    audio: str = "path"
    asr_batch: int = 2  # calls per task (and per lease)
    score_batch: int = 0  # interactions per task (0 = [analysis] batch_size)
    in_flight_per_actor: int = 2  # tasks queued per actor: the bounded queue
    task_retries: int = 3  # a task whose actor died is retried (Ray restarts the actor)
    lease_seconds: float = 600.0
    ready_timeout_seconds: float = 300.0  # actors not started by then: the cluster is too small
    worker_cache_dir: str = ""  # model cache on the workers ("" = the driver's cache_dir)

    def __post_init__(self) -> None:
        if self.audio not in _AUDIO:
            raise ValueError(f"audio must be 'path' or 'bytes'; got {self.audio!r}")
        if self.asr_actors < 1 or self.score_actors < 1:
            raise ValueError("asr_actors and score_actors must be at least 1")
        if self.asr_cpus <= 0 or self.score_cpus <= 0 or self.asr_gpus < 0:
            raise ValueError("asr_cpus and score_cpus must be > 0, asr_gpus >= 0")
        if self.threads_per_actor < 0:
            raise ValueError("threads_per_actor must be >= 0 (0 = from the CPU request)")
        if self.asr_batch < 1 or self.score_batch < 0 or self.in_flight_per_actor < 1:
            raise ValueError("asr_batch and in_flight_per_actor must be >= 1, score_batch >= 0")
        if self.task_retries < 0:
            raise ValueError("task_retries must be >= 0")
        if self.lease_seconds <= 0 or self.ready_timeout_seconds <= 0:
            raise ValueError("lease_seconds and ready_timeout_seconds must be > 0")

    @property
    def enabled(self) -> bool:
        return bool(self.ray_address.strip())
