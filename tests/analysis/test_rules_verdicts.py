"""The labelled rule-utterance set and its harness: the split is deterministic and disjoint,
the dev path never reads held-out items, the set covers every shipped flag and case, and
bench/verdicts.py prints the rules section."""

from __future__ import annotations

import os
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from analysis.rules import default_rules

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.append(str(ROOT))

from bench import verdicts_rules  # noqa: E402
from bench.rules_set import DATA, DISCLOSURE_FLAG, PHRASE_FLAGS, load, read_all, split_of  # noqa: E402


def test_split_is_disjoint_complete_and_about_half() -> None:
    every = {u.id for u in read_all()}
    dev, held = {u.id for u in load("dev")}, {u.id for u in load("heldout")}
    assert dev.isdisjoint(held) and dev | held == every
    assert 0.4 < len(held) / len(every) < 0.6
    with pytest.raises(ValueError, match="split"):
        load("train")


def test_split_does_not_depend_on_file_order(tmp_path: Path) -> None:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    random.Random(3).shuffle(body)
    shuffled = tmp_path / "shuffled.tsv"
    shuffled.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    assert {u.id for u in load("heldout", shuffled)} == {u.id for u in load("heldout")}
    assert split_of("pro-001") == split_of("pro-001")  # a function of the id alone


def test_the_set_covers_every_shipped_flag_and_case_in_both_splits() -> None:
    items = read_all()
    assert len(items) >= 400 and len({u.id for u in items}) == len(items)
    shipped = {r.kind for r in default_rules()}
    assert set(PHRASE_FLAGS) | {DISCLOSURE_FLAG} == shipped
    for split in ("dev", "heldout"):
        part = load(split)
        for flag in shipped:
            judged = [u for u in part if flag in u.judged]
            pos = sum(flag in u.expect for u in judged)
            assert pos >= 10 and len(judged) - pos >= 10, (split, flag)
    for u in items:
        assert u.expect <= shipped and u.speaker in ("agent", "customer") and u.style in ("call", "chat", "email")
    for flag in PHRASE_FLAGS:  # every phenomenon the issue names, for every phrase rule
        cases = Counter(c for u in items if u.target == flag for c in u.cases)
        for case in ("pos", "neg", "q", "rep", "hyp", "asr"):
            assert cases[case] >= 3, (flag, case)
    assert sum(u.source != "hand" for u in items) >= 50  # real utterances nobody here wrote


def _cheap_embed(texts: list[str]) -> np.ndarray:
    rows = np.array([[1.0 if w in t.lower() else 0.0 for w in ("call", "recorded", "record")] + [0.5] for t in texts])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_dev_run_reads_no_held_out_item(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_predict = verdicts_rules.predict

    def spy(items, rules, embed):  # type: ignore[no-untyped-def]
        seen.extend(u.id for u in items)
        return real_predict(items, rules, embed)

    monkeypatch.setattr(verdicts_rules, "predict", spy)
    monkeypatch.setattr("analysis.embeddings.encode", _cheap_embed)
    text = verdicts_rules.run(("dev",))
    held = {u.id for u in load("heldout")}
    assert seen and not set(seen) & held
    printed = {line.split()[0] for line in text.splitlines() if line.startswith("    ") and " [" in line}
    assert "heldout" not in text and printed and not printed & held


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_section_reports_every_shipped_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("analysis.embeddings.encode", _cheap_embed)
    items = [u for u in load("dev") if u.id.startswith(("pro-", "chu-", "esc-", "dis-"))][:60]
    text = verdicts_rules.section("dev", items, default_rules(), _cheap_embed)
    for r in default_rules():
        assert f"{r.kind} ({r.name})" in text
    assert "negation" in text and "errors" in text


def test_verdicts_prints_the_rules_section(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bench import verdicts

    monkeypatch.setattr(verdicts_rules, "run", lambda: "RULES SECTION")
    assert verdicts.main(["rules"]) == 0
    assert "RULES SECTION" in capsys.readouterr().out
    assert verdicts.main(["nope"]) == 2


def test_prf() -> None:
    c = Counter(tp=8, fp=2, fn=2)
    p, r, f, n = verdicts_rules.prf(c)
    assert (round(p, 2), round(r, 2), round(f, 2), n) == (0.8, 0.8, 0.8, 10)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_reviews_replayed_through_the_current_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """An export-reviews file: per rule what reviewers said, the precision it implies, and
    whether the current rules still raise each example; a "fix" (here: the rule removed)
    shows the dismissed false positive gone."""
    import json
    from datetime import UTC, datetime

    from store import Store, reviews
    from store import flags as store_flags
    from store import interactions as store_interactions
    from store.permissions import Identity
    from store.records import Flag, Interaction, Turn, content_hash

    store = Store.open(tmp_path / "r.duckdb")
    sup = Identity("local:sue", "supervisor")
    calls = [  # (speaker, raw, redacted, kind, rule, verdict)
        ("agent", "I promise it arrives Friday, card 4111 1111 1111 1111", "I promise it arrives Friday, card [PII]",
         "prohibited_phrase", "prohibited_promise", "dismiss"),
        ("agent", "I promise you will get the refund", "I promise you will get the refund",
         "prohibited_phrase", "prohibited_promise", "confirm"),
        ("customer", "I want to speak to a manager now", "I want to speak to a manager now",
         "escalation_request", "escalation_request", "confirm"),
    ]  # fmt: skip
    for n, (speaker, raw, red, kind, rule, verdict) in enumerate(calls):
        it = Interaction(channel="call", source="t", external_id=f"r{n}", content_hash=content_hash(f"r{n}"),
                         started_at=datetime(2026, 3, 2, 10, tzinfo=UTC), status="analysed",
                         turns=[Turn(seq=0, speaker=speaker, text=raw, start=5.0, end=9.0)])  # fmt: skip
        store_interactions.upsert(store, [it])
        assert it.id is not None
        store.insert_arrow("turn_scores", [{"interaction_id": it.id, "seq": 0, "redacted_text": red}])
        (fid,) = store_flags.replace_for_interaction(store, it.id, [Flag(
            interaction_id=it.id, kind=kind, rule=rule, severity=3, evidence=[{"seq": 0, "start": 5.0, "end": 6.0}])])
        reviews.review(store, fid, verdict, sup, "quoting the delivery date, no guarantee" if verdict == "dismiss"
                       else None, expected_rev=0)  # fmt: skip
    out = tmp_path / "reviews.jsonl"
    out.write_text("".join(json.dumps(r, default=str) + "\n" for r in reviews.labelled_examples(store)), "utf-8")
    store.close()
    assert "4111" not in out.read_text("utf-8")
    examples = verdicts_rules.read_reviews(out)
    assert {e["evidence"][0]["speaker"] for e in examples} == {"agent", "customer"}
    text = verdicts_rules.reviews_section(examples, default_rules(), _cheap_embed)
    row = next(line for line in text.splitlines() if "prohibited_phrase (prohibited_promise)" in line)
    # 2 reviewed, 1 confirmed, 1 dismissed, precision 0.50; the dismissed one still raised, the confirmed too
    assert row.split()[2:6] == ["2", "1", "1", "0.50"] and row.split()[6:9] == ["1", "of", "1"]
    assert "quoting the delivery date" in text and "[PII]" in text
    esc = next(line for line in text.splitlines() if "escalation_request (escalation_request)" in line)
    assert esc.split()[2:6] == ["1", "1", "0", "1.00"] and esc.split()[9:12] == ["1", "of", "1"]
    fixed = [r for r in default_rules() if r.name != "prohibited_promise"]
    text = verdicts_rules.reviews_section(examples, fixed, _cheap_embed)
    row = next(line for line in text.splitlines() if "(prohibited_promise)" in line)
    assert row.split()[6:9] == ["0", "of", "1"] and "still raise: none" in text
    # the harness: --reviews on bench/verdicts.py reaches the rules section; a bad file is refused
    from bench import verdicts

    monkeypatch.delenv(verdicts_rules.REVIEWS_ENV, raising=False)
    monkeypatch.setattr(verdicts_rules, "run", lambda: "REVIEWS " + os.environ.get(verdicts_rules.REVIEWS_ENV, ""))
    assert verdicts.main(["rules", "--reviews", str(out)]) == 0
    assert f"REVIEWS {out}" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "x", "label": "maybe"}\n', "utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        verdicts_rules.read_reviews(bad)
