"""The service API: token on every route, loopback by default, the same answers as the
file, reviews persisted and audited, the state file, and the TUI running against it."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import httpx
import pytest
from apidata import NOW, TOKEN

from convoscope import api
from convoscope.commands import tui as tui_cmd
from convoscope.context import Context, UserError
from store import audit, browse
from store import flags as flags_mod
from store.db import Store
from tui.data import ApiSource, LocalSource


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_every_route_needs_the_token(store: Store, served: api.ApiHandle) -> None:
    client = httpx.Client(base_url=served.url)
    routes = [("GET", "/api/health"), ("GET", "/api/dashboard"), ("POST", "/api/interactions/page"),
              ("GET", "/api/interactions/1"), ("GET", "/api/search?q=refund"),
              ("GET", "/api/review-queue"), ("POST", "/api/flags/1/review"), ("GET", "/api/agents"),
              ("GET", "/api/topics"), ("GET", "/api/choices"), ("POST", "/api/export"),
              ("GET", "/api/nonexistent")]
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            r = client.request(method, path, headers=headers, json={})
            assert r.status_code == 401, (method, path, headers)
            assert r.headers["www-authenticate"] == "Bearer"
    ok = client.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["ok"] is True
    # nothing was reviewed by the refused POSTs
    assert audit.recent(store, 5) == []


def test_empty_token_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="token"):
        api.create_app(store, "")


def test_loopback_only_unless_allowed(store: Store) -> None:
    assert api.is_loopback("127.0.0.1") and api.is_loopback("::1") and api.is_loopback("localhost")
    assert not api.is_loopback("0.0.0.0") and not api.is_loopback("10.1.2.3")
    for host in ("0.0.0.0", "10.1.2.3"):
        with pytest.raises(ValueError, match="non-loopback"):
            api.serve_api(store, host, 0, TOKEN)
    handle = api.serve_api(store, "0.0.0.0", 0, TOKEN, allow_remote=True)
    try:
        r = httpx.get(f"http://127.0.0.1:{handle.port}/api/health",
                      headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
    finally:
        handle.stop()


def test_served_api_answers_like_the_file(store: Store, served: api.ApiHandle) -> None:
    local = LocalSource(store, now=lambda: NOW)
    remote = ApiSource(served.url, TOKEN, now=lambda: NOW)
    try:
        assert remote.dashboard() == local.dashboard()
        flt = browse.Filter(channel="call", sentiment_max=1.0)
        p_local, p_remote = local.page(flt, limit=25), remote.page(flt, limit=25)
        assert p_remote.rows == p_local.rows  # `after` is an opaque cursor (JSON over HTTP)
        # the keyset cursor survives the JSON round trip (timestamps stay timestamps)
        assert remote.page(flt, limit=25, after=p_remote.after).rows == local.page(flt, limit=25, after=p_local.after).rows
        for sort in ("sentiment", "duration", "agent"):
            a = local.page(flt, sort=sort, limit=10)
            assert remote.page(flt, sort=sort, limit=10).rows == a.rows
            assert remote.page(flt, sort=sort, limit=10, after=a.after).rows == local.page(flt, sort=sort, limit=10, after=a.after).rows
        assert remote.count(flt) == local.count(flt)
        iid = p_local.rows[0].id
        assert remote.detail(iid) == local.detail(iid)
        assert remote.detail(10**9) is None
        s_local, s_remote = local.search("refund"), remote.search("refund")
        assert [h.interaction_id for h in s_remote.hits] == [h.interaction_id for h in s_local.hits]
        assert s_remote.hits[0] == s_local.hits[0]
        assert remote.review_queue(order="oldest") == local.review_queue(order="oldest")
        assert remote.agents(days=7) == local.agents(days=7)
        assert remote.topics() == local.topics()
        assert remote.choices() == local.choices()
    finally:
        remote.close()


def test_unknown_interaction_is_404_and_bad_input_400(store: Store, served: api.ApiHandle) -> None:
    h = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{served.url}/api/interactions/999999", headers=h).status_code == 404
    r = httpx.post(f"{served.url}/api/interactions/page", headers=h, json={"sort": "nope"})
    assert r.status_code == 400 and "sort must be one of" in r.json()["error"]
    r = httpx.post(f"{served.url}/api/flags/1/review", headers=h,
                   json={"status": "maybe", "rev": 0})
    assert r.status_code == 400
    r = httpx.post(f"{served.url}/api/flags/999999/review", headers=h,
                   json={"status": "confirmed", "rev": 0})
    assert r.status_code == 404
    # a review must say which state it was made against
    r = httpx.post(f"{served.url}/api/flags/1/review", headers=h, json={"status": "confirmed"})
    assert r.status_code == 400 and "rev" in r.json()["error"]
    r = httpx.post(f"{served.url}/api/export", headers=h, json={"path": "relative.csv"})
    assert r.status_code == 400


def test_export_never_overwrites_or_writes_other_kinds_of_file(
    served: api.ApiHandle, tmp_path: Path
) -> None:
    h = {"Authorization": f"Bearer {TOKEN}"}
    precious = tmp_path / "precious.csv"
    precious.write_text("keep me")
    for body in ({"path": str(precious)},
                 {"path": str(tmp_path / "x.sh"), "format": "csv"},
                 {"path": str(tmp_path / "nowhere" / "x.csv")}):
        r = httpx.post(f"{served.url}/api/export", headers=h, json=body)
        assert r.status_code == 400, body
    assert precious.read_text() == "keep me"
    assert not (tmp_path / "x.sh").exists()
    r = httpx.post(f"{served.url}/api/export", headers=h, json={"path": str(tmp_path / "new.csv")})
    assert r.status_code == 200 and (tmp_path / "new.csv").stat().st_size > 0


def test_review_through_the_api_is_persisted_and_audited(store: Store, served: api.ApiHandle) -> None:
    from store import users

    _user, token = users.add(store, "ana", "supervisor")
    # the reviewer is the token's user: a name in the client (or the body) changes nothing
    remote = ApiSource(served.url, token, now=lambda: NOW, reviewer="mallory")
    try:
        queue = remote.review_queue()
        target = queue[0]
        res = remote.review(target.flag_id, "dismissed", "duplicate", target.review_rev)
        assert (res.review_status, res.reviewer, res.review_reason) == ("dismissed", "api:ana", "duplicate")
        stored = flags_mod.get(store, target.flag_id)
        assert stored is not None and stored.review_status == "dismissed" and stored.reviewer == "api:ana"
        entry = audit.recent(store, 1, action="review.dismissed")[0]
        assert entry["target"] == f"flag:{target.flag_id}" and entry["actor"] == "api:ana"
        assert entry["detail"] == {"from": "open", "to": "dismissed", "reason": "duplicate", "via": "api",
                                   "role": "supervisor", "rev": 1, "contested": False}
        assert target.flag_id not in {q.flag_id for q in remote.review_queue()}
    finally:
        remote.close()


def test_export_through_the_api(store: Store, served: api.ApiHandle, tmp_path: Path) -> None:
    remote = ApiSource(served.url, TOKEN, now=lambda: NOW)
    seen: list[float | None] = []
    try:
        out = tmp_path / "emails.parquet"
        n = remote.export(browse.Filter(channel="email"), str(out), "parquet", progress=seen.append)
    finally:
        remote.close()
    assert n == browse.count(store, browse.Filter(channel="email")) and out.exists()
    assert seen == [None]  # indeterminate progress over HTTP


def test_state_file_round_trip(store: Store, served: api.ApiHandle, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert api.read_state(db) is None
    p = api.write_state(db, served)
    assert p == api.state_path(db) and oct(p.stat().st_mode & 0o777) == "0o600"
    st = api.read_state(db)
    assert st is not None and st.url == served.url and st.token == TOKEN and st.pid == os.getpid()
    api.remove_state(db)
    assert api.read_state(db) is None
    # a state file left behind by a dead process is ignored
    api.write_state(db, served)
    data = p.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999')
    p.write_text(data)
    assert api.read_state(db) is None


def _args(**kw: object) -> argparse.Namespace:
    base = {"api": None, "token": None, "file": False, "screen": None, "light": False, "dark": False,
            "read_only": False}
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_tui_command_picks_the_service_or_the_file(tmp_path: Path, base_db: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(api.TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "svc.duckdb"
    shutil.copyfile(base_db, db)
    ctx = Context(db_override=str(db))
    try:
        src = tui_cmd.make_source(_args(), ctx)
        assert isinstance(src, LocalSource)  # no service advertised: the file itself
    finally:
        ctx.close()
    owner = Store.open(db)
    handle = api.serve_api(owner, "127.0.0.1", 0, TOKEN)
    api.write_state(db, handle)
    try:
        ctx = Context(db_override=str(db))
        src = tui_cmd.make_source(_args(), ctx)
        assert isinstance(src, ApiSource) and src.base_url == handle.url
        assert src.dashboard().total_today >= 0
        src.close()
        with pytest.raises(UserError, match="needs a token"):
            tui_cmd.make_source(_args(api=handle.url), Context(db_override=str(db)))
        monkeypatch.setenv(api.TOKEN_ENV, TOKEN)
        src = tui_cmd.make_source(_args(api=handle.url), Context(db_override=str(db)))
        assert isinstance(src, ApiSource)
        src.close()
    finally:
        handle.stop()
        api.remove_state(db)
        owner.close()


@pytest.mark.anyio
async def test_tui_review_flow_against_the_running_service(store: Store, served: api.ApiHandle) -> None:
    from textual.widgets import DataTable

    from tui.app import ConvoscopeApp
    from tui.screens.review import ReviewScreen

    remote = ApiSource(served.url, TOKEN, now=lambda: NOW, reviewer="via-api")
    app = ConvoscopeApp(remote, start="review")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        assert isinstance(app.screen, ReviewScreen)
        table = app.screen.query_one(DataTable)
        first = int(str(table.get_row_at(0)[0]))
        await pilot.press("c")
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        assert str(first) not in [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    f = flags_mod.get(store, first)
    # the service token acts as admin (backward compatible), recorded as such
    assert f is not None and f.review_status == "confirmed" and f.reviewer == "api:service-token"
    assert audit.recent(store, 1)[0]["detail"]["via"] == "api"


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_export_command_file_and_service(tmp_path: Path, base_db: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from convoscope.cli import main

    monkeypatch.delenv(api.TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "e.duckdb"
    shutil.copyfile(base_db, db)
    out = tmp_path / "calls.csv"
    assert main(["--db", str(db), "export", str(out), "--channel", "call", "--json"]) == 0
    got = capsys.readouterr().out
    owner = Store.open(db)
    try:
        n = browse.count(owner, browse.Filter(channel="call"))
        assert f'"rows": {n}' in got and out.exists()
        handle = api.serve_api(owner, "127.0.0.1", 0, TOKEN)
        api.write_state(db, handle)
        try:
            pq = tmp_path / "angry.parquet"
            assert main(["--db", str(db), "export", str(pq), "--flag-kind", "angry_customer"]) == 0
            assert "written to" in capsys.readouterr().out and pq.exists()
        finally:
            handle.stop()
            api.remove_state(db)
    finally:
        owner.close()
    assert main(["--db", str(db), "export", str(tmp_path / "x.txt")]) == 2
    assert "--format" in capsys.readouterr().err


def test_port_in_use_is_a_clear_error(store: Store, served: api.ApiHandle) -> None:
    with pytest.raises(RuntimeError, match="could not start"):
        api.serve_api(store, "127.0.0.1", served.port, TOKEN)
