"""Formatting helpers: one place decides how a sentiment, a time or a trend looks.

Colours are Rich styles that read on both the light and the dark theme (mid-tone
foregrounds, no pure white/black), so a screen never depends on the theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text

from store.records import SEVERITY_NAMES

_BLOCKS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float | int | None]) -> str:
    """A one-line trend ('▁▃▅█'); gaps (None) show as a space."""
    nums = [v for v in values if v is not None]
    if not nums:
        return " " * len(values)
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    return "".join(
        " " if v is None else _BLOCKS[int((float(v) - lo) / span * (len(_BLOCKS) - 1))]
        for v in values
    )


def sentiment_style(v: float | None, scale: float = 5.0) -> str:
    """Red for negative, green for positive, dim for neutral/unknown (v on -scale..scale)."""
    if v is None:
        return "dim"
    x = v / scale
    if x <= -0.4:
        return "bold red"
    if x <= -0.1:
        return "dark_orange"
    if x >= 0.4:
        return "bold green"
    if x >= 0.1:
        return "green"
    return ""


def sentiment_text(v: float | None, scale: float = 5.0) -> Text:
    return Text("–" if v is None else f"{v:+.1f}", style=sentiment_style(v, scale))


def tint_class(v: float | None, scale: float = 1.0) -> str:
    """CSS class for a turn's background tint: neg / pos / neu."""
    if v is None:
        return "neu"
    if v / scale <= -0.25:
        return "neg"
    if v / scale >= 0.25:
        return "pos"
    return "neu"


def severity_text(sev: int) -> Text:
    name = SEVERITY_NAMES.get(int(sev), str(sev))
    style = {4: "bold red", 3: "red", 2: "dark_orange", 1: "dim"}.get(int(sev), "")
    return Text(name, style=style)


def when(ts: datetime | None, tz: str = "UTC") -> str:
    if ts is None:
        return "–"
    return ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def delta(today: float | int | None, yesterday: float | int | None, pct: bool = True) -> Text:
    """'+12%' (volume) or '+0.4' (sentiment) with the direction coloured."""
    if today is None or yesterday is None:
        return Text("–", style="dim")
    if pct:
        if not yesterday:
            return Text("new" if today else "–", style="dim")
        d = (float(today) - float(yesterday)) / float(yesterday) * 100
        return Text(f"{d:+.0f}%", style="green" if d >= 0 else "dark_orange")
    d = float(today) - float(yesterday)
    return Text(f"{d:+.1f}", style="green" if d >= 0 else "dark_orange")


def highlight(text: str, spans: Sequence[Sequence[int]], style: str = "bold reverse") -> Text:
    """`text` with the [start, end) spans styled (search hits, flagged evidence)."""
    t = Text(text)
    for a, b in spans:
        a, b = max(0, int(a)), min(len(text), int(b))
        if a < b:
            t.stylize(style, a, b)
    return t
