"""Rule quality (`p` on the review queue): per rule and flag kind, how reviewers judged its
flags over the last 30 days — confirmed, dismissed, still open — and the precision that
implies (confirmed / reviewed). A rule dismissed in many reviews is one to fix."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from store.reviews import RuleQuality
from tui.screens.base import DataScreen


class RuleQualityScreen(DataScreen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("g", "refresh", "Reload")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Rule quality from reviews, last 30 days", id="quality-bar")
        table: DataTable[Any] = DataTable(id="quality", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        for label, width in (("rule / kind", 40), ("confirmed", 10), ("dismissed", 10), ("open", 8),
                             ("precision", 10)):  # fmt: skip
            t.add_column(label, width=width)
        t.focus()
        super().on_mount()

    def fetch(self) -> list[RuleQuality]:
        return self.source.rule_quality(days=30)

    def show(self, rows: list[RuleQuality]) -> None:
        t = self.query_one(DataTable)
        t.clear()
        for r in rows:
            p = "–" if r.precision is None else f"{r.precision:.0%}"
            t.add_row(r.name, str(r.confirmed), str(r.dismissed), str(r.open), p)
