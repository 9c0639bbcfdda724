"""The filter form of the Interactions screen (a modal): every filter field, editable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from store.browse import Filter
from store.records import CHANNELS, REVIEW_STATUSES


class FilterScreen(ModalScreen[Filter | None]):
    """Edit a `Filter`; dismisses with the new filter, or None when cancelled."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply", priority=True),
        Binding("ctrl+r", "clear", "Clear all"),
    ]

    def __init__(self, flt: Filter, choices: dict[str, list[str]], tz: str = "UTC") -> None:
        super().__init__()
        self.flt = flt
        self.choices = choices
        self.tz = tz

    def _select(self, name: str, options: list[str], value: str | None) -> Select[str]:
        opts = [(o, o) for o in options]
        if value is not None and value not in options:
            opts.append((value, value))
        return Select(opts, prompt=f"any {name.replace('_', ' ')}", id=f"f-{name}",
                      value=value if value is not None else Select.NULL, compact=True)

    def compose(self) -> ComposeResult:
        f = self.flt
        with VerticalScroll(id="filter-form"):
            yield Label("Filter interactions  (ctrl+s apply · ctrl+r clear · esc cancel)",
                        classes="title")
            for name, opts in (
                ("channel", list(CHANNELS)),
                ("agent", self.choices.get("agent", [])),
                ("queue", self.choices.get("queue", [])),
                ("topic", self.choices.get("topic", [])),
                ("flag_kind", self.choices.get("flag_kind", [])),
                ("review_status", list(REVIEW_STATUSES)),
            ):
                yield Label(name.replace("_", " "))
                yield self._select(name, opts, getattr(f, name))
            yield Label(f"from / to (YYYY-MM-DD [HH:MM], {self.tz})")
            with Horizontal(classes="pair"):
                yield Input(self._fmt(f.since), placeholder="from", id="f-since", compact=True)
                yield Input(self._fmt(f.until), placeholder="to", id="f-until", compact=True)
            yield Label("sentiment min / max (-5 … +5)")
            with Horizontal(classes="pair"):
                yield Input("" if f.sentiment_min is None else str(f.sentiment_min),
                            placeholder="min", id="f-smin", compact=True)
                yield Input("" if f.sentiment_max is None else str(f.sentiment_max),
                            placeholder="max", id="f-smax", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Clear", id="clear", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _fmt(self, ts: datetime | None) -> str:
        return "" if ts is None else ts.astimezone(ZoneInfo(self.tz)).strftime("%Y-%m-%d %H:%M")

    def _parse_time(self, raw: str, field: str) -> datetime | None:
        raw = raw.strip()
        if not raw:
            return None
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"{field}: use YYYY-MM-DD or YYYY-MM-DD HH:MM, got {raw!r}") from exc
        if len(raw) <= 10:
            ts = datetime.combine(ts.date(), time.min)
        return ts.replace(tzinfo=ZoneInfo(self.tz)).astimezone(UTC) if ts.tzinfo is None else ts

    def _parse_float(self, raw: str, field: str) -> float | None:
        raw = raw.strip()
        if not raw:
            return None
        try:
            v = float(raw)
        except ValueError as exc:
            raise ValueError(f"{field}: not a number: {raw!r}") from exc
        if not -5 <= v <= 5:
            raise ValueError(f"{field}: must be between -5 and 5")
        return v

    def build(self) -> Filter:
        def sel(name: str) -> str | None:
            v = self.query_one(f"#f-{name}", Select).value
            return None if v is Select.NULL or v is None else str(v)

        return replace(
            self.flt,
            channel=sel("channel"), agent=sel("agent"), queue=sel("queue"), topic=sel("topic"),
            flag_kind=sel("flag_kind"), review_status=sel("review_status"),
            since=self._parse_time(self.query_one("#f-since", Input).value, "from"),
            until=self._parse_time(self.query_one("#f-until", Input).value, "to"),
            sentiment_min=self._parse_float(self.query_one("#f-smin", Input).value, "min"),
            sentiment_max=self._parse_float(self.query_one("#f-smax", Input).value, "max"),
        )

    def action_apply(self) -> None:
        try:
            flt = self.build()
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.dismiss(flt)

    def action_clear(self) -> None:
        self.dismiss(Filter())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"apply": self.action_apply, "clear": self.action_clear,
         "cancel": self.action_cancel}[event.button.id or "cancel"]()
