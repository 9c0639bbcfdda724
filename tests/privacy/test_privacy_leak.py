"""The outbound-leak test: PII planted in calls, chats and e-mails goes through the whole
pipeline (ingest → analyze → patterns) and the service (Slack bot + alerts + digest, local
API, exports, TUI data, logs); no planted value may appear in anything that leaves.

Real parts: a DuckDB file, the real connectors (drop folder with an espeak-ng call, a
Zendesk export built with the vendor fake, .eml files), Whisper, the flair sentiment model,
MiniLM clustering, the Bolt app over HTTP against the local Slack fake, the uvicorn API.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from leakdata import ROOT, call, eml_folder, needles, people, search, zendesk_export
from scriptload import load_script

from convoscope.cli import main
from store import Store, outbound
from store import interactions as store_interactions

sys.path.insert(0, str(ROOT / "tests" / "bot"))
from slackhttp import SECRET, post, sign

QUESTIONS = [
    "angry chats this week", "calls this week", "emails this week", "flagged this week",
    "top topics this week", "rising issues this week", "repeat callers this month",
    "what do low-satisfaction chats have in common?", "best phrases for billing",
    "churn this week", "negative chats this week",
]  # fmt: skip


def _config(tmp: Path, fake_url: str) -> Path:
    cfg = tmp / "convoscope.toml"
    cfg.write_text(f"""
timezone = "UTC"
[store]
path = "{tmp / 'leak.duckdb'}"
[service]
api_port = 0
api_token = "t0ken"
[dropfolder]
path = "{tmp / 'drop'}"
settle_seconds = 0
[[chat.exports]]
vendor = "zendesk"
path = "{tmp / 'zendesk.json'}"
name = "leak"
[email]
agent_domains = ["acme.example"]
[[email.local]]
kind = "eml"
path = "{tmp / 'mail'}"
name = "leak"
[redaction]
audio_dir = "{tmp / 'redacted_audio'}"
[patterns.clusters]
min_cluster_size = 5
min_samples = 2
[patterns.traits]
min_group = 5
min_df = 2
[slack]
enabled = true
mode = "http"
bot_token = "xoxb-test"
signing_secret = "{SECRET}"
api_base_url = "{fake_url}"
http_host = "127.0.0.1"
http_port = 0
[alerts]
min_severity = "low"
default_channel = "C_ALERTS"
burst_threshold = 1000
[[digests]]
channel = "C_DIGEST"
[access.supervisors]
users = ["U_SUP"]
""")
    return cfg


def _cli(capsys: pytest.CaptureFixture[str], payloads: dict[str, str], name: str, *argv: str) -> None:
    rc = main(list(argv))
    out = capsys.readouterr()
    payloads[f"cli {name}"] = out.out + out.err
    assert rc == 0, out.err


@pytest.mark.slow
@pytest.mark.espeak
def test_no_planted_pii_leaves_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    persons = people()
    zendesk_export(tmp_path / "zendesk.json", persons, now)
    eml_folder(tmp_path / "mail", persons, now)
    call(tmp_path / "drop", persons[0], now)
    fake_mod = load_script("tests/fakes/slack.py", "convoscope_fake_slack")
    log_file = tmp_path / "convoscope.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    payloads: dict[str, str] = {}
    try:
        with fake_mod.FakeSlack() as fake:
            cfg = _config(tmp_path, fake.api_url)
            c = ["--config", str(cfg), "-vv"]
            # the service runs the pipeline (ingest → analyze → patterns) and serves it
            _service_payloads(cfg, tmp_path, fake, payloads, now)
            # then the one-shot commands on the file
            _cli(capsys, payloads, "patterns", *c, "patterns", "run", "--json")
            for view in ("clusters", "traits", "phrases", "repeats", "rising"):
                _cli(capsys, payloads, f"patterns show {view}", *c, "patterns", "show", view, "--days", "30")
            _cli(capsys, payloads, "digest", *c, "digest", "--print", "--date", (now - timedelta(days=1)).date().isoformat())
            _cli(capsys, payloads, "digest json", *c, "digest", "--print", "--json")
            for q in QUESTIONS[:4]:
                _cli(capsys, payloads, f"ask {q}", *c, "ask", "--json", q)
            _cli(capsys, payloads, "export csv", *c, "export", str(tmp_path / "all.csv"))
            _cli(capsys, payloads, "export parquet", *c, "export", str(tmp_path / "all.parquet"))
            payloads["export.csv"] = (tmp_path / "all.csv").read_text()
            payloads["export.parquet"] = (tmp_path / "all.parquet").read_bytes().decode("latin-1")
            for k, call_ in enumerate(fake.calls):
                payloads[f"slack {k} {call_.method}"] = json.dumps(call_.args, default=str) + call_.raw.decode(
                    "latin-1")
            for name, data in fake.uploads.items():
                payloads[f"slack upload {name}"] = data.decode("latin-1")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    payloads["log file"] = log_file.read_text()
    pats = needles(persons)

    # the planted data really went in (a search that finds nothing anywhere proves nothing)
    store = Store.open(tmp_path / "leak.duckdb", read_only=True)
    try:
        originals = {}
        ids = [r[0] for r in store.cursor().execute("SELECT id FROM interactions ORDER BY id").fetchall()]
        channels = dict(store.cursor().execute("SELECT channel, count(*) FROM interactions GROUP BY 1").fetchall())
        clusters = store.cursor().execute("SELECT count(*) FROM clusters WHERE label IS NOT NULL").fetchone()[0]
        for iid in ids:
            turns = store.cursor().execute("SELECT text FROM turns WHERE interaction_id = ?", [iid]).fetchall()
            originals[f"original {iid}"] = "\n".join(t[0] for t in turns)
    finally:
        store.close()
    assert channels.get("call") == 1 and channels.get("chat", 0) >= 40 and channels.get("email", 0) >= 3
    planted = {label.split(" in ")[0] for label in search(originals, pats)}
    kinds = {lbl.split(".")[-1] for lbl in planted if "." in lbl}
    assert {"card", "phone", "ssn", "email", "email_local"} <= kinds, planted
    assert clusters >= 1  # cluster names were mined (from redacted text) and shown
    assert sum(1 for k in payloads if k.startswith("slack")) >= 20

    hits = search(payloads, pats)
    assert hits == [], f"{len(hits)} planted values left the store:\n" + "\n".join(hits[:30])


def _service_payloads(cfg_path: Path, tmp: Path, fake: Any, payloads: dict[str, str], now: datetime) -> None:
    """Run the service in this process: API calls, Slack questions, alerts and the digest."""
    from bot.digest import post_digest
    from convoscope.config import load as load_config
    from convoscope.service import Service
    from tui.data import ApiSource, LocalSource

    cfg = load_config(str(cfg_path))
    store = Store.open(cfg.store.path)
    svc = Service(cfg, store)
    try:
        svc.start()  # ingests at once, then analyses what came in
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            statuses = store_interactions.count_by_status(store)
            if sum(statuses.values()) >= 46 and set(statuses) <= {"analysed"}:
                break
            time.sleep(0.5)
        assert set(store_interactions.count_by_status(store)) == {"analysed"}
        patterns_done = threading.Event()
        svc.scheduler.add_job(lambda: (svc.patterns_job(), patterns_done.set()), executor="writer")
        assert patterns_done.wait(120), "the patterns job did not finish"
        state = json.loads(Path(f"{cfg.store.path}.service.json").read_text())
        base = f"http://127.0.0.1:{state['port']}"
        h = {"Authorization": "Bearer t0ken"}
        ids = [r.id for r in LocalSource(store).page(_filter(), limit=500).rows]
        with httpx.Client(base_url=base, headers=h, timeout=30) as api:
            def get(name: str, path: str, **params: Any) -> None:
                r = api.get(path, params=params)
                payloads[f"api {name}"] = r.text
                assert r.status_code == 200, (path, r.text)

            def post_(name: str, path: str, body: dict[str, Any]) -> None:
                r = api.post(path, json=body)
                payloads[f"api {name}"] = r.text
                assert r.status_code == 200, (path, r.text)

            get("dashboard", "/api/dashboard")
            post_("page", "/api/interactions/page", {"filter": {}, "limit": 500})
            for iid in ids:
                get(f"detail {iid}", f"/api/interactions/{iid}")
            for q in ("card", "refund", "social", "reach", "example", "number", "verification"):
                get(f"search {q}", "/api/search", q=q, limit=200)
            get("queue", "/api/review-queue", limit=1000)
            get("agents", "/api/agents")
            get("topics", "/api/topics")
            get("choices", "/api/choices")
            for q in QUESTIONS:
                post_(f"ask {q}", "/api/ask", {"question": q, "actor": "U_SUP"})
            post_("export", "/api/export", {"path": str(tmp / "api.csv"), "format": "csv", "filter": {}})
            payloads["api export file"] = (tmp / "api.csv").read_text()
        # the TUI's data while the service runs (ApiSource) and on the file (LocalSource)
        api_src = ApiSource(base, "t0ken")
        local = LocalSource(store)
        for iid in ids[:20]:
            payloads[f"tui api detail {iid}"] = repr(api_src.detail(iid))
            payloads[f"tui local detail {iid}"] = repr(local.detail(iid))
        payloads["tui page"] = repr(local.page(_filter(), limit=500))
        # Slack: slash commands and "show" for every interaction, as a supervisor
        bot_url = svc.alerter.url
        for q in [*QUESTIONS, *(f"show {ch} {iid}" for iid, ch in _channels(store, ids))]:
            body = urllib.parse.urlencode({
                "token": "x", "team_id": "T1", "channel_id": "C_OPS", "user_id": "U_SUP", "command": "/convoscope",
                "text": q, "trigger_id": "t.1", "response_url": fake.response_url("cmd"), "api_app_id": "A1",
            })  # fmt: skip
            status, text = post(bot_url, body, "application/x-www-form-urlencoded", sign(body))
            payloads[f"slack http {q}"] = text
            assert status == 200
        svc.alerter.trigger_alerts()  # (the service's own 2-second job may have sent them already)
        assert any(c.args.get("channel") == "C_ALERTS" for c in fake.of("chat.postMessage"))
        post_digest(store, svc.alerter.client, "C_DIGEST", (now - timedelta(days=1)).date(), cfg.tz, chart=True)
        post_digest(store, svc.alerter.client, "C_DIGEST", now.date(), cfg.tz, chart=False)
    finally:
        svc.stop()
        store.close()


def _filter() -> Any:
    from store.browse import Filter

    return Filter()


def _channels(store: Store, ids: list[int]) -> list[tuple[int, str]]:
    from store import browse

    out = []
    for iid in ids:
        d = browse.detail(store, iid)
        if d is not None:
            out.append((iid, d.channel))
    return out


@pytest.mark.slow
def test_security_codes_and_split_cards_do_not_leave(tmp_path: Path) -> None:
    """The issue's own example (a card read over five turns with the agent's "mm-hmm",
    then its security code), through the analysis job and the outbound view."""
    from convoscope.config import Config
    from convoscope.wiring import build_analyzer
    from store import interactions as store_interactions
    from store.records import Interaction, Turn, content_hash

    db = tmp_path / "pci.duckdb"
    store = Store.open(db)
    try:
        texts = [("customer", "Sure, it is four one one one"), ("agent", "mm-hmm"),
                 ("customer", "one one one one"), ("agent", "yes"),
                 ("customer", "one one one one, one one one one. Security code seven three seven.")]
        it = Interaction(channel="chat", source="pci", external_id="x", content_hash=content_hash("x"),
                         started_at=datetime.now(UTC), status="new",
                         turns=[Turn(seq=i, speaker=s, text=t, sent_at=datetime.now(UTC)) for i, (s, t) in enumerate(texts)])
        store_interactions.upsert(store, [it])
        cfg = Config.model_validate({"sentiment": {"backend": "vader"}})
        build_analyzer(cfg).run(store)
        shown = " ".join((t.text or "") for t in outbound.redacted_turns(store, it.id))  # type: ignore[arg-type]
    finally:
        store.close()
    assert "seven three seven" not in shown and "737" not in shown
    assert "four one one one" not in shown and shown.count("one one one one") == 0
