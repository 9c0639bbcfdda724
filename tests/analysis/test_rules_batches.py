"""The independently written rule batches (bench/data/rules_utterances_v3.tsv ... _v13.tsv) load
as their own, wholly held-out sets; adding one changes nothing about how the first file
splits, repeats no earlier text, and covers every shipped flag with positives and look-alikes."""

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
    read_probes,
    split_of,
)

PREFIX = {"prohibited_phrase": "pro", "churn_risk": "chu", "escalation_request": "esc",
          DISCLOSURE_FLAG: "dis", "none": "neg"}  # fmt: skip
#: batch: (items, positives per phrase flag, look-alikes per phrase flag, plain negatives, earlier batches)
BATCHES = {"v3": (260, 45, 40, 20, ()), "v4": (300, 55, 45, 25, ("v3",)), "v5": (420, 60, 45, 40, ("v3", "v4")),
           "v6": (400, 60, 45, 40, ("v3", "v4", "v5")), "v7": (420, 65, 50, 40, ("v3", "v4", "v5", "v6")),
           "v8": (420, 65, 50, 40, ("v3", "v4", "v5", "v6", "v7")),
           "v9": (460, 65, 50, 40, ("v3", "v4", "v5", "v6", "v7", "v8")),
           "v10": (460, 65, 50, 40, ("v3", "v4", "v5", "v6", "v7", "v8", "v9")),
           "v11": (460, 65, 50, 40, ("v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10")),
           "v12": (500, 65, 50, 40, ("v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11")),
           "v13": (520, 65, 50, 40, ("v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12"))}
#: cases every phrase flag's items must exercise at least 3 times
CASES = ("pos", "neg", "q", "rep", "hyp", "asr", "speaker", "other")
#: batches whose look-alikes alone (items written for a flag that do not expect it) must cover these cases 3 times
LOOKALIKE_CASES = {b: ("neg", "modal", "q", "rep", "hyp", "speaker", "other", "asr") for b in ("v7", "v8", "v9", "v10", "v11", "v12", "v13")}
#: batches that must not repeat a line of the rules helpers' probe file either (written after it existed)
CHECK_PROBES = {"v7", "v8", "v9", "v10", "v11", "v12", "v13"}


@pytest.mark.parametrize("batch", BATCHES)
def test_a_batch_is_a_separate_file_loaded_whole(batch: str) -> None:
    items, *_ = BATCHES[batch]
    got = load(batch)
    others = [DATA, *(HELDOUT_SETS[b] for b in HELDOUT_SETS if b != batch)]
    assert HELDOUT_SETS[batch] not in others and HELDOUT_SETS[batch].exists()
    assert len(got) >= items and len({u.id for u in got}) == len(got)
    assert all(u.id.startswith(f"{batch}-{PREFIX[u.target]}-") and u.batch == batch for u in got)
    assert {u.id for u in got} == {u.id for u in read_all(HELDOUT_SETS[batch])}  # no dev half


@pytest.mark.parametrize("batch", BATCHES)
def test_a_batch_does_not_touch_the_first_files_split_or_repeat_earlier_text(batch: str) -> None:
    *_, earlier = BATCHES[batch]
    first = read_all()
    before = [u for b in earlier for u in load(b)]
    assert not any(u.id.startswith(f"{batch}-") for u in (*first, *before))
    dev, held = load("dev"), load("heldout")
    assert {u.id for u in dev} | {u.id for u in held} == {u.id for u in first}
    assert all(split_of(u.id) == "heldout" for u in held)
    probes = read_probes() if batch in CHECK_PROBES else []
    seen = {u.text.casefold() for u in (*first, *before, *probes)}
    assert not [u.id for u in load(batch) if u.text.casefold() in seen]


def test_an_unknown_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="v3"):
        load("v14")


@pytest.mark.parametrize("batch", BATCHES)
def test_a_batch_has_positives_and_look_alikes_for_every_shipped_flag(batch: str) -> None:
    _, min_pos, min_neg, min_plain, _ = BATCHES[batch]
    got = load(batch)
    shipped = (*PHRASE_FLAGS, DISCLOSURE_FLAG)
    for u in got:
        assert u.expect <= set(shipped) and u.speaker in ("agent", "customer") and u.style in ("call", "chat", "email")
        assert u.text.strip() and u.source == "hand"
    for flag in PHRASE_FLAGS:
        written = [u for u in got if u.target == flag]
        pos = sum(flag in u.expect for u in written)
        assert pos >= min_pos and len(written) - pos >= min_neg, flag
        assert {u.style for u in written if flag in u.expect} == {"call", "chat", "email"}, flag
        cases = Counter(c for u in written for c in u.cases)
        for case in CASES:
            assert cases[case] >= 3, (flag, case)
        alike = Counter(c for u in written if flag not in u.expect for c in u.cases)
        for case in LOOKALIKE_CASES.get(batch, ()):
            assert alike[case] >= 3, (flag, "look-alike", case)
    dis = [u for u in got if u.target == DISCLOSURE_FLAG]
    assert len(dis) >= 40 and 10 <= sum(DISCLOSURE_FLAG in u.expect for u in dis) <= len(dis) - 10
    late = [u for u in dis if "late" in u.cases]
    assert late and all(u.start is not None and u.start > 60 and DISCLOSURE_FLAG in u.expect for u in late)
    assert all(u.start is None or u.start <= 60 or "late" in u.cases for u in dis)
    if batch in LOOKALIKE_CASES:  # "this call is not recorded" does not disclose; late ones several times
        not_recorded = [u for u in dis if "neg" in u.cases]
        assert len(not_recorded) >= 3 and all(DISCLOSURE_FLAG in u.expect for u in not_recorded)
        assert len(late) >= 3
    plain = [u for u in got if u.target == "none"]
    assert len(plain) >= min_plain and not any(u.expect for u in plain)
