"""`analyze` (calls and text), `patterns run` and `serve` SIGKILLed at random moments.

After the kills and a run to completion: every interaction is analysed exactly once (one
scores row, no repeated turn_scores or flags), a human review made before the kills is
still there, no alert was posted twice, and the file opens with a plain `duckdb.connect`
after every kill. These load the real models (Whisper, MiniLM), so they are `slow`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from faultkit import (
    REPO,
    analysis_duplicates,
    cli,
    cli_env,
    default_kills,
    kill_loop,
    load_fake_slack,
    opens_without_help,
    tally_items,
)
from processes import wait_for

from store import Store
from store import flags as flags_q

pytestmark = pytest.mark.slow

CALLS = ["call_02_calm_billing", "call_03_no_disclosure"]


def _check_opens(db: Path) -> None:
    ok, err = opens_without_help(db)
    assert ok, f"{db} does not open after a kill: {err}"


def _no_duplicates(db: Path) -> None:
    dups = analysis_duplicates(db)
    assert not any(dups.values()), dups


def _status(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT status, count(*) FROM interactions GROUP BY 1").fetchall())
    finally:
        con.close()


@pytest.fixture
def analysed_setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    """30 chats from the Zendesk fake and two recorded calls, ingested (not yet analysed)."""
    from vendors import ZendeskFake

    drop = tmp_path / "drop"
    drop.mkdir()
    for name in CALLS:
        for ext in (".opus", ".json"):
            shutil.copy(REPO / "samples" / "calls" / f"{name}{ext}", drop / f"{name}{ext}")
    with ZendeskFake() as zd:
        zd.populate(30)
        cfg = tmp_path / "convoscope.toml"
        cfg.write_text(
            '[store]\npath = "kill.duckdb"\n[sentiment]\nbackend = "vader"\n'
            '[asr]\nbeam_size = 1\n[dropfolder]\npath = "drop"\nsettle_seconds = 0\n'
            f'[[chat.zendesk]]\nname = "zd"\nbase_url = "{zd.url}"\nemail = "bot@acme.example"\n'
            'api_token = "${ZD_TOKEN}"\n'
        )
        env = cli_env(ZD_TOKEN="zd-token")
        kill_loop(cli(cfg, "ingest"), seed=0, kills=0, window=(0, 0), env=env, cwd=tmp_path)
    return cfg, tmp_path / "kill.duckdb", env


def test_kill_analyze_calls_and_text_then_rescore_keeps_reviews(analysed_setup) -> None:  # type: ignore[no-untyped-def]
    cfg, db, env = analysed_setup
    db_check = lambda i: _check_opens(db)  # noqa: E731
    kill_loop(cli(cfg, "analyze"), seed=51, kills=default_kills(2), window=(2.0, 40.0), env=env,
              cwd=db.parent, between=db_check)
    _check_opens(db)
    _no_duplicates(db)
    st = _status(db)
    assert st.get("analysed", 0) == 32 and set(st) == {"analysed"}, st
    con = duckdb.connect(str(db), read_only=True)
    calls = con.execute("SELECT count(*) FROM interactions i JOIN turns t ON t.interaction_id = i.id "
                        "WHERE i.channel = 'call'").fetchone()[0]  # type: ignore[index]
    con.close()
    assert calls > 0, "the calls were transcribed"
    # A reviewer confirms a flag; re-analysis killed at random must not lose that.
    with Store.open(db) as s:
        fid = s.conn.execute("SELECT min(id) FROM flags WHERE active").fetchone()[0]
        assert fid is not None
        flags_q.set_review(s, int(fid), "confirmed", "qa-lead", "checked", via="test")
    kill_loop(cli(cfg, "analyze", "--rescore"), seed=52, kills=default_kills(1), window=(2.0, 40.0),
              env=env, cwd=db.parent, between=db_check)
    _no_duplicates(db)
    with Store.open(db) as s:
        row = s.conn.execute("SELECT review_status, reviewer, review_reason FROM flags WHERE id = ?",
                             [fid]).fetchone()
    assert row == ("confirmed", "qa-lead", "checked")


def test_kill_patterns_run(analysed_setup) -> None:  # type: ignore[no-untyped-def]
    cfg, db, env = analysed_setup
    kill_loop(cli(cfg, "analyze"), seed=0, kills=0, window=(0, 0), env=env, cwd=db.parent)
    with Store.open(db) as s:
        fid = s.conn.execute("SELECT min(id) FROM flags WHERE active").fetchone()[0]
        flags_q.set_review(s, int(fid), "dismissed", "qa-lead", "fine", via="test")
    run = kill_loop(cli(cfg, "patterns", "run"), seed=61, kills=default_kills(2), window=(1.0, 20.0),
                    env=env, cwd=db.parent, between=lambda i: _check_opens(db))
    assert run.kills >= 1
    _check_opens(db)
    _no_duplicates(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        members = con.execute("SELECT count(*), count(DISTINCT interaction_id) FROM cluster_members").fetchone()
        review = con.execute("SELECT review_status FROM flags WHERE id = ?", [fid]).fetchone()
    finally:
        con.close()
    assert members[0] == members[1]  # type: ignore[index]
    assert review == ("dismissed",)


def posted_flag_ids(fake) -> list[int]:  # type: ignore[no-untyped-def]
    """The flag of every alert the Slack fake received (one per message: no bursts here)."""
    out: list[int] = []
    for call in fake.of("chat.postMessage"):
        out += [int(x) for x in re.findall(r"review_(\d+)", json.dumps(call.args))]
    return out


def test_kill_serve_with_slack_alerts(tmp_path: Path) -> None:
    from vendors import ZendeskFake

    with ZendeskFake() as zd, load_fake_slack().FakeSlack() as slack:
        zd.populate(20)
        db = tmp_path / "kill.duckdb"
        cfg = tmp_path / "convoscope.toml"
        cfg.write_text(
            '[store]\npath = "kill.duckdb"\n[service]\ningest_interval_seconds = 2\n'
            'analyze_interval_seconds = 2\napi_port = 0\napi_token = "${API_TOKEN}"\n'
            '[sentiment]\nbackend = "vader"\n'
            f'[slack]\nenabled = true\nmode = "http"\nbot_token = "${{SLACK_BOT_TOKEN}}"\n'
            f'signing_secret = "${{SLACK_SIGNING_SECRET}}"\napi_base_url = "{slack.api_url}"\n'
            'http_host = "127.0.0.1"\nhttp_port = 0\n'
            '[alerts]\nmin_severity = "low"\ndefault_channel = "C_ALERTS"\nburst_threshold = 10000\n'
            'interval_seconds = 0.5\n'
            f'[[chat.zendesk]]\nname = "zd"\nbase_url = "{zd.url}"\nemail = "bot@acme.example"\n'
            'api_token = "${ZD_TOKEN}"\n'
        )
        env = cli_env(ZD_TOKEN="zd-token", API_TOKEN="t0ken", SLACK_BOT_TOKEN="xoxb-test",
                      SLACK_SIGNING_SECRET="s3cret")
        added = [20]

        def more(i: int) -> None:
            if db.exists():
                _check_opens(db)
            zd.populate(5, start_id=added[0] + 1, seed=i)
            added[0] += 5

        kill_loop(cli(cfg, "serve"), seed=71, kills=default_kills(1), window=(5.0, 45.0), env=env,
                  cwd=tmp_path, between=more, finish=False)
        # Run to completion: until the service has analysed every ticket, then stop it.
        proc = subprocess.Popen(cli(cfg, "serve"), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        state = Path(f"{db}.service.json")
        try:
            wait_for(lambda: state.exists() and json.loads(state.read_text()).get("pid") == proc.pid,
                  240, "the service to start")
            port = json.loads(state.read_text())["port"]

            def analysed() -> bool:
                r = httpx.post(f"http://127.0.0.1:{port}/api/interactions/count",
                               headers={"Authorization": "Bearer t0ken"},
                               json={"filter": {"sentiment_min": -5}}, timeout=30)
                return r.status_code == 200 and r.json()["count"] >= added[0]

            wait_for(analysed, 300, "every ticket to be analysed")
            time.sleep(3)  # the alert job runs right after each analysis commit
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        posted = posted_flag_ids(slack)
    _check_opens(db)
    _no_duplicates(db)
    t = tally_items(db, "zendesk:zd", {str(i) for i in range(1, added[0] + 1)})
    assert (t.stored, t.lost, t.duplicated, t.problems) == (added[0], 0, 0, []), t
    assert len(posted) == len(set(posted)), "an alert was posted twice"
    con = duckdb.connect(str(db), read_only=True)
    try:
        claimed = {int(r[0]) for r in con.execute("SELECT flag_id FROM alerts_sent").fetchall()}
    finally:
        con.close()
    assert set(posted) <= claimed, "a posted alert has no alerts_sent row"
    assert posted, "alerts reached the Slack fake"
