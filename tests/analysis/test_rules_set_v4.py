"""Batch v4 of the rule utterances (bench/data/rules_utterances_v4.tsv) loads as its own,
wholly held-out set, next to v3, and adding it changes nothing about how the first file splits."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.append(str(ROOT))

from bench.rules_set import (  # noqa: E402
    DATA,
    DISCLOSURE_FLAG,
    HELDOUT_SETS,
    PHRASE_FLAGS,
    load,
    read_all,
    split_of,
)

PREFIX = {"prohibited_phrase": "pro", "churn_risk": "chu", "escalation_request": "esc",
          DISCLOSURE_FLAG: "dis", "none": "neg"}  # fmt: skip


def test_v4_is_a_separate_file_loaded_whole() -> None:
    v4 = load("v4")
    assert HELDOUT_SETS["v4"] not in (DATA, HELDOUT_SETS["v3"]) and HELDOUT_SETS["v4"].exists()
    assert len(v4) >= 300 and len({u.id for u in v4}) == len(v4)
    assert all(u.id.startswith(f"v4-{PREFIX[u.target]}-") and u.batch == "v4" for u in v4)
    assert {u.id for u in v4} == {u.id for u in read_all(HELDOUT_SETS["v4"])}  # no dev half


def test_v4_does_not_touch_the_first_file_or_v3() -> None:
    first, v3, v4 = read_all(), load("v3"), load("v4")
    assert not any(u.id.startswith("v4-") for u in (*first, *v3))
    assert all(u.batch == "v3" for u in v3)
    dev, held = load("dev"), load("heldout")
    assert {u.id for u in dev} | {u.id for u in held} == {u.id for u in first}
    assert all(split_of(u.id) == "heldout" for u in held)
    # a new batch, not a copy: no utterance text of an earlier file comes back
    seen = {u.text.casefold() for u in (*first, *v3)}
    assert not [u.id for u in v4 if u.text.casefold() in seen]
    with pytest.raises(ValueError, match="v4"):
        load("v5")


def test_v4_has_positives_and_look_alikes_for_every_shipped_flag() -> None:
    v4 = load("v4")
    shipped = (*PHRASE_FLAGS, DISCLOSURE_FLAG)
    for u in v4:
        assert u.expect <= set(shipped) and u.speaker in ("agent", "customer") and u.style in ("call", "chat", "email")
        assert u.text.strip() and u.source == "hand"
    for flag in PHRASE_FLAGS:
        written = [u for u in v4 if u.target == flag]
        pos = sum(flag in u.expect for u in written)
        assert pos >= 55 and len(written) - pos >= 45, flag
        assert {u.style for u in written if flag in u.expect} == {"call", "chat", "email"}, flag
        cases = Counter(c for u in written for c in u.cases)
        for case in ("pos", "neg", "modal", "q", "rep", "hyp", "asr", "speaker", "other"):
            assert cases[case] >= 3, (flag, case)
    dis = [u for u in v4 if u.target == DISCLOSURE_FLAG]
    assert len(dis) >= 40 and 10 <= sum(DISCLOSURE_FLAG in u.expect for u in dis) <= len(dis) - 10
    assert all(u.speaker == "agent" for u in dis)
    late = [u for u in dis if "late" in u.cases]
    assert late and all(u.start is not None and u.start > 60 and DISCLOSURE_FLAG in u.expect for u in late)
    assert all(u.start is None or u.start <= 60 or "late" in u.cases for u in dis)
    plain = [u for u in v4 if u.target == "none"]
    assert len(plain) >= 25 and not any(u.expect for u in plain)
