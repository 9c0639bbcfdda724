"""The labelled rule-utterance set and its harness: the split is deterministic and disjoint,
the dev path never reads held-out items, the set covers every shipped flag and case, and
bench/verdicts.py prints the rules section."""

from __future__ import annotations

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
