"""The typed query on the API and `convoscope export`: the same Query gives the same rows
through the file, the service and the filter form (#14, one query layer)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
from apidata import NOW, TOKEN

from convoscope import api
from store import browse
from store import query_views as qv
from store.db import Store
from store.query import Compare, Match, Measure, Query, Span
from tui.data import ApiSource, LocalSource

WEEK = Span(NOW - timedelta(days=7), NOW, "the last 7 days")


def test_filter_form_and_typed_query_agree(store: Store) -> None:
    """The TUI's form is a builder of the typed query: same rows, same count."""
    flt = browse.Filter(channel="call", queue=None, sentiment_max=1.0, since=WEEK.start, until=WEEK.end)
    q = Query(period=Span(WEEK.start, WEEK.end, ""), filters=(Match("channel", ("call",)), Compare("sentiment", "<=", 1.0)))
    assert flt.to_query() == q
    assert browse.count(store, flt) == browse.count(store, q) == qv.count(store, q) > 0
    assert browse.page(store, flt, limit=50).rows == browse.page(store, q, limit=50).rows


def test_api_pages_counts_and_answers_typed_queries(store: Store, served: api.ApiHandle) -> None:
    local = LocalSource(store, now=lambda: NOW)
    remote = ApiSource(served.url, TOKEN, now=lambda: NOW)
    q = Query(period=WEEK, filters=(Match("flag", ("angry",)), Match("queue", ("billing",), negate=True)))
    try:
        assert remote.count(q) == local.count(q) == qv.count(store, q) > 0
        assert remote.page(q, limit=20).rows == local.page(q, limit=20).rows
    finally:
        remote.close()
    h = {"Authorization": f"Bearer {TOKEN}"}
    ranking = Query(subject="agents", view="ranking", period=WEEK, filters=(Match("flag", ("angry",)),), limit=3)
    r = httpx.post(f"{served.url}/api/query", headers=h, json={"query": ranking.to_dict()})
    assert r.status_code == 200, r.text
    body = r.json()
    want = qv.aggregate(store, ranking)
    assert body["intent"] == "ranking" and [it["agent"] for it in body["items"]] == [x["agent"] for x in want.rows]
    assert Query.from_dict(body["query"]) == ranking
    bad = httpx.post(f"{served.url}/api/query", headers=h, json={"query": {"view": "nonsense"}})
    assert bad.status_code == 400 and "view must be one of" in bad.json()["error"]
    naive = ranking.to_dict()
    naive["period"]["start"] = "2026-03-01T00:00:00"
    r = httpx.post(f"{served.url}/api/interactions/count", headers=h, json={"query": naive})
    assert r.status_code == 400 and "time zone" in r.json()["error"]


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_export_command_takes_a_typed_query(tmp_path: Path, base_db: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from convoscope.cli import main

    monkeypatch.delenv(api.TOKEN_ENV, raising=False)
    db = tmp_path / "e.duckdb"
    shutil.copyfile(base_db, db)
    q = Query(period=WEEK, filters=(Match("channel", ("call",)), Compare("duration", ">", 300)),
              measures=(Measure("count"),))  # fmt: skip
    out = tmp_path / "long.csv"
    # the `query` key of `ask --json` output is accepted as is
    (tmp_path / "q.json").write_text(json.dumps({"question": "long calls", "query": q.to_dict()}))
    assert main(["--db", str(db), "export", str(out), "--query", f"@{tmp_path / 'q.json'}", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    owner = Store.open(db)
    try:
        n = qv.count(owner, q)
    finally:
        owner.close()
    assert got["rows"] == n > 0
    rows = duckdb.connect().execute(f"SELECT min(duration), count(*) FROM read_csv_auto('{out}')").fetchone()
    assert rows is not None and rows[0] > 300 and rows[1] == n
    assert main(["--db", str(db), "export", str(out), "--query", "{\"view\": \"x\"}"]) == 2
    assert "not a typed query" in capsys.readouterr().err
    assert main(["--db", str(db), "export", str(out), "--channel", "call", "--query", json.dumps(q.to_dict())]) == 2
