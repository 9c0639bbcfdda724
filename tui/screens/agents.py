"""Agents: a scorecard per agent (volume, sentiment, flags, QA score, talk metrics) vs team."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from store.browse import AgentCard, Filter, Scorecards
from tui.screens.base import DataScreen
from tui.widgets.fmt import sentiment_text

PERIODS = (7, 30, 90)


def _vs(v: float | None, team: float | None, fmt: str, higher_is_better: bool = True) -> Text:
    """The value, coloured by whether it beats the team's."""
    if v is None:
        return Text("–", style="dim")
    t = Text(format(v, fmt))
    if team is not None and abs(v - team) > 1e-9:
        better = (v > team) == higher_is_better
        t.stylize("green" if better else "dark_orange")
    return t


class AgentsScreen(DataScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("p", "cycle_period", "Period"),
        Binding("g", "refresh", "Reload"),
        Binding("enter", "open", "Their interactions", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.days = 30

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="agents-bar")
        table: DataTable[Any] = DataTable(id="atable", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        # Fixed widths: stable layout at 80 columns and deterministic snapshots.
        for label, width in (("agent", 16), ("n", 6), ("sent.", 5), ("flag %", 6), ("open", 5),
                             ("QA", 4), ("talk %", 6), ("silence %", 9), ("interr.", 7),
                             ("wpm", 4)):
            t.add_column(label, width=width)
        t.focus()
        super().on_mount()

    def fetch(self) -> Scorecards:
        return self.source.agents(days=self.days)

    def _row(self, a: AgentCard, team: AgentCard, bold: bool = False) -> list[Any]:
        name = Text(a.agent, style="bold" if bold else "")
        return [
            name, f"{a.interactions:,}", sentiment_text(a.sentiment),
            _vs(a.flag_rate * 100, team.flag_rate * 100, ".1f", higher_is_better=False),
            str(a.open_flags), _vs(a.qa_score, team.qa_score, ".0f"),
            _vs(a.talk_pct, team.talk_pct, ".0f", higher_is_better=False),
            _vs(a.non_talk_pct, team.non_talk_pct, ".1f", higher_is_better=False),
            _vs(a.interruptions, team.interruptions, ".2f", higher_is_better=False),
            "–" if a.wpm is None else f"{a.wpm:.0f}",
        ]

    def show(self, sc: Scorecards) -> None:
        t = self.query_one(DataTable)
        t.clear()
        t.add_row(*self._row(sc.team, sc.team, bold=True), key="__team__")
        for a in sc.agents:
            t.add_row(*self._row(a, sc.team), key=a.agent)
        self.query_one("#agents-bar", Static).update(
            f"[b]{len(sc.agents)}[/b] agents, last {self.days} days (p); "
            "first row: team; green = better than team")

    def action_cycle_period(self) -> None:
        self.days = PERIODS[(PERIODS.index(self.days) + 1) % len(PERIODS)]
        self.reload()

    def action_open(self) -> None:
        t = self.query_one(DataTable)
        if not t.row_count:
            return
        key = t.coordinate_to_cell_key((t.cursor_row, 0)).row_key.value
        if key and key != "__team__" and key != "(none)":
            from tui.screens.interactions import InteractionsScreen

            self.app.push_screen(InteractionsScreen(Filter(agent=key), title=f"agent {key}"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
