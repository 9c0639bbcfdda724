"""`convoscope demo`: the whole product on the shipped samples, in one command.

Builds a fresh `demo/demo.duckdb`, ingests the sample calls (drop folder), email threads
(.eml archive) and chat transcripts (vendor JSON exports), moves the samples' clock so the
newest interaction is today, or yesterday when its time of day is still to come (so "this
week" questions have answers and nothing lies in the future), analyses
everything with the real models, computes patterns, and prints a summary table and the
daily digest. Afterwards `convoscope --db demo/demo.duckdb tui` opens the result.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from convoscope import config as config_mod
from convoscope.context import Context, UserError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def demo_config(base: config_mod.Config, demo_dir: Path) -> config_mod.Config:
    """The user's config (time zone, models, rules) with demo sources and a demo database."""
    data: dict[str, Any] = base.model_dump(mode="python")
    data["store"] = {"path": str(demo_dir / "demo.duckdb")}
    data["dropfolder"] = {**data.get("dropfolder", {}), "path": str(demo_dir / "drop"),
                          "stable_polls": 0, "settle_seconds": 0}
    email_dir = SAMPLES / "email"
    data["email"] = {
        **data.get("email", {}),
        "agent_domains": ["acme.example"],
        "imap": [],
        "local": [{"kind": "eml", "path": str(email_dir), "name": "samples"}]
        if any(email_dir.glob("*.eml")) else [],
    }
    data["chat"] = {
        "zendesk": [], "intercom": [], "front": [],
        "exports": [
            {"vendor": p.stem, "path": str(p), "name": "samples"}
            for p in sorted((SAMPLES / "chat").glob("*.json"))
            if p.stem in ("zendesk", "intercom", "front")
        ],
    }
    data["slack"] = {**data.get("slack", {}), "enabled": False}
    if not data.get("facts"):
        # the demo company's knowledge base ships in config.example.toml (one sample chat
        # contradicts it); a configuration with its own facts keeps them
        example = SAMPLES.parent / "config.example.toml"
        if example.is_file():
            import tomllib

            data["facts"] = tomllib.loads(example.read_text(encoding="utf-8")).get("facts", [])
    return config_mod.Config.model_validate(data)


def _copy_calls(drop: Path) -> int:
    drop.mkdir(parents=True, exist_ok=True)
    n = 0
    for audio in sorted((SAMPLES / "calls").iterdir()):
        if audio.suffix.lower() in (".opus", ".ogg", ".flac", ".wav", ".mp3", ".m4a"):
            shutil.copy2(audio, drop / audio.name)
            sidecar = audio.with_suffix(".json")
            if sidecar.exists():
                shutil.copy2(sidecar, drop / sidecar.name)
            n += 1
    return n


def run(args: argparse.Namespace, ctx: Context) -> int:
    from rich.console import Console

    from convoscope.sources import build_sources, sync_all
    from convoscope.wiring import build_analyzer, guard_store, run_patterns
    from store import Store
    from store.demo import latest_started_at, shift_timestamps

    # Piped output (CI logs, `| less`) would otherwise be squeezed to 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 150)
    demo_dir = Path(args.dir).resolve()
    if not (SAMPLES / "calls").is_dir():
        raise UserError(f"samples not found at {SAMPLES}; run the demo from a source checkout")
    cfg = demo_config(ctx.config, demo_dir)
    db = Path(cfg.store.path)
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(demo_dir / "drop", ignore_errors=True)

    t0 = time.perf_counter()
    console.rule("[bold]Convoscope demo")
    n_calls = _copy_calls(demo_dir / "drop")
    console.print(f"{n_calls} sample calls in {demo_dir / 'drop'}")
    store = guard_store(cfg, Store.open(db))
    try:
        for r in sync_all(store, build_sources(cfg)):
            console.print(f"  ingest {r.line()}")
            for e in r.errors:
                console.print(f"  [red]error[/]: {e}")
        newest = latest_started_at(store)
        if newest is not None:
            now = datetime.now(cfg.tz)
            delta = timedelta(days=(now.date() - newest.astimezone(cfg.tz).date()).days)
            if newest + delta > now:  # never in the future: a period "… → now" must include it
                delta -= timedelta(days=1)
            shift_timestamps(store, delta)
        console.print("analysing (speech recognition, sentiment, anger, rules, topics) …")
        report = build_analyzer(cfg).run(store)
        console.print(
            f"  {report.transcribed} calls transcribed, {report.analysed} interactions analysed, "
            f"{len(report.new_flag_ids)} flags raised, {len(report.failures)} failures"
        )
        for f in report.failures:
            console.print(f"  [red]failed[/]: {f}")
        from store.search import refresh_search_index

        refresh_search_index(store, force=True)
        try:
            pr = run_patterns(cfg, store)
            console.print(f"  patterns: {_patterns_line(pr)}")
        except Exception as exc:  # patterns need a minimum of data; the demo goes on
            console.print(f"  patterns skipped: {exc}")
        _print_summary(console, store, cfg)
        _print_digest(console, store, cfg)
    finally:
        store.close()
    console.rule()
    console.print(f"done in {time.perf_counter() - t0:.0f} s. Next:")
    console.print(f"  .venv/bin/convoscope --db {db} ask \"angry calls in the last 14 days\"")
    console.print(f"  .venv/bin/convoscope --db {db} tui")
    return 0


def _patterns_line(report: Any) -> str:
    fields = getattr(report, "__dataclass_fields__", {})
    parts = [f"{k}={getattr(report, k)}" for k in fields if isinstance(getattr(report, k), int)]
    return ", ".join(parts) or "done"


def _print_summary(console: Any, store: Any, cfg: config_mod.Config) -> None:
    from rich.table import Table

    from store.demo import summary_rows

    table = Table(title="Interactions", show_lines=False, expand=True)
    for col, kw in (("id", {"justify": "right"}), ("channel", {}), ("when", {}), ("agent", {}),
                    ("queue", {}), ("customer", {"justify": "right"}), ("agent sent.", {"justify": "right"}),
                    ("anger", {"justify": "right"}), ("topic", {}), ("flags", {"overflow": "fold", "min_width": 20}),
                    ("gist", {"overflow": "ellipsis", "no_wrap": True, "max_width": 30})):
        table.add_column(col, **kw)
    for r in summary_rows(store):
        when = r["started_at"].astimezone(cfg.tz).strftime("%a %d %H:%M") if r["started_at"] else ""
        sent = r["sentiment"]
        colour = "red" if sent is not None and sent <= -1 else "green" if sent is not None and sent >= 1 else ""
        sent_s = f"[{colour}]{sent:+.1f}[/]" if colour else (f"{sent:+.1f}" if sent is not None else r["status"])
        anger = f"{r['anger']:.2f}" if r["anger"] is not None else ""
        agent_s = f"{r['sentiment_agent']:+.1f}" if r["sentiment_agent"] is not None else ""
        table.add_row(str(r["id"]), r["channel"], when, r["agent"] or "", r["queue"] or "", sent_s, agent_s,
                      anger, r["top_topic"] or "", (r["flags"] or "").replace(", ", "\n"), (r["gist"] or "").replace("\n", " "))
    console.print(table)


def _print_digest(console: Any, store: Any, cfg: config_mod.Config) -> None:
    from analysis.digest import build
    from convoscope.commands.digest import render

    render(build(store, datetime.now(cfg.tz).date(), cfg.tz), console)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="ingest, analyse and summarise the shipped sample interactions")
    p.add_argument("--dir", default="demo", help="where the demo database and drop folder go")
    p.set_defaults(func=run)
