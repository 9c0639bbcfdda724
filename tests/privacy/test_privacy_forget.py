"""`convoscope forget`: a person erased everywhere in one audited operation, for good."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from privdata import ANN, BOB, add, planted_pattern, seed_two_customers

from convoscope.api import serve_api
from convoscope.cli import main
from convoscope.privacy import make_api_forget
from store import Store, audit, browse, privacy, search
from store import interactions as store_interactions
from store.email import EmailMessageRow, insert_messages
from store.records import Interaction, Turn, content_hash

NEEDLES = [ANN["email"], ANN["phone"], "4155550199", "415 555 0199", "ann.planted"]


def _world(tmp_path: Path) -> tuple[Path, Path, dict[str, list[int]]]:
    """A store file with both customers, every derived table filled, audio files on disk."""
    drop = tmp_path / "drop"
    audio = tmp_path / "redacted_audio"
    drop.mkdir()
    audio.mkdir()
    rec = drop / "20261124T093000_1042_4155550199_billing_inbound.wav"
    rec.write_bytes(b"RIFF....WAVE")
    rec.with_suffix(".json").write_text(json.dumps({"customer": ANN["phone"]}))
    db = tmp_path / "c.duckdb"
    store = Store.open(db)
    now = datetime.now(UTC)
    ids = seed_two_customers(store, now, raw_ref=str(rec))
    ann, bob = ids["ann"], ids["bob"]
    (audio / f"{ann[0]}.flac").write_bytes(b"fLaC")
    (audio / f"{bob[1]}.flac").write_bytes(b"fLaC")
    cur = store.cursor()
    store.insert_arrow("interaction_embeddings", [
        {"interaction_id": i, "model": "m", "text_hash": "h", "embedding": [0.1] * 384} for i in ann + bob
    ])  # fmt: skip
    store.insert_arrow("cluster_members", [
        {"interaction_id": i, "cluster_id": 1, "similarity": 0.9, "assigned_by": "recluster"} for i in ann + bob
    ])  # fmt: skip
    cur.execute("INSERT INTO clusters (id, label, terms, size, examples) VALUES "
                "(1, 'refund card', ['refund', 'card'], 5, ?), (2, 'ann.planted example', ['x'], 1, [])",
                [ann + bob])
    cur.execute("INSERT INTO pattern_phrases VALUES ('all', 'ann.planted at example', 3, 1, 3, 0, 3, 3, 1, now()),"
                " ('all', 'let me fix that', 3, 1, 3, 0, 3, 3, 2, now())")
    cur.execute("INSERT INTO pattern_daily_counts VALUES (current_date, 'flag', 'churn_risk', 2)")
    cur.execute("INSERT INTO repeat_contacts VALUES (?, ?, ?, ?, 'topic', 'billing', 20, 2)",
                [ann[1], ann[0], ann[0], ANN["email"]])
    cur.execute("INSERT INTO alerts_sent (flag_id, channel, message_ts) SELECT id, 'C_ALERTS', '1.1' FROM flags")
    cur.execute("INSERT INTO quarantine (source, item_key, reason, excerpt) VALUES "
                "('mbox:plant', 'broken-1', 'unparseable', ?), ('mbox:plant', 'broken-2', 'unparseable', 'other')",
                [f"From: {ANN['email']} ..."])
    cur.execute("INSERT INTO sync_state (source, key, cursor) VALUES ('drop', '', ?)",
                [json.dumps({"done": {rec.name: [[12, 1], "sha"], "bob.wav": [[1, 1], "s2"]}})])
    audit.log(store, "U_SUP", "question", None, {"q": "angry calls today"})
    audit.log(store, "U_SUP", "question", None, {"q": f"calls from {ANN['email'].upper()}"})
    search.refresh_search_index(store, force=True)
    store.close()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[dropfolder]\npath = "{drop}"\n'
                   f'[redaction]\naudio_dir = "{audio}"\n')
    return db, cfg, ids


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_forget_a_customer_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, cfg, ids = _world(tmp_path)
    # by phone number in another spelling: the call (her key) and the e-mail that mentions
    # the number; then by e-mail address (upper-cased): the chat
    call, chat, mail = ids["ann"]
    assert main(["--config", str(cfg), "forget", "--customer", "(415) 555-0199", "--reason", "DSR-1",
                 "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert sorted(first["interaction_ids"]) == sorted([call, mail]) and first["compacted"]
    assert first["files_deleted"] == 3
    assert main(["--config", str(cfg), "forget", "--customer", ANN["email"].upper(), "--verify", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["interaction_ids"] == [chat] and second["verify_hits"] == []

    store = Store.open(db)
    try:
        # raw scan of every VARCHAR / JSON / VARCHAR[] column of every table
        assert privacy.varchar_hits(store, NEEDLES) == []
        # queries, search, the interaction list and the bot's detail find nothing of hers
        assert {r.id for r in browse.page(store).rows} == set(ids["bob"])
        for q in ("card", "ann", "planted", "refund", "social"):
            assert {h.interaction_id for h in search.search(store, q).hits} <= set(ids["bob"])
        assert all(browse.detail(store, i) is None for i in ids["ann"])
        cur = store.cursor()
        assert cur.execute("SELECT examples FROM clusters WHERE id = 1").fetchone()[0] == ids["bob"]
        assert cur.execute("SELECT count(*) FROM pattern_phrases").fetchone()[0] == 1
        assert cur.execute("SELECT count(*) FROM alerts_sent").fetchone()[0] == 1  # Bob's churn flag
        assert cur.execute("SELECT n FROM pattern_daily_counts").fetchone()[0] == 2  # anonymous count stays
        assert cur.execute("SELECT item_key FROM quarantine").fetchall() == [("broken-2",)]
        assert json.loads(cur.execute("SELECT cursor FROM sync_state").fetchone()[0]) == {
            "done": {"bob.wav": [[1, 1], "s2"]}}
        # Bob is untouched
        assert len(store_interactions.get_many(store, ids["bob"])) == 2
        # one audit row per erasure, holding a hash of the key and never the key itself
        rows = [r for r in audit.recent(store) if r["action"] == "erase"]
        assert len(rows) == 2 and all(r["target"].startswith("key-sha256:") for r in rows)
        assert rows[1]["detail"]["reason"] == "DSR-1"  # newest first
        assert not any(planted_pattern(n).search(json.dumps(rows, default=str)) for n in NEEDLES)
        # the source still holds her data: the next ingest does not bring it back
        again = Interaction(channel="chat", source="plant", external_id="chat-ann", content_hash=content_hash("x"),
                            customer=ANN["email"], customer_key=ANN["email"],
                            turns=[Turn(seq=0, speaker="customer", text=f"hi {ANN['email']}")])  # fmt: skip
        res = store_interactions.upsert(store, [again])
        assert res.suppressed == ["chat-ann"] and not res.inserted
        assert insert_messages(store, [EmailMessageRow(
            source="mbox:plant", message_key="<mail-ann@mail>", message_id="<mail-ann@mail>", content_hash="h",
            thread_key="mail-ann", sent_at=datetime.now(UTC), from_addr=ANN["email"], text="again")]) == 0
        # a new contact after the request is new data and is stored
        add(store, channel="chat", ext="chat-ann-new", started_at=datetime.now(UTC), customer=None,
            customer_key="someone-else", texts=[("customer", "hello")])
    finally:
        store.close()
    # files: her recording, its sidecar and the redacted copy are gone; Bob's copy stays
    drop, audio = tmp_path / "drop", tmp_path / "redacted_audio"
    assert list(drop.iterdir()) == []
    assert [p.name for p in audio.iterdir()] == [f"{ids['bob'][1]}.flac"]
    # the file itself: after compaction no byte of the database holds her address or number
    data = db.read_bytes()
    for needle in (ANN["email"], "4155550199", "ann.planted"):
        assert needle.encode() not in data
    assert not Path(f"{db}.wal").exists() or b"ann.planted" not in Path(f"{db}.wal").read_bytes()


def test_duckdb_keeps_deleted_values_until_the_file_is_compacted(tmp_path: Path) -> None:
    """Why `forget` rewrites the file (DuckDB 1.5): a DELETE plus CHECKPOINT (and VACUUM)
    leaves a deleted string in a column segment that shares its block with live data."""
    import duckdb

    raw = tmp_path / "raw.duckdb"
    con = duckdb.connect(str(raw))
    con.execute("CREATE TABLE t (id INTEGER, s VARCHAR)")
    con.execute("INSERT INTO t SELECT i, 'row ' || i FROM range(20) r(i)")
    con.execute("INSERT INTO t VALUES (-1, ?)", [f"contact {ANN['email']}"])
    con.execute("CHECKPOINT")
    con.execute("DELETE FROM t WHERE id = -1")
    con.execute("CHECKPOINT")
    con.execute("VACUUM t")
    con.execute("CHECKPOINT")
    con.close()
    assert ANN["email"].encode() in raw.read_bytes()
    sizes = privacy.compact(raw)
    assert ANN["email"].encode() not in raw.read_bytes() and sizes["bytes_after"] > 0
    con = duckdb.connect(str(raw))
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 20
    con.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_compaction_keeps_schema_sequences_and_data(tmp_path: Path) -> None:
    db, cfg, ids = _world(tmp_path)
    assert main(["--config", str(cfg), "forget", "--customer", ANN["email"], "--no-compact"]) == 0
    with Store.open(db) as store:
        assert privacy.varchar_hits(store, [ANN["email"], "ann.planted"]) == []  # logically gone already
        before = store.cursor().execute("SELECT max(id) FROM interactions").fetchone()[0]
    privacy.compact(db)
    assert b"ann.planted" not in db.read_bytes()
    with Store.open(db) as store:  # opens at the same schema, views and macros work, ids move on
        assert store.schema_version() >= 16 and {r.id for r in browse.page(store).rows} == set(ids["bob"])
        new = add(store, channel="chat", ext="after-compact", started_at=datetime.now(UTC), customer=None,
                  customer_key="k", texts=[("customer", "hello")])
        assert new > before and new not in ids["ann"] + ids["bob"]


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_forget_one_interaction_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, cfg, ids = _world(tmp_path)
    assert main(["--config", str(cfg), "forget", "--interaction", str(ids["bob"][0]), "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dry_run"] is True
    with Store.open(db) as store:
        assert browse.detail(store, ids["bob"][0]) is not None
    assert main(["--config", str(cfg), "forget", "--interaction", str(ids["bob"][0])]) == 0
    assert "erased 1 interaction" in capsys.readouterr().out
    with Store.open(db) as store:
        assert browse.detail(store, ids["bob"][0]) is None
        assert browse.detail(store, ids["bob"][1]) is not None
        assert privacy.varchar_hits(store, [BOB["phone"]]) != []  # the other interaction keeps him


def test_forget_through_the_api_for_supervisors_only(store: Store) -> None:
    ids = seed_two_customers(store, datetime.now(UTC))
    roles = {"U_SUP": "supervisor", "U_VIEW": "viewer"}
    handler = make_api_forget(store, role_of=roles.get, region="US", audio_dir="", dropfolder="",
                              delete_source_audio=False)
    handle = serve_api(store, "127.0.0.1", 0, "t0ken", forget=handler)  # the real uvicorn server
    client = httpx.Client(base_url=handle.url, timeout=30)
    auth = {"Authorization": "Bearer t0ken"}
    try:
        _api_forget_checks(client, auth, store, ids)
    finally:
        client.close()
        handle.stop()


def _api_forget_checks(client: httpx.Client, auth: dict[str, str], store: Store, ids: dict[str, list[int]]) -> None:
    assert client.post("/api/privacy/forget", json={"actor": "U_SUP", "customer": ANN["email"]}).status_code == 401
    denied = client.post("/api/privacy/forget", headers=auth, json={"actor": "U_VIEW", "customer": ANN["email"]})
    assert denied.status_code == 403 and "may not erase" in denied.json()["error"]
    bad = client.post("/api/privacy/forget", headers=auth, json={"actor": "U_SUP"})
    assert bad.status_code == 400
    ok = client.post("/api/privacy/forget", headers=auth,
                     json={"actor": "U_SUP", "customer": ANN["email"], "reason": "DSR-7"})
    assert ok.status_code == 200 and sorted(ok.json()["interaction_ids"]) == sorted(ids["ann"])
    for iid in ids["ann"]:
        assert client.get(f"/api/interactions/{iid}", headers=auth).status_code == 404
    hits = client.get("/api/search", headers=auth, params={"q": "planted"}).json()
    assert not planted_pattern(ANN["email"]).search(json.dumps(hits))
    row = audit.recent(store, action="erase")[0]
    assert row["actor"] == "api:U_SUP" and row["detail"]["via"] == "api"


def test_after_an_api_erasure_the_cli_compacts_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, cfg, ids = _world(tmp_path)
    with Store.open(db) as store:  # the service's erasure: logical, the file stays open
        handler = make_api_forget(store, role_of=lambda a: "supervisor", region="US", audio_dir="",
                                  dropfolder="", delete_source_audio=False)
        assert sorted(handler({"actor": "U_SUP", "customer": ANN["email"]})["interaction_ids"]) == sorted(ids["ann"])
    assert main(["--config", str(cfg), "forget", "--customer", ANN["email"], "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["interaction_ids"] == [] and again["compacted"]
    assert b"ann.planted" not in db.read_bytes()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_verify_reports_what_erasure_could_not_reach(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, cfg, _ids = _world(tmp_path)
    with Store.open(db) as store:  # a table erasure knows nothing about (no interaction id)
        store.cursor().execute("CREATE TABLE side_notes (note VARCHAR)")
        store.cursor().execute("INSERT INTO side_notes VALUES (?)", [f"call back {BOB['email']}"])
    assert main(["--config", str(cfg), "forget", "--customer", BOB["email"], "--verify"]) == 1
    assert "still found in side_notes.note (1)" in capsys.readouterr().out


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_with_a_digest_key_erasures_are_named_by_hmac_and_older_suppressions_still_hold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A plain SHA-256 of a phone number is reversed by hashing every number; under
    CONVOSCOPE_DIGEST_KEY the audit row and the suppressions carry an HMAC instead, and
    what was erased before the key was set stays suppressed."""
    import hashlib

    db, cfg, ids = _world(tmp_path)
    monkeypatch.delenv(privacy.DIGEST_KEY_ENV, raising=False)
    # before any key: Ann's chat, by e-mail address (plain SHA-256)
    assert main(["--config", str(cfg), "forget", "--customer", ANN["email"], "--json"]) == 0
    capsys.readouterr()
    monkeypatch.setenv(privacy.DIGEST_KEY_ENV, "k3y-" + "x" * 40)
    # with the key: Bob, by his phone number
    assert main(["--config", str(cfg), "forget", "--customer", BOB["phone"], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["interaction_ids"] == [ids["bob"][1]]  # his call (his chat is keyed by e-mail)
    with Store.open(db) as store:
        bob_row, ann_row = [r for r in audit.recent(store) if r["action"] == "erase"]  # newest first
        assert ann_row["target"].startswith("key-sha256:") and bob_row["target"].startswith("key-hmac-sha256:")
        digest = bob_row["target"].split(":", 1)[1]
        assert digest == out["key_digest"] == privacy.key_digest("customer", "+14155550123")
        assert out["digest_kind"] == "key-hmac-sha256"
        unkeyed = {hashlib.sha256(f"customer\x1f{form}".encode()).hexdigest()
                   for form in ("+14155550123", BOB["phone"])}  # fmt: skip
        assert digest not in unkeyed
        stored = {r[0] for r in store.cursor().execute("SELECT key_hash FROM erasure_suppressions").fetchall()}
        # Bob's call is suppressed under the HMAC only, Ann's chat under SHA-256
        assert privacy.key_digest("interaction", "plant", "call-bob") in stored
        assert hashlib.sha256(b"interaction\x1fplant\x1fcall-bob").hexdigest() not in stored
        assert hashlib.sha256(b"interaction\x1fplant\x1fchat-ann").hexdigest() in stored
        again = [Interaction(channel="chat", source="plant", external_id=ext, content_hash=content_hash(ext),
                             customer_key="k", turns=[Turn(seq=0, speaker="customer", text="hi")])
                 for ext in ("chat-ann", "call-bob", "brand-new")]  # fmt: skip
        res = store_interactions.upsert(store, again)
        assert sorted(res.suppressed) == ["call-bob", "chat-ann"] and len(res.inserted) == 1
