"""Rule quality from reviews: the bot's answer, the digest line, and dismissals exported
as labelled examples (redacted text only)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from slackhttp import TZ

from analysis import digest as digest_mod
from bot.questions import Engine
from convoscope.cli import main
from store import reviews
from store.db import Store
from store.permissions import Identity

SUP = Identity("slack:U_SUP", "supervisor")
KIND = "compliance_missing_disclosure"


def _review(store: Store, seeded: Any, dismiss: int, confirm: int) -> None:
    fids = seeded.flag_ids[KIND]
    for fid in fids[:dismiss]:
        reviews.review(store, fid, "dismiss", SUP, "the disclosure was read", expected_rev=0)
    for fid in fids[dismiss:dismiss + confirm]:
        reviews.review(store, fid, "confirm", SUP, expected_rev=0)


def test_how_accurate_is_the_disclosure_rule(store: Store, seeded: Any, now: datetime) -> None:
    eng = Engine(store, TZ, clock=lambda: now, redactor=None)
    total = len(seeded.flag_ids[KIND])
    assert "no reviews yet" in eng.ask("how accurate is the disclosure rule?").text
    _review(store, seeded, dismiss=2, confirm=3)
    a = eng.ask("how accurate is the disclosure rule?")
    assert a.intent == "accuracy" and len(a.items) == 1
    it = a.items[0]
    assert (it["kind"], it["confirmed"], it["dismissed"], it["open"]) == (KIND, 3, 2, total - 5)
    assert it["precision"] == 0.6
    assert f"dismissed in 2 of 5 reviews (precision 60%), {total - 5} awaiting review" in a.text
    # every rule when none is named; viewers may ask (counts), agents may not
    assert len(eng.ask("how accurate are the rules", role="viewer").items) == len(seeded.flag_ids)
    assert "own work" in eng.ask("how accurate is the disclosure rule?", role="agent").text


def test_digest_names_the_most_dismissed_rule(store: Store, seeded: Any, now: datetime) -> None:
    _review(store, seeded, dismiss=2, confirm=1)
    day = now.astimezone(TZ).date()
    lines = digest_mod.summary_lines(digest_mod.build(store, day, TZ))
    assert any(line.startswith(f"Rule quality: {KIND}: dismissed in 2 of 3 reviews") and "this week" in line
               for line in lines)


def test_export_reviews_writes_labelled_examples(store: Store, seeded: Any, tmp_path: Path,
                                                  capsys: Any) -> None:  # fmt: skip
    _review(store, seeded, dismiss=2, confirm=1)
    db = store.path
    store.close()
    out = tmp_path / "reviews.jsonl"
    assert main(["--db", db, "export-reviews", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert sorted(r["label"] for r in rows) == ["confirmed", "dismissed", "dismissed"]
    dismissed = [r for r in rows if r["label"] == "dismissed"]
    assert all(r["reason"] == "the disclosure was read" and r["kind"] == KIND for r in dismissed)
    ev = rows[0]["evidence"][0]
    assert ev["seq"] == 1 and "[PII]" in ev["text"] and "4111" not in out.read_text("utf-8")
    assert "wrote 3 reviewed flags (2 dismissed, 1 confirmed)" in capsys.readouterr().out
    assert main(["--db", db, "export-reviews", str(out)]) == 2  # never overwrites
