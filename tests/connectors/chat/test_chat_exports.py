"""JSON-export import: the demo samples, backfill into the API source, bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from vendors import ZendeskFake

from connectors.chat.exports import ExportSource
from connectors.chat.options import ExportOptions, ZendeskOptions
from connectors.chat.zendesk import ZendeskSource
from store import Store, quarantine
from store import interactions as iq

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "chat"


def _all(store: Store) -> list:
    ids = [r[0] for r in store.conn.execute("SELECT id FROM interactions ORDER BY id").fetchall()]
    return iq.get_many(store, ids)


def test_demo_samples_import_once(store: Store) -> None:
    for vendor in ("zendesk", "intercom", "front"):
        src = ExportSource(ExportOptions(vendor=vendor, path=str(SAMPLES / f"{vendor}.json"),
                                         name="demo"))
        first = src.sync(store)
        assert (first.inserted, first.quarantined, first.errors) == (2, 0, [])
        assert src.sync(store).inserted == 0
    items = {it.external_id: it for it in _all(store)}
    assert len(items) == 6 and {it.channel for it in items.values()} == {"chat"}
    # the bot handover, the repeat-refund customer (same phone as the sample call), the bad one
    assert [t.speaker for t in items["8802"].turns][:5] == ["customer", "bot", "customer", "bot",
                                                            "agent"]
    assert items["8802"].metadata["bot_handover"] is True
    assert items["5101"].metadata["bot_handover"] is False
    assert items["cnv_sms0134"].customer_key == "+14155550134"
    calls = json.loads((SAMPLES.parent / "calls" / "call_07_repeat_refund.json").read_text())
    assert calls["customer"].replace(" ", "") == "+14155550134"
    assert any("speak to your manager" in t.text for t in items["5102"].turns)


def test_backfill_then_api_sync_is_one_set_of_interactions(store: Store) -> None:
    """An export imported under the API entry's name is what the API sync finds unchanged."""
    doc = json.loads((SAMPLES / "zendesk.json").read_text())
    ExportSource(ExportOptions(vendor="zendesk", path=str(SAMPLES / "zendesk.json"),
                               name="acme")).sync(store)
    with ZendeskFake() as fake:
        fake.users = {u["id"]: u for u in doc["users"]}
        fake.groups = {g["id"]: g for g in doc["groups"]}
        fake.tickets = {t["id"]: t for t in doc["tickets"]}
        fake.comments = {int(k): v for k, v in doc["comments"].items()}
        api = ZendeskSource(ZendeskOptions(name="acme", base_url=fake.url, email=fake.email,
                                           api_token=fake.token))
        report = api.sync(store)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 2)
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 2


def test_bad_files_and_bad_conversations_are_quarantined(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(SAMPLES / "intercom.json", folder / "a_good.json")
    (folder / "b_truncated.json").write_text('{"type": "conversation.list", "conversations": [{')
    doc = json.loads((SAMPLES / "intercom.json").read_text())
    broken = dict(doc["conversations"][0])
    broken.pop("id")
    doc["conversations"] = [broken, doc["conversations"][1]]
    (folder / "c_one_bad.json").write_text(json.dumps(doc))
    (folder / "d_wrong_vendor.json").write_text((SAMPLES / "front.json").read_text())
    src = ExportSource(ExportOptions(vendor="intercom", path=str(folder), name="backfill"))
    report = src.sync(store)
    assert (report.inserted, report.quarantined) == (2, 3)
    reasons = {q.item_key: q for q in quarantine.list_items(store, "intercom:backfill")}
    assert reasons[f"file:{folder / 'b_truncated.json'}"].excerpt.startswith('{"type"')
    assert "needs a 'conversations' list" in reasons[f"file:{folder / 'd_wrong_vendor.json'}"].reason
    assert any(k.startswith("c_one_bad.json:conversation:") for k in reasons)
    again = src.sync(store)  # unchanged files are not read again
    assert (again.inserted, again.unchanged, again.quarantined) == (0, 0, 0)
    (folder / "b_truncated.json").write_text((SAMPLES / "intercom.json").read_text())
    fixed = src.sync(store)  # a repaired file is picked up: same conversations, nothing new
    assert (fixed.inserted, fixed.unchanged) == (0, 2)
