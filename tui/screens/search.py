"""Search: full text over transcripts, emails and chats, ranked, hits highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from store.records import CHANNELS
from store.search import SearchResult
from tui.screens.base import DataScreen
from tui.widgets.fmt import highlight, when


class SearchScreen(DataScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("slash", "focus_query", "New search"),
        Binding("ctrl+l", "to_list", "Results as list"),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.query_text = query
        self.result: SearchResult | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-row"):
            yield Input(self.query_text, placeholder="search transcripts, emails, chats… (enter)",
                        id="q", compact=True)
            yield Select([(c, c) for c in CHANNELS], prompt="all channels", id="search-channel",
                         compact=True)
        yield Static("", id="search-bar")
        yield OptionList(id="hits")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#q", Input).focus()
        if self.query_text:
            self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        if self.query_text:
            self.query_one("#search-bar", Static).update("searching…")
            self.reload()

    def fetch(self) -> SearchResult:
        return self.source.search(self.query_text, limit=50, channel=self.channel)

    @property
    def channel(self) -> str | None:
        v = self.query_one("#search-channel", Select).value
        return None if v is Select.NULL or v is None else str(v)

    def on_select_changed(self, event: Select.Changed) -> None:
        if self.query_text:
            self.reload()

    def show(self, res: SearchResult) -> None:
        self.result = res
        hits = self.query_one("#hits", OptionList)
        hits.clear_options()
        tz = self.source.tz
        opts = []
        for h in res.hits:
            t = Text()
            t.append(f"#{h.interaction_id}", style="bold")
            t.append(f"  {h.channel}  {when(h.started_at, tz)}  {h.agent or '–'}", style="dim")
            t.append(f"  score {h.score:.2f}\n", style="dim")
            if h.speaker:
                t.append(f"{h.speaker}: ", style="italic")
            t.append_text(highlight(h.snippet, h.spans, style="bold reverse"))
            opts.append(Option(t, id=str(h.interaction_id)))
        hits.add_options(opts)
        took = f", {res.seconds * 1000:.0f} ms" if self.capp.show_timings else ""
        self.query_one("#search-bar", Static).update(
            f"[b]{len(res.hits)}[/b] hits for [b]{res.query}[/b] ({res.method}{took})  "
            "enter opens · ctrl+l as list")
        if res.hits:
            hits.focus()
            hits.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from tui.screens.detail import DetailScreen

        if event.option.id:
            self.app.push_screen(DetailScreen(int(event.option.id)))

    def action_focus_query(self) -> None:
        self.query_one("#q", Input).focus()

    def action_to_list(self) -> None:
        """The hits in the Interactions table (to filter further or export)."""
        if not self.result or not self.result.hits:
            return
        from store.browse import Filter
        from tui.screens.interactions import InteractionsScreen

        ids = [h.interaction_id for h in self.result.hits]
        self.app.push_screen(InteractionsScreen(Filter(ids=ids), title=f"search: {self.query_text}"))
