"""The TUI as different roles, the rule-quality table, and a stale review from the detail
screen refused with the flag's current state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable

from store import browse, reviews
from store.db import Store
from store.permissions import Identity, pseudonym
from tui.app import ConvoscopeApp
from tui.data import LocalSource
from tui.screens.interactions import InteractionsScreen
from tui.screens.quality import RuleQualityScreen
from tui.screens.review import ReviewScreen

pytestmark = pytest.mark.anyio


def _col(table: DataTable, i: int) -> list[str]:  # type: ignore[type-arg]
    return [str(table.get_row_at(r)[i]) for r in range(table.row_count)]


async def test_analyst_sees_pseudonyms_and_viewer_no_list(store: Store, source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    analyst = LocalSource(store, now=source.now, identity=Identity("local:al", "analyst"))
    app = ConvoscopeApp(analyst, start="interactions")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InteractionsScreen)
        agents = {a for a in _col(app.screen.query_one(DataTable), 3) if a != "–"}
        real = {r.agent for r in browse.page(store, browse.Filter(), limit=100).rows if r.agent}
        assert agents and agents == {pseudonym(a) for a in real}
    viewer = LocalSource(store, now=source.now, identity=Identity("local:vic", "viewer"))
    app = ConvoscopeApp(viewer, start="interactions")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(DataTable).row_count == 0
        assert any("may not lists" in str(n.message) for n in app._notifications)


async def test_rule_quality_table(store: Store, source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    expected = reviews.rule_quality(store, source.now() - timedelta(days=30), None)
    assert any(r.dismissed for r in expected)  # the generated store has reviewed flags
    app = ConvoscopeApp(source, start="review")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, RuleQualityScreen)
        t = app.screen.query_one(DataTable)
        assert _col(t, 0) == [r.name for r in expected]
        assert _col(t, 2) == [str(r.dismissed) for r in expected]
        assert _col(t, 4) == ["–" if r.precision is None else f"{r.precision:.0%}" for r in expected]


async def test_stale_review_in_the_tui_keeps_the_other_verdict(store: Store, source: LocalSource, settle) -> None:  # type: ignore[no-untyped-def]
    app = ConvoscopeApp(source, start="review")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        first = int(_col(app.screen.query_one(DataTable), 0)[0])
        # someone else dismisses it while the queue is on screen
        reviews.review(store, first, "dismiss", Identity("slack:U_OTHER", "supervisor"), "duplicate",
                       expected_rev=0)
        await pilot.press("c")
        await settle(pilot)
        assert any("not applied" in str(n.message) and "dismissed by slack:U_OTHER" in str(n.message)
                   for n in app._notifications)
    st = reviews.state(store, first)
    assert st.review_status == "dismissed" and st.reviewer == "slack:U_OTHER"
