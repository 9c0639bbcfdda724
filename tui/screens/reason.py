"""Pick a dismissal reason in one key (1-4) or type one; the second key of "x then 1"."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

REASONS = ("false positive", "already handled", "duplicate", "not actionable")


class ReasonScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]  # noqa: RUF012

    def __init__(self, what: str = "Dismiss") -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(f"{self.what}: why?", classes="title")
            for i, r in enumerate(REASONS, 1):
                yield Label(f" {i}  {r}")
            yield Input(placeholder="or type a reason, enter", id="reason-text", compact=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A lone digit as the first key picks that reason (the box has focus, so the
        digit arrives as text); a typed reason just has to not start with one."""
        if event.value in {str(i) for i in range(1, len(REASONS) + 1)}:
            self.dismiss(REASONS[int(event.value) - 1])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
