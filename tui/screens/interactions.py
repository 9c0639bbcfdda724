"""Interactions: a lazily paged, sortable, filterable table of every interaction.

Pages come from `DataSource.page` with a keyset cursor: the first page is on screen after
one ~10-30 ms query even on a million rows, and the next page is fetched (in a worker)
when the cursor gets near the last loaded row. The total count runs in its own worker so
it never delays the first page.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from store.browse import Filter, InteractionRow, Page
from tui.data import DataSourceError
from tui.screens.base import DataScreen
from tui.widgets.fmt import duration, sentiment_text, severity_text, when

COLUMNS = (  # label, sort key, width (fixed: stable at 80 columns, deterministic snapshots)
    ("id", "id", 7), ("started", "started_at", 11), ("ch", None, 5), ("agent", "agent", 15),
    ("dur", "duration", 7), ("sent.", "sentiment", 5), ("flags", None, 12),
    ("topic", None, 16), ("queue", None, 10),
)
SORTS = ("started_at", "sentiment", "duration", "agent", "id")
PAGE = 100


class InteractionsScreen(DataScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("f", "edit_filter", "Filter"),
        Binding("F", "clear_filter", "Clear filter"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("O", "flip_order", "Asc/desc"),
        Binding("e", "export", "Export"),
        Binding("g", "refresh", "Reload"),
        Binding("enter", "open", "Open", show=False),
    ]

    def __init__(self, flt: Filter | None = None, *, title: str | None = None) -> None:
        super().__init__()
        self.flt = flt or Filter()
        self.sort = "started_at"
        self.descending = True
        self.after: list[Any] | None = None
        self.loading_more = False
        self.generation = 0
        self.total: int | None = None
        self.heading = title

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="filter-bar")
        table: DataTable[Any] = DataTable(id="itable", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, _key, width in COLUMNS:
            table.add_column(label, key=label, width=width)
        table.focus()
        # Scrolling with the mouse (no cursor move) also fetches the next page in time.
        self.watch(table, "scroll_y", self._on_scroll, init=False)
        super().on_mount()

    def _on_scroll(self, old: float, new: float) -> None:
        table = self.query_one(DataTable)
        if new > old and table.max_scroll_y > 0 and new >= table.max_scroll_y - 20:
            self.load_more()

    # -- loading -----------------------------------------------------------------------

    def reload(self) -> None:
        # Results of queries started for an earlier filter/sort carry an older generation
        # and are dropped when they arrive (a page for the old filter must not be appended).
        self.generation += 1
        self.after = None
        self.total = None
        self.loading_more = False
        self.query_one(DataTable).clear()
        self._update_bar()
        super().reload()
        self.run_worker(self._count_worker, thread=True, exclusive=True, group="count")

    def fetch(self) -> tuple[int, Page]:
        gen = self.generation
        return gen, self.source.page(self.flt, sort=self.sort, descending=self.descending, limit=PAGE)

    def show(self, data: tuple[int, Page]) -> None:
        self._append(*data)

    def _append(self, gen: int, page: Page) -> None:
        if gen != self.generation:
            return
        table = self.query_one(DataTable)
        for r in page.rows:
            if str(r.id) not in table.rows:
                table.add_row(*self._cells(r), key=str(r.id))
        self.after = page.after
        self.loading_more = False
        self._update_bar()

    def _cells(self, r: InteractionRow) -> list[Any]:
        flags: Text | str = ""
        if r.flags:
            flags = severity_text(r.max_severity)
            flags.append(f" {r.open_flags}/{r.flags}", style="dim")
        return [str(r.id), when(r.started_at, self.source.tz)[5:], r.channel, r.agent or "–",
                duration(r.duration), sentiment_text(r.sentiment), flags, r.topic or "–",
                r.queue or "–"]

    def _count_worker(self) -> None:
        worker = get_current_worker()
        try:
            n = self.source.count(self.flt)
        except (DataSourceError, ValueError):
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._set_total, n)

    def _set_total(self, n: int) -> None:
        self.total = n
        self._update_bar()

    def _update_bar(self) -> None:
        loaded = self.query_one(DataTable).row_count
        total = "counting…" if self.total is None else f"{self.total:,}"
        arrow = "↓" if self.descending else "↑"
        head = f"[b]{self.heading}[/b]  " if self.heading else ""
        self.query_one("#filter-bar", Static).update(
            f"{head}[b]Filter:[/b] {self.flt.describe()}  "
            f"[b]Sort:[/b] {self.sort} {arrow}  {loaded:,}/{total}"
        )

    def load_more(self) -> None:
        if self.after is None or self.loading_more:
            return
        self.loading_more = True
        after, gen = self.after, self.generation
        self.run_worker(lambda: self._more_worker(gen, after), thread=True, group="more")

    def _more_worker(self, gen: int, after: list[Any]) -> None:
        try:
            page = self.source.page(self.flt, sort=self.sort, descending=self.descending,
                                    limit=PAGE, after=after)
        except (DataSourceError, ValueError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._append, gen, page)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - 20:
            self.load_more()

    # -- actions -------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            self._open(key)

    def _open(self, key: str | None) -> None:
        if key is not None:
            from tui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(int(key)))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = {label: key for label, key, _w in COLUMNS}.get(str(event.column_key.value))
        if sort:
            if sort == self.sort:
                self.descending = not self.descending
            self.sort = sort
            self.reload()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.reload()

    def action_flip_order(self) -> None:
        self.descending = not self.descending
        self.reload()

    def action_edit_filter(self) -> None:
        from tui.screens.filter import FilterScreen

        def done(flt: Filter | None) -> None:
            if flt is not None:
                self.set_filter(flt)

        self.app.push_screen(FilterScreen(self.flt, self.capp.choices(), self.source.tz), done)

    def action_clear_filter(self) -> None:
        self.set_filter(Filter())

    def set_filter(self, flt: Filter) -> None:
        self.flt = replace(flt)
        self.reload()

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen(self.source, self.flt, sort=self.sort,
                                          descending=self.descending,
                                          directory=self.capp.export_dir))
