"""Analysis on a real local Ray cluster (issue #17): the same results as in-process, a
worker killed mid-batch, a killed driver, two drivers sharing the work by leases, and
`serve` dispatching its scheduled analysis. All are marked slow (each needs a minute or
more of the 2 shared cores): `make test` runs them, `make test-fast` runs the lease and
config unit tests (tests/store/test_leases.py, tests/convoscope/test_cluster_config.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, counts, results, sample_config, sample_store

from analysis.distributed.driver import ClusterAnalyzer
from convoscope.commands.analyze import build_analyzer
from store import leases
from store.db import Store

# one Ray head per run: under pytest-xdist all of these go to one worker (--dist loadgroup)
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]


def _driver(cfg, **kw) -> ClusterAnalyzer:
    return ClusterAnalyzer(build_analyzer(cfg), cfg.cluster, **kw)


@pytest.mark.slow  # about a minute on 2 idle cores with the head's start: keeps test-fast < 2 min
def test_cluster_results_equal_in_process(ray_cluster: str, tmp_path: Path) -> None:
    cfg = sample_config(tmp_path, score_actors=2, score_cpus=0.5, score_batch=3)
    local = sample_store(cfg, tmp_path / "local.duckdb")
    remote = sample_store(cfg, tmp_path / "remote.duckdb")
    rep_local = build_analyzer(cfg).run(local)
    driver = _driver(cfg)
    try:
        rep_remote = driver.run(remote)
        pids = driver.pool("score").pids()
        info = driver.pool("score").stats.actor_info
    finally:
        driver.shutdown()
    assert os.getpid() not in pids and len(set(pids)) == 2  # it really ran in two workers
    # 0.5 CPU each: one thread each, set explicitly for OpenMP and torch
    assert {(i["omp"], i["torch_threads"]) for i in info} == {("1", 1)}
    assert rep_local.analysed == rep_remote.analysed == 11 and rep_remote.failed == 0
    assert sorted(rep_remote.new_flag_ids) and len(rep_remote.new_flag_ids) == len(rep_local.new_flag_ids)
    a, b = results(local), results(remote)
    assert a["flags"] and a["scores"]
    assert a == b
    assert leases.held(remote, leases.ANALYSE) == {}  # every lease given back
    # nothing waits: a second cluster run does nothing and stores nothing twice
    before = counts(remote)
    driver = _driver(cfg)
    try:
        assert driver.run(remote).analysed == 0
    finally:
        driver.shutdown()
    assert counts(remote) == before and before["dup_scores"] == 0
    local.close()
    remote.close()


@pytest.mark.slow  # a minute or more on 2 shared cores: `make test` runs it
def test_worker_killed_mid_batch_is_retried(ray_cluster: str, tmp_path: Path) -> None:
    cfg = sample_config(tmp_path, score_actors=2, score_cpus=0.5, score_batch=2,
                        in_flight_per_actor=1)
    reference = sample_store(cfg, tmp_path / "ref.duckdb")
    build_analyzer(cfg).run(reference)
    store = sample_store(cfg, tmp_path / "t.duckdb")
    killed: list[int] = []

    def kill_first(stage: str, ids: list[int]) -> None:
        if not killed:  # the first batch is on its way to actor 0: kill that process
            pid = pids[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    driver = _driver(cfg, on_submit=kill_first)
    try:
        pids = driver.pool("score").pids()
        rep = driver.run(store)
        after = driver.pool("score").pids()
    finally:
        driver.shutdown()
    assert killed and killed[0] not in after  # the actor was restarted in a new process
    assert rep.analysed == 11 and rep.failed == 0
    assert results(store) == results(reference)
    assert counts(store) == counts(reference) and counts(store)["dup_scores"] == 0
    store.close()
    reference.close()


DRIVER_SCRIPT = """
import sys, json
sys.path[:0] = [{root!r}, {here!r}]
import ray
from helpers import sample_config
from dataclasses import replace
from pathlib import Path
from analysis.distributed.driver import ClusterAnalyzer
from convoscope.commands.analyze import build_analyzer
from store.db import Store
ray.init(address={address!r}, namespace="convoscope-test", logging_level="WARNING")
cfg = sample_config(Path({tmp!r}), score_actors=1, score_cpus=0.5, score_batch=2,
                    in_flight_per_actor=2, lease_seconds={ttl})
def written(stage, ids):
    print("written", json.dumps(ids), flush=True)  # the next batch is already out (2 in flight)
    import time; time.sleep(1.0)  # give the test time to kill us between batches
store = Store.open({db!r})
ClusterAnalyzer(build_analyzer(cfg), cfg.cluster, holder="doomed", on_batch=written).run(store)
print("finished", flush=True)
"""


@pytest.mark.slow  # a minute or more on 2 shared cores: `make test` runs it
def test_killed_driver_next_run_finishes(ray_cluster: str, tmp_path: Path) -> None:
    ttl = 60.0  # free now (no sleep to run it out), and roomy: a loaded run must fit inside it
    cfg = sample_config(tmp_path, score_actors=1, score_cpus=0.5, score_batch=2, lease_seconds=ttl)
    reference = sample_store(cfg, tmp_path / "ref.duckdb")
    build_analyzer(cfg).run(reference)
    db = tmp_path / "t.duckdb"
    sample_store(cfg, db).close()
    driver = _driver(cfg)
    driver.pool("score")  # warm before the kill, so its first claim comes well inside the ttl
    script = DRIVER_SCRIPT.format(root=str(ROOT), here=str(Path(__file__).parent), address=ray_cluster,
                                  tmp=str(tmp_path), ttl=ttl, db=str(db))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), start_new_session=True)
    first = proc.stdout.readline()  # type: ignore[union-attr]
    assert first.startswith("written"), first
    os.killpg(proc.pid, signal.SIGKILL)  # the driver dies with its next batch in flight
    proc.wait()
    store = Store.open(db)
    done = counts(store)["scores"]
    assert 0 < done < 11
    held = leases.held(store, leases.ANALYSE)
    assert held and set(held.values()) == {"doomed"}  # the dead driver's batch is still leased
    try:
        rep = driver.run(store)  # the lease has not run out: those are left alone
        assert rep.analysed == 11 - done - len(held)
        assert set(leases.held(store, leases.ANALYSE)) == set(held)
        # the lease runs out: its expiry put in the past is the row `ttl` more seconds leave
        # (claims compare expires_at with the clock; expiry itself: tests/store/test_leases.py)
        store.conn.execute("UPDATE work_leases SET expires_at = ? WHERE holder = 'doomed'",
                           [datetime.now(UTC) - timedelta(seconds=1)])
        assert leases.held(store, leases.ANALYSE) == {}
        rep = driver.run(store)  # now it has: the next run finishes the work
    finally:
        driver.shutdown()
    assert rep.analysed == len(held) and rep.failed == 0
    assert results(store) == results(reference)
    assert counts(store) == counts(reference) and counts(store)["dup_scores"] == 0
    store.close()
    reference.close()


@pytest.mark.slow  # a minute or more on 2 shared cores: `make test` runs it
def test_two_drivers_never_analyse_the_same_interaction(ray_cluster: str, tmp_path: Path) -> None:
    cfg = sample_config(tmp_path, score_actors=1, score_cpus=0.5, score_batch=2, in_flight_per_actor=1)
    reference = sample_store(cfg, tmp_path / "ref.duckdb")
    build_analyzer(cfg).run(reference)
    store = sample_store(cfg, tmp_path / "t.duckdb")
    sent: dict[str, list[int]] = {"a": [], "b": []}
    lock = threading.Lock()

    def recorder(name: str):
        def on_submit(stage: str, ids: list[int]) -> None:
            with lock:
                sent[name].extend(ids)
        return on_submit

    drivers = {n: _driver(cfg, holder=n, on_submit=recorder(n)) for n in sent}
    for d in drivers.values():
        d.pool("score")  # both pools up before either starts, so the runs overlap
    errors: list[BaseException] = []

    def run(d: ClusterAnalyzer, rescore: bool) -> None:
        try:
            d.run(store, rescore=rescore)
        except BaseException as exc:
            errors.append(exc)

    try:
        for rescore in (False, True):  # new work, then a rescore of everything (all "waiting")
            for v in sent.values():
                v.clear()
            threads = [threading.Thread(target=run, args=(d, rescore)) for d in drivers.values()]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=600)
            assert not errors, errors
            a, b = set(sent["a"]), set(sent["b"])
            assert len(sent["a"]) == len(a) and len(sent["b"]) == len(b)
            assert a and b and not (a & b)  # both worked, never on the same interaction
            assert len(a | b) == 11
    finally:
        for d in drivers.values():
            d.shutdown()
    assert results(store) == results(reference)
    assert counts(store)["dup_scores"] == 0
    store.close()
    reference.close()


@pytest.mark.slow
def test_cluster_equals_in_process_with_packaged_models(ray_cluster: str, tmp_path: Path) -> None:
    """The default configuration: flair sentiment, MiniLM topics and facts, in workers.

    The packaged sentiment model is int8 with dynamic quantisation (activation scales per
    batch), so its scores move in the third decimal with the batch's make-up, in-process
    too; the cluster run therefore gets the same batch (one of 11) and thread count. On a
    CPU with native bfloat16 the shared encoder runs in bfloat16 (`encoder_precision =
    "auto"`), whose rounding also moves with the batch's make-up and with which thread
    encodes which half of a slice: there numbers are compared within 2e-3 (every flag, kind,
    label and text still exactly)."""
    cfg = sample_config(tmp_path, full=True, score_actors=1, score_cpus=1.0, threads_per_actor=2,
                        score_batch=64)
    local = sample_store(cfg, tmp_path / "local.duckdb")
    remote = sample_store(cfg, tmp_path / "remote.duckdb")
    build_analyzer(cfg).run(local)
    driver = _driver(cfg)
    try:
        rep = driver.run(remote)
    finally:
        driver.shutdown()
    assert rep.analysed == 11 and rep.failed == 0
    a, b = results(local), results(remote)
    assert a["flags"]
    tol = 2e-3 if cfg.analysis.encoder_options().expected_precision() == "bfloat16" else 0.0
    assert _difference(a, b, tol) is None


def _difference(a: Any, b: Any, tol: float, at: str = "") -> str | None:
    """Where `a` and `b` first differ (numbers, not booleans, may differ by `tol`), or None."""
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool) and not isinstance(b, bool):
        return None if abs(a - b) <= tol else f"{at}: {a} != {b}"
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{at}: keys {sorted(a.keys() ^ b.keys())}"
        return next((d for k in a if (d := _difference(a[k], b[k], tol, f"{at}/{k}"))), None)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{at}: {len(a)} != {len(b)} items"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := _difference(x, y, tol, f"{at}[{i}]"))),
                    None)  # fmt: skip
    if isinstance(a, str) and isinstance(b, str) and a != b and a[:1] in ("[", "{") and b[:1] in ("[", "{"):
        return _difference(json.loads(a), json.loads(b), tol, at)  # stored JSON (topics, evidence)
    return None if a == b else f"{at}: {a!r} != {b!r}"


@pytest.mark.slow  # a minute or more on 2 shared cores: `make test` runs it
def test_serve_dispatches_scheduled_analysis_to_the_cluster(ray_cluster: str, tmp_path: Path) -> None:
    from convoscope.service import Service

    cfg = sample_config(tmp_path, score_actors=1, score_cpus=0.5)
    cfg.cluster = replace(cfg.cluster, ray_address=ray_cluster)
    store = sample_store(cfg, tmp_path / "t.duckdb")
    svc = Service(cfg, store)
    try:
        svc.analyze_job()  # what the scheduler runs every analyze_interval_seconds
        analyzer = svc.analyzer()
        assert isinstance(analyzer, ClusterAnalyzer)
        assert analyzer.pool("score").pids()[0] != os.getpid()
    finally:
        svc.analyzer().shutdown()
    assert counts(store)["scores"] == 11 and svc.stats.analyze_runs == 1
    store.close()


@pytest.mark.slow
def test_analyze_command_with_ray_flag(ray_cluster: str, tmp_path: Path) -> None:
    """`convoscope analyze --ray ADDRESS` (the real CLI, in a subprocess) on the cluster."""
    import json

    db = tmp_path / "t.duckdb"
    cfg = sample_config(tmp_path)
    sample_store(cfg, db).close()
    conf = tmp_path / "convoscope.toml"
    conf.write_text('[sentiment]\nbackend = "vader"\n[analysis]\ntranscribe = false\n'
                    '[topics]\ntaxonomy = []\n[cluster]\nscore_actors = 1\nscore_cpus = 0.5\n')
    out = subprocess.run(
        [sys.executable, "-m", "convoscope", "--config", str(conf), "--db", str(db), "analyze",
         "--ray", ray_cluster, "--json"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["analysed"] == 11 and report["failed"] == 0
    store = Store.open(db)
    assert counts(store)["scores"] == 11
    store.close()
