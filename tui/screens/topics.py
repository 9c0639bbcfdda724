"""Topics and clusters: sizes, 14-day trends, example interactions, drill-down to the list."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from store.browse import Filter, TopicsView
from tui.screens.base import DataScreen
from tui.widgets.fmt import sentiment_text, spark


class TopicsScreen(DataScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("g", "refresh", "Reload"),
        Binding("enter", "open", "Drill down", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("[b]Topics[/b] (14 days)   enter lists them · tab switches table", id="topics-bar")
        topics: DataTable[Any] = DataTable(id="ttable", cursor_type="row")
        yield topics
        yield Static("[b]Clusters[/b]", id="clusters-bar")
        clusters: DataTable[Any] = DataTable(id="ctable", cursor_type="row")
        yield clusters
        yield Footer()

    def on_mount(self) -> None:
        tt = self.query_one("#ttable", DataTable)
        for label, width in (("topic", 18), ("n", 7), ("sent.", 5), ("trend (14 d)", 14),
                             ("examples", 20)):
            tt.add_column(label, width=width)
        ct = self.query_one("#ctable", DataTable)
        for label, width in (("cluster", 7), ("label", 18), ("size", 7), ("14 d", 7),
                             ("trend", 14), ("examples", 20)):
            ct.add_column(label, width=width)
        self.query_one("#ttable", DataTable).focus()
        super().on_mount()

    def fetch(self) -> TopicsView:
        return self.source.topics()

    def show(self, v: TopicsView) -> None:
        tt = self.query_one("#ttable", DataTable)
        tt.clear()
        for t in v.topics:
            tt.add_row(t.key, f"{t.n:,}", sentiment_text(t.sentiment), spark(t.daily),
                       Text(" ".join(f"#{i}" for i in t.examples), style="dim"), key=f"t:{t.key}")
        ct = self.query_one("#ctable", DataTable)
        ct.clear()
        for c in v.clusters:
            ct.add_row(str(c.id), c.label or " ".join(c.terms[:3]) or "–", f"{c.size:,}",
                       f"{c.recent:,}", spark(c.daily),
                       Text(" ".join(f"#{i}" for i in c.examples), style="dim"), key=f"c:{c.id}")

    def _drill(self, key: str | None) -> None:
        if not key:
            return
        from tui.screens.interactions import InteractionsScreen

        kind, _, value = key.partition(":")
        flt = Filter(topic=value) if kind == "t" else Filter(cluster_id=int(value))
        self.app.push_screen(InteractionsScreen(flt, title=f"{'topic' if kind == 't' else 'cluster'} {value}"))

    def action_open(self) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else self.query_one("#ttable", DataTable)
        if table.row_count:
            self._drill(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._drill(event.row_key.value)
