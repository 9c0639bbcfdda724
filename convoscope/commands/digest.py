"""`convoscope digest --print | --post [--channel C] [--date D]`: the daily digest now.

`--print` renders it in the terminal (rich); `--post` sends it to Slack (to `--channel`,
or to every configured `[[digests]]` channel) exactly as the scheduled job would. The
default day is yesterday in the configured time zone (the last complete day).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from convoscope.context import Context, UserError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("digest", help="print or post the daily digest")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--print", dest="do_print", action="store_true", help="render it here")
    mode.add_argument("--post", action="store_true", help="post it to Slack now")
    p.add_argument("--channel", help="Slack channel id (default: the configured digests)")
    p.add_argument("--date", help="the day, YYYY-MM-DD (default: yesterday)")
    p.add_argument("--json", action="store_true", help="with --print: the digest as JSON")
    p.add_argument("--chart", metavar="PNG", help="with --print: also write the chart here")
    p.set_defaults(func=run)


def _day(args: argparse.Namespace, tz: ZoneInfo) -> date:
    if args.date:
        try:
            return date.fromisoformat(args.date)
        except ValueError:
            raise UserError(f"--date must be YYYY-MM-DD, got {args.date!r}") from None
    return datetime.now(tz).date() - timedelta(days=1)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from analysis import digest as content

    tz = ctx.config.tz
    day = _day(args, tz)
    if args.post:
        return _post(ctx, day, args.channel)
    store = ctx.store()
    d = content.build(store, day, tz)
    if args.chart:
        Path(args.chart).write_bytes(content.chart_png(d))
    if args.json:
        print(json.dumps(d.to_json(), default=str, indent=2, ensure_ascii=False))
        return 0
    render(d)
    return 0


def _post(ctx: Context, day: date, channel: str | None) -> int:
    from slack_sdk import WebClient

    from bot.digest import post_digest

    cfg = ctx.config
    if not cfg.slack.bot_token:
        raise UserError('slack.bot_token is not set (use "${SLACK_BOT_TOKEN}" in the config)')
    targets = [(channel, cfg.tz, True)] if channel else [
        (d.channel, ZoneInfo(d.timezone) if d.timezone else cfg.tz, d.chart) for d in cfg.digests
    ]  # fmt: skip
    if not targets:
        raise UserError("no --channel given and no [[digests]] configured")
    client = WebClient(token=cfg.slack.bot_token, base_url=cfg.slack.api_base_url)
    store = ctx.store()
    for ch, zone, chart in targets:
        try:
            posted = post_digest(store, client, ch, day, zone, chart=chart)
        except Exception as exc:  # Slack API errors are the user's to fix (token, channel)
            raise UserError(f"posting the digest to {ch} failed: {exc}") from None
        print(f"posted the digest for {day} to {ch} (ts {posted.message_ts})")
    return 0


def render(d: Any, console: Any | None = None) -> None:
    """Print a digest (analysis.digest.Digest) in the terminal with rich."""
    from rich.console import Console
    from rich.table import Table

    from analysis.digest import CHANNELS
    from store.records import SEVERITY_NAMES

    console = console or Console()
    console.rule(f"[bold]Convoscope digest — {d.day:%a %d %b %Y} ({d.timezone})")
    t = Table(show_header=True, header_style="bold")
    t.add_column("channel")
    t.add_column("interactions", justify="right")
    t.add_column("day before", justify="right")
    t.add_column("change", justify="right")
    for ch in CHANNELS:
        now, before = d.volumes.get(ch, 0), d.volumes_before.get(ch, 0)
        t.add_row(f"{ch}s", str(now), str(before), f"{now - before:+d}")
    t.add_row("[bold]total", str(d.total), str(d.total_before), f"{d.total - d.total_before:+d}")
    console.print(t)
    if d.sentiment is not None:
        change = f" ({d.sentiment_change:+.2f} vs the day before)" if d.sentiment_change is not None else ""
        agent = f"; agents {d.sentiment_agent:+.2f}" if d.sentiment_agent is not None else ""
        console.print(f"Average customer sentiment [bold]{d.sentiment:+.2f}[/]{change}{agent}")
    for title, rows in (
        ("Top topics", [f"{t} — {n}" for t, n in d.top_topics]),
        ("Rising issues", [f"{r['topic']}: {r['before']} → {r['count']}" for r in d.rising]),
        ("Angriest interactions", [f"{a['channel']} #{a['id']} anger {a['anger']:.2f} "
                                   f"agent {a['agent'] or '?'} {a['topic'] or ''}" for a in d.angriest]),
        (f"Compliance violations awaiting review ({d.compliance_open})",
         [f"{c['kind']} ({SEVERITY_NAMES.get(c['severity'], c['severity'])}) {c['channel']} #{c['interaction_id']}" for c in d.compliance]),
        ("Repeat contacts", [f"{r['customer_key']}: {r['contacts']} contacts "
                             f"({', '.join('#' + str(i) for i in r['interaction_ids'][:6])})" for r in d.repeats]),
    ):  # fmt: skip
        console.print(f"\n[bold]{title}[/]")
        for row in rows or ["(none)"]:
            console.print(f"  • {row}")
    spark = " ".join(f"{r['day']:%d}:{sum(r['counts'].values())}" for r in d.series)
    console.print(f"\n[dim]Last {len(d.series)} days (day:interactions): {spark}[/]")


_render = render  # the name `convoscope demo` imports
