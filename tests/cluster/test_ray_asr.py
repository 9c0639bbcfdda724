"""Transcription on the Ray cluster (slow: real Whisper in a worker): two sample calls, one
stereo and one mono, sent as bytes (no shared storage), give the same turns, scores and
flags as the in-process job."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import ROOT, counts, results, sample_config

from analysis.distributed.driver import ClusterAnalyzer
from convoscope.commands.analyze import build_analyzer
from convoscope.sources import build_sources, sync_all
from store import leases
from store.db import Store

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.xdist_group("ray")]

CALLS = ("call_03_no_disclosure", "call_08_mono_password")


def _store_with_calls(cfg, path: Path) -> Store:
    store = Store.open(path)
    for report in sync_all(store, build_sources(cfg)):
        assert not report.errors, report.errors
    return store


def test_calls_transcribed_on_the_cluster_match_in_process(ray_cluster: str, tmp_path: Path) -> None:
    cfg = sample_config(tmp_path, score_actors=1, score_cpus=0.5, asr_actors=1, asr_cpus=1.0,
                        threads_per_actor=2, audio="bytes")
    cfg.analysis = replace(cfg.analysis, transcribe=True)
    # the same thread count on both sides: CTranslate2's int8 sums may differ by threads
    cfg.asr = replace(cfg.asr, cpu_threads=2)
    cfg.email = replace(cfg.email, local=[])
    cfg.chat = replace(cfg.chat, exports=[])
    drop = tmp_path / "drop"
    for name in CALLS:
        for ext in (".opus", ".json"):
            shutil.copy2(ROOT / "samples" / "calls" / f"{name}{ext}", drop / f"{name}{ext}")
    local = _store_with_calls(cfg, tmp_path / "local.duckdb")
    remote = _store_with_calls(cfg, tmp_path / "remote.duckdb")
    rep_local = build_analyzer(cfg).run(local)
    driver = ClusterAnalyzer(build_analyzer(cfg), cfg.cluster)
    try:
        rep = driver.run(remote)
        # threads set explicitly in the worker (Ray's default inside actors is 1)
        info = driver.pool("asr").stats.actor_info
    finally:
        driver.shutdown()
    assert [i["omp"] for i in info] == ["2"]
    assert rep.transcribed == rep_local.transcribed == 2 and rep.transcribe_failed == 0
    assert rep.analysed == 2 and rep.failed == 0

    def transcripts(store: Store) -> list[tuple]:
        return store.cursor().execute(
            "SELECT i.external_id, i.language, t.seq, t.speaker, t.text FROM turns t "
            "JOIN interactions i ON i.id = t.interaction_id ORDER BY 1, 3").fetchall()

    got, want = transcripts(remote), transcripts(local)
    assert len(want) > 4 and got == want
    assert results(remote) == results(local)
    assert counts(remote) == counts(local)
    assert leases.held(remote, leases.TRANSCRIBE) == {}
