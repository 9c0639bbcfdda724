"""The Convoscope analyst TUI (Textual): dashboard, interactions, detail, search, review
queue, agents, topics & clusters, export.

Keyboard first: one letter per screen (d i s r a t), `?` for help, ctrl+p for the command
palette, ctrl+t toggles light/dark. Each main screen is a Textual *mode*, so switching
keeps its state (filter, scroll position); drill-downs push screens on top of the mode.
All data comes from a `DataSource` (a DuckDB file or the running service's API).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.data import DataSource, DataSourceError
from tui.screens.agents import AgentsScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen
from tui.screens.interactions import InteractionsScreen
from tui.screens.review import ReviewScreen
from tui.screens.search import SearchScreen
from tui.screens.topics import TopicsScreen

SCREENS: dict[str, tuple[str, str]] = {
    # mode -> (title, key)
    "dashboard": ("Dashboard", "d"),
    "interactions": ("Interactions", "i"),
    "search": ("Search", "s"),
    "review": ("Review queue", "r"),
    "agents": ("Agents", "a"),
    "topics": ("Topics & clusters", "t"),
}


class ConvoscopeApp(App[None]):
    TITLE = "Convoscope"
    CSS_PATH = "theme.tcss"
    MODES = {  # noqa: RUF012
        "dashboard": DashboardScreen,
        "interactions": InteractionsScreen,
        "search": SearchScreen,
        "review": ReviewScreen,
        "agents": AgentsScreen,
        "topics": TopicsScreen,
    }
    BINDINGS = [  # noqa: RUF012
        *(Binding(key, f"mode('{mode}')", title, show=mode in ("dashboard", "interactions",
                                                                  "review"))
          for mode, (title, key) in SCREENS.items()),
        Binding("slash", "mode('search')", "Search", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, source: DataSource, *, start: str = "dashboard", dark: bool = True,
                 export_dir: str | None = None, show_timings: bool = True) -> None:
        super().__init__()
        if start not in SCREENS:
            raise ValueError(f"start screen must be one of {', '.join(SCREENS)}")
        self.source = source
        self.start = start
        self.export_dir = export_dir or str(Path.cwd())
        self.theme = "textual-dark" if dark else "textual-light"
        self._choices: dict[str, list[str]] | None = None
        #: query times in status lines (off for snapshot tests, which must be deterministic)
        self.show_timings = show_timings
        #: where played clips are written (None: a temp folder; see tui/player.py)
        self.clip_dir: str | None = None

    def on_mount(self) -> None:
        self.sub_title = self.source.describe()
        self.switch_mode(self.start)

    def action_mode(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)
        self.screen.sub_title = SCREENS[mode][0]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, (title, key) in SCREENS.items():
            yield SystemCommand(f"Go to {title}", f"Open the {title.lower()} screen (key {key})",
                                lambda m=mode: self.action_mode(m))
        yield SystemCommand("Toggle light/dark theme", "ctrl+t", self.action_toggle_theme)
        if isinstance(screen, InteractionsScreen):
            yield SystemCommand("Export current view", "CSV or Parquet (key e)", screen.action_export)
            yield SystemCommand("Edit filter", "key f", screen.action_edit_filter)

    def choices(self) -> dict[str, list[str]]:
        """Filter choices (agents, queues, topics, flag kinds), fetched once."""
        if self._choices is None:
            try:
                self._choices = self.source.choices()
            except DataSourceError as exc:
                self.notify(str(exc), severity="error")
                return {}
        return self._choices

    def review(self, flag_id: int, status: str, reason: str | None,
               done: Callable[[], None] | None = None, rev: int | None = None) -> None:
        """Store a verdict in a worker, against revision `rev` of the flag (what the screen
        showed: a stale one is refused with the current state); `done` runs on the UI
        thread once it is saved."""

        def work() -> None:
            try:
                r = self.source.review(flag_id, status, reason, rev)
            except DataSourceError as exc:
                self.call_from_thread(self.notify, f"review failed: {exc}", severity="error")
                return
            self.call_from_thread(self.notify, f"flag {r.flag_id} {r.review_status}")
            if done is not None:
                self.call_from_thread(done)

        self.run_worker(work, thread=True, group="review")

    def on_unmount(self) -> None:
        self.source.close()
