"""`convoscope patterns run|show` against a real file (clustering is in the slow test)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from patterns_data import Spec, put

from convoscope.cli import main
from store import Store

CONFIG = """
[store]
path = "p.duckdb"

[patterns.trends]
min_count = 3

[[scorecards]]
name = "Basics"
[[scorecards.sections]]
name = "Opening"
[[scorecards.sections.questions]]
id = "greet"
text = "Did the agent greet?"
stage = "greeting"
"""


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(CONFIG)
    now = datetime.now(UTC)
    with Store.open(tmp_path / "p.duckdb") as store:
        put(store, [
            Spec(started_at=now - timedelta(hours=30), customer_key="a@x.org", topic="refund",
                 agent=["Hello there"], agent_name="alice"),
            Spec(started_at=now - timedelta(hours=2), customer_key="a@x.org", topic="refund",
                 channel="email", agent=["Sorry about that"], agent_name="bob"),
        ])
    return cfg


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_run_then_show(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--config", str(setup), "patterns", "run", "--only", "repeats,trends,scorecards", "--json"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["repeats"] == {"repeats": 1, "issues": 1} and report["scorecards"] == 2
    assert main(["--config", str(setup), "patterns", "show", "repeats", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    # the key leaves only as a pseudonym (a SHA-256 prefix), never the address itself
    pseudonym = "h:" + hashlib.sha256(b"email:a@x.org").hexdigest()[:12]
    assert shown[0]["customer_key"] == pseudonym and shown[0]["contacts"] == 2
    assert main(["--config", str(setup), "patterns", "show", "fcr"]) == 0
    assert "alice" in capsys.readouterr().out
    assert main(["--config", str(setup), "patterns", "show", "scorecards"]) == 0
    out = capsys.readouterr().out
    assert "Basics" in out and "100.0" in out and "0.0" in out
    assert main(["--config", str(setup), "patterns", "show", "rising"]) == 0
    assert "no rising results" in capsys.readouterr().out


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_bad_input_is_one_line(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(setup), "patterns", "run", "--only", "everything"]) == 2
    assert "unknown step(s) everything" in capsys.readouterr().err
    assert main(["--config", str(setup), "patterns", "show", "fcr", "--since", "yesterday"]) == 2
    assert "--since must be a date" in capsys.readouterr().err


def test_full_run_on_an_empty_store_does_nothing_and_loads_no_model(tmp_path: Path) -> None:
    from analysis.patterns import job
    from analysis.patterns.options import PatternsOptions

    def no_model(texts: list[str]) -> list:  # fails the test if anything is encoded
        raise AssertionError("nothing to encode in an empty store")

    with Store.open(tmp_path / "empty.duckdb") as store:
        report = job.run_patterns(store, PatternsOptions(), now=datetime.now(UTC), encode=no_model)
        assert report.interactions == 0 and report.clusters.clusters == 0
        assert report.rises == [] and report.repeats == 0 and report.fcr is None
        assert job.assign_new(store, PatternsOptions(), encode=no_model) == 0
