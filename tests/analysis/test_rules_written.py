"""The written training-only paraphrase of bench/rules_classifier.py (`--written`, `WRITTEN`):
the files it reads are training files only (never a test batch), an item that repeats an
opened batch's sentence is dropped, and the items join only the fits of the flags named —
never a left-out batch or an out-of-fold part (those come from `batches()` alone)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scriptload import load_script

HEADER = "id\ttarget\tspeaker\tstyle\texpect\tcases\tstart\tsource\ttext\n"


def _rc():  # type: ignore[no-untyped-def]
    return load_script("bench/rules_classifier.py")


def _write(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """A batch-format file of (id, target, expect, text) customer chat rows."""
    lines = [f"{i}\t{t}\tcustomer\tchat\t{e}\tpos\t\thand\t{x}\n" for i, t, e, x in rows]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")


def test_only_training_files_are_read_never_a_test_batch(tmp_path: Path) -> None:
    rc = _rc()
    _write(
        tmp_path / "rules_train_w1.tsv",
        [("tw1-001", "churn_risk", "churn_risk", "i'm off to a rival")],
    )
    _write(
        tmp_path / "rules_utterances_v99.tsv",
        [("v99-001", "churn_risk", "churn_risk", "a test item")],
    )
    _write(
        tmp_path / "rules_utterances.tsv",
        [("x-001", "churn_risk", "churn_risk", "a first-file item")],
    )
    assert [f.name for f in rc.written_files(tmp_path)] == ["rules_train_w1.tsv"]
    items, counts = rc.written_items({}, tmp_path)
    assert [u.id for u in items] == ["tw1-001"] and counts["rules_train_w1.tsv"] == 1


def test_an_item_repeating_an_opened_sentence_or_id_is_dropped(tmp_path: Path) -> None:
    rc = _rc()
    _write(tmp_path / "rules_train_w1.tsv", [
        ("tw1-001", "churn_risk", "churn_risk", "I want to CLOSE my account"),  # an opened text, other case
        ("tw1-002", "churn_risk", "churn_risk", "i'm taking my custom down the road"),
        ("tw1-002", "none", "-", "a second item under the same id"),
    ])  # fmt: skip
    opened = {"v3": [rc.Utterance("v3-001", "churn_risk", "customer", "chat", frozenset(["churn_risk"]), ("pos",), None,
                                  "hand", "i want to close my account")]}  # fmt: skip
    items, counts = rc.written_items(opened, tmp_path)
    assert [u.id for u in items] == ["tw1-002"]
    assert counts["dropped_as_opened_text"] == 1 and counts["dropped_as_repeated_id"] == 1


def test_written_items_join_only_the_fits_of_the_flags_named(tmp_path: Path) -> None:
    rc = _rc()
    _write(tmp_path / "rules_train_w1.tsv", [
        ("tw1-001", "churn_risk", "churn_risk", "i'm taking my custom down the road"),
        ("tw1-002", "escalation_request", "escalation_request", "put your gaffer on"),
    ])  # fmt: skip
    written, _ = rc.written_items({}, tmp_path)
    batch = [
        rc.Utterance(
            "v3-001", "none", "customer", "chat", frozenset(), ("neg",), None, "hand", "hello"
        )
    ]
    recipe = dataclasses.replace(
        rc.shipped_recipe(), extra=(), written=written, written_flags=("churn_risk",)
    )
    assert [u.id for u in rc.training_items(batch, "churn_risk", recipe)] == [
        "v3-001",
        "tw1-001",
        "tw1-002",
    ]
    assert [u.id for u in rc.training_items(batch, "escalation_request", recipe)] == ["v3-001"]
    # by default (the shipped WRITTEN) a recipe carries no written items at all
    assert rc.training_items(batch, "churn_risk", rc.shipped_recipe()) == [*batch,
           *(u for u in rc.shipped_recipe().extra if u.target == "churn_risk")]  # fmt: skip
    assert rc._batch(written[0]) == "written tw1"


def test_the_opened_batches_are_named_and_the_unseen_ones_are_not() -> None:
    rc = _rc()
    assert rc.OPENED == ("v1+2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "probes")
    assert set(rc.FROZEN) == set(rc.OPENED) - {"v1+2", "probes"}
    assert not {"v11", "v12", "written"} & set(rc.OPENED)


def test_an_unknown_flag_in_written_is_refused() -> None:
    rc = _rc()
    with pytest.raises(SystemExit):
        rc.main(["--evaluate-only", "--written", "churn"])


def _u(rc, uid: str, target: str, expect: frozenset[str], text: str):  # type: ignore[no-untyped-def]
    return rc.Utterance(uid, target, "customer", "chat", expect, (), None, "hand", text)


def test_a_hard_look_alike_is_a_negative_written_for_the_flag_or_a_probe_negative() -> None:
    rc = _rc()
    churn = frozenset(["churn_risk"])
    assert rc.is_lookalike(
        _u(rc, "tw8-chu-001", "churn_risk", frozenset(), "i'll stay with you"), "churn_risk"
    )
    assert rc.is_lookalike(
        _u(rc, "probe-101", "none", frozenset(), "i'm leaving it with you"), "churn_risk"
    )
    assert not rc.is_lookalike(
        _u(rc, "tw8-chu-002", "churn_risk", churn, "i'm leaving you"), "churn_risk"
    )
    # a negative written for another flag is an ordinary negative of this one
    assert not rc.is_lookalike(
        _u(rc, "v5-esc-001", "escalation_request", frozenset(), "who would i ask"), "churn_risk"
    )


def test_the_look_alike_weight_pulls_a_look_alike_down_in_the_fit() -> None:
    """Identical vectors, opposite labels: the look-alike's weight decides which way the fit
    leans for that point."""
    import numpy as np

    rc = _rc()
    churn = frozenset(["churn_risk"])
    pos = [_u(rc, f"v3-{k}", "churn_risk", churn, f"leaving you {k}") for k in range(6)]
    look = [_u(rc, f"v3-n{k}", "churn_risk", frozenset(), f"leaving it {k}") for k in range(3)]
    other = [_u(rc, f"v3-o{k}", "none", frozenset(), f"hello there {k}") for k in range(6)]
    near, far = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    vec = {u.text: near for u in (*pos, *look)} | {u.text: far for u in other}
    base = dataclasses.replace(rc.shipped_recipe(), extra=(), written=(), written_flags=())
    items = [*pos, *look, *other]

    def p_look(w: float) -> float:
        recipe = dataclasses.replace(base, lookalike_weight={"churn_risk": w})
        clf = rc.fit(items, "churn_risk", vec, recipe)
        return float(clf.predict_proba(rc.features(look[:1], vec, recipe))[0, 1])

    assert p_look(4.0) < p_look(1.0) - 0.05
