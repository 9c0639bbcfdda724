"""What every data screen shares: fetch in a thread worker, show on the UI thread.

DuckDB queries and HTTP calls block, so a screen never calls its `DataSource` on the UI
thread: `reload()` runs `fetch()` in a thread worker and hands the result to `show()`
through `call_from_thread`. Errors become a notification, never a crash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen
from textual.worker import get_current_worker

from tui.data import DataSource, DataSourceError

if TYPE_CHECKING:
    from tui.app import ConvoscopeApp


class DataScreen(Screen[None]):
    """A screen whose content comes from the data source."""

    @property
    def source(self) -> DataSource:
        return self.capp.source

    @property
    def capp(self) -> ConvoscopeApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.run_worker(self._fetch_worker, thread=True, exclusive=True, group="load")

    def _fetch_worker(self) -> None:
        worker = get_current_worker()
        try:
            data = self.fetch()
        except (DataSourceError, ValueError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, data)

    def fetch(self) -> Any:
        """Runs in a worker thread: ask the data source."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Runs on the UI thread with what `fetch` returned."""
        raise NotImplementedError

    def action_refresh(self) -> None:
        self.reload()
