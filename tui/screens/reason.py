"""Pick a dismissal reason in one key (1-4) or type one; the second key of "x then 1"."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

REASONS = ("false positive", "already handled", "duplicate", "not actionable")


class ReasonScreen(ModalScreen[str | None]):
    # Digits must reach the screen (one-key reasons), so the text box is not focused
    # until the analyst tabs into it.
    AUTO_FOCUS = None
    BINDINGS = [Binding("escape", "cancel", "Cancel")]  # noqa: RUF012

    def __init__(self, what: str = "Dismiss") -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(f"{self.what}: why?", classes="title")
            for i, r in enumerate(REASONS, 1):
                yield Label(f" {i}  {r}")
            yield Input(placeholder="or tab, type a reason, enter", id="reason-text", compact=True)

    def on_key(self, event: events.Key) -> None:
        inp = self.query_one(Input)
        if not inp.value and event.character and event.character in "1234":
            event.stop()
            event.prevent_default()
            self.dismiss(REASONS[int(event.character) - 1])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
