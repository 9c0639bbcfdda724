"""Pilot tests: every screen driven by keys against a real DuckDB store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, OptionList, Select, Static

from store import audit, browse
from store import flags as flags_mod
from store.db import Store
from tui.app import ConvoscopeApp
from tui.data import LocalSource
from tui.screens.dashboard import DashboardScreen
from tui.screens.detail import DetailScreen
from tui.screens.export import ExportScreen
from tui.screens.filter import FilterScreen
from tui.screens.help import HelpScreen
from tui.screens.interactions import InteractionsScreen
from tui.screens.reason import ReasonScreen
from tui.screens.review import ReviewScreen

pytestmark = pytest.mark.anyio


def _text(widget: Static) -> str:
    """What a Static shows, as plain text (tables rendered at the widget's width)."""
    from rich.console import Console

    console = Console(width=max(widget.size.width, 40), record=True, color_system=None)
    console.print(widget.content)  # type: ignore[arg-type]
    return console.export_text()


def _column(table: DataTable, index: int) -> list[str]:  # type: ignore[type-arg]
    return [str(table.get_row_at(r)[index]) for r in range(table.row_count)]


async def test_dashboard_shows_today_vs_yesterday(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    expected = browse.dashboard(source.store, source.now())
    app = ConvoscopeApp(source)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        today = _text(app.screen.query_one("#dash-today", Static))
        assert f"{expected.total_today:,}" in today and f"{expected.total_yesterday:,}" in today
        flags = _text(app.screen.query_one("#dash-flags", Static))
        assert expected.open_flags[0].key in flags
        topics = _text(app.screen.query_one("#dash-topics", Static))
        assert expected.top_topics[0].key in topics


async def test_interactions_pages_lazily_and_sorts(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="interactions")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InteractionsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 100  # one page, not the whole table
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_count == 200
        for _ in range(3):
            await pilot.press("ctrl+end")
            await settle(pilot)
        ids = _column(table, 0)
        assert len(ids) == len(set(ids)) == 400  # every row once, no gaps or repeats
        await pilot.press("o")  # sort by sentiment, descending
        await settle(pilot)
        assert screen.sort == "sentiment"
        sents = [float(s) for s in _column(table, 5)]
        assert sents == sorted(sents, reverse=True)
        await pilot.press("O")
        await settle(pilot)
        sents = [float(s) for s in _column(table, 5)]
        assert sents == sorted(sents)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
async def test_filter_form_edits_the_current_filter(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="interactions")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FilterScreen)
        form.query_one("#f-channel", Select).value = "email"
        form.query_one("#f-smax", Input).value = "0"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InteractionsScreen)
        assert screen.flt.channel == "email" and screen.flt.sentiment_max == 0
        bar = _text(screen.query_one("#filter-bar", Static))
        assert "channel=email" in bar
        table = screen.query_one(DataTable)
        expected = browse.count(source.store, screen.flt)
        assert 0 < table.row_count == min(expected, 100)
        assert set(_column(table, 2)) == {"email"}
        assert all(float(s) <= 0 for s in _column(table, 5))
        # A page fetched for the previous filter that arrives late is dropped, not appended.
        stale = source.page(browse.Filter(channel="call"), limit=100)
        rows = table.row_count
        screen._append(screen.generation - 1, stale)
        assert table.row_count == rows and set(_column(table, 2)) == {"email"}
        # A bad value is refused with a message, the filter stays as it was.
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#f-since", Input).value = "yesterday-ish"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FilterScreen)
        await pilot.press("escape")
        await pilot.press("F")  # clear
        await settle(pilot)
        assert screen.flt == browse.Filter()


async def test_detail_is_redacted_by_default_and_shows_evidence(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    cur = source.store.conn
    iid, raw = cur.execute(
        "SELECT t.interaction_id, t.text FROM turns t JOIN turn_scores s USING (interaction_id, seq) "
        "JOIN flags f ON f.interaction_id = t.interaction_id "
        "WHERE s.redacted_text LIKE '%[PII]%' ORDER BY 1 LIMIT 1"
    ).fetchone()
    secret = raw.split(" on ")[-1].split(" in ")[-1]
    app = ConvoscopeApp(source)
    async with app.run_test(size=(100, 40)) as pilot:
        await app.push_screen(DetailScreen(iid))
        await settle(pilot)
        screen = app.screen
        turns = "\n".join(_text(w) for w in screen.query(".turn").results(Static))
        assert "[PII]" in turns and secret not in turns
        assert "⚑" in turns  # the flagged turn names its rule
        assert screen.query(".turn.flagged")
        assert "REDACTED" in _text(screen.query_one("#detail-head", Static))
        flags = screen.query_one("#flags", DataTable)
        assert flags.row_count >= 1
        metrics = _text(screen.query_one("#metrics", Static))
        assert "agent talk ratio" in metrics and "wpm agent" in metrics
        await pilot.press("u")
        await settle(pilot)
        turns = "\n".join(_text(w) for w in screen.query(".turn").results(Static))
        assert secret in turns
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
async def test_search_ranks_and_highlights(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="search")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"manager", "enter")
        await settle(pilot)
        hits = app.screen.query_one(OptionList)
        assert hits.option_count > 0
        first = hits.get_option_at_index(0).prompt
        assert "manager" in first.plain  # type: ignore[union-attr]
        assert any("reverse" in str(span.style) for span in first.spans)  # type: ignore[union-attr]
        assert "fts" in _text(app.screen.query_one("#search-bar", Static))
        total = hits.option_count
        channel = first.plain.split()[1]  # type: ignore[union-attr]
        app.screen.query_one("#search-channel", Select).value = channel
        await settle(pilot)
        hits = app.screen.query_one(OptionList)
        assert 0 < hits.option_count < total
        assert all(hits.get_option_at_index(i).prompt.plain.split()[1] == channel  # type: ignore[union-attr]
                   for i in range(hits.option_count))
        hits.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)


async def test_review_flow_end_to_end(source: LocalSource, store: Store, settle) -> None:  # type: ignore[no-untyped-def]
    """open queue → confirm → status stored and audited → gone from the queue."""
    app = ConvoscopeApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        table = screen.query_one(DataTable)
        before = table.row_count
        first = int(_column(table, 0)[0])
        sev = [str(s) for s in _column(table, 1)]
        order = ["critical", "high", "medium", "low"]
        assert [order.index(s) for s in sev] == sorted(order.index(s) for s in sev)
        await pilot.press("c")
        await settle(pilot)
        flag = flags_mod.get(store, first)
        assert flag is not None and flag.review_status == "confirmed" and flag.reviewer == "local:tester"
        entry = audit.recent(store, 1)[0]
        assert entry["action"] == "review.confirmed" and entry["target"] == f"flag:{first}"
        assert entry["detail"]["via"] == "tui"
        assert table.row_count == before - 1 and str(first) not in _column(table, 0)
        # dismiss with a one-key reason
        second = int(_column(table, 0)[0])
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press("2")
        await settle(pilot)
        flag = flags_mod.get(store, second)
        assert flag is not None and flag.review_status == "dismissed"
        assert flag.review_reason == "already handled"
        # reloading the queue from the store: both are gone for good
        await pilot.press("g")
        await settle(pilot)
        ids = _column(screen.query_one(DataTable), 0)
        assert str(first) not in ids and str(second) not in ids
        # oldest-first order
        await pilot.press("o")
        await settle(pilot)
        raised = _column(screen.query_one(DataTable), 6)
        assert raised == sorted(raised)


async def test_review_from_detail(source: LocalSource, store: Store, settle) -> None:  # type: ignore[no-untyped-def]
    fid, iid = store.conn.execute(
        "SELECT id, interaction_id FROM flags WHERE review_status = 'open' ORDER BY id LIMIT 1"
    ).fetchone()
    app = ConvoscopeApp(source)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(DetailScreen(iid))
        await settle(pilot)
        await pilot.press("x", "1")
        await settle(pilot)
        f = flags_mod.get(store, fid)
        assert f is not None and f.review_status == "dismissed" and f.review_reason == "false positive"
        await pilot.press("n")
        await settle(pilot)
        f = flags_mod.get(store, fid)
        assert f is not None and f.review_status == "open"


async def test_agents_scorecard_vs_team(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="agents")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        names = _column(table, 0)
        assert names[0] == "team"
        n_agents = source.store.conn.execute(
            "SELECT count(DISTINCT agent) FROM interactions WHERE started_at >= ?::TIMESTAMPTZ - INTERVAL 30 DAY",
            [source.now()],
        ).fetchone()[0]
        assert len(names) == n_agents + 1
        assert int(_column(table, 1)[0].replace(",", "")) == sum(
            int(v.replace(",", "")) for v in _column(table, 1)[1:])
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, InteractionsScreen)
        assert app.screen.flt.agent == names[1]
        assert set(_column(app.screen.query_one(DataTable), 3)) == {names[1]}


async def test_topics_drill_down(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="topics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        topics = app.screen.query_one("#ttable", DataTable)
        assert topics.row_count > 0
        top = _column(topics, 0)[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InteractionsScreen)
        assert set(_column(app.screen.query_one(DataTable), 7)) == {top}
        await pilot.press("escape")  # back is not bound on the list; pop via the app
        app.pop_screen()
        await settle(pilot)
        await pilot.press("tab")
        clusters = app.screen.query_one("#ctable", DataTable)
        assert clusters.row_count > 0 and clusters.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InteractionsScreen) and app.screen.flt.cluster_id is not None


@pytest.mark.parametrize("fmt", ["csv", pytest.param("parquet", marks=pytest.mark.slow)])
async def test_export_runs_in_a_worker(source: LocalSource, tmp_path: Path, fmt: str, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="interactions", export_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        dialog.query_one("#x-format", Select).value = fmt
        await settle(pilot)
        target = tmp_path / f"view.{fmt}"
        dialog.query_one("#x-path", Input).value = str(target)
        dialog.query_one("#x-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot, 5)
        assert dialog.rows == 400
        assert "400 rows written" in _text(dialog.query_one("#x-status", Static))
    reader = "read_csv_auto" if fmt == "csv" else "read_parquet"
    n, ids = duckdb.sql(f"SELECT count(*), count(DISTINCT id) FROM {reader}('{target}')").fetchone()  # type: ignore[misc]
    assert n == ids == 400


@pytest.mark.slow  # visits every screen (~7 s)
async def test_help_palette_theme_and_navigation(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        for key, mode in (("i", "interactions"), ("slash", "search"), ("r", "review"),
                          ("a", "agents"), ("t", "topics"), ("d", "dashboard")):
            if mode == "search":
                await pilot.press(key)
                await settle(pilot)
                assert app.current_mode == mode
                app.screen.query_one(OptionList).focus()  # leave the query box
                continue
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Go to Agents")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "agents"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
def test_read_only_store_refuses_reviews(anyio_backend: str, db_path: Path) -> None:
    st = Store.open(db_path, read_only=True)
    try:
        src = LocalSource(st)
        fid = st.conn.execute("SELECT min(id) FROM flags").fetchone()[0]
        from tui.data import DataSourceError

        with pytest.raises(DataSourceError, match="read-only"):
            src.review(fid, "confirmed")
    finally:
        st.close()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
async def test_detail_shows_the_resolution_verdict_masked(source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from store import resolution as rs

    cur = source.store.conn
    pending, resolved, bare = (r[0] for r in cur.execute(
        "SELECT id FROM interactions WHERE channel = 'call' ORDER BY id LIMIT 3").fetchall())
    due = source.now() + timedelta(days=2)
    rs.save(source.store, [
        rs.ResolutionRow(pending, "pending", 0.82, ["follow-up promised: 'I will call you on 415-555-0199 Friday'"],
                         [], commitment="I will call you on 415-555-0199 Friday", follow_up_due=due),
        # a due date on a verdict that is no longer pending is not shown
        rs.ResolutionRow(resolved, "resolved", 0.9, ["customer: 'that fixed it, thanks'"], [], follow_up_due=due),
    ])
    app = ConvoscopeApp(source)
    async with app.run_test(size=(160, 40)) as pilot:
        shown = {}
        for iid in (pending, resolved, bare):
            await app.push_screen(DetailScreen(iid))
            await settle(pilot)
            shown[iid] = _text(app.screen.query_one("#detail-head", Static))
            await pilot.press("escape")
    head = " ".join(shown[pending].split())
    assert "resolution: pending (0.82)" in head
    assert f"follow-up due {due.strftime('%Y-%m-%d')}" in head
    assert "follow-up promised" in head and "555-0199" not in head  # the reason is masked
    assert "resolution: resolved (0.90)" in " ".join(shown[resolved].split())
    assert "follow-up due" not in shown[resolved]
    assert "resolution:" not in shown[bare]
