"""`convoscope ask` and `convoscope digest` through the real CLI dispatcher, and `attach`
in HTTP mode with its scheduler jobs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from slackhttp import SECRET, TZ, post, sign

from convoscope.cli import main
from store import audit
from store.db import Store
from store.query import Match, Query


@pytest.fixture
def db(tmp_path: Path, now: datetime) -> tuple[Path, Any]:
    from botdata import seed

    path = tmp_path / "cli.duckdb"
    s = Store.open(path)
    seeded = seed(s, now, days=2, per_day=6)
    s.close()
    return path, seeded


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_ask_json(db: tuple[Path, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path, seeded = db
    monkeypatch.chdir(tmp_path)
    assert main(["--db", str(path), "ask", "--json", "calls today"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"question", "query", "text", "items"} and out["question"] == "calls today"
    assert all(it["channel"] == "call" for it in out["items"])
    # the typed query it was read as, next to the answer that starts by saying it in words
    q = Query.from_dict(out["query"])
    assert (q.view, q.filters) == ("list", (Match("channel", ("call",)),))
    assert q.period is not None and q.period.label == "today" and not q.period_default
    assert out["text"].startswith("Calls · today (")
    assert main(["--db", str(path), "ask", "--json", "calls urgently today"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"]["ignored"] == ["urgently"] and "I ignored: 'urgently'" in out["text"]
    iid = seeded.ids[0]
    assert main(["--db", str(path), "ask", "show", "call", str(iid), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["items"][0]["id"] == iid and "4111" not in json.dumps(out)
    assert main(["--db", str(path), "ask", "what?"]) == 0
    assert "You can ask me things like" in capsys.readouterr().out
    s = Store.open(path)
    assert [e["action"] for e in audit.recent(s)][:4] == ["ask", "ask", "ask", "ask"]
    s.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_digest_print_and_post(db: tuple[Path, Any], capsys: pytest.CaptureFixture[str],
                               tmp_path: Path, fake: Any, now: datetime,
                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path, _ = db
    day = now.astimezone(TZ).date().isoformat()
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(
        f'timezone = "Europe/Berlin"\n[store]\npath = "{path}"\n'
        f'[slack]\nbot_token = "${{SLACK_BOT_TOKEN}}"\napi_base_url = "{fake.api_url}"\n'
        '[[digests]]\nchannel = "C_DAILY"\ntime = "08:00"\n'
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli")
    assert main(["--config", str(cfg), "digest", "--print", "--date", day,
                 "--chart", str(tmp_path / "c.png")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Convoscope digest" in out and "Compliance violations awaiting review" in out
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    assert main(["--config", str(cfg), "digest", "--post", "--date", day]) == 0
    assert "posted the digest" in capsys.readouterr().out
    (msg,) = fake.of("chat.postMessage")
    assert msg.args["channel"] == "C_DAILY" and msg.headers["Authorization"] == "Bearer xoxb-cli"
    assert fake.of("files.completeUploadExternal")
    assert main(["--config", str(cfg), "digest", "--print", "--date", "yesterday"]) == 2


def test_attach_http_mode_serves_and_schedules(store: Store, fake: Any, seeded: Any) -> None:
    import urllib.parse

    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_sdk import WebClient

    from bot.options import AccessOptions, AlertOptions, DigestOptions, RoleGrant, SlackOptions
    from bot.service import ALERT_JOB_ID, attach

    sched = BackgroundScheduler(timezone=TZ)
    handle = attach(
        sched, store,
        slack=SlackOptions(enabled=True, mode="http", bot_token="xoxb", signing_secret=SECRET,
                           api_base_url=fake.api_url, http_host="127.0.0.1", http_port=0),
        alerts=AlertOptions(default_channel="C_ALERTS"),
        digests=[DigestOptions(channel="C_D1", time="08:00"),
                 DigestOptions(channel="C_D2", time="17:30", timezone="America/New_York")],
        access=AccessOptions(supervisors=RoleGrant(users=["U_SUPER"])), tz=TZ,
        web_client=WebClient(token="xoxb", base_url=fake.api_url),
    )  # fmt: skip
    try:
        assert handle.url is not None
        ids = {j.id for j in sched.get_jobs() if not j.id.endswith(".catchup")}
        assert ALERT_JOB_ID in ids and len(ids) == 3
        body = urllib.parse.urlencode({"command": "/convoscope", "text": "calls today", "user_id": "U_SUPER",
                                       "channel_id": "C1", "response_url": fake.response_url("a")})  # fmt: skip
        status, _ = post(handle.url, body, "application/x-www-form-urlencoded", sign(body))
        assert status == 200
        fake.wait_for("response_url")
        assert handle.trigger_alerts() > 0  # seeded flags are fresh: alerted (as a burst summary)
        assert fake.of("chat.postMessage")
    finally:
        handle.stop()
    assert sched.get_jobs() == []


def test_ask_without_a_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["--db", str(tmp_path / "none.duckdb"), "ask", "calls today"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_ask_goes_through_the_running_service(db: tuple[Path, Any], capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """With a service advertised next to the database, `ask` posts to its /api/ask (here a
    stand-in answering with the same engine) instead of opening the locked file."""
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot.questions import answer_payload

    path, _ = db
    monkeypatch.chdir(tmp_path)
    store = Store.open(path)
    seen: list[dict[str, Any]] = []
    routes = {"/api/ask": True}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"auth": self.headers["Authorization"], **body})
            if not routes.get(self.path):
                self.send_response(404)
                self.end_headers()
                return
            out = json.dumps(answer_payload(store, TZ, body["question"], page=body["page"],
                                            actor="api"), default=str).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = Path(f"{path}.service.json")
    state.write_text(json.dumps({"host": "127.0.0.1", "port": server.server_address[1],
                                 "pid": os.getpid(), "token": "tok"}))  # fmt: skip
    try:
        assert main(["--db", str(path), "ask", "--json", "calls", "today"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["question"] == "calls today" and all(i["channel"] == "call" for i in out["items"])
        # no name in the body: the service records the token's user
        assert seen[0] == {"auth": "Bearer tok", "question": "calls today", "page": 0}
        routes.clear()  # a service without the route: a clear message, exit 2
        assert main(["--db", str(path), "ask", "calls today"]) == 2
        assert "does not answer questions" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()
        state.unlink()
        store.close()
