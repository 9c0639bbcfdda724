"""Dashboard: today vs yesterday per channel, open flags, 14-day trends, top and rising topics."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Footer, Header, Static

from store.browse import Dashboard
from tui.screens.base import DataScreen
from tui.widgets.fmt import delta, sentiment_text, spark


class DashboardScreen(DataScreen):
    BINDINGS = [Binding("g", "refresh", "Refresh")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        yield Header()
        with Grid(id="dash"):
            yield Static("loading…", id="dash-today", classes="panel")
            yield Static("", id="dash-flags", classes="panel")
            yield Static("", id="dash-trend", classes="panel")
            yield Static("", id="dash-topics", classes="panel")
        yield Footer()

    def fetch(self) -> Dashboard:
        return self.source.dashboard()

    def show(self, d: Dashboard) -> None:
        self.sub_title = f"today {d.today.isoformat()}"
        t = Table(title="Today vs yesterday", expand=True, box=None, title_justify="left",
                  title_style="bold")
        for col, just in (("", "left"), ("today", "right"), ("yday", "right"),
                          ("Δ", "right"), ("sent", "right"), ("yday", "right")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for c in d.channels:
            t.add_row(c.channel, f"{c.today:,}", f"{c.yesterday:,}", delta(c.today, c.yesterday),
                      sentiment_text(c.sentiment_today), sentiment_text(c.sentiment_yesterday))
        t.add_row(Text("all", style="bold"), f"{d.total_today:,}", f"{d.total_yesterday:,}",
                  delta(d.total_today, d.total_yesterday), sentiment_text(d.sentiment_today),
                  sentiment_text(d.sentiment_yesterday))
        self.query_one("#dash-today", Static).update(t)

        f = Table(title="Open flags", expand=True, box=None, title_justify="left",
                  title_style="bold")
        f.add_column("kind", no_wrap=True, overflow="ellipsis")
        f.add_column("open", justify="right")
        for item in d.open_flags[:6]:
            f.add_row(item.key, f"{item.n:,}")
        if not d.open_flags:
            f.add_row(Text("none open", style="dim"), "")
        self.query_one("#dash-flags", Static).update(f)

        s = d.series
        tr = Table(title=f"Last 14 days ({s.days[0]:%m-%d} → {s.days[-1]:%m-%d})", expand=True,
                   box=None, title_justify="left", title_style="bold")
        tr.add_column("")
        tr.add_column("trend")
        tr.add_column("last", justify="right")
        tr.add_row("volume", spark(s.volume), f"{s.volume[-1]:,}")
        tr.add_row("sentiment", spark(s.sentiment), sentiment_text(s.sentiment[-1]))
        tr.add_row("flags", spark(s.flags), f"{s.flags[-1]:,}")
        self.query_one("#dash-trend", Static).update(tr)

        tp = Table(title="Top topics (7 days)", expand=True, box=None, title_justify="left",
                   title_style="bold")
        tp.add_column("topic", no_wrap=True, overflow="ellipsis")
        tp.add_column("n", justify="right")
        tp.add_column("Δ wk", justify="right")
        tp.add_column("sent.", justify="right")
        for item in d.top_topics[:5]:
            tp.add_row(item.key, f"{item.n:,}", delta(item.n, item.previous),
                       sentiment_text(item.sentiment))
        if d.rising:
            tp.add_row("", "", "", "")
            tp.add_row(Text("Rising", style="bold"), "", "", "")
            for r in d.rising[:3]:
                tp.add_row(Text(f"↑ {r.label}", style="dark_orange"), f"{r.n:,}",
                           Text(f"×{r.ratio:.1f}", style="dark_orange"), "")
        self.query_one("#dash-topics", Static).update(tp)
