"""SVG snapshots of the main screens (pytest-textual-snapshot), fixed data and clock.

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py
--snapshot-update`; the SVGs double as the README's screenshots (docs/screenshots/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from store import browse
from tui.app import ConvoscopeApp
from tui.data import LocalSource
from tui.screens.detail import DetailScreen

# Rendering ten full screens takes ~15 s on a shared 2-core box: part of `make test`,
# not of the quick loop (the Pilot tests cover every screen there).
pytestmark = pytest.mark.slow


def _app(source: LocalSource, start: str = "dashboard", dark: bool = True) -> ConvoscopeApp:
    return ConvoscopeApp(source, start=start, dark=dark, show_timings=False)


async def _settle(pilot: Any) -> None:
    """Queries done, results mounted, and DataTable column widths (computed on idle) final."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.05)


@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
def test_dashboard(snap_compare: Callable[..., bool], source: LocalSource, dark: bool) -> None:
    assert snap_compare(_app(source, dark=dark), terminal_size=(100, 30), run_before=_settle)


def test_dashboard_80x24(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    assert snap_compare(_app(source), terminal_size=(80, 24), run_before=_settle)


def test_interactions(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    assert snap_compare(_app(source, "interactions"), terminal_size=(100, 30), run_before=_settle)


def test_detail(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    iid = source.store.conn.execute(
        "SELECT f.interaction_id FROM flags f JOIN turn_scores t USING (interaction_id) "
        "JOIN interactions i ON i.id = f.interaction_id "
        "WHERE t.redacted_text LIKE '%[PII]%' AND i.channel = 'call' ORDER BY 1 LIMIT 1"
    ).fetchone()[0]

    async def open_detail(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.app.push_screen(DetailScreen(iid))
        await _settle(pilot)

    assert snap_compare(_app(source), terminal_size=(100, 30), run_before=open_detail)


def test_search(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    async def run(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press(*"refund", "enter")
        await _settle(pilot)

    assert snap_compare(_app(source, "search"), terminal_size=(100, 30), run_before=run)


def test_review_queue(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    assert snap_compare(_app(source, "review"), terminal_size=(100, 30), run_before=_settle)


def test_agents(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    assert snap_compare(_app(source, "agents"), terminal_size=(100, 30), run_before=_settle)


def test_topics(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    assert snap_compare(_app(source, "topics"), terminal_size=(100, 30), run_before=_settle)


def test_filter_form(snap_compare: Callable[..., bool], source: LocalSource) -> None:
    async def run(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("f")
        await _settle(pilot)

    assert snap_compare(_app(source, "interactions"), terminal_size=(80, 24), run_before=run)
    assert browse.Filter().describe() == "all interactions"
