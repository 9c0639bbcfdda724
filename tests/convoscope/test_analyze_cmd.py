"""`convoscope analyze`: runs the job on the configured database, --json report, --rescore."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from convoscope.cli import main
from store import interactions as istore
from store.db import Store
from store.records import Interaction, Turn, content_hash

CONFIG = """
[sentiment]
backend = "vader"

[analysis]
transcribe = false

[topics]
taxonomy = []

[[rules]]
name = "churn_threat"
flag = "churn_risk"
when = { phrase = "cancel my account", speaker = "customer" }
"""


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "c.duckdb"
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(CONFIG + f'\n[store]\npath = "{db}"\n')
    with Store.open(db) as s:
        at = datetime(2026, 11, 20, 9, tzinfo=UTC)
        istore.upsert(s, [
            Interaction("chat", "t", "x1", content_hash("x1"), turns=[
                Turn(0, "customer", "Please cancel my account today.", sent_at=at),
                Turn(1, "agent", "Done, sorry to see you go.", sent_at=at),
            ]),
        ])  # fmt: skip
    return cfg, db


def test_analyze_json_then_nothing_left_then_rescore(setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, db = setup
    assert main(["--config", str(cfg), "analyze", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["analysed"] == 1 and rep["failed"] == 0 and len(rep["new_flag_ids"]) == 1
    assert main(["--config", str(cfg), "analyze"]) == 0
    assert "analysed 0 interaction(s)" in capsys.readouterr().out
    assert main(["--config", str(cfg), "analyze", "--rescore", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["analysed"] == 1 and rep["new_flag_ids"] == []  # same flag, updated in place
    with Store.open(db) as s:
        assert s.conn.execute("SELECT count(*) FROM flags WHERE active").fetchone()[0] == 1


def test_analyze_rejects_a_bad_limit(setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _db = setup
    assert main(["--config", str(cfg), "analyze", "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err
