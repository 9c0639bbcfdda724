"""`convoscope export`: the Interactions view (with the TUI's filters) to CSV or Parquet.

Goes through the running service's API when there is one (it owns the file), else opens
the file read-only; either way the same `store.browse` query and DuckDB COPY run.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from convoscope.commands.tui import make_source
from convoscope.context import Context, UserError

if TYPE_CHECKING:
    from store.browse import Filter
    from store.query import Query


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("export", help="export interactions (filtered) to CSV or Parquet",
                              description=__doc__)
    p.add_argument("out", help="file to write (.csv or .parquet)")
    p.add_argument("--format", choices=("csv", "parquet"), help="default: from the file name")
    for name in ("channel", "agent", "queue", "topic", "flag-kind", "review-status"):
        p.add_argument(f"--{name}")
    p.add_argument("--since", help="YYYY-MM-DD[ HH:MM] in the configured time zone")
    p.add_argument("--until", help="YYYY-MM-DD[ HH:MM] (exclusive)")
    p.add_argument("--min-sentiment", type=float)
    p.add_argument("--max-sentiment", type=float)
    p.add_argument("--sort", default="started_at",
                   choices=("started_at", "sentiment", "duration", "agent", "id"))
    p.add_argument("--ascending", action="store_true")
    p.add_argument("--api", metavar="URL", help="use the service API at URL")
    p.add_argument("--token", help="API token (default: $CONVOSCOPE_API_TOKEN, then the state file)")
    p.add_argument("--query", metavar="JSON",
                   help="a typed query (store.query.Query as JSON, e.g. from `ask --json`, or @file) "
                        "instead of the filter options")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run, file=False, read_only=True)


def _time(raw: str | None, tz: str, what: str) -> datetime | None:
    if not raw:
        return None
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        raise UserError(f"--{what}: use YYYY-MM-DD or YYYY-MM-DD HH:MM, got {raw!r}") from None
    return ts.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) if ts.tzinfo is None else ts


def _query(raw: str) -> Query:
    """A typed query from `--query`: inline JSON or @path to a JSON file; the `query` key of
    `convoscope ask --json` output is accepted as is."""
    from store.query import Query

    text = Path(raw[1:]).expanduser().read_text() if raw.startswith("@") else raw
    try:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("query"), dict):
            data = data["query"]
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return Query.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"--query: not a typed query ({exc})") from None


def run(args: argparse.Namespace, ctx: Context) -> int:
    from store.browse import Filter

    out = Path(args.out).expanduser().resolve()
    fmt = args.format or {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(out.suffix.lower())
    if fmt is None:
        raise UserError("give --format csv|parquet or a file name ending in .csv or .parquet")
    tz = ctx.config.timezone
    view: Filter | Query
    flt = Filter(
        channel=args.channel, agent=args.agent, queue=args.queue, topic=args.topic,
        flag_kind=args.flag_kind, review_status=args.review_status,
        since=_time(args.since, tz, "since"), until=_time(args.until, tz, "until"),
        sentiment_min=args.min_sentiment, sentiment_max=args.max_sentiment,
    )
    view, what = flt, flt.describe()
    if args.query:
        if flt.describe() != "all interactions":
            raise UserError("give either --query or the filter options, not both")
        view = _query(args.query)
        what = f"{view.view} query with {len(view.filters)} filter(s)"
    source = make_source(args, ctx)
    try:
        n = source.export(view, str(out), fmt, sort=args.sort, descending=not args.ascending)
    except Exception as exc:
        raise UserError(f"export failed: {exc}") from None
    finally:
        source.close()
    if args.json:
        print(json.dumps({"rows": n, "path": str(out), "format": fmt, "filter": what}))
    else:
        print(f"{n:,} interactions ({what}) written to {out}")
    return 0
