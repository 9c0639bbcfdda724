"""`convoscope patterns run|assign|show ...`: the pattern jobs once, and their results.

    convoscope patterns run [--only clusters,repeats,trends,traits,scorecards] [--json]
    convoscope patterns assign [--limit N] [--json]
    convoscope patterns show clusters|rising|repeats|fcr|traits|phrases|stages|scorecards
                             [--days N | --since DATE --until DATE] [--queue Q] [--topic T]
                             [--by agent|queue|topic] [--limit N] [--json]

`run` is what `convoscope serve` schedules every `patterns.full_interval_minutes`;
`assign` is the incremental step between full runs. `show` prints what the bot and the
TUI read (store.patterns), so the numbers can be checked from a shell.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from convoscope.context import Context, UserError

STEPS = ("clusters", "repeats", "trends", "traits", "scorecards")
VIEWS = ("clusters", "rising", "repeats", "fcr", "traits", "phrases", "stages", "scorecards")


def _print_json(value: Any) -> None:
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)
                    if f.name not in ("centroid",)}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v

    print(json.dumps(plain(value), default=str, ensure_ascii=False))


def _run(args: argparse.Namespace, ctx: Context) -> int:
    from analysis.patterns import job

    cfg = ctx.config
    store = ctx.store()
    now = datetime.now(UTC)
    steps = [s.strip() for s in (args.only or ",".join(STEPS)).split(",") if s.strip()]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise UserError(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    if steps == list(STEPS):
        report: Any = job.run_patterns(store, cfg.patterns, now=now, scorecards=cfg.scorecards,
                                       tz=cfg.timezone)
    else:
        report = {}
        for step in steps:
            if step == "clusters":
                report[step] = job.run_clusters(store, cfg.patterns, now=now)
            elif step == "repeats":
                r = job.run_repeats(store, cfg.patterns, now=now)
                report[step] = {"repeats": len(r.repeats), "issues": len(r.resolutions)}
            elif step == "trends":
                report[step] = [t.summary for t in job.run_trends(store, cfg.patterns, now=now,
                                                                  tz=cfg.timezone)]
            elif step == "traits":
                t = job.run_traits(store, cfg.patterns, now=now)
                report[step] = {"traits": len(t.traits), "phrases": len(t.phrases),
                                "stage_orders": len(t.stage_orders)}
            else:
                report[step] = job.run_scorecards(store, cfg.patterns, cfg.scorecards, now=now)
    if args.json:
        _print_json(report)
        return 0
    if isinstance(report, job.PatternsReport):
        c = report.clusters
        print(f"{report.interactions} interaction(s) in the last {cfg.patterns.window_days} days; "
              f"{c.encoded} encoded ({c.waiting} waiting); {c.clusters} cluster(s) ({c.kept} kept, {c.new} new, "
              f"{c.retired} retired, {c.noise} unclustered)")
        fcr = f"{100 * report.fcr:.0f} %" if report.fcr is not None else "n/a"
        print(f"{report.repeats} repeat contact(s) over {report.issues} issue(s), FCR {fcr}")
        print(f"{len(report.rises)} rising issue(s)")
        for line in report.rises:
            print(f"  {line}")
        print(f"{report.traits} trait row(s), {report.phrases} best-phrase row(s), "
              f"{report.scorecards} scorecard result(s)")
        print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    else:
        _print_json(report)
    return 0


def _assign(args: argparse.Namespace, ctx: Context) -> int:
    from analysis.patterns import job

    n = job.assign_new(ctx.store(), ctx.config.patterns, limit=args.limit)
    if args.json:
        print(json.dumps({"assigned": n}))
    else:
        print(f"assigned {n} interaction(s) to existing clusters")
    return 0


def _period(args: argparse.Namespace, ctx: Context) -> tuple[datetime, datetime]:
    tz = ctx.config.tz

    def parse(s: str, what: str) -> date:
        try:
            return date.fromisoformat(s)
        except ValueError:
            raise UserError(f"--{what} must be a date like 2026-11-24, got {s!r}") from None

    today = datetime.now(tz).date()
    until_day = parse(args.until, "until") if args.until else today + timedelta(days=1)
    since_day = parse(args.since, "since") if args.since else until_day - timedelta(days=args.days)
    if since_day >= until_day:
        raise UserError("--since must be before --until")
    return (datetime.combine(since_day, time.min, tzinfo=tz),
            datetime.combine(until_day, time.min, tzinfo=tz))


def _show(args: argparse.Namespace, ctx: Context) -> int:
    from store import patterns as sp

    store = ctx.store()
    since, until = _period(args, ctx)
    what = args.what
    rows: list[Any]
    if what == "clusters":
        rows = sp.top_clusters(store, since, until, args.limit)
        lines = [f"#{r.id:<5} {r.count:>6}  {r.label}  (examples {', '.join(map(str, r.examples[:3]))})"
                 for r in rows]
    elif what == "rising":
        rows = sp.rising_issues(store, since=since.date(), until=until.date())
        lines = [f"{r.day}  {r.summary}" for r in rows]
    elif what == "repeats":
        rows = sp.repeat_contacts(store, since, until)[: args.limit]
        lines = [f"{r.customer_key}: {r.contacts} contacts ({', '.join(r.channels)}) about "
                 f"{', '.join(r.topics) or 'the same issue'}; interactions {r.interaction_ids}"
                 for r in rows]
    elif what == "fcr":
        rows = sp.fcr_rates(store, args.by, since, until)[: args.limit]
        lines = [f"{r.key or '(none)':<24} {100 * r.rate:5.1f} %  ({r.resolved}/{r.issues})" for r in rows]
    elif what == "traits":
        rows = sp.low_satisfaction_traits(store, args.queue, limit=args.limit)
        lines = [f"{r.kind:<7} {r.feature:<40} {r.statistic} "
                 + (f"{r.effect:.2f}" if r.statistic == "odds_ratio" else f"{r.effect:+.2f}")
                 + (f" [{r.ci_low:.2f}, {r.ci_high:.2f}]" if r.ci_low is not None else "")
                 for r in rows]
    elif what == "phrases":
        rows = sp.best_phrases(store, args.topic, args.queue, args.limit)
        lines = [f"{r.rank:>3}. {r.phrase:<40} z {r.z:.2f}  good {r.count_good}/{r.n_good}, "
                 f"bad {r.count_bad}/{r.n_bad}" for r in rows]
    elif what == "stages":
        rows = sp.stage_orders(store, limit=args.limit)
        lines = [f"{r.outcome:<5} {100 * r.share:5.1f} %  {r.sequence}" for r in rows]
    else:
        rows = sp.agent_scorecards(store, since, until)
        lines = [f"{r.scorecard:<20} {r.agent or '(none)':<20} {r.mean_score:6.1f}  "
                 f"({r.interactions} scored)" for r in rows]
    if args.json:
        _print_json(rows)
    elif not lines:
        print(f"no {what} results (has `convoscope patterns run` run? is the period right?)")
    else:
        print("\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("patterns", help="clusters, rising issues, repeat contacts, traits, scorecards")
    psub = p.add_subparsers(dest="patterns_command", metavar="ACTION")
    psub.required = True
    r = psub.add_parser("run", help="recompute everything once (what the service schedules)")
    r.add_argument("--only", help=f"comma-separated steps: {','.join(STEPS)}")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.set_defaults(func=_run)
    a = psub.add_parser("assign", help="put newly analysed interactions into existing clusters")
    a.add_argument("--limit", type=int, default=2000, help="at most N interactions (default 2000)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_assign)
    s = psub.add_parser("show", help="print stored results")
    s.add_argument("what", choices=VIEWS)
    s.add_argument("--days", type=int, default=7, help="period: the last N days (default 7)")
    s.add_argument("--since", help="period start (date, in the configured time zone)")
    s.add_argument("--until", help="period end, exclusive (date)")
    s.add_argument("--queue", help="traits/phrases of one queue")
    s.add_argument("--topic", help="best phrases of one topic")
    s.add_argument("--by", choices=("agent", "queue", "topic"), default="agent", help="FCR grouping")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_show)
