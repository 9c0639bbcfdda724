"""Analysis on a Ray cluster (issue #17): the same pure stages, run by actor pools.

Nothing here is imported unless `[cluster] ray_address` (or `analyze --ray`) is set, so
the embedded default never loads Ray. Modules: `options` (the `[cluster]` section),
`workers` (the actor classes: transcription, scoring, pattern compute; they never open the
store), `pool` (a bounded pool of Ray actors with retry), `driver` (reads work from the
store, leases it, sends it out, writes the results with the same idempotent keys as the
in-process path).
"""

from analysis.distributed.options import ClusterOptions

__all__ = ["ClusterOptions"]
