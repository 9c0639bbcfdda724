"""The one-shot commands a new user runs first: init, ingest (idempotent), and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from convoscope.cli import main
from store import Store

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in ("call_02_calm_billing", "call_03_no_disclosure"):
        for ext in (".opus", ".json"):
            shutil.copy(REPO / "samples" / "calls" / f"{name}{ext}", drop / f"{name}{ext}")
    (drop / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEthis is not audio")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[store]\npath = "{tmp_path / "x.duckdb"}"\n'
        f'[dropfolder]\npath = "{drop}"\nstable_polls = 0\nsettle_seconds = 0\n'
        f'[[chat.exports]]\nvendor = "front"\npath = "{REPO / "samples" / "chat" / "front.json"}"\n'
    )
    return cfg


def test_init_writes_config_and_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONVOSCOPE_CONFIG", raising=False)
    assert main(["init"]) == 0
    assert (tmp_path / "convoscope.toml").read_text() == (REPO / "config.example.toml").read_text()
    with Store.open(tmp_path / "convoscope.duckdb") as s:
        assert s.schema_version() > 0
    assert main(["init"]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_ingest_twice_adds_nothing_and_quarantines_the_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    main(["--config", str(cfg), "ingest", "--json"])
    first = {d["source"]: d for d in map(json.loads, capsys.readouterr().out.splitlines())}
    assert first["dropfolder"]["inserted"] == 2 and first["dropfolder"]["quarantined"] == 1
    assert first["front:export"]["inserted"] >= 1
    main(["--config", str(cfg), "ingest", "--json"])
    second = {d["source"]: d for d in map(json.loads, capsys.readouterr().out.splitlines())}
    assert all(d["inserted"] == 0 and d["updated"] == 0 for d in second.values())
    with Store.open(tmp_path / "x.duckdb") as s:
        n_calls = s.conn.execute("SELECT count(*) FROM interactions WHERE channel = 'call'").fetchone()[0]
        reasons = s.conn.execute("SELECT reason FROM quarantine").fetchall()
    assert n_calls == 2
    assert len(reasons) == 1 and reasons[0][0]


def test_bad_config_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[dropfolder]\npath = 3\n[slack]\nbot_token = "${NOT_SET_ANYWHERE}"\n')
    assert main(["--config", str(cfg), "ingest"]) == 2
    err = capsys.readouterr().err
    assert "slack.bot_token: environment variable NOT_SET_ANYWHERE is not set" in err
    assert "Traceback" not in err
