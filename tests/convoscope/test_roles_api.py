"""Roles on the API, TUI and CLI surfaces: per-user tokens, what each role may see and do,
reviews as the token's user with the optimistic check, and `convoscope review` / `users`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apidata import NOW, TOKEN

from convoscope import api
from convoscope.cli import main
from store import browse, outbound, reviews, users
from store.db import Store
from store.permissions import Identity, pseudonym
from tui.data import ApiSource, DataSourceError, LocalSource

ROLES = ("admin", "supervisor", "analyst", "viewer", "agent")


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    agent = store.cursor().execute("SELECT agent FROM interactions WHERE agent IS NOT NULL LIMIT 1").fetchone()[0]
    return {r: users.add(store, f"{r}-user", r, agent=agent if r == "agent" else None)[1] for r in ROLES}


def _get(served: api.ApiHandle, token: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.get(f"{served.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw)


def _post(served: api.ApiHandle, token: str, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{served.url}{path}", headers={"Authorization": f"Bearer {token}"}, json=body, timeout=30)


def _an_interaction_with_pii(store: Store) -> int:
    row = store.cursor().execute(
        "SELECT t.interaction_id FROM turns t JOIN turn_scores ts USING (interaction_id, seq) "
        "WHERE ts.redacted_text IS NOT NULL AND ts.redacted_text <> t.text LIMIT 1").fetchone()
    assert row, "the generated store has redacted PII"
    return int(row[0])


def test_api_what_each_role_may_see_and_do(store: Store, served: api.ApiHandle,
                                           tokens: dict[str, str], tmp_path: Path) -> None:
    iid = _an_interaction_with_pii(store)
    raw = browse.detail(store, iid)
    assert raw is not None
    # expected HTTP status per role for each route (written out, not derived from the table)
    routes = {
        "dashboard": (lambda t: _get(served, t, "/api/dashboard"), [200, 200, 200, 200, 403]),
        "page": (lambda t: _post(served, t, "/api/interactions/page", {"limit": 5}), [200, 200, 200, 403, 403]),
        "detail": (lambda t: _get(served, t, f"/api/interactions/{iid}"), [200, 200, 200, 403, 403]),
        "agents": (lambda t: _get(served, t, "/api/agents", params={"now": NOW.isoformat()}),
                   [200, 200, 200, 403, 403]),
        "queue": (lambda t: _get(served, t, "/api/review-queue"), [200, 200, 200, 403, 403]),
        "users": (lambda t: _get(served, t, "/api/users"), [200, 403, 403, 403, 403]),
    }
    for name, (call, expected) in routes.items():
        got = [call(tokens[r]).status_code for r in ROLES]
        assert got == expected, name
    # what the detail shows: admins the original text and customer, supervisors redacted text
    # and agent names, analysts redacted text and pseudonyms
    det = {r: _get(served, tokens[r], f"/api/interactions/{iid}").json()["interaction"]
           for r in ("admin", "supervisor", "analyst")}
    texts = {r: [t["text"] for t in d["turns"]] for r, d in det.items()}
    # One boundary (issue #12): the API sends redacted text to every role, admins included;
    # original text is only reachable through store.outbound.original_turns (TUI on the file)
    assert texts["admin"] == texts["supervisor"] == texts["analyst"] == [t.redacted_text for t in raw.turns]
    originals = [t.text for t in outbound.original_turns(store, iid, actor="test", role="admin")]
    assert originals != texts["admin"]
    assert det["admin"]["customer"] == raw.customer and det["supervisor"]["customer"] is None
    assert det["supervisor"]["agent"] == raw.agent and det["analyst"]["agent"] == pseudonym(raw.agent)
    agents = _get(served, tokens["analyst"], "/api/agents", params={"now": NOW.isoformat()}).json()
    assert all(a["agent"].startswith("agent-") for a in agents["agents"]) and agents["team"]["agent"] == "team"
    # reviews: supervisors and admins only, as the token's user
    fid = int(store.cursor().execute("SELECT min(id) FROM flags WHERE review_status = 'open'").fetchone()[0])
    for r in ("analyst", "viewer", "agent"):
        assert _post(served, tokens[r], f"/api/flags/{fid}/review", {"status": "confirmed", "rev": 0}).status_code == 403
    r = _post(served, tokens["supervisor"], f"/api/flags/{fid}/review",
              {"status": "confirmed", "rev": 0, "reviewer": "somebody-else"})
    assert r.status_code == 200 and r.json()["reviewer"] == "api:supervisor-user"
    # a second review against the revision it saw is stale: 409 with the current state
    r = _post(served, tokens["admin"], f"/api/flags/{fid}/review", {"status": "dismissed", "reason": "x", "rev": 0})
    assert r.status_code == 409 and r.json()["current"]["review_status"] == "confirmed"
    assert "not applied" in r.json()["error"]
    # export: analysts' files carry pseudonyms; viewers may not export
    assert _post(served, tokens["viewer"], "/api/export", {"path": str(tmp_path / "v.csv")}).status_code == 403
    out = tmp_path / "a.csv"
    assert _post(served, tokens["analyst"], "/api/export", {"path": str(out)}).status_code == 200
    body = out.read_text()
    assert raw.agent not in body and pseudonym(raw.agent) in body
    # questions are answered for the token's role
    ask = {r: _post(served, tokens[r], "/api/ask", {"question": "angry calls in the last 30 days"}).json()
           for r in ("viewer", "analyst", "agent")}
    assert ask["viewer"]["items"] and set(ask["viewer"]["items"][0]) <= {"count", "by_channel"}
    assert all(it["agent"].startswith("agent-") for it in ask["analyst"]["items"])
    assert "own work" in ask["agent"]["text"]
    # a revoked token stops at once
    users.revoke(store, "supervisor-user")
    assert _get(served, tokens["supervisor"], "/api/dashboard").status_code == 401
    assert _get(served, "cvs_00000000_forged", "/api/dashboard").status_code == 401


def test_tui_sources_apply_the_same_roles(store: Store, served: api.ApiHandle,
                                          tokens: dict[str, str]) -> None:
    iid = _an_interaction_with_pii(store)
    analyst_api = ApiSource(served.url, tokens["analyst"], now=lambda: NOW)
    assert analyst_api.whoami() == Identity("api:analyst-user", "analyst")
    analyst_local = LocalSource(store, now=lambda: NOW, identity=Identity("local:al", "analyst"))
    try:
        assert analyst_api.detail(iid) == analyst_local.detail(iid)  # the same shaping either way
        d = analyst_local.detail(iid)
        assert d is not None and d.agent == pseudonym(browse.detail(store, iid).agent)  # type: ignore[union-attr]
        assert [t.text for t in d.turns] == [t.redacted_text for t in d.turns]
        assert analyst_local.choices()["agent"] == []
        with pytest.raises(DataSourceError, match="may not review"):
            analyst_local.review(1, "confirmed", None, 0)
    finally:
        analyst_api.close()
    viewer = LocalSource(store, now=lambda: NOW, identity=Identity("local:vic", "viewer"))
    assert viewer.dashboard().total_today >= 0
    with pytest.raises(DataSourceError, match="may not lists"):
        viewer.page(browse.Filter())
    viewer_api = ApiSource(served.url, tokens["viewer"], now=lambda: NOW)
    try:
        with pytest.raises(DataSourceError, match="403"):
            viewer_api.page(browse.Filter())
    finally:
        viewer_api.close()
    # a stale review from the TUI is refused with the current state
    sup = LocalSource(store, now=lambda: NOW, identity=Identity("local:sue", "supervisor"))
    item = sup.review_queue()[0]
    sup.review(item.flag_id, "dismissed", "not a complaint", item.review_rev)
    with pytest.raises(DataSourceError, match="dismissed by local:sue"):
        sup.review(item.flag_id, "confirmed", None, item.review_rev)


@pytest.fixture
def db(base_db: Path, tmp_path: Path) -> Iterator[Path]:
    p = tmp_path / "cli.duckdb"
    shutil.copyfile(base_db, p)
    yield p


def _cfg(tmp_path: Path, reviewer: str) -> str:
    cfg = tmp_path / f"{reviewer}.toml"
    cfg.write_text(f'[tui]\nreviewer = "{reviewer}"\n')
    return str(cfg)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_cli_review_and_users_on_the_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(api.TOKEN_ENV, raising=False)
    cfg = _cfg(tmp_path, "sue")
    base = ["--config", cfg, "--db", str(db)]
    assert main([*base, "review", "--list", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    fid = int(out.splitlines()[1].split()[0])
    assert main([*base, "review", str(fid), "--dismiss"]) == 2
    assert "needs --reason" in capsys.readouterr().err
    assert main([*base, "review", str(fid), "--dismiss", "--reason", "agent was quoting"]) == 0
    assert "dismissed by local:sue (revision 1)" in capsys.readouterr().out
    assert main([*base, "review", str(fid), "--confirm"]) == 2  # it is no longer open
    assert "not applied" in capsys.readouterr().err
    assert main([*base, "review", str(fid), "--reopen", "--rev", "0"]) == 2  # stale revision
    assert main([*base, "review", str(fid), "--reopen"]) == 0
    assert main([*base, "review", str(fid)]) == 0
    shown = capsys.readouterr().out
    assert "review.dismissed" in shown and "review.reopen" in shown and "agent was quoting" in shown
    # users: the token is printed once; a registered local user acts with their role
    assert main([*base, "users", "add", "vic", "--role", "viewer"]) == 0
    token = capsys.readouterr().out.split("token ")[1].split()[0]
    assert main([*base, "users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "vic" in listed and token not in listed
    viewer_base = ["--config", _cfg(tmp_path, "vic"), "--db", str(db)]
    assert main([*viewer_base, "review", str(fid), "--confirm"]) == 2
    assert "may not review" in capsys.readouterr().err
    assert main([*viewer_base, "users", "add", "eve", "--role", "admin"]) == 2
    assert "may not manage users" in capsys.readouterr().err
    # `ask` on the file answers for the local user's role: a viewer gets a count, no list
    assert main([*viewer_base, "ask", "--json", "angry calls in the last 365 days"]) == 0
    asked = json.loads(capsys.readouterr().out)
    assert len(asked["items"]) == 1 and set(asked["items"][0]) <= {"count", "by_channel"}
    assert main([*base, "ask", "--json", "angry calls in the last 365 days"]) == 0
    assert "agent" in json.loads(capsys.readouterr().out)["items"][0]  # admin: the list
    assert main([*base, "users", "revoke", "vic"]) == 0
    st = Store.open(db)
    try:
        assert users.authenticate(st, token) is None
        assert reviews.state(st, fid).review_status == "open"
    finally:
        st.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_cli_review_goes_through_the_running_service(db: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(api.TOKEN_ENV, raising=False)
    owner = Store.open(db)
    _u, token = users.add(owner, "ana", "supervisor")
    handle = api.serve_api(owner, "127.0.0.1", 0, TOKEN)
    api.write_state(db, handle)
    try:
        base = ["--db", str(db)]
        assert main([*base, "review", "--list", "--limit", "2"]) == 0
        fid = int(capsys.readouterr().out.splitlines()[1].split()[0])
        assert main([*base, "review", str(fid), "--confirm", "--token", token]) == 0
        assert "confirmed by api:ana" in capsys.readouterr().out
        assert main([*base, "review", str(fid), "--dismiss", "--reason", "x", "--token", token]) == 2
        assert "not applied: flag" in capsys.readouterr().err  # it was confirmed, not open
        st = reviews.state(owner, fid)
        assert st.review_status == "confirmed" and st.reviewer == "api:ana"
        # users through the API need an admin (the service token is one)
        assert main([*base, "users", "add", "kim", "--role", "analyst", "--token", token]) == 2
        assert "may not manage users" in capsys.readouterr().err
        assert main([*base, "users", "add", "kim", "--role", "analyst"]) == 0
        assert users.get(owner, "kim") is not None
    finally:
        handle.stop()
        api.remove_state(db)
        owner.close()


def test_agents_contest_through_the_api(store: Store, served: api.ApiHandle,
                                        tokens: dict[str, str]) -> None:
    agent = users.get(store, "agent-user").agent  # type: ignore[union-attr]
    rows = store.cursor().execute(
        "SELECT f.id, i.agent = ? FROM flags f JOIN interactions i ON i.id = f.interaction_id "
        "WHERE f.active AND f.review_status = 'open' ORDER BY f.id", [agent]).fetchall()
    mine = next(int(r[0]) for r in rows if r[1])
    theirs = next(int(r[0]) for r in rows if not r[1])
    r = _post(served, tokens["agent"], f"/api/flags/{mine}/contest", {"reason": "I said it at 0:40"})
    assert r.status_code == 200 and r.json()["contested"] is True
    assert _post(served, tokens["agent"], f"/api/flags/{theirs}/contest", {"reason": "x"}).status_code == 404
    assert _post(served, tokens["supervisor"], f"/api/flags/{mine}/contest", {"reason": "x"}).status_code == 403
    assert _post(served, tokens["agent"], f"/api/flags/{mine}/contest", {"reason": ""}).status_code == 400
    queue = _get(served, tokens["supervisor"], "/api/review-queue").json()
    assert queue[0]["flag_id"] == mine and queue[0]["contested"] and queue[0]["contest_reason"] == "I said it at 0:40"
