"""The names questions are linked against come from the store (distinct agents, queues,
topics, cluster labels, customers) and are cached for a short TTL per database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import Store, entities
from store import interactions as iq
from store.records import Interaction, Turn


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "t.duckdb")
    entities.forget()
    yield s
    entities.forget()
    s.close()


def _call(ext: str, agent: str, queue: str, customer: str) -> Interaction:
    return Interaction(
        channel="call", source="test", external_id=ext, content_hash=f"h:{ext}", agent=agent, queue=queue,
        started_at=datetime(2026, 11, 20, 9, tzinfo=UTC), customer=customer, customer_key=customer,
        turns=[Turn(0, "customer", "hello")],
    )  # fmt: skip


def test_distinct_values_from_the_store(store: Store) -> None:
    iq.upsert(store, [_call("1", "Maria Lopez", "billing", "a@example.com"),
                      _call("2", "José Núñez", "billing", "a@example.com"),
                      _call("3", "Maria Lopez", "Premium Support", "+13125550147")])  # fmt: skip
    store.cursor().execute("INSERT INTO clusters (id, label, size) VALUES (7, 'double charged on invoice', 3)")
    v = entities.load(store)
    assert v.agents == ("José Núñez", "Maria Lopez")
    assert v.queues == ("Premium Support", "billing")
    assert v.clusters == (("7", "double charged on invoice"),)
    assert v.customers == ()  # personal data, and too many: typed keys are recognised without a list


def test_cache_reuses_values_within_the_ttl(store: Store) -> None:
    clock = [100.0]
    iq.upsert(store, [_call("1", "Maria Lopez", "billing", "a@example.com")])
    first = entities.cached(store, 60, clock=lambda: clock[0])
    iq.upsert(store, [_call("2", "Tom Becker", "sales", "b@example.com")])
    clock[0] += 30
    assert entities.cached(store, 60, clock=lambda: clock[0]) is first  # not re-read
    clock[0] += 31
    # expired: the old values at once, the new ones read in the background
    assert entities.cached(store, 60, clock=lambda: clock[0]) is first
    thread = entities.refreshing(store)
    assert thread is not None
    thread.join(10)
    again = entities.cached(store, 60, clock=lambda: clock[0])
    assert again is not first and "Tom Becker" in again.agents and "sales" in again.queues


def test_fixture_form(store: Store) -> None:
    v = entities.EntityValues.from_dict({
        "agents": [{"name": "Robert Hughes", "aliases": ["Bob"]}, "1042"],
        "clusters": [{"id": "3", "label": "router keeps disconnecting"}],
        "customers": [{"key": "+13125550147", "spoken": ["(312) 555-0147"]}],
    })  # fmt: skip
    assert v.agents == ("Robert Hughes", "1042") and v.clusters == (("3", "router keeps disconnecting"),)
    assert ("agent", "Bob", "Robert Hughes") in v.aliases
    assert ("customer", "(312) 555-0147", "+13125550147") in v.aliases
