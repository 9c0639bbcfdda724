"""store.browse and store.search on a generated store: paging, filters, FTS upkeep."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from scriptload import load_script

from store import browse, search
from store import interactions as interactions_mod
from store.backend import LakeTarget
from store.db import Store
from store.migrate import copy_store
from store.records import Interaction, Turn, content_hash

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gen = load_script("bench/generate_store.py")
    path = tmp_path_factory.mktemp("browse") / "base.duckdb"
    rep = gen.generate(path, 250, seed=11, now=NOW, agents=8, chunk=100)
    assert rep.interactions == 250 and rep.turns > 250 and rep.flags > 0
    return path


@pytest.fixture(scope="module")
def base_lake(base_db: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LakeTarget:
    """base_db copied into a lake once (through migrate-store's copy); tests get clones."""
    pg = request.getfixturevalue("pg")
    data = str(tmp_path_factory.mktemp("lake") / "base.lake")
    target = LakeTarget(pg.catalog(pg.clone_db(request.getfixturevalue("lake_template"), data)), data)
    with Store.open(target) as st:
        assert copy_store(base_db, st).ok
    return target


@pytest.fixture
def store(base_db: Path, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    if backend == "duckdb":
        dst = tmp_path / "s.duckdb"
        shutil.copyfile(base_db, dst)
        st = Store.open(dst)
    else:
        # A catalog clone shares the base lake's data folder: DuckLake never rewrites a
        # data file (new writes are new files), so the clones cannot disturb each other.
        base: LakeTarget = request.getfixturevalue("base_lake")
        pg = request.getfixturevalue("pg")
        db = base.catalog.split()[0].removeprefix("dbname=")
        st = Store.open(LakeTarget(pg.catalog(pg.clone_db(db, base.data_path)), base.data_path))
    yield st
    st.close()


def _all_pages(store: Store, flt: browse.Filter, sort: str, desc: bool, limit: int = 17) -> list[browse.InteractionRow]:
    rows: list[browse.InteractionRow] = []
    after = None
    while True:
        p = browse.page(store, flt, sort=sort, descending=desc, limit=limit, after=after)
        rows += p.rows
        if p.after is None:
            return rows
        after = p.after


@pytest.mark.parametrize("sort", sorted(browse.SORT_KEYS))
@pytest.mark.parametrize("desc", [True, False])
def test_keyset_pages_cover_every_row_once_in_order(store: Store, sort: str, desc: bool) -> None:
    rows = _all_pages(store, browse.Filter(), sort, desc)
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    expected = 250 if sort != "sentiment" else store.conn.execute(
        "SELECT count(*) FROM scores WHERE sentiment IS NOT NULL").fetchone()[0]
    assert len(ids) == expected
    key = {"started_at": lambda r: (r.started_at, r.id), "sentiment": lambda r: (r.sentiment, r.id),
           "duration": lambda r: (r.duration, r.id), "agent": lambda r: (r.agent, r.id),
           "id": lambda r: r.id}[sort]
    assert rows == sorted(rows, key=key, reverse=desc)


def test_filters_agree_with_count_and_sql(store: Store) -> None:
    agent = store.conn.execute("SELECT agent FROM interactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    cases = [
        browse.Filter(channel="chat"),
        browse.Filter(agent=agent, sentiment_min=-1.0),
        browse.Filter(flag_kind="angry_customer"),
        browse.Filter(review_status="open", channel="call"),
        browse.Filter(topic="billing dispute", since=NOW - timedelta(days=7), until=NOW),
        browse.Filter(cluster_id=1),
        browse.Filter(ids=[1, 2, 3, 999999]),
    ]
    for flt in cases:
        rows = _all_pages(store, flt, "started_at", True, limit=40)
        assert len(rows) == browse.count(store, flt) > 0, flt
        assert len(rows) == len({r.id for r in rows})
        for r in rows:
            if flt.channel:
                assert r.channel == flt.channel
            if flt.agent:
                assert r.agent == flt.agent
            if flt.sentiment_min is not None:
                assert r.sentiment is not None and r.sentiment >= flt.sentiment_min
            if flt.flag_kind:
                assert r.flags >= 1
            if flt.topic:
                assert r.topic == flt.topic and NOW - timedelta(days=7) <= r.started_at < NOW  # type: ignore[operator]
    sorted_by_sent = browse.page(store, browse.Filter(topic="outage", channel="call"), sort="sentiment", limit=5)
    assert all(r.topic == "outage" and r.channel == "call" for r in sorted_by_sent.rows)
    with pytest.raises(ValueError, match="sort must be one of"):
        browse.page(store, sort="nope")


def test_dashboard_numbers_match_sql(store: Store) -> None:
    d = browse.dashboard(store, NOW, "UTC")
    today0 = datetime(2026, 3, 10, tzinfo=UTC)
    n_today = store.conn.execute(
        "SELECT count(*) FROM interactions WHERE started_at >= ? AND started_at < ?",
        [today0, today0 + timedelta(days=1)]).fetchone()[0]
    assert d.total_today == n_today == d.series.volume[-1]
    assert len(d.series.days) == 14 and d.series.days[-1] == today0.date()
    open_total = store.conn.execute("SELECT count(*) FROM flags WHERE active AND review_status = 'open'").fetchone()[0]
    assert sum(i.n for i in d.open_flags) == open_total
    # Another time zone moves the day boundary.
    d_tokyo = browse.dashboard(store, NOW, "Asia/Tokyo")
    assert d_tokyo.today.isoformat() == "2026-03-11"


def test_detail_queue_agents_topics(store: Store) -> None:
    fid, iid = store.conn.execute(
        "SELECT id, interaction_id FROM flags WHERE review_status = 'open' ORDER BY id LIMIT 1").fetchone()
    d = browse.detail(store, iid)
    assert d is not None and d.turns and fid in [f.id for f in d.flags]
    assert all(t.redacted_text is not None for t in d.turns)
    assert browse.detail(store, 10**9) is None
    q = browse.review_queue(store)
    sev = [x.severity for x in q]
    assert sev == sorted(sev, reverse=True)
    oldest = browse.review_queue(store, order="oldest")
    assert [x.created_at for x in oldest] == sorted(x.created_at for x in oldest)  # type: ignore[type-var]
    sc = browse.agents(store, NOW, 30)
    assert sc.team.interactions == sum(a.interactions for a in sc.agents)
    tv = browse.topics(store, NOW)
    assert tv.topics and all(len(t.daily) == 14 for t in tv.topics)
    assert tv.clusters and tv.clusters[0].label


def test_export_csv_and_parquet(store: Store, tmp_path: Path) -> None:
    flt = browse.Filter(channel="email")
    n = browse.count(store, flt)
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"x.{fmt}"
        assert browse.export_to(store, str(out), fmt, flt) == n
        reader = "read_csv_auto" if fmt == "csv" else "read_parquet"
        assert duckdb.sql(f"SELECT count(*) FROM {reader}('{out}') WHERE channel = 'email'").fetchone()[0] == n
    with pytest.raises(ValueError, match="csv or parquet"):
        browse.export_to(store, str(tmp_path / "x.json"), "json")


def _add_analysed(store: Store, ext: str, text: str, redacted: str, when: datetime) -> int:
    it = Interaction(channel="chat", source="test", external_id=ext, content_hash=content_hash(ext, text),
                     started_at=when, agent="Zed", turns=[Turn(seq=0, speaker="customer", text=text)])
    iid = interactions_mod.upsert(store, [it]).ids[0]
    store.conn.execute("DELETE FROM scores WHERE interaction_id = ?", [iid])
    store.conn.execute("DELETE FROM turn_scores WHERE interaction_id = ?", [iid])
    store.conn.execute("INSERT INTO scores (interaction_id, version, analysed_at, sentiment) VALUES (?, 1, ?, 0)",
                       [iid, when])
    store.conn.execute("INSERT INTO turn_scores (interaction_id, seq, redacted_text) VALUES (?, 0, ?)", [iid, redacted])
    return iid


def test_search_index_upkeep_and_pending_documents(store: Store) -> None:
    assert search.fts_extension_path() is not None  # shipped in the wheel
    first = search.refresh_search_index(store)
    assert first.rebuilt and first.added == 250 and first.indexed == 250
    again = search.refresh_search_index(store)
    assert (again.added, again.rebuilt) == (0, False)
    res = search.search(store, "manager")
    assert res.method == "fts" and res.hits
    assert all("manager" in h.snippet.lower() for h in res.hits)
    h = res.hits[0]
    assert h.snippet[h.spans[0][0]:h.spans[0][1]].lower().startswith("manager")
    assert [x.score for x in res.hits] == sorted((x.score for x in res.hits), reverse=True)
    # A new interaction analysed after the rebuild is found before the next rebuild.
    iid = _add_analysed(store, "new-1", "the zeppelin voucher 555-0199 failed",
                        "the zeppelin voucher [PII] failed", NOW)
    rep = search.refresh_search_index(store)
    assert (rep.added, rep.pending, rep.rebuilt) == (1, 1, False)
    res = search.search(store, "zeppelin voucher")
    assert res.method == "fts+pending" and res.hits[0].interaction_id == iid
    assert "[PII]" in res.hits[0].snippet and "0199" not in res.hits[0].snippet
    assert not search.search(store, "0199").hits  # raw PII is never indexed
    # Re-analysed with new text: the old words stop matching, the new ones match.
    store.conn.execute("UPDATE turn_scores SET redacted_text = 'a quokka complaint' WHERE interaction_id = ?", [iid])
    store.conn.execute("UPDATE scores SET analysed_at = ? WHERE interaction_id = ?", [NOW + timedelta(hours=1), iid])
    rep = search.refresh_search_index(store, force=True)
    assert rep.rebuilt and rep.pending == 0
    assert not search.search(store, "zeppelin").hits
    res = search.search(store, "quokka")
    assert res.method == "fts" and [x.interaction_id for x in res.hits] == [iid]


def test_scan_fallback_finds_the_same_documents(store: Store) -> None:
    search.refresh_search_index(store)
    for q in ("password", "outage money"):
        fts = search.search(store, q, limit=1000)
        scan = search.search(store, q, limit=1000, method="scan")
        assert scan.method == "scan"
        assert {h.interaction_id for h in fts.hits} == {h.interaction_id for h in scan.hits}
    chats = search.search(store, "refund", channel="chat")
    assert chats.hits and {h.channel for h in chats.hits} == {"chat"}
    assert search.search(store, "the and of").hits == []
