"""`convoscope forget --agent` and `[retention] voiceprint_days` on a real DuckDB file: an
agent's voiceprint (biometric data, #16) is erasable and expires like other personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from analysis.diarization.call import MODEL
from convoscope.api import serve_api
from convoscope.cli import main
from convoscope.privacy import make_api_forget
from store import Store, audit, speakers


def _print(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=256).astype(np.float32)
    return v / np.linalg.norm(v)


def _world(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "v.duckdb"
    with Store.open(db) as store:
        speakers.enrol(store, "agent-1042", MODEL, _print(1), 120.0)
        speakers.enrol(store, "agent-2077", MODEL, _print(2), 120.0)
        store.cursor().execute("UPDATE agent_voiceprints SET updated_at = ? WHERE agent = 'agent-2077'",
                               [datetime(2026, 1, 1, tzinfo=UTC)])
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[retention]\nvoiceprint_days = 90\n')
    return db, cfg


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_forget_agent_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, cfg = _world(tmp_path)
    assert main(["--config", str(cfg), "forget", "--agent", "agent-1042", "--dry-run"]) == 0
    assert "would erase 1 agent voiceprint" in capsys.readouterr().out
    assert main(["--config", str(cfg), "forget", "--agent", "agent-1042", "--reason", "left the company",
                 "--verify", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"agent_voiceprints": 1} and out["verify_hits"] == [] and out["compacted"]
    with Store.open(db) as store:
        assert speakers.voiceprint(store, "agent-1042", MODEL) is None
        assert speakers.voiceprint(store, "agent-2077", MODEL) is not None
        assert speakers.enrolment_suppressed(store, "agent-1042")
        row = audit.recent(store, action="erase")[0]
        assert row["actor"].startswith("cli") and row["detail"]["kind"] == "agent_voiceprint"
        assert "agent-1042" not in json.dumps(row, default=str)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_retention_run_expires_stale_voiceprints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, cfg = _world(tmp_path)
    now = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert main(["--config", str(cfg), "retention", "run", "--dry-run", "--now", now]) == 0
    assert "agent voiceprints: 1" in capsys.readouterr().out
    assert main(["--config", str(cfg), "retention", "run", "--now", now, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["voiceprints"] == 1
    with Store.open(db) as store:
        left = [r[0] for r in store.cursor().execute("SELECT agent FROM agent_voiceprints").fetchall()]
        assert left == ["agent-1042"]


def test_forget_agent_through_the_api_needs_the_forget_role(tmp_path: Path) -> None:
    db, _cfg = _world(tmp_path)
    store = Store.open(db)
    roles = {"U_SUP": "supervisor", "U_VIEW": "viewer"}
    handler = make_api_forget(store, role_of=roles.get, region="US", audio_dir="", dropfolder="",
                              delete_source_audio=False)  # fmt: skip
    handle = serve_api(store, "127.0.0.1", 0, "t0ken", forget=handler)  # the real uvicorn server
    client = httpx.Client(base_url=handle.url, timeout=30)
    auth = {"Authorization": "Bearer t0ken"}
    try:
        denied = client.post("/api/privacy/forget", headers=auth, json={"actor": "U_VIEW", "agent": "agent-1042"})
        assert denied.status_code == 403
        assert speakers.voiceprint(store, "agent-1042", MODEL) is not None
        both = client.post("/api/privacy/forget", headers=auth,
                           json={"actor": "U_SUP", "agent": "agent-1042", "interaction_id": 1})
        assert both.status_code == 400
        ok = client.post("/api/privacy/forget", headers=auth,
                         json={"actor": "U_SUP", "agent": "agent-1042", "reason": "DSR-9"})
        assert ok.status_code == 200 and ok.json()["counts"] == {"agent_voiceprints": 1}
        assert speakers.voiceprint(store, "agent-1042", MODEL) is None
        assert audit.recent(store, action="erase")[0]["actor"] == "api:U_SUP"
    finally:
        client.close()
        handle.stop()
        store.close()
