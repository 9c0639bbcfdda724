"""`?`: the keys of the app and of the screen underneath, in one place."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

GLOBAL_KEYS = (
    ("d", "Dashboard"), ("i", "Interactions"), ("s or /", "Search"), ("r", "Review queue"),
    ("a", "Agents"), ("t", "Topics & clusters"), ("ctrl+p", "Command palette"),
    ("ctrl+t", "Light / dark theme"), ("?", "This help"), ("escape", "Back / close"),
    ("q", "Quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]  # noqa: RUF012

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        t = Table(title="Keys", box=None, title_style="bold", expand=True)
        t.add_column("key", style="bold")
        t.add_column("does")
        for k, d in GLOBAL_KEYS:
            t.add_row(k, d)
        own = [b for b in self.under.BINDINGS if isinstance(b, Binding) and b.description]
        if own:
            t.add_row("", "")
            t.add_row(f"[b]{type(self.under).__name__.removesuffix('Screen')}[/b]", "")
            for b in own:
                t.add_row(b.key, b.description)
        with VerticalScroll(id="help-box"):
            yield Static(t)

    def action_close(self) -> None:
        self.dismiss(None)
