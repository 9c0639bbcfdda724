"""The composition root's side of `[cluster]`: joining the Ray cluster and building the
cluster driver from the config (issue #17).

Only imported when `[cluster] ray_address` is set (or `analyze --ray`), so the embedded
default never imports Ray. Every node of the cluster needs Convoscope installed with the
`cluster` extra and the models prepared in its cache (`convoscope models prepare`), the
same way as the machine that runs `serve`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convoscope.config import Config
from convoscope.context import UserError

if TYPE_CHECKING:
    from analysis.distributed.driver import ClusterAnalyzer

log = logging.getLogger(__name__)


def connect(address: str, *, namespace: str = "convoscope") -> dict[str, float]:
    """`ray.init` for this address (see `ClusterOptions.ray_address`); returns the cluster's
    resources. Joining twice is a no-op (serve's jobs and the CLI share one connection)."""
    try:
        import ray
    except ImportError:
        raise UserError("[cluster] ray_address is set but Ray is not installed: "
                        "pip install 'convoscope[cluster]'") from None
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"namespace": namespace, "logging_level": logging.WARNING,
                                  "configure_logging": False}  # fmt: skip
        if address == "local":
            kwargs |= {"num_cpus": os.cpu_count(), "include_dashboard": False}
        else:
            kwargs["address"] = address
        try:
            ray.init(**kwargs)
        except ConnectionError as exc:
            raise UserError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None
    return dict(ray.cluster_resources())


def build_cluster_analyzer(cfg: Config, on_flags: Sequence[Any] = (), *,
                           address: str | None = None) -> ClusterAnalyzer:
    """The Ray driver for this configuration; joins the cluster now."""
    from analysis.distributed.driver import ClusterAnalyzer
    from convoscope.commands.analyze import build_analyzer

    options = cfg.cluster
    if address:
        from dataclasses import replace

        options = replace(options, ray_address=address)
    resources = connect(options.ray_address, namespace=options.namespace)
    log.info("joined Ray cluster at %s: %s", options.ray_address, resources)
    return ClusterAnalyzer(build_analyzer(cfg, on_flags), options)
