"""`convoscope serve` end to end: it ingests and analyses on its schedule, advertises its
API for readers, refuses a second writer, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from processes import start_serve, wait_for

from store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_serve_ingests_analyses_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "svc.duckdb"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""
[store]
path = "{db}"
[service]
ingest_interval_seconds = 2
analyze_interval_seconds = 2
api_port = 0
api_token = "${{TEST_TOKEN}}"
[sentiment]
backend = "vader"
[[chat.exports]]
vendor = "zendesk"
path = "{REPO / 'samples' / 'chat' / 'zendesk.json'}"
name = "samples"
"""
    )
    env = {**os.environ, "TEST_TOKEN": "t0ken", "HF_HUB_OFFLINE": "1"}
    proc = start_serve(cfg, env)
    state_file = Path(f"{db}.service.json")
    try:
        state = wait_for(lambda: state_file.exists() and json.loads(state_file.read_text()), 60, "state file")
        assert state["token"] == "t0ken" and state["host"] == "127.0.0.1"
        assert oct(state_file.stat().st_mode & 0o777) == "0o600"
        base = f"http://127.0.0.1:{state['port']}"
        assert httpx.get(f"{base}/api/health").status_code == 401
        headers = {"Authorization": "Bearer t0ken"}

        def analysed() -> int:
            r = httpx.post(f"{base}/api/interactions/count", headers=headers,
                           json={"filter": {"sentiment_min": -5}})
            return r.json()["count"] if r.status_code == 200 else 0

        n = wait_for(analysed, 240, "the service to ingest and analyse the sample chats")
        assert n >= 2
        # Questions go through the service's API while it owns the file.
        asked = subprocess.run(
            [sys.executable, "-m", "convoscope", "--config", str(cfg), "ask", "--json", "how many chats this week"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        assert answer["question"] == "how many chats this week" and answer["text"]
        # A one-shot writer is refused while the service owns the file.
        other = subprocess.run(
            [sys.executable, "-m", "convoscope", "--config", str(cfg), "ingest"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert other.returncode == 2 and "convoscope serve" in other.stderr
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not state_file.exists()
    with Store.open(db) as s:
        statuses = dict(s.conn.execute("SELECT status, count(*) FROM interactions GROUP BY 1").fetchall())
    assert statuses.get("analysed", 0) == sum(statuses.values()) >= 2
    with Store.open(db) as s:
        actors = [r[0] for r in s.conn.execute("SELECT actor FROM audit_log WHERE action LIKE 'ask%'").fetchall()]
    # through the service the asker is the token's user (here the service token, admin),
    # never a name the client sends
    assert "api:service-token" in actors and not any(a.startswith("cli:") for a in actors)
