"""Pseudonyms that leave the store: keyed under $CONVOSCOPE_DIGEST_KEY so a phone number or an
agent's name cannot be recovered by hashing every candidate, unchanged without a key, and the
same in SQL (answers, exports, retention) as in Python (role-filtered answers)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import Store, browse, pseudonyms
from store import interactions as store_interactions
from store import query_views as qv
from store.permissions import pseudonym
from store.query import Query, Span
from store.records import Interaction, Turn, content_hash

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
KEY = "a-long-random-secret-" + "q" * 30
PHONES = {"+447700900123": "Maria Lopez", "+447700900456": "John Smith"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "p.duckdb")
    for k, (phone, agent) in enumerate([*PHONES.items(), ("+447700900123", "Maria Lopez")]):
        started = NOW - timedelta(hours=k + 1)
        it = Interaction(
            channel="call", source="t", external_id=f"p-{k}", content_hash=content_hash(str(k)), started_at=started,
            ended_at=started + timedelta(minutes=3), duration=180.0, agent=agent, customer=phone, customer_key=phone,
            status="analysed", turns=[Turn(seq=0, speaker="customer", text="hello", start=0.0, end=2.0)],
        )  # fmt: skip
        store_interactions.upsert(s, [it])
    yield s
    s.close()


def _by_customer(store: Store) -> dict[str, int]:
    q = Query(period=Span(NOW - timedelta(days=1), NOW, "today"), view="ranking", subject="customers")
    return {r["customer"]: r["count"] for r in qv.aggregate(store, q).rows}


def _exported_agents(store: Store, path: Path) -> set[str]:
    browse.export_to(store, str(path), "csv", agent_names=False)
    with path.open() as f:
        return {row["agent"] for row in csv.DictReader(f)}


def _retained(store: Store, key: str) -> str:
    row = store.cursor().execute(f"SELECT {pseudonyms.customer_key_sql('x')} FROM (VALUES (?)) t(x)", [key]).fetchone()
    assert row is not None
    return str(row[0])


def test_without_a_key_pseudonyms_are_the_plain_hashes_they_always_were(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(pseudonyms.DIGEST_KEY_ENV, raising=False)
    assert _by_customer(store) == {"customer-" + _sha("+447700900123")[:8]: 2, "customer-" + _sha("+447700900456")[:8]: 1}
    assert _exported_agents(store, tmp_path / "a.csv") == {"agent-" + _sha(a)[:6] for a in PHONES.values()}
    assert pseudonym("Maria Lopez") == "agent-" + _sha("Maria Lopez")[:6]
    assert _retained(store, "+447700900123") == "h:" + _sha("+447700900123")[:12]


def test_with_a_key_nobody_without_it_can_recompute_a_pseudonym(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pseudonyms.DIGEST_KEY_ENV, KEY)
    salt = pseudonyms.salt()
    assert salt and KEY not in salt and set(salt) <= set("0123456789abcdef")
    customers = _by_customer(store)
    # grouping still works (same customer, same pseudonym) ...
    assert sorted(customers.values()) == [1, 2]
    # ... but hashing every candidate phone number without the key finds none of them
    unkeyed = {"customer-" + _sha(p)[:8] for p in PHONES}
    assert not unkeyed & set(customers)
    assert set(customers) == {"customer-" + _sha(salt + p)[:8] for p in PHONES}
    # SQL (exports) and Python (role-filtered answers) agree on agents under the key
    exported = _exported_agents(store, tmp_path / "k.csv")
    assert exported == {pseudonym(a) for a in PHONES.values()}
    assert not exported & {"agent-" + _sha(a)[:6] for a in PHONES.values()}
    # retention's stand-in is keyed too, and a key it already replaced stays as written
    assert _retained(store, "+447700900123") == "h:" + _sha(salt + "+447700900123")[:12]
    assert _retained(store, "h:0123456789ab") == "h:0123456789ab"
    # a different key gives different pseudonyms: the key, not the code, protects them
    monkeypatch.setenv(pseudonyms.DIGEST_KEY_ENV, KEY + "-other")
    assert set(_by_customer(store)).isdisjoint(customers)
