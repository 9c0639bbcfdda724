"""Retention with fixed clocks: each stage removes what is due, aggregates and verdict
counts stay, the run is audited, a re-run does nothing, the service schedules it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from privdata import add

from convoscope.cli import main
from convoscope.privacy import ChannelRetention, RetentionOptions, run_retention
from store import Store, audit, search

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
AGES = (10, 100, 400)  # days


def _seed(store: Store, drop: Path, audio: Path) -> dict[tuple[str, int], int]:
    ids = {}
    for channel in ("call", "chat", "email"):
        for age in AGES:
            rec = None
            if channel == "call":
                rec = drop / f"call_{age}.wav"
                rec.write_bytes(b"RIFF")
            iid = add(store, channel=channel, ext=f"{channel}-{age}", started_at=NOW - timedelta(days=age),
                      customer="+1 415 555 0199", customer_key=f"cust-{age}", subject=f"age {age}: card 4111 1111 1111 1111",
                      raw_ref=str(rec) if rec else None, flags=["angry_customer", "churn_risk"],
                      texts=[("customer", f"age {age}: my card is 4111 1111 1111 1111"), ("agent", "thanks")])
            if channel == "call":
                (audio / f"{iid}.flac").write_bytes(b"fLaC")
            ids[(channel, age)] = iid
    search.refresh_search_index(store, force=True)
    return ids


OPTIONS = RetentionOptions(
    call=ChannelRetention(audio_days=30, original_text_days=90, redacted_text_days=365),
    chat=ChannelRetention(original_text_days=30, redacted_text_days=60, aggregates_days=200),
)


def _counts(store: Store) -> tuple[int, int, int]:
    cur = store.cursor()
    return (cur.execute("SELECT count(*) FROM scores").fetchone()[0],  # type: ignore[index]
            cur.execute("SELECT count(*) FROM flags").fetchone()[0],  # type: ignore[index]
            cur.execute("SELECT count(*) FROM turn_scores WHERE sentiment IS NOT NULL").fetchone()[0])  # type: ignore[index]


def test_retention_stages_keep_aggregates_and_verdicts(store: Store, tmp_path: Path) -> None:
    drop, audio = tmp_path / "drop", tmp_path / "audio"
    drop.mkdir()
    audio.mkdir()
    ids = _seed(store, drop, audio)
    cur = store.cursor()
    cur.execute("UPDATE flags SET review_status = 'confirmed', reviewer = 'U1' WHERE kind = 'churn_risk'")
    before = _counts(store)

    dry = run_retention(store, OPTIONS, now=NOW, audio_dir=str(audio), dropfolder=str(drop), dry_run=True)
    assert dry.due["call"] == {"audio": 2, "original": 2, "redacted": 1, "interaction": 0}
    assert dry.due["chat"] == {"audio": 0, "original": 2, "redacted": 2, "interaction": 1}
    assert dry.due["email"] == {"audio": 0, "original": 0, "redacted": 0, "interaction": 0}
    assert _counts(store) == before and len(list(audio.iterdir())) == 3  # nothing changed

    report = run_retention(store, OPTIONS, now=NOW, audio_dir=str(audio), dropfolder=str(drop))
    assert report.errors == [] and report.files_deleted == 4  # 2 copies + 2 recordings
    assert sorted(p.name for p in audio.iterdir()) == [f"{ids[('call', 10)]}.flac"]
    assert sorted(p.name for p in drop.iterdir()) == ["call_10.wav"]

    def turns(iid: int) -> list[str]:
        return [r[0] for r in cur.execute("SELECT text FROM turns WHERE interaction_id = ? ORDER BY seq",
                                          [iid]).fetchall()]

    # young call untouched; 100-day call keeps only its redacted text; 400-day call no text
    assert "4111 1111 1111 1111" in turns(ids[("call", 10)])[0]
    assert turns(ids[("call", 100)]) == ["age 100: my card is [PII:CARD]", "thanks"]
    assert turns(ids[("call", 400)]) == []
    hdr = cur.execute("SELECT subject, customer, customer_key FROM interactions WHERE id = ?",
                      [ids[("call", 100)]]).fetchone()
    assert hdr == ("age 100: card [PII]", None, "cust-100")
    hdr = cur.execute("SELECT subject, customer, customer_key FROM interactions WHERE id = ?",
                      [ids[("call", 400)]]).fetchone()
    assert hdr[0] is None and hdr[1] is None and hdr[2].startswith("h:")
    assert not search.search(store, "age").hits or all(
        h.interaction_id not in (ids[("call", 400)], ids[("chat", 100)]) for h in search.search(store, "age").hits)
    # chats: 100 days -> no text; 400 days (> aggregates_days) -> gone entirely
    assert turns(ids[("chat", 100)]) == []
    assert cur.execute("SELECT count(*) FROM interactions WHERE id = ?", [ids[("chat", 400)]]).fetchone()[0] == 0
    # e-mail keeps everything (no retention configured)
    assert all("4111" in t for t in turns(ids[("email", 400)])[:1])
    # aggregates and verdicts: only the removed chat's rows went
    scores, flags, turn_sent = _counts(store)
    assert (scores, flags, turn_sent) == (before[0] - 1, before[1] - 2, before[2] - 2)
    assert cur.execute("SELECT count(*) FROM flags WHERE review_status = 'confirmed'").fetchone()[0] == 8
    assert cur.execute("SELECT sentiment FROM scores WHERE interaction_id = ?",
                       [ids[("call", 400)]]).fetchone()[0] == -2.0
    # audited, without personal data
    row = audit.recent(store, action="retention")[0]
    assert row["detail"]["due"]["call"]["redacted"] == 1 and "4111" not in json.dumps(row, default=str)

    # a re-run finds nothing left to do
    again = run_retention(store, OPTIONS, now=NOW, audio_dir=str(audio), dropfolder=str(drop))
    assert again.due["call"] == {"audio": 0, "original": 0, "redacted": 0, "interaction": 0}
    assert again.due["chat"]["original"] == 0 and again.due["chat"]["interaction"] == 0
    assert _counts(store) == (scores, flags, turn_sent)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_retention_cli_dry_run_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "r.duckdb"
    with Store.open(db) as store:
        add(store, channel="chat", ext="old", started_at=NOW - timedelta(days=40), customer=None,
            customer_key="k", texts=[("customer", "my card is 4111 1111 1111 1111")])
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[retention.chat]\noriginal_text_days = 30\n')
    assert main(["--config", str(cfg), "retention", "run", "--dry-run", "--now", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "chat: audio 0, original 1" in out
    assert main(["--config", str(cfg), "retention", "run", "--now", NOW.isoformat(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["due"]["chat"]["original"] == 1
    with Store.open(db) as store:
        assert store.cursor().execute("SELECT text FROM turns").fetchone()[0] == "my card is [PII:CARD]"


def test_retention_options_are_validated() -> None:
    with pytest.raises(ValueError, match="later stage"):
        ChannelRetention(original_text_days=100, redacted_text_days=30)
    with pytest.raises(ValueError, match="run_at"):
        RetentionOptions(run_at="25:00")
    assert not RetentionOptions().enabled and OPTIONS.enabled


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_the_service_schedules_retention_daily_across_dst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import convoscope.wiring as wiring
    from convoscope.config import from_dict
    from convoscope.service import Service

    cfg = from_dict({"timezone": "Europe/Berlin", "store": {"path": str(tmp_path / "s.duckdb")},
                     "retention": {"run_at": "02:30", "chat": {"original_text_days": 30}}})  # fmt: skip
    monkeypatch.setattr(wiring, "attach_extras", lambda svc: [])  # no API, no bot
    with Store.open(cfg.store.path) as store:
        svc = Service(cfg, store)
        monkeypatch.setattr(svc.scheduler, "start", lambda: None)  # jobs stay pending
        svc.start()
        job = svc.scheduler.get_job("retention")
        assert job is not None and getattr(job.func, "__wrapped__", job.func) == svc.retention_job
        trigger = job.trigger
        svc.retention_job()  # what the trigger runs: one audited retention pass
        assert audit.recent(store, action="retention")[0]["actor"] == "retention"
        # without [retention] days the job is not scheduled at all
        cfg_off = from_dict({"timezone": "Europe/Berlin", "store": {"path": str(tmp_path / "s.duckdb")}})
        svc_off = Service(cfg_off, store)
        monkeypatch.setattr(svc_off.scheduler, "start", lambda: None)
        svc_off.start()
        assert svc_off.scheduler.get_job("retention") is None
    berlin = ZoneInfo("Europe/Berlin")
    summer = trigger.get_next_fire_time(None, datetime(2026, 6, 1, 12, 0, tzinfo=berlin))
    assert summer.astimezone(UTC) == datetime(2026, 6, 2, 0, 30, tzinfo=UTC)  # 02:30 CEST
    winter = trigger.get_next_fire_time(None, datetime(2026, 1, 10, 12, 0, tzinfo=berlin))
    assert winter.astimezone(UTC) == datetime(2026, 1, 11, 1, 30, tzinfo=UTC)  # 02:30 CET
    # 29 March 2026: clocks jump from 02:00 to 03:00 — 02:30 does not exist; the job still
    # runs once that night (between 01:00 and 02:00 UTC), not zero times and not twice
    gap = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, 0, tzinfo=berlin)).astimezone(UTC)
    assert datetime(2026, 3, 29, 0, 59, tzinfo=UTC) < gap <= datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    after = trigger.get_next_fire_time(gap, gap + timedelta(seconds=1)).astimezone(UTC)
    assert after == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)
