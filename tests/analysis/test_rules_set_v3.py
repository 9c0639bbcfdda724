"""Batch v3 of the rule utterances (bench/data/rules_utterances_v3.tsv) loads as its own,
wholly held-out set, and adding it changes nothing about how the first file splits."""

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


def test_v3_is_a_separate_file_loaded_whole() -> None:
    v3 = load("v3")
    assert HELDOUT_SETS["v3"] != DATA and HELDOUT_SETS["v3"].exists()
    assert len(v3) >= 260 and len({u.id for u in v3}) == len(v3)
    assert all(u.id.startswith("v3-") and u.batch == "v3" for u in v3)
    assert {u.id for u in v3} == {u.id for u in read_all(HELDOUT_SETS["v3"])}  # no dev half


def test_v3_does_not_touch_the_first_files_split() -> None:
    first = read_all()
    assert not any(u.id.startswith("v3-") for u in first)
    dev, held = load("dev"), load("heldout")
    assert {u.id for u in dev} | {u.id for u in held} == {u.id for u in first}
    assert all(split_of(u.id) == "heldout" for u in held)
    with pytest.raises(ValueError, match="v3"):
        load("v9")


def test_v3_has_positives_and_look_alikes_for_every_shipped_flag() -> None:
    v3 = load("v3")
    shipped = (*PHRASE_FLAGS, DISCLOSURE_FLAG)
    for u in v3:
        assert u.expect <= set(shipped) and u.speaker in ("agent", "customer") and u.style in ("call", "chat", "email")
    for flag in PHRASE_FLAGS:
        written = [u for u in v3 if u.target == flag]
        pos = sum(flag in u.expect for u in written)
        assert pos >= 45 and len(written) - pos >= 40, flag
        cases = Counter(c for u in written for c in u.cases)
        for case in ("pos", "neg", "q", "rep", "hyp", "asr", "speaker", "other"):
            assert cases[case] >= 3, (flag, case)
    dis = [u for u in v3 if u.target == DISCLOSURE_FLAG]
    assert len(dis) >= 40 and 10 <= sum(DISCLOSURE_FLAG in u.expect for u in dis) <= len(dis) - 10
    late = [u for u in dis if "late" in u.cases]
    assert late and all(u.start is not None and u.start > 60 and DISCLOSURE_FLAG in u.expect for u in late)
    assert sum(u.target == "none" for u in v3) >= 20
