"""A full vendor sync through chaos: random 5xx, 429s, slow answers and timeouts, bodies
cut mid-transfer, 200s that are not JSON (or truncated JSON) and dropped connections.

The invariant, per vendor: the sync is re-run (as `serve` re-runs ingest) until a run
ends without errors; then the stored conversations equal a clean sync's of the same
data — the same external ids, each once; the same turns (seq, speaker, name, time,
text), subject, agent, customer, queue, times, direction and content hash; the same
version (1: re-reading a page is idempotent, never a new version); nothing lost. The
quarantine may record what failed along the way only for items that are stored in the
end, and none may be left when the runs settle: a page or conversation that loaded on
a later run is cleared from it. No run gives an item up (that would lose it).

Fast by default (small data, short timeouts and backoffs through `RetryOptions`, waits
recorded and capped at 20 ms); the heavier variant with more data and faults is `slow`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from vendors import CHAOS_KINDS, FrontFake, IntercomFake, VendorFake, ZendeskFake

from connectors.chat.front import FrontSource
from connectors.chat.intercom import IntercomSource
from connectors.chat.options import FrontOptions, IntercomOptions, ZendeskOptions
from connectors.chat.zendesk import ZendeskSource
from connectors.http import RetryOptions
from store import Store
from store import quarantine as quarantine_q

HTTP = RetryOptions(timeout_seconds=0.3, max_attempts=6, backoff_initial_seconds=0.01,
                    backoff_max_seconds=0.05, max_total_wait_seconds=10)  # fmt: skip
MAX_RUNS = 40


def _nap(waits: list[float]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.02))

    return sleep


def _make(vendor: str) -> VendorFake:
    if vendor == "zendesk":
        return ZendeskFake(comments_per_page=2)
    if vendor == "intercom":
        return IntercomFake()
    return FrontFake(messages_per_page=2)


def _source(vendor: str, fake: Any, sleep: Callable[[float], None]) -> Any:
    common = {"name": "acme", "base_url": fake.url, "page_size": 4, "concurrency": 3, "http": HTTP}
    if vendor == "zendesk":
        return ZendeskSource(ZendeskOptions(email=fake.email, api_token=fake.token, **common), sleep=sleep)
    if vendor == "intercom":
        return IntercomSource(IntercomOptions(access_token=fake.token, **common), sleep=sleep)
    return FrontSource(FrontOptions(api_token=fake.token, **common), sleep=sleep)


def _expected_ids(vendor: str, fake: Any) -> set[str]:
    if vendor == "zendesk":
        return {str(t) for t in fake.tickets}
    return set(fake.conversations)


def snapshot(store: Store, source: str) -> dict[str, Any]:
    """Everything a sync stores about each conversation, keyed by external id (row ids,
    ingest times and the vendor-side updated_at metadata left out)."""
    out: dict[str, Any] = {}
    for r in store.conn.execute(
        "SELECT id, external_id, version, started_at, ended_at, agent, customer, customer_key, queue, "
        "direction, subject, content_hash, raw_ref FROM interactions WHERE source = ? ORDER BY external_id",
        [source],
    ).fetchall():
        turns = store.conn.execute(
            "SELECT seq, speaker, speaker_name, sent_at, text FROM turns WHERE interaction_id = ? ORDER BY seq",
            [r[0]],
        ).fetchall()
        out[r[1]] = (r[2:], turns)
    return out


def _sync_until_clean(src: Any, store: Store) -> tuple[int, list[str]]:
    errors: list[str] = []
    for run in range(1, MAX_RUNS + 1):
        report = src.sync(store)
        errors += report.errors
        if not report.errors:
            return run, errors
    raise AssertionError(f"the sync did not settle in {MAX_RUNS} runs: {errors[-5:]}")


def _check(vendor: str, tmp_path: Path, *, n: int, seed: int, rate: float, max_faults: int) -> dict[str, Any]:
    fake = _make(vendor)
    with fake:
        fake.populate(n, parts=5)
        waits: list[float] = []
        source = f"{vendor}:acme"
        with Store.open(tmp_path / f"clean-{seed}.duckdb") as clean:
            src = _source(vendor, fake, _nap(waits))
            report = src.sync(clean)
            src.close()
            assert report.errors == [] and report.inserted == n
            want = snapshot(clean, source)
        fake.chaos(seed=seed, rate=rate, max_faults=max_faults, hang_seconds=0.5, slow_seconds=0.1)
        with Store.open(tmp_path / f"chaos-{seed}.duckdb") as store:
            src = _source(vendor, fake, _nap(waits))
            runs, errors = _sync_until_clean(src, store)
            src.close()
            got = snapshot(store, source)
            dupes = store.conn.execute(
                "SELECT external_id FROM interactions GROUP BY source, external_id HAVING count(*) > 1"
            ).fetchall()
            left = quarantine_q.list_items(store, source, limit=10_000)
    faults = dict(fake.chaos_faults)
    print(f"\n{vendor} seed {seed}: {sum(faults.values())} faults {faults}, {runs} runs, "
          f"{len(errors)} run errors, {len(got)}/{n} stored")  # fmt: skip
    assert not any("gave up" in e for e in errors), errors
    assert dupes == []
    assert set(got) == _expected_ids(vendor, fake), errors  # nothing lost, nothing extra
    assert got == want  # same turns and fields as the clean sync
    assert left == [], [(q.item_key, q.reason) for q in left]
    if faults.get("429"):
        assert 1.0 in waits  # the chaos 429s' Retry-After: 1 was honoured
    return {"faults": faults, "runs": runs, "errors": errors}


@pytest.mark.parametrize("vendor", ["zendesk", "intercom", "front"])
def test_sync_through_chaos_stores_what_a_clean_sync_stores(vendor: str, tmp_path: Path) -> None:
    result = _check(vendor, tmp_path, n=40, seed=4, rate=0.35, max_faults=25)
    faults = result["faults"]
    # the sync really went through chaos: every fault the budget allows, every kind of it
    assert sum(faults.values()) == 25 and set(faults) == set(CHAOS_KINDS)


#: seeds of the heavy run: one in `make test`, $CONVOSCOPE_CHAOS_SEEDS (six) in `make soak`
HEAVY_SEEDS = list(range(1, 1 + int(os.environ.get("CONVOSCOPE_CHAOS_SEEDS") or 1)))


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["zendesk", "intercom", "front"])
@pytest.mark.parametrize("seed", HEAVY_SEEDS)
def test_sync_through_heavy_chaos(vendor: str, seed: int, tmp_path: Path) -> None:
    result = _check(vendor, tmp_path, n=120, seed=seed, rate=0.4, max_faults=150)
    assert sum(result["faults"].values()) >= 60


def test_chaos_is_seeded_and_bounded() -> None:
    """The same seed gives the same faults to the same sequence of requests; the count
    and time budgets end it."""
    import base64

    import httpx

    def answers(fake: ZendeskFake, **kw: Any) -> list[str]:
        fake.chaos(**kw)
        auth = base64.b64encode(f"{fake.email}/token:{fake.token}".encode()).decode()
        out = []
        for _ in range(10):
            try:
                r = httpx.get(f"{fake.url}/api/v2/groups.json", headers={"Authorization": f"Basic {auth}"})
                out.append(str(r.status_code))
            except httpx.TransportError:
                out.append("drop")
        return out

    kinds = ("500", "503", "429", "drop")
    with ZendeskFake() as a, ZendeskFake() as b:
        first = answers(a, seed=5, rate=1.0, max_faults=6, kinds=kinds)
        assert first == answers(b, seed=5, rate=1.0, max_faults=6, kinds=kinds)
        assert all(x != "200" for x in first[:6]) and first[6:] == ["200"] * 4
        assert sum(a.chaos_faults.values()) == 6
        assert answers(a, seed=5, rate=1.0, max_faults=6, kinds=kinds, max_seconds=0) == ["200"] * 10
