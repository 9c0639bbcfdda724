"""`convoscope analyze [--rescore | --stale] [--limit N] [--json]`: run the analysis job once.

Transcribes calls waiting for ASR, then scores every waiting interaction (see
`analysis.pipeline`). `--rescore` also re-analyses interactions already analysed, after a
change of rules, taxonomy or models; `--stale` only those whose stored analysis key (a hash
of the rules, taxonomy, model and analysis options) differs from the current one. Human
reviews of flags are kept. `build_analyzer` is
the one place that turns the config into an `Analyzer` (the service and the demo use it too).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from analysis.pipeline import Analyzer, AnalyzeReport, FlagHook
from convoscope.config import Config
from convoscope.context import Context, UserError


def build_analyzer(cfg: Config, on_flags: Sequence[FlagHook] = ()) -> Analyzer:
    """The Analyzer for this configuration (models load lazily, on first use)."""
    from dataclasses import replace

    from analysis.anger import AngerOptions

    return Analyzer(
        cfg.analysis,
        sentiment=cfg.sentiment,
        anger=getattr(cfg, "anger", None) or AngerOptions(),
        topics=cfg.topics,
        rules=cfg.rules,
        redaction=cfg.redaction,
        asr=getattr(cfg, "asr", None),
        cache_dir=cfg.cache_path,
        on_flags=on_flags,
        cluster_model=cfg.patterns.clusters.model,
        # "tomorrow" in a promise is read in the configured time zone
        resolution=replace(cfg.resolution, timezone=cfg.timezone),
        facts=cfg.facts,
        fact_check=cfg.fact_check,
    )


def run_once(
    analyzer: Any, ctx: Context, *, limit: int | None, rescore: bool, stale: bool = False
) -> AnalyzeReport:
    """Run the job, turning "model not prepared" into a one-line user error."""
    from analysis.sentiment import ModelNotPrepared

    try:
        return analyzer.run(ctx.store(), limit=limit, rescore=rescore, stale=stale)
    except ModelNotPrepared as exc:
        raise UserError(str(exc)) from None


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be a positive number")
    address = args.ray or ctx.config.cluster.ray_address
    analyzer: Any
    if address:  # the Ray driver (convoscope/cluster.py); Ray is imported only here
        from convoscope.cluster import build_cluster_analyzer

        analyzer = build_cluster_analyzer(ctx.config, address=address)
    else:
        analyzer = build_analyzer(ctx.config)
    report = run_once(analyzer, ctx, limit=args.limit, rescore=args.rescore, stale=args.stale)
    if args.json:
        print(json.dumps(report.as_dict(), default=str))
    else:
        print(
            f"transcribed {report.transcribed} call(s) ({report.transcribe_failed} failed); "
            f"analysed {report.analysed} interaction(s), {report.turns} turns in "
            f"{report.seconds:.1f} s ({report.interactions_per_second:.1f}/s); "
            f"{len(report.new_flag_ids)} new flag(s); {report.failed} failed"
        )
        for f in report.failures:
            print(f"  interaction {f['id']} failed (attempt {f['attempts']}): {f['reason']}")
    return 1 if report.failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="transcribe waiting calls and score waiting interactions once")
    p.add_argument("--rescore", action="store_true",
                   help="also re-analyse interactions already analysed (keeps flag reviews)")
    p.add_argument("--stale", action="store_true",
                   help="also re-analyse those scored under another configuration (rules, models)")
    p.add_argument("--limit", type=int, help="at most N interactions")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="run transcription and scoring on this Ray cluster (auto, HOST:PORT, "
                        "ray://HOST:PORT, local); overrides [cluster] ray_address")
    p.set_defaults(func=run)
