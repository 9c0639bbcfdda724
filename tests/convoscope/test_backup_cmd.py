"""`convoscope backup` / `restore`: directly on the file, and through the running service
(which owns the file) while `convoscope serve` runs in a subprocess and keeps writing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from processes import start_serve, wait_for

from convoscope.cli import main
from store import Store

REPO = Path(__file__).resolve().parents[2]


def _count(db: Path, table: str = "interactions") -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_backup_and_restore_on_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.duckdb"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[[chat.exports]]\nvendor = "zendesk"\n'
                   f'path = "{REPO / "samples" / "chat" / "zendesk.json"}"\nname = "samples"\n')
    assert main(["--config", str(cfg), "ingest"]) == 0
    n = _count(db)
    assert n > 0
    assert main(["--config", str(cfg), "backup", str(tmp_path / "bk")]) == 0
    assert "backup written to" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["counts"]["interactions"] == n and manifest["schema_version"] > 0
    # Moving the installation: restore into a new place.
    moved = tmp_path / "new" / "moved.duckdb"
    assert main(["--db", str(moved), "restore", str(tmp_path / "bk")]) == 0
    assert _count(moved) == n
    # Over an existing file: refused without --force, kept aside with it.
    assert main(["--config", str(cfg), "restore", str(tmp_path / "bk")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["--config", str(cfg), "restore", str(tmp_path / "bk"), "--force"]) == 0
    assert "kept in" in capsys.readouterr().out
    assert list(tmp_path.glob("a.duckdb.before-restore-*/a.duckdb"))
    # A folder that is not a backup is a clear error.
    (tmp_path / "junk").mkdir()
    assert main(["--config", str(cfg), "restore", str(tmp_path / "junk"), "--force"]) == 2
    assert "not a Convoscope backup" in capsys.readouterr().err


@pytest.mark.slow
def test_backup_through_the_running_service(tmp_path: Path) -> None:
    db = tmp_path / "svc.duckdb"
    with Store.open(db) as s:  # some data before the service starts
        s.conn.execute("INSERT INTO interactions (channel, source, external_id, content_hash) "
                       "SELECT 'chat', 'pre', 'p' || range, 'h' FROM range(500)")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[store]\npath = "{db}"\n[service]\ningest_interval_seconds = 1\n'
        'analyze_interval_seconds = 3600\napi_port = 0\napi_token = "${TEST_TOKEN}"\n'
        '[sentiment]\nbackend = "vader"\n'
        f'[[chat.exports]]\nvendor = "zendesk"\npath = "{REPO / "samples" / "chat" / "zendesk.json"}"\n'
        'name = "samples"\n'
    )
    env = {**os.environ, "TEST_TOKEN": "t0ken", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    env.pop("CONVOSCOPE_CONFIG", None)
    proc = start_serve(cfg, env)
    state = Path(f"{db}.service.json")
    try:
        wait_for(lambda: state.exists(), 180, "the service to start")
        cmd = [sys.executable, "-m", "convoscope", "--config", str(cfg)]
        done = subprocess.run([*cmd, "backup", str(tmp_path / "bk")], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "by the running service" in done.stdout
        # A second backup into the same folder is refused by the service (never overwrites).
        again = subprocess.run([*cmd, "backup", str(tmp_path / "bk")], env=env,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 2 and "not an empty folder" in again.stderr
        # Restoring under a running service is refused.
        refused = subprocess.run([*cmd, "restore", str(tmp_path / "bk"), "--force"], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and "stop it" in refused.stderr
        # Without the token the API refuses.
        import httpx

        st = json.loads(state.read_text())
        r = httpx.post(f"http://127.0.0.1:{st['port']}/api/backup",
                       json={"path": str(tmp_path / "bk2")})
        assert r.status_code == 401 and not (tmp_path / "bk2").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    # The snapshot is consistent: its file holds exactly what the manifest counted.
    assert _count(tmp_path / "bk" / "convoscope.duckdb") == manifest["counts"]["interactions"] >= 500
    assert manifest["source"] == str(db)
