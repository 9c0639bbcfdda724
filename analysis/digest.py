"""The daily digest's content: what happened on one local day, and a 14-day chart.

Posting (Slack) and printing (terminal) are presentation and live elsewhere; this module
computes one `Digest` from the store so both show the same numbers. Top topics, rising
issues and repeat contacts come from the pattern engine's tables (`store.patterns`) when
it has computed them for the period, otherwise from `scores.top_topic` and
`customer_key` directly, so a digest is never empty just because clustering has not run.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from store import digest as sd
from store import query_views as qv
from store import resolution as resolution_store
from store import reviews
from store.db import Store
from store.query import Query, Span

log = logging.getLogger(__name__)
CHANNELS = ("call", "email", "chat")


@dataclass(slots=True)
class Digest:
    day: date
    timezone: str
    volumes: dict[str, int]
    volumes_before: dict[str, int]
    sentiment: float | None
    sentiment_before: float | None
    top_topics: list[tuple[str, int]] = field(default_factory=list)
    rising: list[dict[str, Any]] = field(default_factory=list)
    angriest: list[dict[str, Any]] = field(default_factory=list)
    compliance_open: int = 0
    compliance: list[dict[str, Any]] = field(default_factory=list)
    repeats: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    #: the day's flags by review status (dismissed ones do not count anywhere)
    reviews: dict[str, int] = field(default_factory=dict)
    #: the week's most-dismissed rules: what reviewers' verdicts say about each rule
    rule_quality: list[str] = field(default_factory=list)
    #: the agents' average beside `sentiment` (which, like every interaction score, is the
    #: customer's)
    sentiment_agent: float | None = None
    #: the day's resolution verdicts (#19): first contacts, resolved first time, with a
    #: verdict; and promised follow-ups due that day without a later contact (ids)
    resolution: dict[str, int] = field(default_factory=dict)
    follow_ups_due: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.volumes.values())

    @property
    def total_before(self) -> int:
        return sum(self.volumes_before.values())

    @property
    def sentiment_change(self) -> float | None:
        if self.sentiment is None or self.sentiment_before is None:
            return None
        return self.sentiment - self.sentiment_before

    def to_json(self) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, datetime | date):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [conv(x) for x in v]
            return v

        return {
            "day": self.day.isoformat(), "timezone": self.timezone, "volumes": self.volumes,
            "volumes_before": self.volumes_before, "sentiment": self.sentiment,
            "sentiment_before": self.sentiment_before, "sentiment_change": self.sentiment_change,
            "sentiment_agent": self.sentiment_agent,
            "top_topics": [{"topic": t, "count": n} for t, n in self.top_topics],
            "rising": conv(self.rising), "angriest": conv(self.angriest),
            "compliance_open": self.compliance_open, "compliance": conv(self.compliance),
            "repeats": conv(self.repeats), "series": conv(self.series), "reviews": self.reviews,
            "rule_quality": self.rule_quality, "resolution": self.resolution,
            "follow_ups_due": self.follow_ups_due,
        }  # fmt: skip


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local calendar day starts and ends (DST days are 23 or 25 hours)."""
    return (datetime.combine(day, time(0), tzinfo=tz),
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz))  # fmt: skip


def build(store: Store, day: date, tz: ZoneInfo, *, series_days: int = 14) -> Digest:
    """Everything the digest says about local day `day`."""
    start, end = day_bounds(day, tz)
    prev_start, _ = day_bounds(day - timedelta(days=1), tz)
    week_start, _ = day_bounds(day - timedelta(days=6), tz)
    series_start, _ = day_bounds(day - timedelta(days=series_days - 1), tz)
    d = Digest(
        day=day, timezone=tz.key,
        volumes=sd.volumes(store, start, end), volumes_before=sd.volumes(store, prev_start, start),
        sentiment=sd.average_sentiment(store, start, end),
        sentiment_before=sd.average_sentiment(store, prev_start, start),
        sentiment_agent=sd.average_sentiment(store, start, end, "agent"),
    )  # fmt: skip
    d.top_topics = _top_topics(store, start, end)
    d.rising = _rising(store, day, start, end, prev_start)
    d.angriest = sd.angriest(store, start, end)
    d.compliance_open, d.compliance = sd.open_flags(store, "compliance%", series_start, end)
    d.repeats = _repeats(store, start, end, week_start)
    d.reviews = sd.review_counts(store, start, end)
    d.rule_quality = [r.describe() + " this week" for r in reviews.rule_quality(store, week_start, end)
                      if r.dismissed][:3]
    d.series = _full_series(sd.daily_series(store, series_start, end, tz.key), day, series_days)
    first, resolved, judged = resolution_store.first_contact_resolution(store, start, end)
    d.resolution = {"first_contacts": first, "resolved_first_time": resolved, "with_verdict": judged}
    _n, due = resolution_store.follow_ups_due(store, start, end, limit=10)
    d.follow_ups_due = [f.interaction_id for f in due]
    return d


def _top_topics(store: Store, start: datetime, end: datetime) -> list[tuple[str, int]]:
    from store import patterns

    # named issue clusters once the patterns job has computed them, else the top topics
    clusters = patterns.top_clusters(store, start, end, limit=5)
    if clusters:
        return [(c.label or ", ".join(c.terms[:3]), c.count) for c in clusters]
    return qv.top_topics(store, Query(period=Span(start, end, "")), limit=5)


def _rising(store: Store, day: date, start: datetime, end: datetime, prev_start: datetime) -> list[dict[str, Any]]:
    """The one definition of rising (`store.query_views.rising`): the patterns job's
    detected rises of the day when it has run, else topics against the days before."""
    q = Query(period=Span(start, end, ""), compare_to=Span(prev_start, start, ""))
    return [{"topic": r.label, "count": r.n, "before": r.before if r.day is None else round(r.baseline, 1),
             "summary": r.summary} for r in qv.rising(store, q, limit=5, tz=getattr(start.tzinfo, "key", "UTC"))]  # fmt: skip


def _repeats(store: Store, start: datetime, end: datetime, week_start: datetime) -> list[dict[str, Any]]:
    try:
        from store import patterns

        rows = patterns.repeat_contacts(store, start, end)
        if rows:
            return [{"customer_key": r.customer_key, "contacts": r.contacts,
                     "interaction_ids": r.interaction_ids, "channels": r.channels}
                    for r in rows[:5]]  # fmt: skip
    except Exception:
        log.debug("repeat_contacts unavailable", exc_info=True)
    return sd.repeat_customers(store, start, end, week_start)


def _full_series(rows: list[dict[str, Any]], day: date, days: int) -> list[dict[str, Any]]:
    """One entry per day of the window, zeros where nothing happened."""
    have = {r["day"]: r for r in rows}
    out = []
    for k in range(days - 1, -1, -1):
        d = day - timedelta(days=k)
        r = have.get(d)
        out.append({"day": d, "counts": {c: (r["counts"].get(c, 0) if r else 0) for c in CHANNELS},
                    "sentiment": r["sentiment"] if r else None})  # fmt: skip
    return out


def chart_png(d: Digest) -> bytes:
    """A 14-day chart: stacked daily volumes per channel, average sentiment on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    days = [r["day"] for r in d.series]
    labels = [x.strftime("%d %b") for x in days]
    bottom = [0] * len(days)
    colors = {"call": "#4C78A8", "email": "#F58518", "chat": "#54A24B"}
    for ch in CHANNELS:
        vals = [r["counts"][ch] for r in d.series]
        ax.bar(labels, vals, bottom=bottom, label=f"{ch}s", color=colors[ch])
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("interactions")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax2 = ax.twinx()
    sent = [r["sentiment"] if r["sentiment"] is not None else float("nan") for r in d.series]
    ax2.plot(labels, sent, color="#222222", marker="o", linewidth=1.5, label="avg sentiment")
    ax2.set_ylim(-5, 5)
    ax2.set_ylabel("sentiment (−5…+5)")
    ax.set_title(f"Last {len(days)} days to {d.day.isoformat()} ({d.timezone})", fontsize=9)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    names = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(handles, names, fontsize=7, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def summary_lines(d: Digest) -> list[str]:
    """The digest as plain lines (Slack fallback text, logs)."""
    vol = ", ".join(f"{d.volumes.get(c, 0)} {c}s" for c in CHANNELS)
    lines = [f"Convoscope digest for {d.day.isoformat()}: {d.total} interactions ({vol}); "
             f"{d.total_before} the day before."]  # fmt: skip
    if d.sentiment is not None:
        change = f" ({d.sentiment_change:+.2f} vs the day before)" if d.sentiment_change is not None else ""
        agent = f"; agents {d.sentiment_agent:+.2f}" if d.sentiment_agent is not None else ""
        lines.append(f"Average customer sentiment {d.sentiment:+.2f}{change}{agent}.")
    if d.top_topics:
        lines.append("Top topics: " + ", ".join(f"{t} ({n})" for t, n in d.top_topics) + ".")
    if d.rising:
        lines.append("Rising: " + ", ".join(f"{r['topic']} {r['before']}→{r['count']}" for r in d.rising) + ".")
    if d.angriest:
        lines.append("Angriest: " + ", ".join(
            f"{a['channel']} #{a['id']} (anger {a['anger']:.2f})" for a in d.angriest) + ".")  # fmt: skip
    lines.append(f"Compliance violations awaiting review: {d.compliance_open}.")
    if d.reviews:
        r = d.reviews
        lines.append(f"Flags that count: {r.get('open', 0) + r.get('confirmed', 0)} "
                     f"({r.get('confirmed', 0)} confirmed, {r.get('open', 0)} awaiting review); "
                     f"{r.get('dismissed', 0)} dismissed by reviewers.")
    for line in d.rule_quality:
        lines.append(f"Rule quality: {line}.")
    if d.resolution.get("with_verdict"):
        r = d.resolution
        lines.append(f"Resolved at first contact: {r['resolved_first_time']} of {r['with_verdict']} "
                     f"({r['resolved_first_time'] / r['with_verdict']:.0%}).")
    if d.follow_ups_due:
        lines.append("Follow-ups due today without a later contact: "
                     + ", ".join(f"#{i}" for i in d.follow_ups_due) + ".")
    if d.repeats:
        # Customer keys can be phone numbers or addresses: only ids and counts leave.
        lines.append("Repeat contacts: " + "; ".join(
            f"{r['contacts']} contacts (#{', #'.join(str(i) for i in r['interaction_ids'][:4])})"
            for r in d.repeats) + ".")  # fmt: skip
    return lines
