"""The drop folder against a real DuckDB file and real audio (the committed sample calls).

No model is involved: the connector only probes audio (PyAV), so these tests are fast.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.dropfolder import (
    DropFolderOptions,
    DropFolderSource,
    normalise_customer,
    parse_time,
)
from store import Store
from store import interactions as interactions_q
from store import quarantine as quarantine_q

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "calls"
ANGRY = "call_01_angry_refund"


@pytest.fixture
def store(tmp_path: Path):
    st = Store.open(str(tmp_path / "t.duckdb"))
    yield st
    st.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "drop"
    d.mkdir()
    return d


def copy_sample(name: str, dest: Path, new_stem: str | None = None, sidecar: bool = True) -> Path:
    stem = new_stem or name
    audio = dest / f"{stem}.opus"
    shutil.copyfile(SAMPLES / f"{name}.opus", audio)
    if sidecar:
        shutil.copyfile(SAMPLES / f"{name}.json", dest / f"{stem}.json")
    return audio


def source(folder: Path, **kw) -> DropFolderSource:
    kw.setdefault("settle_seconds", 0.0)
    return DropFolderSource(DropFolderOptions(path=str(folder), **kw))


def all_calls(store: Store):
    ids = [r[0] for r in store.cursor().execute("SELECT id FROM interactions ORDER BY id").fetchall()]
    return interactions_q.get_many(store, ids, with_turns=False)


def test_ingests_samples_with_sidecar_metadata(store: Store, folder: Path) -> None:
    for f in SAMPLES.glob("*.opus"):
        copy_sample(f.stem, folder)
    rep = source(folder).sync(store)
    assert (rep.inserted, rep.quarantined, rep.errors) == (8, 0, [])
    calls = {Path(c.raw_ref).stem: c for c in all_calls(store)}
    angry = calls[ANGRY]
    assert (angry.channel, angry.source, angry.status) == ("call", "dropfolder", "new")
    assert (angry.agent, angry.queue, angry.direction) == ("1042", "billing", "inbound")
    assert angry.customer == "+1 415 555 0134"
    assert angry.customer_key == "+14155550134"
    assert angry.started_at == datetime(2026, 11, 16, 9, 12, tzinfo=UTC)
    assert angry.duration == pytest.approx(35.0, abs=0.3)
    assert angry.metadata["channels"] == 2
    assert angry.metadata["sidecar"] == {"account": "AC-20931", "ticket": "T-5531"}
    assert Path(angry.raw_ref).is_absolute() and Path(angry.raw_ref).is_file()
    assert calls["call_08_mono_password"].metadata["channels"] == 1
    # the repeat caller shares the angry caller's normalised number
    assert calls["call_07_repeat_refund"].customer_key == angry.customer_key


def test_reingest_adds_nothing_even_renamed_or_copied(store: Store, folder: Path) -> None:
    for f in SAMPLES.glob("*.opus"):
        copy_sample(f.stem, folder)
    src = source(folder)
    assert src.sync(store).inserted == 8
    again = src.sync(store)
    assert (again.inserted, again.updated, again.unchanged, again.quarantined) == (0, 0, 0, 0)
    # renamed (with its sidecar) and a second copy under another name: still one interaction
    old = folder / f"{ANGRY}.opus"
    new = folder / "renamed.opus"
    old.rename(new)
    (folder / f"{ANGRY}.json").rename(folder / "renamed.json")
    shutil.copyfile(new, folder / "sub_copy.opus")
    shutil.copyfile(folder / "renamed.json", folder / "sub_copy.json")
    rep = src.sync(store)
    assert (rep.inserted, rep.updated) == (0, 0)
    assert rep.unchanged == 1  # both paths name one recording (one row offered per batch)
    calls = all_calls(store)
    assert len(calls) == 8
    # the stored path follows the recording once the old path is gone
    angry = next(c for c in calls if c.agent == "1042" and c.queue == "billing")
    assert Path(angry.raw_ref).exists()


def test_corrupt_files_are_quarantined_and_not_retried_forever(store: Store, folder: Path) -> None:
    copy_sample(ANGRY, folder)
    copy_sample("call_02_calm_billing", folder)
    # fixed bytes: random ones can, rarely, hold an MP3 frame sync that FFmpeg decodes
    (folder / "noise.wav").write_bytes(random.Random(7).randbytes(4096))
    (folder / "notes.wav").write_text("Call notes: customer wants a refund.\n" * 20)
    (folder / "empty.flac").write_bytes(b"")
    good = SAMPLES / f"{ANGRY}.opus"
    (folder / "truncated.mp3").write_bytes(b"ID3" + good.read_bytes()[:100])
    src = source(folder, max_attempts=3)
    rep = src.sync(store)
    assert rep.inserted == 2
    assert rep.quarantined == 4
    items = {Path(q.raw_ref).name: q for q in quarantine_q.list_items(store, "dropfolder")}
    assert set(items) == {"noise.wav", "notes.wav", "empty.flac", "truncated.mp3"}
    for q in items.values():
        assert q.reason and ("not readable audio" in q.reason or "no samples" in q.reason
                             or "no audio stream" in q.reason), q.reason
    assert "notes.wav" in items["notes.wav"].reason
    assert "Call notes" in (items["notes.wav"].excerpt or "")
    for _ in range(5):
        src.sync(store)
    attempts = {Path(q.raw_ref).name: q.attempts for q in quarantine_q.list_items(store, "dropfolder")}
    assert attempts == dict.fromkeys(items, 3)
    last = src.sync(store)
    assert (last.quarantined, last.inserted) == (0, 0)
    assert len(all_calls(store)) == 2


def test_growing_file_waits_until_size_is_stable(store: Store, folder: Path) -> None:
    data = (SAMPLES / f"{ANGRY}.opus").read_bytes()
    target = folder / "growing.opus"
    target.write_bytes(data[: len(data) // 2])
    # settle_seconds is large so only the poll-to-poll rule can admit the file
    src = source(folder, settle_seconds=3600, stable_polls=1)
    first = src.sync(store)
    assert (first.inserted, first.skipped) == (0, 1)
    with target.open("ab") as f:
        f.write(data[len(data) // 2 :])
    second = src.sync(store)
    assert (second.inserted, second.skipped) == (0, 1)
    third = src.sync(store)
    assert third.inserted == 1
    assert all_calls(store)[0].duration == pytest.approx(35.0, abs=0.3)
    assert quarantine_q.list_items(store) == []


def test_stability_is_remembered_across_one_shot_runs(tmp_path: Path, folder: Path) -> None:
    copy_sample(ANGRY, folder)
    db = str(tmp_path / "oneshot.duckdb")
    opts = {"settle_seconds": 3600, "stable_polls": 1}
    st = Store.open(db)
    assert source(folder, **opts).sync(st).inserted == 0
    st.close()
    st = Store.open(db)  # a new process would see only what the store remembers
    assert source(folder, **opts).sync(st).inserted == 1
    st.close()


def test_filename_pattern_when_there_is_no_sidecar(store: Store, folder: Path) -> None:
    copy_sample(ANGRY, folder, new_stem="20261124T093000_1077_004915112345678_support_outbound",
                sidecar=False)
    pattern = (r"(?P<started_at>\d{8}T\d{6})_(?P<agent>\d+)_(?P<customer>\d+)"
               r"_(?P<queue>[a-z]+)_(?P<direction>[a-z]+)")  # fmt: skip
    rep = source(folder, filename_pattern=pattern, assume_timezone="Europe/Berlin",
                 default_region="DE").sync(store)
    assert rep.inserted == 1, rep.errors
    call = all_calls(store)[0]
    assert (call.agent, call.queue, call.direction) == ("1077", "support", "outbound")
    assert call.started_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 09:30 Berlin
    assert call.customer_key == "+4915112345678"
    assert call.metadata["filename_fields"]["agent"] == "1077"


def test_sidecar_wins_over_pattern_and_change_makes_new_version(store: Store, folder: Path) -> None:
    audio = copy_sample(ANGRY, folder, new_stem="x_9999", sidecar=False)
    side = audio.with_suffix(".json")
    side.write_text(json.dumps({"agent": "1042", "customer": "CUST-88213", "crm_case": 7}))
    src = source(folder, filename_pattern=r"x_(?P<agent>\d+)")
    assert src.sync(store).inserted == 1
    call = all_calls(store)[0]
    assert call.agent == "1042"
    assert call.customer_key == "cust-88213"
    assert call.metadata["sidecar"] == {"crm_case": 7}
    side.write_text(json.dumps({"agent": "1077", "customer": "CUST-88213"}))
    os.utime(side, ns=(side.stat().st_mtime_ns + 10**9, side.stat().st_mtime_ns + 10**9))
    rep = src.sync(store)
    assert (rep.inserted, rep.updated) == (0, 1)
    call = all_calls(store)[0]
    assert (call.agent, call.version) == ("1077", 2)


def test_bad_sidecar_is_quarantined_until_fixed(store: Store, folder: Path) -> None:
    audio = copy_sample(ANGRY, folder, sidecar=False)
    side = audio.with_suffix(".json")
    side.write_text('{"agent": "1042", ')
    src = source(folder)
    rep = src.sync(store)
    assert (rep.inserted, rep.quarantined) == (0, 1)
    (item,) = quarantine_q.list_items(store)
    assert "sidecar" in item.reason and "not valid JSON" in item.reason
    side.write_text('{"agent": "1042", "started_at": "yesterday-ish"}')
    os.utime(side, ns=(side.stat().st_mtime_ns + 10**9,) * 2)
    rep = src.sync(store)
    assert rep.quarantined == 1
    assert any("started_at" in q.reason for q in quarantine_q.list_items(store))
    side.write_text('{"agent": "1042", "started_at": "2026-11-24 10:00"}')
    os.utime(side, ns=(side.stat().st_mtime_ns + 2 * 10**9,) * 2)
    rep = src.sync(store)
    assert rep.inserted == 1
    assert all_calls(store)[0].started_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_missing_folder_is_reported_not_raised(store: Store, tmp_path: Path) -> None:
    rep = source(tmp_path / "nowhere").sync(store)
    assert rep.inserted == 0 and "does not exist" in rep.errors[0]


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown groups"):
        DropFolderOptions(filename_pattern=r"(?P<caller>\d+)")
    with pytest.raises(ValueError, match="not a valid regex"):
        DropFolderOptions(filename_pattern=r"(?P<agent>")
    with pytest.raises(ValueError, match="region"):
        DropFolderOptions(default_region="XX")
    assert DropFolderOptions(extensions=[".WAV"]).extensions == ["wav"]


def test_customer_and_time_normalisation() -> None:
    assert normalise_customer("(415) 555-0134", "US") == "+14155550134"
    assert normalise_customer("+44 20 7946 0321", "US") == "+442079460321"
    assert normalise_customer(" Cust-7 ", "US") == "cust-7"
    assert normalise_customer("", "US") is None
    assert parse_time("20261124T093000", "", "UTC") == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert parse_time(0, "", "UTC") == datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="started_at"):
        parse_time("soon", "", "UTC")
