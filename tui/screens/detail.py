"""Detail: one conversation as turns tinted by sentiment, flagged spans highlighted with the
rule that matched, the resolution verdict (status, confidence, reason, a follow-up due
date while pending), metrics, topics, cluster, QA score, and the review controls.

Text is redacted by default (the store's outbound view: `turn_scores.redacted_text`); `u`
shows the original for the moment — fetched through the role-checked, audited
`store.outbound.original_turns`, so only when the TUI runs on the file itself, never through
the service's API (it is never the default, so a screenshot or a shoulder never sees PII).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from store.browse import Detail, FlagView, TurnView
from tui.screens.base import DataScreen
from tui.widgets.fmt import duration, highlight, sentiment_text, severity_text, tint_class, when


@dataclass(slots=True)
class Mark:
    """One piece of flag evidence on a turn: a character span of the original text (when
    known), the matched words, and the rule that matched."""

    start: int | None
    end: int | None
    matched: str | None
    rule: str


def evidence_marks(flags: list[FlagView]) -> dict[int, list[Mark]]:
    """seq -> marks, from evidence as analysis/rules.py writes it (seq, char_start,
    char_end, matched, condition); `start`/`end` there are times in seconds, not offsets."""
    out: dict[int, list[Mark]] = {}
    for f in flags:
        for ev in f.evidence or []:
            if not isinstance(ev, dict) or ev.get("seq", ev.get("turn")) is None:
                continue
            seq = int(ev.get("seq", ev.get("turn")))
            a, b = ev.get("char_start"), ev.get("char_end")
            rule = str(ev.get("condition") or ev.get("rule") or f.rule or f.kind)
            matched = ev.get("matched")
            out.setdefault(seq, []).append(
                Mark(int(a) if a is not None else None, int(b) if b is not None else None,
                     str(matched) if matched else None, f"{f.kind}: {rule}"))
    return out


def mark_spans(text: str, original: str, marks: list[Mark]) -> list[tuple[int, int]]:
    """Where to highlight `marks` in the shown `text`. Offsets index the original text, so
    they are used as they are only when the shown text is the original; in redacted text
    the matched words are searched for instead (a redacted match is not highlighted)."""
    spans = []
    for mk in marks:
        if text == original and mk.start is not None and mk.end is not None:
            spans.append((mk.start, mk.end))
        elif mk.matched:
            i = text.lower().find(mk.matched.lower())
            if i >= 0:
                spans.append((i, i + len(mk.matched)))
        elif mk.start is not None and mk.end is not None and mk.end <= len(text):
            spans.append((mk.start, mk.end))
    return spans


_VERDICT_STYLE = {"resolved": "green", "unresolved": "bold red", "pending": "yellow"}


def resolution_text(d: Detail, tz: str) -> Text:
    """The head's resolution line ("" when the interaction has no verdict yet)."""
    r = d.resolution
    out = Text()
    if r is None:
        return out
    out.append("\nresolution: ")
    out.append(r.verdict, style=_VERDICT_STYLE.get(r.verdict, ""))
    out.append(f" ({r.confidence:.2f})")
    if r.follow_up_due is not None:
        out.append(f"  follow-up due {when(r.follow_up_due, tz)[:10]}", style="bold yellow")
    if r.reason:
        out.append(f"  — {r.reason}", style="dim")
    return out


def _flat_metrics(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Scalar metrics, one level of nesting flattened ('words per minute agent')."""
    out = []
    for k, v in metrics.items():
        if isinstance(v, dict):
            short = {"words_per_minute": "wpm", "talk_seconds": "talk s"}.get(k, k)
            out += [(f"{short} {k2}", v2) for k2, v2 in v.items() if isinstance(v2, int | float)]
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out.append((k, v))
    return [(k.replace("_", " "), f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v))
            for k, v in out]


class DetailScreen(DataScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "confirm", "Confirm flag"),
        Binding("x", "dismiss_flag", "Dismiss flag"),
        Binding("n", "reopen", "Reopen"),
        Binding("u", "toggle_redaction", "Unredact"),
        Binding("g", "refresh", "Reload"),
        Binding("l", "listen", "Listen to the flag's evidence", show=False),
    ]

    def __init__(self, interaction_id: int) -> None:
        super().__init__()
        self.interaction_id = interaction_id
        self.detail: Detail | None = None
        self.redacted = True
        #: seq -> original text, fetched (audited) only when the user asks with `u`
        self.originals: dict[int, str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="detail-head")
        with Horizontal(id="detail-body"):
            yield VerticalScroll(id="turns")
            with Vertical(id="side"):
                yield Static("", id="metrics")
                flags: DataTable[Any] = DataTable(id="flags", cursor_type="row")
                yield flags
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one("#flags", DataTable)
        for label, width in (("flag", 14), ("sev", 8), ("review", 9)):
            t.add_column(label, width=width)
        self.title = f"Interaction {self.interaction_id}"
        super().on_mount()

    def fetch(self) -> Detail | None:
        return self.source.detail(self.interaction_id)

    def show(self, d: Detail | None) -> None:
        if d is None:
            self.query_one("#detail-head", Static).update(f"no interaction {self.interaction_id}")
            return
        self.detail = d
        tz = self.source.tz
        head = Text()
        head.append(f"#{d.id} {d.channel}", style="bold")
        head.append(f"  {when(d.started_at, tz)}  {duration(d.duration)}  agent {d.agent or '–'}"
                    f"  customer {d.customer or '–'}  queue {d.queue or '–'}\n")
        if d.subject:
            head.append(f"{d.subject}  ", style="italic")
        # the interaction's sentiment is the customer's; the agent's is shown beside it
        head.append("sentiment: customer ")
        head.append_text(sentiment_text(d.sentiment_customer if d.sentiment_customer is not None else d.sentiment))
        if d.customer_trend:
            head.append(" (" + " → ".join(f"{v:+.1f}" for v in d.customer_trend) + ")")
        head.append("  agent ")
        head.append_text(sentiment_text(d.sentiment_agent))
        if d.anger is not None:
            head.append(f"  anger {d.anger:.2f}", style="red" if d.anger >= 0.6 else "")
        head.append("   " + ("REDACTED" if self.redacted else "ORIGINAL TEXT"),
                    style="bold green" if self.redacted else "bold red")
        head.append_text(resolution_text(d, tz))
        self.query_one("#detail-head", Static).update(head)
        self._render_turns(d)
        self._render_side(d)

    def _render_turns(self, d: Detail) -> None:
        box = self.query_one("#turns", VerticalScroll)
        box.remove_children()
        spans = evidence_marks(d.flags)
        widgets = []
        for t in d.turns:
            widgets.append(self._turn_widget(t, spans.get(t.seq, [])))
        if not widgets:
            widgets.append(Static("no turns (not transcribed yet?)", classes="dim"))
        box.mount_all(widgets)

    def _turn_widget(self, t: TurnView, marks: list[Mark]) -> Static:
        original = None if self.redacted or self.originals is None else self.originals.get(t.seq)
        text = original if original is not None else t.text
        at = (f"{int(t.start_s) // 60}:{int(t.start_s) % 60:02d}" if t.start_s is not None
              else when(t.sent_at, self.source.tz)[11:] if t.sent_at else "")
        label = Text()
        label.append(f"{t.speaker_name or t.speaker}", style="bold")
        label.append(f" {at}", style="dim")
        if t.sentiment is not None:
            label.append(f"  {t.sentiment_label or ''} {t.sentiment:+.2f}", style="dim")
        body = highlight(text, mark_spans(text, original or "", marks), style="bold reverse")
        label.append("\n")
        label.append_text(body)
        for mk in marks:
            label.append(f"\n⚑ {mk.rule}", style="bold red")
        classes = f"turn {t.speaker} {tint_class(t.sentiment)}" + (" flagged" if marks else "")
        return Static(label, classes=classes)

    def _render_side(self, d: Detail) -> None:
        m = Table(box=None, expand=True, show_header=False)
        m.add_column("k", style="dim", no_wrap=True, overflow="ellipsis")
        m.add_column("v", justify="right", no_wrap=True, overflow="ellipsis")
        for k, v in _flat_metrics(d.metrics)[:12]:
            m.add_row(k, v)
        if d.topics:
            m.add_row("topics", ", ".join(str(t.get("topic", t)) if isinstance(t, dict) else str(t)
                                          for t in d.topics[:3]))
        m.add_row("cluster", f"{d.cluster_label or '–'}" + (f" #{d.cluster_id}" if d.cluster_id is not None else ""))
        m.add_row("QA score", "–" if d.qa_score is None else f"{d.qa_score:.0f}")
        self.query_one("#metrics", Static).update(m)
        table = self.query_one("#flags", DataTable)
        table.clear()
        for f in d.flags:
            status = Text(f.review_status + (" ⚑" if f.contested else ""),
                          style={"open": "bold", "confirmed": "red",
                                 "dismissed": "dim"}.get(f.review_status, ""))
            table.add_row(f.kind, severity_text(f.severity), status, key=str(f.id))

    # -- review ------------------------------------------------------------------------------

    def _current_flag(self) -> int | None:
        table = self.query_one("#flags", DataTable)
        if not table.row_count:
            self.notify("this interaction has no flags")
            return None
        return int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value or 0)

    def _rev(self, fid: int) -> int | None:
        """The review revision of the flag as this screen shows it."""
        if self.detail is None:
            return None
        return next((f.review_rev for f in self.detail.flags if f.id == fid), None)

    def action_confirm(self) -> None:
        fid = self._current_flag()
        if fid is not None:
            self.capp.review(fid, "confirmed", None, self.reload, self._rev(fid))

    def action_reopen(self) -> None:
        fid = self._current_flag()
        if fid is not None:
            self.capp.review(fid, "open", None, self.reload, self._rev(fid))

    def action_dismiss_flag(self) -> None:
        fid = self._current_flag()
        if fid is None:
            return
        from tui.screens.reason import ReasonScreen

        def done(reason: str | None) -> None:
            if reason:
                self.capp.review(fid, "dismissed", reason, self.reload, self._rev(fid))

        self.app.push_screen(ReasonScreen(), done)

    def action_listen(self) -> None:
        """Play (or save) the redacted audio around the selected flag's evidence."""
        fid = self._current_flag()
        if fid is None:
            return
        from tui.player import play_or_save

        def work() -> None:
            from tui.data import DataSourceError

            try:
                data = self.source.clip(fid)
                msg = play_or_save(data, fid, self.capp.clip_dir)
            except (DataSourceError, OSError) as exc:
                self.app.call_from_thread(self.notify, f"no clip: {exc}", severity="error")
                return
            self.app.call_from_thread(self.notify, msg)

        self.run_worker(work, thread=True, group="clip")

    def action_toggle_redaction(self) -> None:
        if self.redacted and self.originals is None:
            from tui.data import DataSourceError

            try:
                self.originals = self.source.original_texts(self.interaction_id)
            except DataSourceError as exc:
                self.notify(str(exc), severity="warning")
                return
        self.redacted = not self.redacted
        if self.detail is not None:
            self.show(self.detail)
