"""Review queue: open flags, most severe (or oldest) first; confirm with `c`, dismiss with
`x` then a reason key (1-4). The verdict goes through the same `set_review` the Slack
buttons use (audit-logged), and the flag leaves the queue."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from store.browse import QueueItem
from store.reviews import low_confidence
from tui.screens.base import DataScreen
from tui.widgets.fmt import severity_text, when


class ReviewScreen(DataScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("c", "confirm", "Confirm"),
        Binding("x", "dismiss_flag", "Dismiss…"),
        Binding("o", "toggle_order", "Order"),
        Binding("p", "quality", "Rule quality", show=False),
        Binding("g", "refresh", "Reload"),
        Binding("enter", "open", "Open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.order = "severity"
        self.items: dict[int, QueueItem] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="queue-bar")
        table: DataTable[Any] = DataTable(id="qtable", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        for label, width in (("flag", 6), ("sev", 8), ("kind", 18), ("interaction", 11),
                             ("ch", 5), ("agent", 16), ("raised", 16), ("summary", 32)):
            t.add_column(label, width=width)
        t.focus()
        super().on_mount()

    def fetch(self) -> list[QueueItem]:
        return self.source.review_queue(order=self.order)

    def show(self, items: list[QueueItem]) -> None:
        t = self.query_one(DataTable)
        t.clear()
        self.items = {q.flag_id: q for q in items}
        for q in items:
            kind = f"⚑ {q.kind} (contested)" if q.contested else q.kind
            if low_confidence(q.severity, q.confidence):
                kind = f"? {kind} (low confidence)"
            t.add_row(str(q.flag_id), severity_text(q.severity), kind, str(q.interaction_id),
                      q.channel, q.agent or "–", when(q.created_at, self.source.tz),
                      Text(q.summary or "", overflow="ellipsis", no_wrap=True), key=str(q.flag_id))
        self._bar()

    def _bar(self) -> None:
        n = self.query_one(DataTable).row_count
        order = "most severe first" if self.order == "severity" else "oldest first"
        self.query_one("#queue-bar", Static).update(
            f"[b]{n}[/b] open, {order}  c confirm · x+1-4 dismiss · o order")

    def _current(self) -> int | None:
        t = self.query_one(DataTable)
        if not t.row_count:
            self.notify("the queue is empty")
            return None
        return int(t.coordinate_to_cell_key((t.cursor_row, 0)).row_key.value or 0)

    def _remove(self, flag_id: int) -> None:
        t = self.query_one(DataTable)
        if str(flag_id) in t.rows:
            t.remove_row(str(flag_id))
        self.items.pop(flag_id, None)
        self._bar()

    def action_confirm(self) -> None:
        fid = self._current()
        if fid is not None:
            self.capp.review(fid, "confirmed", None, lambda: self._remove(fid), self._rev(fid))

    def action_dismiss_flag(self) -> None:
        fid = self._current()
        if fid is None:
            return
        from tui.screens.reason import ReasonScreen

        def done(reason: str | None) -> None:
            if reason:
                self.capp.review(fid, "dismissed", reason, lambda: self._remove(fid), self._rev(fid))

        self.app.push_screen(ReasonScreen(), done)

    def _rev(self, fid: int) -> int | None:
        item = self.items.get(fid)
        return item.review_rev if item is not None else None

    def action_quality(self) -> None:
        from tui.screens.quality import RuleQualityScreen

        self.app.push_screen(RuleQualityScreen())

    def action_toggle_order(self) -> None:
        self.order = "oldest" if self.order == "severity" else "severity"
        self.reload()

    def action_open(self) -> None:
        fid = self._current()
        if fid is not None and fid in self.items:
            from tui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(self.items[fid].interaction_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
