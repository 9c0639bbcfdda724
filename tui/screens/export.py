"""Export the current view to CSV or Parquet, in a worker with a progress bar."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select

from store.browse import Filter
from tui.data import DataSource, DataSourceError


class ExportScreen(ModalScreen[int | None]):
    """Choose a file and format; the export runs in a thread worker, the UI stays live."""

    BINDINGS = [Binding("escape", "close", "Close")]  # noqa: RUF012

    def __init__(self, source: DataSource, flt: Filter, *, sort: str, descending: bool,
                 directory: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.flt = flt
        self.sort = sort
        self.descending = descending
        self.directory = Path(directory or Path.cwd())
        self.rows: int | None = None

    def compose(self) -> ComposeResult:
        stamp = self.source.now().strftime("%Y%m%d-%H%M")
        with Vertical(id="export-box"):
            yield Label("Export the current view", classes="title")
            yield Label(self.flt.describe(), classes="dim")
            with Horizontal(classes="pair"):
                yield Select([("CSV", "csv"), ("Parquet", "parquet")], value="csv",
                             allow_blank=False, id="x-format", compact=True)
            yield Input(str(self.directory / f"convoscope-{stamp}.csv"), id="x-path", compact=True)
            yield ProgressBar(total=100, show_eta=False, id="x-progress")
            yield Label("", id="x-status")
            with Horizontal(classes="buttons"):
                yield Button("Export", variant="primary", id="x-go", compact=True)
                yield Button("Close", id="x-close", compact=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        inp = self.query_one("#x-path", Input)
        p = Path(inp.value)
        inp.value = str(p.with_suffix(".parquet" if event.value == "parquet" else ".csv"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "x-go":
            self.start()
        else:
            self.action_close()

    def on_input_submitted(self) -> None:
        self.start()

    def start(self) -> None:
        path = self.query_one("#x-path", Input).value.strip()
        fmt = str(self.query_one("#x-format", Select).value)
        if not path:
            self.notify("give a file path", severity="error")
            return
        self.query_one("#x-go", Button).disabled = True
        self.query_one("#x-status", Label).update(f"exporting to {path} …")
        self.run_export(str(Path(path).expanduser().resolve()), fmt)

    @work(thread=True, exclusive=True, group="export")
    def run_export(self, path: str, fmt: str) -> None:
        bar = self.query_one("#x-progress", ProgressBar)

        def progress(pct: float | None) -> None:
            if pct is None:
                self.app.call_from_thread(bar.update, total=None)
            else:
                self.app.call_from_thread(bar.update, total=100, progress=pct)

        started = datetime.now()
        try:
            n = self.source.export(self.flt, path, fmt, sort=self.sort,
                                   descending=self.descending, progress=progress)
        except (DataSourceError, ValueError, OSError) as exc:
            self.app.call_from_thread(self.failed, str(exc))
            return
        except Exception as exc:  # a DuckDB error (bad path, disk full): show, don't crash
            self.app.call_from_thread(self.failed, f"{type(exc).__name__}: {exc}")
            return
        secs = (datetime.now() - started).total_seconds()
        self.app.call_from_thread(self.finished, n, path, secs)

    def finished(self, n: int, path: str, secs: float) -> None:
        self.rows = n
        self.query_one("#x-progress", ProgressBar).update(total=100, progress=100)
        self.query_one("#x-status", Label).update(f"{n:,} rows written to {path} in {secs:.1f} s")
        self.query_one("#x-go", Button).disabled = False
        self.notify(f"exported {n:,} rows")

    def failed(self, msg: str) -> None:
        self.query_one("#x-status", Label).update(f"export failed: {msg}")
        self.query_one("#x-go", Button).disabled = False
        self.notify(f"export failed: {msg}", severity="error")

    def action_close(self) -> None:
        self.dismiss(self.rows)
