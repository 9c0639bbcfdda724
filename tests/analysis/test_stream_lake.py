"""Two analysis processes on one DuckLake never analyse the same interaction twice (issue 17).

Both run `run_streaming` (what `serve` and `convoscope analyze` run) at the same moment on
a lake holding 30 waiting chats, with the fast VADER sentiment. Each records the ids its
models actually ran on (`Analyzer.analyse_batch`, the expensive part the lease protects);
the two sets must be disjoint and together cover every chat, and every chat ends analysed.
Without the per-batch leases both processes read the same pending list and score it all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import Store, leases
from store import interactions as istore
from store.backend import LakeTarget
from store.records import Interaction, Turn, content_hash

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from backends import lake_template, pg, target_for  # noqa: F401  (fixtures)

# PostgreSQL + DuckLake + two interpreters: seconds on 2 cores (`make test`)
pytestmark = pytest.mark.slow

N = 30
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

WORKER = r"""
import json, os, sys, time
from analysis.anger import AngerOptions
from analysis.options import AnalysisOptions
from analysis.pipeline import Analyzer
from analysis.redaction import RedactionOptions
from analysis.sentiment import SentimentOptions
from analysis.topics import TopicOptions
from store import Store
from store.backend import LakeTarget

catalog, data, go, out = sys.argv[1:5]
st = Store.open(LakeTarget(catalog=catalog, data_path=data))
an = Analyzer(AnalysisOptions(batch_size=4, transcribe=False), sentiment=SentimentOptions(backend="vader"),
              anger=AngerOptions(), topics=TopicOptions(taxonomy=[]), rules=[],
              redaction=RedactionOptions(), cache_dir="/nonexistent-cache")
an.load_models()
ran = []
real = an.analyse_batch
def spy(batch):
    ran.extend(int(it.id) for it in batch)
    return real(batch)
an.analyse_batch = spy
while not os.path.exists(go):
    time.sleep(0.01)
report = an.run(st)
st.close()
json.dump({"ran": ran, "analysed": report.analysed}, open(out, "w"))
"""


@pytest.fixture
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> LakeTarget:
    """A lake only: one DuckDB file allows one writing process (and takes no leases)."""
    target = target_for(request, "ducklake", tmp_path, "a")
    assert isinstance(target, LakeTarget)
    return target


def _chat(i: int) -> Interaction:
    text = ["This is outrageous, I want a refund now!", "Thanks, that fixed it.", "Where is my parcel?"][i % 3]
    turns = [Turn(0, "customer", f"{text} (order {i})", sent_at=T0), Turn(1, "agent", "Let me check.", sent_at=T0)]
    return Interaction("chat", "zd", f"c{i}", content_hash(f"c{i}", [text]),
                       started_at=T0 + timedelta(minutes=i), turns=turns)  # fmt: skip


def test_two_processes_analyse_each_interaction_once(lake: LakeTarget, tmp_path: Path) -> None:
    with Store.open(lake) as st:
        ids = set(istore.upsert(st, [_chat(i) for i in range(N)]).inserted)
    assert len(ids) == N
    go = tmp_path / "go"
    outs = [tmp_path / f"p{k}.json" for k in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, lake.catalog, lake.data_path, str(go), str(o)],
                              stderr=subprocess.PIPE, text=True) for o in outs]  # fmt: skip
    time.sleep(3)  # both have opened the lake and loaded VADER; then start them together
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    ran = [json.loads(o.read_text())["ran"] for o in outs]
    analysed = [json.loads(o.read_text())["analysed"] for o in outs]
    assert not set(ran[0]) & set(ran[1]), "an interaction was analysed by both processes"
    assert len(ran[0]) == len(set(ran[0])) and len(ran[1]) == len(set(ran[1]))
    assert set(ran[0]) | set(ran[1]) == ids
    assert sum(analysed) == N
    with Store.open(lake) as st:
        assert {it.status for it in istore.get_many(st, sorted(ids), with_turns=False)} == {"analysed"}
        assert leases.held(st, leases.ANALYSE) == {}  # every lease released with its commit
