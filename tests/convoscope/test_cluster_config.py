"""`[cluster]`: validated config, pools sized to fit the cluster, and no Ray at all in the
embedded default (the in-process path must not even import it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.distributed.pool import ActorSpec, size_pools
from convoscope import config as config_mod

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_cluster_section_is_validated() -> None:
    cfg = config_mod.from_dict({"cluster": {"ray_address": "auto", "score_actors": 3, "audio": "bytes"}})
    assert cfg.cluster.enabled and cfg.cluster.score_actors == 3
    assert not config_mod.from_dict({}).cluster.enabled
    with pytest.raises(config_mod.ConfigError, match="audio must be 'path' or 'bytes'"):
        config_mod.from_dict({"cluster": {"audio": "nfs"}})
    with pytest.raises(config_mod.ConfigError, match=r"cluster\.raylet: unknown key"):
        config_mod.from_dict({"cluster": {"raylet": 1}})


def test_pools_shrink_then_go_fractional_to_fit() -> None:
    want = {"asr": ActorSpec(2, 1.0), "score": ActorSpec(2, 1.0)}
    fit = size_pools(want, 2.0)  # 4 CPUs asked of 2: one actor each
    assert (fit["asr"].actors, fit["score"].actors) == (1, 1)
    assert sum(s.actors * s.num_cpus for s in fit.values()) <= 2.0
    tiny = size_pools({"asr": ActorSpec(1, 2.0), "score": ActorSpec(1, 1.0)}, 1.0)
    assert sum(s.actors * s.num_cpus for s in tiny.values()) <= 1.0 + 1e-9  # fractional
    assert all(s.actors == 1 and 0 < s.num_cpus < 1 for s in tiny.values())
    roomy = size_pools(want, 16.0)
    assert (roomy["asr"].actors, roomy["score"].num_cpus) == (2, 1.0)  # untouched when it fits


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_default_path_never_imports_ray(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from convoscope import config, wiring\n"
        "from convoscope.cli import build_parser\n"
        "build_parser()\n"
        "a = wiring.build_analyzer(config.from_dict({}))\n"
        "assert type(a).__name__ == 'Analyzer', type(a)\n"
        "print('ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
