"""`replace_for_interactions` (the analysis job's batched flag write, #15) writes what one
`replace_for_interaction` call per interaction writes: same ids, rows, retirements, reviews."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import Store
from store import flags as flag_q
from store import interactions as iq
from store.records import Flag, Interaction, Turn

COLS = "id, interaction_id, kind, rule, dedupe_key, severity, score, summary, evidence, active, review_status, confidence"


@pytest.fixture()
def stores(store_target) -> tuple[Store, Store]:  # type: ignore[no-untyped-def]
    a, b = Store.open(store_target("one")), Store.open(store_target("batch"))
    yield a, b
    a.close()
    b.close()


def _chats(n: int) -> list[Interaction]:
    return [Interaction(channel="chat", source="t", external_id=str(k), content_hash=f"h{k}",
                        started_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
                        turns=[Turn(0, "customer", f"cancel my account {k}")]) for k in range(n)]


def _round(iids: list[int], r: int) -> list[tuple[int, list[Flag]]]:
    """Per interaction a flag set that changes between rounds: some kept, some new, some gone."""
    out = []
    for k, iid in enumerate(iids):
        flags = [Flag(iid, "churn_risk", 3 - (r % 2), score=0.5 + r / 10, summary=f"churn r{r}",
                      evidence=[{"seq": 0, "round": r}], rule="cancel", confidence=0.9)]
        if (k + r) % 2:
            flags.append(Flag(iid, "angry_customer", 2, summary="angry"))
        if k == 0 and r == 0:
            flags.append(Flag(iid, "trend", 1, summary="patterns own this kind"))
        out.append((iid, flags if k != 2 else []))
    return out


def _rows(store: Store) -> list[tuple]:
    return store.conn.execute(f"SELECT {COLS} FROM flags ORDER BY id").fetchall()


def test_batched_flag_writes_equal_one_write_per_interaction(stores: tuple[Store, Store]) -> None:
    one, batch = stores
    ids_one = iq.upsert(one, _chats(4)).inserted
    ids_batch = iq.upsert(batch, _chats(4)).inserted
    assert ids_one == ids_batch
    for r in range(3):
        new_one = []
        for iid, flags in _round(ids_one, r):
            new_one += flag_q.replace_for_interaction(one, iid, flags)
        with batch.transaction() as tx:
            new_batch = flag_q.replace_for_interactions(batch, _round(ids_batch, r), con=tx)
        assert new_batch == new_one and (r > 0 or new_batch)
        assert _rows(batch) == _rows(one)
        if r == 0:  # a human verdict survives the next rounds' rewrites in both
            flag_q.set_review(one, new_one[0], "confirmed", "U1", "yes", via="test")
            flag_q.set_review(batch, new_batch[0], "confirmed", "U1", "yes", via="test")
    rows = _rows(batch)
    assert any(not r[9] for r in rows) and any(r[2] == "trend" and r[9] for r in rows)  # retired; patterns' kept
    assert flag_q.replace_for_interactions(batch, []) == []


def test_an_interaction_twice_in_one_batch_is_a_clear_error_and_writes_nothing(stores: tuple[Store, Store]) -> None:
    _one, batch = stores
    (iid,) = iq.upsert(batch, _chats(1)).inserted
    twice = [(iid, [Flag(iid, "churn_risk", 3, summary="a")]), (iid, [Flag(iid, "churn_risk", 3, summary="b")])]
    with pytest.raises(ValueError, match="listed twice"):
        flag_q.replace_for_interactions(batch, twice)
    assert _rows(batch) == []
